"""The PAPI mirror's report: a unit's dimension scores per round (campaign), the change
since the round before, and the published PAPI scores entered by an official beside them.

A *round* is one campaign of an instrument that declares ``scoring.rescale``
(``surveys/papi-mirror.toml``), read over the unit's subtree. Its figures come from the
rollups' respondent moments of the whole months the round's trusted responses fall in
(``analysis.counts.from_rollups`` with the campaign as filter), scored by
``analysis.papi.mirror_scores`` — the report's own factor index and respondent-level
interval, on the declared range. The change is ``analysis.papi.mirror_change`` against the
campaign started right before it that has responses in the same subtree.

Published scores (``PapiPublished``) are entered on a unit by a manager of it; a report
shows the latest year entered at the unit or at any unit above it (usually the province),
without naming that unit (a ward official may not see the province's own pages).
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Mapping, Sequence

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis import counts
from analysis import papi as mirror
from analysis import respondent as rl
from analysis.instrument import scoring_of

from ...models import (PAPI_DIMENSIONS, Campaign, Instrument, InstrumentVersion, PapiPublished, Response, Unit, User,
                       utcnow)
from ...models.papi import PAPI_YEARS, SCORE_MAX, SCORE_MIN
from ..officials.scope import Scope, path_under
from . import rollup
from .views import campaign_choices

__all__ = ["PapiError", "PublishedError", "MirrorView", "Round", "mirror_instruments", "rounds", "mirror_view",
           "published_for", "published_here", "save_published", "parse_score", "format_score", "dimension_names",
           "methods_paragraphs", "LOW_N"]

LOW_N = 10
SCORE_DECIMALS = 4
_SCORE_RE = re.compile(r"^\d{1,2}(?:[.,]\d{1,4})?$")


class PapiError(ValueError):
    """A request the mirror's report cannot answer; ``message`` says why, for the reader."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class PublishedError(ValueError):
    """Published scores that cannot be saved; ``errors`` maps each field to its message."""

    def __init__(self, errors: Mapping[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = dict(errors)


# ------------------------------------------------------------------ instruments and rounds

def mirror_instruments(session: Session) -> list[tuple[str, InstrumentVersion]]:
    """(key, latest version) of every instrument whose latest version declares a range."""
    rows = session.execute(
        select(Instrument.key, InstrumentVersion).join(InstrumentVersion, InstrumentVersion.instrument_id == Instrument.id)
        .order_by(Instrument.key, InstrumentVersion.number)
    ).all()
    latest: dict[str, InstrumentVersion] = {}
    for key, version in rows:
        latest[key] = version
    return [(key, v) for key, v in sorted(latest.items()) if mirror.rescale_of(v.snapshot) is not None]


@dataclass(frozen=True)
class Round:
    """One campaign as a round of the mirror: ``campaign``, its trusted ``responses`` in the
    unit's subtree, and the local days of the first and the last."""

    campaign: Campaign
    responses: int
    first_day: date | None
    last_day: date | None


def _local_day(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # MIN() over the column returns the stored naive UTC value
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(rollup.LOCAL_TZ).date()


def rounds(session: Session, scope: Scope, unit: Unit, key: str) -> list[Round]:
    """The campaigns of instrument ``key`` the official may read that reach ``unit``'s
    subtree, oldest first (by start, then id), with their trusted responses there."""
    version_ids = set(session.scalars(select(InstrumentVersion.id).join(Instrument).where(Instrument.key == key)))
    chosen = [c for c in campaign_choices(session, scope, unit) if c.instrument_version_id in version_ids]
    out = []
    for campaign in chosen:
        n, first, last = session.execute(
            select(func.count(Response.id), func.min(Response.submitted_at), func.max(Response.submitted_at))
            .join(Unit, Unit.id == Response.unit_id)
            .where(Response.campaign_id == campaign.id, Response.trust == "ok", path_under(Unit.path, unit.path))
        ).one()
        out.append(Round(campaign, int(n or 0), _local_day(_as_datetime(first)), _local_day(_as_datetime(last))))
    start = datetime.min.replace(tzinfo=rollup.LOCAL_TZ)
    return sorted(out, key=lambda r: (r.campaign.starts_at or r.campaign.created_at or start, r.campaign.id))


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _month_window(first: date, last: date) -> tuple[date, date]:
    """The whole months from ``first`` to ``last``: the rollups' moments are per month."""
    start = first.replace(day=1)
    following = (last.replace(day=1) + timedelta(days=32)).replace(day=1)
    return start, following - timedelta(days=1)


def _round_scores(session: Session, unit: Unit, rnd: Round, versions: Sequence[InstrumentVersion],
                  definition: Mapping[str, Any]) -> mirror.MirrorScores | None:
    if rnd.responses == 0 or rnd.first_day is None or rnd.last_day is None:
        return None
    scoring = scoring_of(definition)
    layout = rl.feature_layout(scoring)
    date_from, date_to = _month_window(rnd.first_day, rnd.last_day)
    filters = counts.Filters(unit_path=unit.path, version_ids=tuple(v.id for v in versions), date_from=date_from,
                             date_to=date_to, campaign_id=rnd.campaign.id)
    tables = counts.from_rollups(session.connection(), filters)
    at, ns, sums, uppers = tables.moment_rows(layout.items)
    total = rl.group_stored_moments(ns, sums, uppers, [0] * len(at), 1)[0]
    if total is None or total.n == 0:
        return None
    try:
        return mirror.mirror_scores(total, layout, scoring.factors, mirror.rescale_of(definition))
    except ValueError:  # nobody answered any scored question
        return None


# ------------------------------------------------------------------ the view

@dataclass
class MirrorView:
    """What the mirror's page shows (see the module's docstring)."""

    unit: Unit
    key: str
    definition: dict[str, Any]
    rounds: list[Round]
    current: Round | None
    previous: Round | None
    scores: mirror.MirrorScores | None
    before: mirror.MirrorScores | None
    changes: dict[str, mirror.RescaledChange | None] = field(default_factory=dict)
    total_change: mirror.RescaledChange | None = None
    published: PapiPublished | None = None
    gaps: dict[str, mirror.PublishedGap] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rescale(self) -> mirror.Rescale:
        return mirror.rescale_of(self.definition)  # type: ignore[return-value]


def _num(x: float | None) -> float | None:
    return x if x is not None and isinstance(x, (int, float)) and math.isfinite(x) else None


def mirror_view(session: Session, scope: Scope, unit: Unit, args: Mapping[str, str]) -> MirrorView:
    """The page's figures for ``unit``; ``args`` may name ``instrument`` and ``round`` (a
    campaign id). :class:`PapiError` when one of them is not usable."""
    instruments = mirror_instruments(session)
    if not instruments:
        raise PapiError(_("No survey with a PAPI scale is loaded. Load the instruments (flask instruments load)."))
    key = (args.get("instrument") or "").strip() or instruments[0][0]
    known = dict(instruments)
    if key not in known:
        raise PapiError(_("The survey “%(key)s” has no PAPI scale.", key=key[:64]))
    versions = list(session.scalars(select(InstrumentVersion).join(Instrument).where(Instrument.key == key)
                                    .order_by(InstrumentVersion.number)))
    definition = versions[-1].snapshot
    rollup.catch_up_for_request(session)
    all_rounds = rounds(session, scope, unit, key)
    with_answers = [r for r in all_rounds if r.responses]
    raw_round = (args.get("round") or "").strip()
    current: Round | None
    if raw_round:
        if not (raw_round.isascii() and raw_round.isdigit()):
            raise PapiError(_("The round must be one of this unit’s campaigns of the survey."))
        current = next((r for r in all_rounds if r.campaign.id == int(raw_round)), None)
        if current is None:
            raise PapiError(_("The round must be one of this unit’s campaigns of the survey."))
    else:
        current = with_answers[-1] if with_answers else (all_rounds[-1] if all_rounds else None)
    previous = None
    if current is not None:
        earlier = [r for r in with_answers if all_rounds.index(r) < all_rounds.index(current)]
        previous = earlier[-1] if earlier else None
    view = MirrorView(unit=unit, key=key, definition=definition, rounds=all_rounds, current=current,
                      previous=previous, scores=None, before=None)
    if current is not None:
        view.scores = _round_scores(session, unit, current, versions, definition)
    if previous is not None:
        view.before = _round_scores(session, unit, previous, versions, definition)
    if view.scores is not None and view.before is not None:
        view.changes, view.total_change = mirror.mirror_change(view.before, view.scores)
    view.published = published_for(session, unit)
    if view.published is not None and view.scores is not None:
        view.gaps = {g.key: g for g in mirror.published_gaps(view.scores, view.published.scores)}
    names = {f["key"]: f for f in definition.get("factors", [])}
    dims = {d.key: d for d in view.scores.dimensions} if view.scores else {}
    for fkey, f in names.items():
        d = dims.get(fkey)
        view.rows.append({
            "key": fkey, "name": {"vi": f["vi"], "en": f["en"]},
            "value": _num(d.value) if d else None, "low": _num(d.low) if d else None,
            "high": _num(d.high) if d else None, "n": d.n if d else 0,
            "change": view.changes.get(fkey), "gap": view.gaps.get(fkey),
            "published": view.published.scores.get(fkey) if view.published else None,
        })
    return view


# ------------------------------------------------------------------ published scores

def published_for(session: Session, unit: Unit) -> PapiPublished | None:
    """The latest year of published scores entered at ``unit`` or at a unit above it (the
    nearest unit when two entered the same year)."""
    parts = unit.path.strip("/").split("/")
    paths = ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]
    return session.scalar(
        select(PapiPublished).join(Unit, Unit.id == PapiPublished.unit_id).where(Unit.path.in_(paths))
        .order_by(PapiPublished.year.desc(), func.length(Unit.path).desc()).limit(1))


def published_here(session: Session, unit: Unit) -> list[PapiPublished]:
    """Every year entered at ``unit`` itself, newest first."""
    return list(session.scalars(select(PapiPublished).where(PapiPublished.unit_id == unit.id)
                                .order_by(PapiPublished.year.desc())))


def dimension_names() -> dict[str, str]:
    """PAPI's eight dimensions by key, in the reader's language."""
    return {
        "participation": _("Participation at local levels"),
        "transparency": _("Transparency in local decision-making"),
        "accountability": _("Vertical accountability"),
        "corruption": _("Control of corruption in the public sector"),
        "procedures": _("Public administrative procedures"),
        "services": _("Public service delivery"),
        "environment": _("Environmental governance"),
        "egovernance": _("E-governance"),
    }


def format_score(value: float) -> str:
    """A stored score as the form shows it: ``5,4321`` in Vietnamese, ``5.4321`` in English."""
    text = f"{value:.{SCORE_DECIMALS}f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if str(get_locale() or "vi").startswith("vi") else text


def parse_score(raw: Any) -> float | None:
    """A score typed as ``5,43`` or ``5.43`` (at most four decimals), or ``None``."""
    text = unicodedata.normalize("NFC", str(raw if raw is not None else "")).strip()
    if not _SCORE_RE.match(text):
        return None
    return float(text.replace(",", "."))


def save_published(session: Session, scope: Scope, unit: Unit, *, year: Any, source: Any,
                   scores: Mapping[str, Any], actor: User | None, today: date) -> PapiPublished:
    """Enter (or replace) one year of published PAPI scores at ``unit``; a manager's work.

    Every field is checked before anything is written; :class:`PublishedError` lists a
    message per field. Commits once.
    """
    scope.require(unit, "manager")
    errors: dict[str, str] = {}
    year_text = str(year if year is not None else "").strip()
    first, last = PAPI_YEARS[0], min(PAPI_YEARS[1], today.year)
    year_value = int(year_text) if year_text.isascii() and year_text.isdigit() and len(year_text) == 4 else None
    if year_value is None or not first <= year_value <= last:
        errors["year"] = _("The year must be a year of PAPI, from %(first)d to %(last)d.", first=first, last=last)
    source_text = unicodedata.normalize("NFC", str(source if source is not None else "")).strip()
    if not source_text:
        errors["source"] = _("Please say where the scores come from (e.g. the PAPI report and its year).")
    elif len(source_text) > 300:
        errors["source"] = _("The source can have at most 300 characters.")
    values: dict[str, float] = {}
    for dim in PAPI_DIMENSIONS:
        raw = scores.get(dim)
        if raw is None or not str(raw).strip():
            errors[dim] = _("Please enter the published score, a number from 1 to 10.")
            continue
        value = parse_score(raw)
        if value is None:
            errors[dim] = _("“%(value)s” is not a number like 5,43 (at most four decimals).", value=str(raw)[:20])
        elif not SCORE_MIN <= value <= SCORE_MAX:
            errors[dim] = _("A PAPI dimension score is from 1 to 10.")
        else:
            values[dim] = value
    if errors:
        raise PublishedError(errors)
    row = session.scalar(select(PapiPublished).where(PapiPublished.unit_id == unit.id,
                                                     PapiPublished.year == year_value))
    if row is None:
        row = PapiPublished(unit_id=unit.id, year=year_value)
        session.add(row)
    row.source = source_text
    for dim, value in values.items():
        setattr(row, dim, value)
    row.entered_by_id = actor.id if actor is not None else None
    row.entered_by_name = actor.username if actor is not None else "system"
    row.entered_at = utcnow()
    session.commit()
    return row


# ------------------------------------------------------------------ methods note

def methods_paragraphs() -> list[str]:
    """How the mirror's numbers were computed, and why they are not PAPI's."""
    return [
        _("Each question belongs to one of PAPI’s eight dimensions and has answers that count as favourable (for "
          "example “Agree” or “Strongly agree”, or “Yes” where yes is the good answer). A question’s share is the "
          "share of the households that answered it favourably; a dimension’s share is the mean of its questions’ "
          "shares. It is shown on PAPI’s 1–10 scale as 1 + 9 × the share: 1 if no household answered favourably, "
          "10 if every one did. The total is the sum of the eight dimensions, at most 80; it is shown only when "
          "every dimension has answers."),
        _("The %(level)s interval counts each household once: one household’s answers move together, so they are "
          "not independent pieces of evidence (linearization of the formula, the same as the survey report’s factor "
          "index, moved to the 1–10 scale). The change compares this round (campaign) with the round before it, "
          "with its own interval and test; a skipped question is left out, never counted as unfavourable.",
          level="95%"),
        _("These are not PAPI scores, and the two numbers should not be expected to agree. PAPI interviews a random "
          "sample of citizens drawn from the population registers of the whole province, face to face, and weights "
          "the answers to the province’s population; the mirror hears the households that took part in the ward’s "
          "campaign, one answer per household, with no weighting, so who answers shapes the result. PAPI asks "
          "hundreds of questions in its own wording and builds each dimension from several sub-dimensions and "
          "indicators; the mirror asks two to four short questions per dimension in its own words. PAPI rescales "
          "its indicators by its own method before adding them up; the mirror only maps a share of favourable "
          "answers onto 1–10 in a straight line. PAPI also covers the whole province and a whole year."),
        _("Read the comparison with the province as a direction, not a verdict: “higher” or “lower” means the "
          "province’s published score lies outside the mirror’s interval; the published score’s own uncertainty and "
          "the differences above are not part of that interval. Where the ward stands low, the plan tasks of that "
          "dimension (residents consulted, information made public, petitions answered, harassment controlled, "
          "rubbish collected, the ward’s website used) are the ones to push; the next round shows whether they "
          "moved."),
        _("Every figure is shown with its n. A figure from fewer than 10 households is marked “low n” and should be "
          "read with care."),
    ]
