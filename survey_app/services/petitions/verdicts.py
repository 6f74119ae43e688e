"""The public's verdict on a published answer (issue #18 item 2): on ``/a/<id>``, once the
answer is public, anyone may say "hài lòng" (satisfied) or "không hài lòng" (dissatisfied)
with it, once per device.

The survey's defences, reused rather than reinvented:

* **the device** is the survey's: the keyed daily hash of address, user agent and the device
  cookie (``survey_app.ratelimit.device_key``), with the address's keyed daily hash beside
  it. Neither a raw address nor the cookie is stored. One mark per ``(petition, device)``
  is a unique constraint, so a second mark is refused however the requests race. The hash
  changes every UTC day (so marks cannot be linked across days), which bounds a device that
  keeps its cookie and address to one mark per answer per day; the rate limits below bound
  the rest;
* **rate limits**: the survey's per-device and per-address limits
  (``RATELIMIT_SURVEY_DEVICE`` / ``_ADDRESS``) on the POST, counted apart from the survey's
  (``survey_app/petitions/routes.py``); over them nothing is stored (429);
* **trust flags**, as on a survey response (``services/collect/abuse.py``): ``honeypot``
  (the hidden ``website`` field was filled in) and ``too_fast`` (sent less than
  ``SURVEY_MIN_FILL_SECONDS`` after the page's signed form token was issued). Such marks are
  stored with ``trust = 'suspect'`` and the reason, never deleted, and left out of every
  count (:func:`counts`).

The form token (``collect/formtoken.py``) is bound to the petition; its nonce is the mark's
``submission_key``, so a double tap stores one row.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Subquery

from ...models import VERDICTS, Petition, PetitionVerdict, Unit, utcnow
from ..collect import formtoken
from ..collect.formtoken import FormToken
from ..officials.scope import path_under

__all__ = ["FORM_SALT", "HONEYPOT_FIELD", "PublishedAnswer", "ShownCounts", "VerdictCounts", "VerdictError", "VerdictSignals",
           "can_judge", "counts", "issue_form_token", "published_answers", "read_form_token", "record",
           "suppressed_counts"]

FORM_SALT = "petition-verdict"
#: The hidden field people never see (the survey's and the petition form's name).
HONEYPOT_FIELD = "website"


class VerdictError(Exception):
    """A mark refused, with the message to show and the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class VerdictSignals:
    """What the request said about itself (the route reads it; no raw value is stored)."""

    device_hash: str
    address_hash: str | None = None
    honeypot: bool = False
    fill_seconds: float | None = None


@dataclass(frozen=True)
class VerdictCounts:
    """Trusted marks on one answer."""

    satisfied: int = 0
    dissatisfied: int = 0

    @property
    def total(self) -> int:
        return self.satisfied + self.dissatisfied

    @property
    def disliked_more(self) -> bool:
        """The public disliked it more than liked it (the national portal's test)."""
        return self.dissatisfied > self.satisfied


def can_judge(petition: Petition) -> bool:
    """Whether the public may mark this petition's answer: published (or closed after being
    published), and the petition itself not flagged suspect."""
    return (petition.trust == "ok" and petition.published_at is not None
            and petition.status in ("published", "closed") and petition.answer_text is not None)


def issue_form_token(secret: str, petition: Petition) -> str:
    return formtoken.issue(secret, FORM_SALT, {"a": petition.id})


def read_form_token(secret: str, token: str | None, petition: Petition, max_age: int) -> FormToken | None:
    return formtoken.read(secret, FORM_SALT, token, {"a": petition.id}, max_age)


def _already() -> VerdictError:
    return VerdictError(_("Your opinion on this answer has already been recorded from this device. Each device "
                          "can give it once."), 409)


