"""What every report view shares: the filters (parsed and validated from a query string),
the report they select, and its charts cached by filter key.

The dashboard, its charts, the exports, the PDF and the JSON API all go through
:func:`parse_filters` and :func:`compute`, so the same query string gives the same numbers
everywhere. A filter value that is not understood raises :class:`FilterError` with a
sentence for the reader (routes answer 400), never a 500.

Windows (``window``)
--------------------
``12m``
    the current month and the eleven before it (the default);
``2026``, ``2026-Q2``, ``2026-05``
    a calendar year, quarter or month;
``custom``
    ``from`` and ``to`` (local days, ``YYYY-MM-DD``, inclusive). Giving ``from``/``to``
    without ``window`` means ``custom`` too (the API's way).

The trend is grouped by ``period`` (``month`` or ``quarter``), as in ``flask report``.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Callable, Mapping, Sequence

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from ...models import (CHANNELS, Campaign, Instrument, InstrumentVersion, RollupResponse, RollupState, Unit,
                      campaign_unit)
from ..officials.scope import Scope, path_under
from . import build as reports
from . import rollup

__all__ = ["FilterError", "ReportFilters", "ReportView", "WINDOW_PRESETS", "parse_filters", "compute",
           "unit_instruments", "default_instrument", "own_instrument_args",
           "window_choices", "instrument_choices", "campaign_choices", "chart_bundle", "cached_charts", "charts_key",
           "watermark", "CHART_NAMES"]
CHART_NAMES = ("likert", "trend", "funnel", "factors_by_unit", "hour_weekday")

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")
YEAR_RE = re.compile(r"^(\d{4})$")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
WINDOW_PRESETS = ("12m", "custom")
TRUE = ("1", "true", "yes", "on")
FALSE = ("", "0", "false", "no", "off")
MIN_YEAR, MAX_YEAR = 2000, 2100


class FilterError(ValueError):
    """A filter value is not usable; ``message`` says why, for the person who sent it."""

    def __init__(self, message: str, field_name: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field_name


@dataclass(frozen=True)
class ReportFilters:
    """One view's filters, resolved: the dates are real days even for ``12m``."""

    instrument: str
    window: str
    date_from: date
    date_to: date
    period: str = "month"
    channels: tuple[str, ...] = ()  # empty: every channel
    include_suspect: bool = False
    campaign_id: int | None = None

    def args(self, **override: Any) -> dict[str, Any]:
        """The query string that reproduces this view (for links and the GET form)."""
        out: dict[str, Any] = {"instrument": self.instrument, "window": self.window, "period": self.period}
        if self.window == "custom":
            out["from"], out["to"] = self.date_from.isoformat(), self.date_to.isoformat()
        if self.channels:
            out["channel"] = list(self.channels)
        if self.include_suspect:
            out["include_suspect"] = "1"
        if self.campaign_id is not None:
            out["campaign"] = self.campaign_id
        out.update(override)
        return out

    def fixed_args(self) -> dict[str, Any]:
        """Like :meth:`args`, with the dates written out: the link does not move with time."""
        return self.args(window="custom", **{"from": self.date_from.isoformat(), "to": self.date_to.isoformat()})

    def key(self) -> str:
        """A stable text key of what the filters select (resolved dates, not the preset)."""
        return json.dumps([self.instrument, self.date_from.isoformat(), self.date_to.isoformat(), self.period,
                           sorted(self.channels), self.include_suspect, self.campaign_id])

    def request(self, unit: Unit) -> reports.ReportRequest:
        return reports.ReportRequest(unit=unit, instrument_key=self.instrument, date_from=self.date_from,
                                     date_to=self.date_to, period=self.period, include_suspect=self.include_suspect,
                                     channels=self.channels or None, campaign_id=self.campaign_id)


# ------------------------------------------------------------------ parsing

def _month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _month_end(year: int, month: int) -> date:
    return _month_start(date(year, month, 1), -1) - timedelta(days=1)


