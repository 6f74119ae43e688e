"""Open answers (text and long-text questions) for officials: list, search, moderate.

Comments are read under the same filters as the report (unit subtree, survey, days,
channels, suspect responses, campaign), newest first. The search is case-insensitive on
NFC-normalised text (Vietnamese keyboards send NFD too). A manager of the unit where the
comment was given may hide it: the answer stays, a :class:`CommentFlag` marks it hidden,
and the change is audited. Comments are never public.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import Select, and_, false, or_, select
from sqlalchemy.orm import Session

from ...models import Answer, CommentFlag, InstrumentVersion, Response, Unit, User, utcnow
from ..officials import audit
from ..officials.scope import Scope, not_found, path_under
from .views import ReportFilters

LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
TEXT_TYPES = ("text", "longtext")
MAX_SCAN = 50_000  # open answers read for one search; a wider search asks to narrow the filters


class CommentError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def fold(text: str) -> str:
    """The form two texts are compared in: NFC, then case-folded."""
    return unicodedata.normalize("NFC", text).casefold()


def utc_bounds(filters: ReportFilters) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the filters' local days."""
    start = datetime.combine(filters.date_from, time(0), LOCAL_ZONE)
    end = datetime.combine(filters.date_to + timedelta(days=1), time(0), LOCAL_ZONE)
    return start, end


def text_questions(versions: Sequence[InstrumentVersion]) -> dict[int, dict[str, dict]]:
    """version id → {question key → question} for the open questions of each version."""
    return {v.id: {q["key"]: q for q in v.snapshot["questions"] if q["type"] in TEXT_TYPES} for v in versions}


def responses_where(scope: Scope, unit: Unit, filters: ReportFilters, versions: Sequence[InstrumentVersion]) -> list:
    """The SQL conditions (on Response joined to Unit) of the filters, inside the scope: the
    unit's subtree, and its predecessors' when the window begins before their succession."""
    from ..officials.lineage import covered

    start, end = utc_bounds(filters)
    subtrees = [unit.path] + [p.path for p in covered(scope.session, unit, filters.date_from)]
    where = [scope.path_clause(Unit.path, "viewer"), or_(*(path_under(Unit.path, p) for p in subtrees)),
             Response.instrument_version_id.in_([v.id for v in versions]),
             Response.submitted_at >= start, Response.submitted_at < end]
    if not filters.include_suspect:
        where.append(Response.trust == "ok")
    if filters.channels:
        where.append(Response.channel.in_(filters.channels))
    if filters.campaign_id is not None:
        where.append(Response.campaign_id == filters.campaign_id)
    return where


@dataclass(frozen=True)
class Comment:
    answer_id: int
    response_id: int
    question_key: str
    question: dict
    text: str
    submitted_at: datetime
    unit_name: str
    unit_name_en: str
    unit_code: str | None
    channel: str
    trust: str
    hidden: bool


@dataclass(frozen=True)
class CommentPage:
    items: list[Comment]
    total: int
    hidden: int
    page: int
    pages: int
    truncated: bool


def _query(scope: Scope, unit: Unit, filters: ReportFilters, versions: Sequence[InstrumentVersion]) -> Select:
    open_questions = text_questions(versions)
    per_version = [and_(Response.instrument_version_id == vid, Answer.question_key.in_(list(keys)))
                   for vid, keys in open_questions.items() if keys]
    return (
        select(Answer.id, Answer.response_id, Answer.question_key, Answer.value_text, Response.submitted_at,
               Response.instrument_version_id, Response.channel, Response.trust, Unit.name_vi, Unit.name_en,
               Unit.code, CommentFlag.hidden)
        .join(Response, Response.id == Answer.response_id)
        .join(Unit, Unit.id == Response.unit_id)
        .outerjoin(CommentFlag, CommentFlag.answer_id == Answer.id)
        .where(*responses_where(scope, unit, filters, versions), or_(*per_version) if per_version else false(),
               Answer.value_text.is_not(None), Answer.value_text != "")
        .order_by(Response.submitted_at.desc(), Answer.id.desc())
    )


def list_comments(session: Session, scope: Scope, unit: Unit, filters: ReportFilters,
                  versions: Sequence[InstrumentVersion], *, search: str = "", page: int = 1, per_page: int = 25,
                  show_hidden: bool = False) -> CommentPage:
    """One page of the filters' open answers, newest first, matching ``search``."""
    questions = text_questions(versions)
    needle = fold(search.strip())
    matched: list[Comment] = []
    hidden = 0
    rows = session.execute(_query(scope, unit, filters, versions).limit(MAX_SCAN + 1)).all()
    truncated = len(rows) > MAX_SCAN
    for row in rows[:MAX_SCAN]:
        if needle and needle not in fold(row.value_text):
            continue
        is_hidden = bool(row.hidden)
        if is_hidden:
            hidden += 1
            if not show_hidden:
                continue
        matched.append(Comment(
            answer_id=row.id, response_id=row.response_id, question_key=row.question_key,
            question=questions[row.instrument_version_id][row.question_key]["text"], text=row.value_text,
            submitted_at=row.submitted_at, unit_name=row.name_vi, unit_name_en=row.name_en, unit_code=row.code,
            channel=row.channel, trust=row.trust, hidden=is_hidden))
    pages = max(1, -(-len(matched) // per_page))
    start = (page - 1) * per_page
    return CommentPage(items=matched[start:start + per_page], total=len(matched), hidden=hidden, page=page,
                       pages=pages, truncated=truncated)


def hidden_answer_ids(session: Session, answer_ids: Iterable[int]) -> set[int]:
    ids = list(answer_ids)
    found: set[int] = set()
    for start in range(0, len(ids), 900):
        found.update(session.scalars(select(CommentFlag.answer_id).where(
            CommentFlag.answer_id.in_(ids[start:start + 900]), CommentFlag.hidden.is_(True))))
    return found


def set_hidden(session: Session, scope: Scope, answer_id: int, hidden: bool, *, actor: User,
               within: Unit | None = None, reason: str | None = None) -> CommentFlag | None:
    """Hide (or show again) one open answer. Needs the manager role where the answer was
    given (404 outside the scope, or outside ``within``'s subtree). Audited; the caller
    commits."""
    answer = session.get(Answer, answer_id) if 0 < answer_id < 2**31 else None
    if answer is None:
        not_found()
    response = session.get(Response, answer.response_id)
    unit = session.get(Unit, response.unit_id)
    if within is not None and not unit.path.startswith(within.path):
        not_found()
    scope.require(unit, "manager")
    version = session.get(InstrumentVersion, response.instrument_version_id)
    question = next((q for q in version.snapshot["questions"] if q["key"] == answer.question_key), None)
    if question is None or question["type"] not in TEXT_TYPES or not answer.value_text:
        raise CommentError(_("Only open answers (comments) can be hidden."))
    flag = session.scalar(select(CommentFlag).where(CommentFlag.answer_id == answer.id))
    if flag is None and not hidden:
        return None  # never hidden: nothing to restore
    if flag is None:
        flag = CommentFlag(answer_id=answer.id, hidden=False)
        session.add(flag)
    if flag.hidden != hidden:
        flag.hidden = hidden
        flag.reason = (reason or "").strip()[:200] or None
        flag.changed_at = utcnow()
        flag.changed_by_id = actor.id
        audit.record(session, "comment.hidden" if hidden else "comment.restored", actor=actor, unit=unit,
                     target=f"answer:{answer.id}", detail={"response": response.id, "question": answer.question_key,
                                                           **({"reason": flag.reason} if flag.reason else {})})
    session.flush()
    return flag