def record(session: Session, petition: Petition, verdict: str | None, token: FormToken | None,
           signals: VerdictSignals, *, min_fill_seconds: int = 3, now: datetime | None = None) -> PetitionVerdict:
    """Store one mark on ``petition``'s published answer and commit; returns it (a double tap
    returns the row stored by the first).

    Raises :class:`VerdictError`: 409 when the answer is not open to verdicts, 422 for a
    verdict that is neither ``satisfied`` nor ``dissatisfied`` or a missing, forged or
    expired form token, 409 when this device already gave one."""
    if not can_judge(petition):
        raise VerdictError(_("This answer is not published, so it cannot be judged yet."), 409)
    if verdict not in VERDICTS:
        raise VerdictError(_("Please choose \"Satisfied\" or \"Not satisfied\"."), 422)
    if token is None:
        raise VerdictError(_("This page is out of date. Please open it again and choose once more."), 422)
    if not signals.device_hash:
        raise VerdictError(_("This page is out of date. Please open it again and choose once more."), 422)
    same = session.scalar(select(PetitionVerdict).where(PetitionVerdict.submission_key == token.nonce))
    if same is not None and same.petition_id == petition.id:
        return same
    if same is not None or session.scalar(select(PetitionVerdict.id).where(
            PetitionVerdict.petition_id == petition.id, PetitionVerdict.device_hash == signals.device_hash)):
        raise _already()
    now = now or utcnow()
    reasons = []
    if signals.honeypot:
        reasons.append("honeypot")
    if min_fill_seconds and signals.fill_seconds is not None and signals.fill_seconds < min_fill_seconds:
        reasons.append("too_fast")
    mark = PetitionVerdict(petition_id=petition.id, verdict=verdict, at=now, device_hash=signals.device_hash,
                           address_hash=signals.address_hash, trust="suspect" if reasons else "ok",
                           trust_reason=",".join(reasons) or None, submission_key=token.nonce)
    session.add(mark)
    try:
        session.commit()
    except IntegrityError:  # the same device (or form) at the same moment: the unique constraints decide
        session.rollback()
        raise _already() from None
    return mark


def counts(session: Session, petition_ids: Iterable[int] | Subquery) -> dict[int, VerdictCounts]:
    """Trusted marks per petition (suspect marks left out); petitions without any are absent.
    ``petition_ids``: ids, or a one-column subquery of them (the figures' window)."""
    if isinstance(petition_ids, Subquery):
        ids = select(petition_ids.c[0])
    else:
        ids = sorted(set(petition_ids))
        if not ids:
            return {}
    satisfied = func.sum(case((PetitionVerdict.verdict == "satisfied", 1), else_=0))
    dissatisfied = func.sum(case((PetitionVerdict.verdict == "dissatisfied", 1), else_=0))
    rows = session.execute(select(PetitionVerdict.petition_id, satisfied, dissatisfied)
                           .where(PetitionVerdict.petition_id.in_(ids), PetitionVerdict.trust == "ok")
                           .group_by(PetitionVerdict.petition_id)).all()
    return {pid: VerdictCounts(int(s or 0), int(d or 0)) for pid, s, d in rows}


@dataclass(frozen=True)
class ShownCounts:
    """Counts as a public page may show them: ``None`` where withheld."""

    satisfied: int | None
    dissatisfied: int | None
    total: int | None

    @property
    def withheld(self) -> bool:
        return self.satisfied is None or self.dissatisfied is None or self.total is None


def suppressed_counts(c: VerdictCounts, threshold: int | None = None) -> ShownCounts:
    """``c`` with every count under the small-number threshold withheld, and whatever would
    let it be worked out (``analysis.suppress.suppress_table`` on the one-row table
    [satisfied, dissatisfied] with its total; zeros are shown, as for the petitions' own
    figures: "nobody marked it" says nothing about a person)."""
    from analysis.suppress import DEFAULT_THRESHOLD, suppress_table

    m = suppress_table([[c.satisfied, c.dissatisfied]], threshold=threshold or DEFAULT_THRESHOLD,
                       withhold_zeros=False)
    return ShownCounts(None if m.cells[0, 0] else c.satisfied, None if m.cells[0, 1] else c.dissatisfied,
                       None if m.grand_total else c.total)


@dataclass(frozen=True)
class PublishedAnswer:
    id: int
    category: str
    published_at: datetime
    counts: ShownCounts


def published_answers(session: Session, unit: Unit, *, limit: int = 50) -> list[PublishedAnswer]:
    """The published answers of ``unit``'s subtree (by the unit responsible now), newest
    first, each with its trusted verdict counts as a public page may show them."""
    rows = session.execute(
        select(Petition.id, Petition.category, Petition.published_at)
        .join(Unit, Unit.id == Petition.unit_id)
        .where(path_under(Unit.path, unit.path), Petition.trust == "ok", Petition.published_at.is_not(None),
               Petition.status.in_(("published", "closed")), Petition.answer_text.is_not(None))
        .order_by(Petition.published_at.desc(), Petition.id.desc()).limit(limit)).all()
    found = counts(session, [r[0] for r in rows])
    return [PublishedAnswer(pid, category, published, suppressed_counts(found.get(pid, VerdictCounts())))
            for pid, category, published in rows]