def _year_ok(year: int) -> bool:
    return MIN_YEAR <= year <= MAX_YEAR


def resolve_window(window: str, raw_from: str | None, raw_to: str | None, today: date) -> tuple[str, date, date]:
    """(window, first day, last day) of a window value; :class:`FilterError` if unusable."""
    window = (window or "").strip()
    if not window:
        window = "custom" if (raw_from or raw_to) else "12m"
    if window == "12m":
        return window, _month_start(today, 11), today
    if window == "custom":
        start, end = _day(raw_from, "from"), _day(raw_to, "to")
        if end < start:
            raise FilterError(_("The last day of the period is before the first day."), "to")
        return window, start, end
    match = YEAR_RE.match(window)
    if match and _year_ok(int(match.group(1))):
        year = int(match.group(1))
        return window, date(year, 1, 1), date(year, 12, 31)
    match = QUARTER_RE.match(window)
    if match and _year_ok(int(match.group(1))):
        year, quarter = int(match.group(1)), int(match.group(2))
        return window, date(year, 3 * quarter - 2, 1), _month_end(year, 3 * quarter)
    match = MONTH_RE.match(window)
    if match and _year_ok(int(match.group(1))):
        year, month = int(match.group(1)), int(match.group(2))
        return window, date(year, month, 1), _month_end(year, month)
    raise FilterError(_("The period must be “12m”, a year (2026), a quarter (2026-Q2), a month (2026-05) "
                        "or “custom” with a first and a last day."), "window")


def _day(raw: str | None, name: str) -> date:
    raw = (raw or "").strip()
    if not raw:
        raise FilterError(_("Please give the first and the last day of the period (YYYY-MM-DD)."), name)
    try:
        if not DAY_RE.match(raw):
            raise ValueError(raw)
        value = date.fromisoformat(raw)
    except ValueError:
        raise FilterError(_("“%(value)s” is not a day like 2026-03-31.", value=raw[:20]), name) from None
    if not _year_ok(value.year):
        raise FilterError(_("Please choose a day between the years %(first)d and %(last)d.",
                            first=MIN_YEAR, last=MAX_YEAR), name)
    return value


def _flag(raw: str | None, name: str) -> bool:
    value = (raw or "").strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise FilterError(_("“%(name)s” must be 1 or 0.", name=name), name)


def instrument_choices(session: Session) -> list[tuple[str, dict[str, str]]]:
    """(key, title) of every instrument with a version, by key."""
    rows = session.execute(
        select(Instrument.key, InstrumentVersion.snapshot)
        .join(InstrumentVersion, InstrumentVersion.instrument_id == Instrument.id)
        .order_by(Instrument.key, InstrumentVersion.number)
    ).all()
    latest: dict[str, dict[str, str]] = {}
    for key, snapshot in rows:
        latest[key] = snapshot.get("title", {"vi": key, "en": key})
    return sorted(latest.items())


def campaign_choices(session: Session, scope: Scope, unit: Unit) -> list[Campaign]:
    """Campaigns the official may read (all their units in scope) with a unit in ``unit``'s
    subtree, newest first."""
    member = (select(campaign_unit.c.campaign_id).join(Unit, Unit.id == campaign_unit.c.unit_id)
              .where(campaign_unit.c.campaign_id == Campaign.id, path_under(Unit.path, unit.path)).exists())
    return list(session.scalars(scope.campaigns_query("viewer").where(member)))


def unit_instruments(session: Session, unit: Unit, today: date, kind: str | None = None) -> list[str]:
    """The instruments ``unit`` (its subtree; with ``kind``, only its units of that kind)
    collects with, its own first: those with the most trusted responses in the last year
    (ties by key), then those of its campaigns without responses yet (oldest campaign first).

    Read from the rollups as they stand: the caller catches them up once per request
    (:func:`default_instrument`, :func:`compute`, :func:`services.reports.overview.unit_overview`),
    so the order does not depend on whether the last responses were rolled up yet (a default
    that flipped between two visits) and a page that asks for many units catches up once."""
    since = today - timedelta(days=366)
    where = [path_under(Unit.path, unit.path)]
    if kind is not None:
        where.append(Unit.kind == kind)
    total = func.sum(RollupResponse.responses)
    answered = [key for key, _n in session.execute(
        select(Instrument.key, total)
        .join(InstrumentVersion, InstrumentVersion.id == RollupResponse.instrument_version_id)
        .join(Instrument, Instrument.id == InstrumentVersion.instrument_id)
        .join(Unit, Unit.id == RollupResponse.unit_id)
        .where(*where, RollupResponse.day >= since, RollupResponse.trust == "ok")
        .group_by(Instrument.key).having(total > 0).order_by(total.desc(), Instrument.key)
    ).all()]
    member = (select(campaign_unit.c.campaign_id).join(Unit, Unit.id == campaign_unit.c.unit_id)
              .where(campaign_unit.c.campaign_id == Campaign.id, *where).exists())
    campaigned = session.scalars(select(Instrument.key).join(InstrumentVersion).join(
        Campaign, Campaign.instrument_version_id == InstrumentVersion.id).where(member)
        .group_by(Instrument.key).order_by(func.min(Campaign.id), Instrument.key)).all()
    return answered + [key for key in campaigned if key not in answered]


def default_instrument(session: Session, unit: Unit, today: date, kind: str | None = None) -> str | None:
    """``unit``'s own instrument (the first of :func:`unit_instruments`), else the first one
    by key. Deterministic: the same data give the same default on every visit (the rollups
    are caught up first, as far as a request may)."""
    rollup.catch_up_for_request(session)
    own = unit_instruments(session, unit, today, kind)
    if own:
        return own[0]
    return session.scalar(select(Instrument.key).order_by(Instrument.key).limit(1))


def own_instrument_args(session: Session, unit: Unit, filters: ReportFilters, today: date) -> dict[str, Any]:
    """The query string of ``unit``'s report reached from a report with ``filters``
    (drill-down): the same filters when ``unit`` collects with that instrument (or with
    none), else ``unit``'s own instrument, all its campaigns. Called after :func:`compute`
    (which caught the rollups up) for each child or ranked unit of the page."""
    own = unit_instruments(session, unit, today)
    if not own or filters.instrument in own:
        return filters.args()
    out = filters.args(instrument=own[0])
    out.pop("campaign", None)
    return out


def parse_filters(session: Session, scope: Scope, unit: Unit, args: Any, today: date, *,
                  strict: bool = False, kind: str | None = None) -> ReportFilters:
    """Validate a query string (a ``MultiDict``) into :class:`ReportFilters`.

    ``strict`` (the JSON API): ``instrument``, ``from`` and ``to`` must be given.
    ``kind``: without ``instrument``, the default is that of ``unit``'s units of this kind.

    The GET form sends the dates it showed as ``shown_from``/``shown_to``: when ``from``/
    ``to`` differ from them, the official typed dates, and those win over a preset window.
    """
    def one(name: str) -> str:
        values = args.getlist(name)
        if len(values) > 1:
            raise FilterError(_("“%(name)s” was given more than once.", name=name), name)
        return values[0].strip() if values else ""

    instrument = one("instrument")
    known = {key for key, _title in instrument_choices(session)}
    if not instrument:
        if strict:
            raise FilterError(_("Please name the survey (instrument=…)."), "instrument")
        instrument = default_instrument(session, unit, today, kind) or ""
    if instrument not in known:
        raise FilterError(_("There is no survey “%(key)s”.", key=instrument[:64]), "instrument")
    if strict and not (one("from") and one("to")):
        raise FilterError(_("Please give the first and the last day of the period (YYYY-MM-DD)."), "from")
    window = one("window")
    raw_from, raw_to = one("from"), one("to")
    shown = (one("shown_from"), one("shown_to"))
    if window not in ("", "custom") and raw_from and raw_to and any(shown) and (raw_from, raw_to) != shown:
        window = "custom"  # the form's dates were edited: they win over the preset they came with
    window, date_from, date_to = resolve_window(window, raw_from, raw_to, today)
    if (date_to - date_from).days > reports.MAX_WINDOW_DAYS:
        raise FilterError(_("The period is longer than ten years."), "to")
    period = one("period") or "month"
    if period not in ("month", "quarter"):
        raise FilterError(_("The trend is by “month” or “quarter”."), "period")
    channels = tuple(sorted({c.strip() for c in args.getlist("channel") if c.strip()}))
    bad = [c for c in channels if c not in CHANNELS]
    if bad:
        raise FilterError(_("Unknown channel “%(channel)s”; the channels are %(channels)s.",
                            channel=bad[0][:20], channels=", ".join(CHANNELS)), "channel")
    if set(channels) == set(CHANNELS):
        channels = ()
    include_suspect = _flag(one("include_suspect"), "include_suspect")
    campaign_id = None
    raw_campaign = one("campaign")
    if raw_campaign:
        allowed = {c.id: c for c in campaign_choices(session, scope, unit)}
        if not (raw_campaign.isascii() and raw_campaign.isdigit()) or int(raw_campaign) not in allowed:
            raise FilterError(_("This campaign is not one of this unit’s campaigns that you can read."), "campaign")
        campaign = allowed[int(raw_campaign)]
        if campaign.instrument_version.instrument.key != instrument:
            raise FilterError(_("This campaign uses another survey; choose that survey or all campaigns."),
                              "campaign")
        campaign_id = campaign.id
    return ReportFilters(instrument=instrument, window=window, date_from=date_from, date_to=date_to, period=period,
                         channels=channels, include_suspect=include_suspect, campaign_id=campaign_id)


def window_choices(today: date) -> list[tuple[str, str]]:
    """(value, label) of the windows the form offers: the last 12 months, the last years,
    quarters and months, and custom dates."""
    out = [("12m", _("Last 12 months"))]
    for year in (today.year, today.year - 1, today.year - 2):
        out.append((str(year), _("Year %(year)d", year=year)))
    quarter = (today.month - 1) // 3 + 1
    year = today.year
    for _i in range(5):
        out.append((f"{year}-Q{quarter}", _("Quarter %(quarter)d/%(year)d", quarter=quarter, year=year)))
        quarter, year = (quarter - 1, year) if quarter > 1 else (4, year - 1)
    for back in range(13):
        start = _month_start(today, back)
        out.append((f"{start.year}-{start.month:02d}", _("Month %(month)02d/%(year)d", month=start.month,
                                                        year=start.year)))
    out.append(("custom", _("Custom dates")))
    return out


# ------------------------------------------------------------------ computing

def watermark(session: Session) -> tuple[int, int]:
    """Catch the rollups up (as far as a request may: :func:`rollup.catch_up_for_request`),
    then (responses rolled up, last response id): it moves with every new response counted,
    so it keys caches of anything drawn from the rollups.

    Nothing is written when nothing waits (``catch_up`` then takes no lock).
    """
    rollup.catch_up_for_request(session)
    return _mark(session)


def _mark(session: Session) -> tuple[int, int]:
    state = session.get(RollupState, rollup.STATE_NAME, populate_existing=True)
    if state is None:
        return (0, 0)
    return (int(state.responses_rolled), int(state.last_response_id or 0))


@dataclass
class ReportView:
    """A computed report and what it was computed from."""

    unit: Unit
    filters: ReportFilters
    report: dict[str, Any]
    definition: dict[str, Any]
    versions: list[InstrumentVersion]
    mark: tuple[int, int]
    # Responses not in the figures yet (a backlog too long to catch up in the request).
    backlog: rollup.Backlog = rollup.UP_TO_DATE


def compute(session: Session, unit: Unit, filters: ReportFilters,
            compare: tuple[str, ...] | None = None) -> ReportView:
    """The report of ``unit``'s subtree for ``filters`` (from the rollups, caught up first).
    ``compare``: the paths of the units its comparison ranks (default ``unit``'s children)."""
    backlog = rollup.catch_up_for_request(session)
    mark = _mark(session)
    req = filters.request(unit)
    if compare is not None:
        req = replace(req, compare=compare)
    try:
        result = reports.report_tables(session, req, catch_up=False)
    except reports.ReportError as exc:
        raise FilterError(str(exc)) from None
    return ReportView(unit=unit, filters=filters, report=result.report, definition=result.versions[-1].snapshot,
                      versions=result.versions, mark=mark, backlog=backlog)


# ------------------------------------------------------------------ chart cache

class ByteCache:
    """A thread-safe LRU of byte bundles, bounded by total size; ``get_or_make`` lets
    concurrent requests for one key wait for a single computation."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[dict[str, bytes], int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._making: dict[str, threading.Lock] = {}

    def get(self, key: str) -> dict[str, bytes] | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: str, bundle: dict[str, bytes]) -> None:
        size = sum(len(v) for v in bundle.values())
        with self._lock:
            if key in self._items:
                self._size -= self._items.pop(key)[1]
            if size > self.max_bytes:
                return
            self._items[key] = (bundle, size)
            self._size += size
            while self._size > self.max_bytes:
                _key, (_bundle, old) = self._items.popitem(last=False)
                self._size -= old

    def get_or_make(self, key: str, make: Callable[[], dict[str, bytes]]) -> dict[str, bytes]:
        found = self.get(key)
        if found is not None:
            return found
        with self._lock:
            lock = self._making.setdefault(key, threading.Lock())
        try:
            with lock:
                found = self.get(key)
                if found is None:
                    found = make()
                    self.put(key, found)
        finally:
            with self._lock:
                self._making.pop(key, None)
        return found

    def __len__(self) -> int:
        return len(self._items)


def chart_cache() -> ByteCache:
    """This application's chart cache (one per app, so tests never share one)."""
    cache = current_app.extensions.get("report_charts")
    if cache is None:
        mb = int(current_app.config.get("REPORT_CHART_CACHE_MB", 64))
        cache = current_app.extensions.setdefault("report_charts", ByteCache(mb * 1024 * 1024))
    return cache


def render_charts(report: Mapping[str, Any], definition: Mapping[str, Any], lang: str, fmt: str,
                  only: Sequence[str] | None = None) -> dict[str, bytes]:
    """Every chart of a report (``charts_for``) rendered as ``svg`` or ``png``."""
    from analysis.charts import to_png, to_svg

    from .charts import charts_for

    out = {}
    for name, axes in charts_for(dict(report), dict(definition), lang).items():
        if only is not None and name not in only:
            continue
        out[name] = to_svg(axes) if fmt == "svg" else to_png(axes, dpi=150)
    return out


def charts_key(unit: Unit, filters: ReportFilters, mark: tuple[int, int], lang: str, fmt: str) -> str:
    """The cache key of a view's charts: (unit, filters, rollup watermark, lineage, language,
    format); a succession declared since changes what the charts cover."""
    from ..officials.lineage import covered

    session = object_session(unit)
    lineage = [p.path for p in covered(session, unit, filters.date_from)] if session is not None else []
    raw = json.dumps([unit.id, unit.path, filters.key(), list(mark), lineage, "charts", lang, fmt])
    return hashlib.sha256(raw.encode()).hexdigest()


def cached_charts(unit: Unit, filters: ReportFilters, mark: tuple[int, int], lang: str,
                  fmt: str = "svg") -> dict[str, bytes] | None:
    """The charts if they are cached, without computing the report."""
    return chart_cache().get(charts_key(unit, filters, mark, lang, fmt))


def chart_bundle(view: ReportView, lang: str, fmt: str = "svg") -> dict[str, bytes]:
    """The view's charts (name → SVG or PNG bytes), rendered once per cache key."""
    key = charts_key(view.unit, view.filters, view.mark, lang, fmt)
    return chart_cache().get_or_make(key, lambda: render_charts(view.report, view.definition, lang, fmt))

