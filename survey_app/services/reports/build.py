"""Building reports: resolve the unit and instrument, catch the rollups up, count, assemble."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import counts
from analysis.instrument import scoring_of
from analysis.report import PERIODS, build_report

from ...models import CHANNELS, Instrument, InstrumentVersion, Unit
from ..officials import lineage
from . import rollup
from .gcpause import gc_paused

MAX_WINDOW_DAYS = 366 * 10
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local_today() -> date:
    """Today in Asia/Ho_Chi_Minh, where every report's days are counted."""
    return datetime.now(LOCAL_TZ).date()


class ReportError(ValueError):
    """The report's parameters are not usable; the message says why."""


@dataclass(frozen=True)
class ReportRequest:
    unit: Unit
    instrument_key: str
    date_from: date
    date_to: date
    period: str = "month"
    include_suspect: bool = False
    channels: tuple[str, ...] | None = None
    campaign_id: int | None = None
    # The local day the report is read on: periods not ended by then are partial.
    # None: today in Asia/Ho_Chi_Minh.
    as_of: date | None = None
    # The paths of the units the comparison ranks, each with its subtree (nested ones count
    # only their own part). None: the unit's direct children.
    compare: tuple[str, ...] | None = None


def find_unit(session: Session, ref: str) -> Unit | None:
    """A unit by public code or by materialized path."""
    if ref.startswith("/"):
        path = ref if ref.endswith("/") else ref + "/"
        return session.scalar(select(Unit).where(Unit.path == path))
    return session.scalar(select(Unit).where(Unit.code == ref))


def check_request(req: ReportRequest) -> None:
    if req.date_to < req.date_from:
        raise ReportError("the end date is before the start date")
    if (req.date_to - req.date_from).days > MAX_WINDOW_DAYS:
        raise ReportError("the window is longer than ten years")
    if req.period not in PERIODS:
        raise ReportError(f"period must be one of {', '.join(PERIODS)}")
    if req.channels is not None and any(c not in CHANNELS for c in req.channels):
        raise ReportError(f"channel must be among {', '.join(CHANNELS)}")


def instrument_versions(session: Session, key: str) -> list[InstrumentVersion]:
    versions = session.scalars(
        select(InstrumentVersion).join(Instrument).where(Instrument.key == key).order_by(InstrumentVersion.number)
    ).all()
    if not versions:
        raise ReportError(f"no instrument {key!r}")
    return list(versions)


def _filters(req: ReportRequest, versions: Sequence[InstrumentVersion],
             also_paths: tuple[str, ...] = ()) -> counts.Filters:
    return counts.Filters(unit_path=req.unit.path, version_ids=tuple(v.id for v in versions),
                          date_from=req.date_from, date_to=req.date_to, channels=req.channels,
                          include_suspect=req.include_suspect, campaign_id=req.campaign_id, also_paths=also_paths)


def covered_predecessors(session: Session, req: ReportRequest) -> list[lineage.Predecessor]:
    """The hook of lineage into reports: the predecessors whose subtrees a report of
    ``req.unit`` also covers (its window begins before their succession)."""
    return lineage.covered(session, req.unit, req.date_from)


class ReportResult(NamedTuple):
    """A report with what it was computed from: the count tables and the versions included."""

    report: dict[str, Any]
    tables: counts.CountTables
    versions: list[InstrumentVersion]




def report_tables(session: Session, req: ReportRequest, source: str = "rollups", *,
                  catch_up: bool = True) -> ReportResult:
    """The report and what it was computed from. ``source`` is ``rollups`` or ``raw``.
    ``catch_up=False``: the caller has caught the rollups up already (a web request, with
    its bounded :func:`rollup.catch_up_for_request`)."""
    check_request(req)
    versions = instrument_versions(session, req.instrument_key)
    latest = versions[-1]
    before = covered_predecessors(session, req)
    filters = _filters(req, versions, tuple(p.path for p in before))
    if source not in ("rollups", "raw"):
        raise ReportError("source must be 'rollups' or 'raw'")
    if source == "rollups" and catch_up:
        rollup.catch_up(session)  # commits; the connection is taken after it
    connection = session.connection()
    with gc_paused():
        if source == "rollups":
            tables = counts.from_rollups(connection, filters)
        else:
            counted = {v.id: [q["key"] for q in v.snapshot["questions"] if q["type"] in rollup.COUNTED_TYPES]
                       for v in versions}
            tables = counts.from_raw(connection, filters, {v.id: scoring_of(v.snapshot) for v in versions}, counted)
        units = counts.units_below(connection, req.unit.path)
        root = next(u for u in units if u.path == req.unit.path)
        for p in before:  # counted in the totals and the trend; the comparison stays the unit's children
            units += counts.units_below(connection, p.path)
        report = build_report(latest.snapshot, root, units, tables, date_from=req.date_from, date_to=req.date_to,
                              period=req.period, include_suspect=req.include_suspect,
                              versions=[v.number for v in versions], as_of=req.as_of or local_today(),
                              merged_into=lineage.merged_below(session, req.unit, req.date_from, req.date_to),
                              compare=req.compare)
    lineage.mark_report(report, before)
    # Dossiers served by the subtree's one-stop points (response rates, the portal's figures):
    # present only where the one-stop software reported some. Never published as such.
    from ..dossiers.figures import dossier_section

    served = dossier_section(session, req.unit, req.date_from, req.date_to)
    if served is not None:
        report["dossiers"] = served
    return ReportResult(report, tables, versions)


def make_report(session: Session, req: ReportRequest, source: str = "rollups") -> dict[str, Any]:
    return report_tables(session, req, source).report


def write_charts(report: dict[str, Any], definition: dict[str, Any], directory: Path, lang: str = "vi") -> list[Path]:
    """Write every chart of a report as PNG and SVG into ``directory``."""
    # Imported here: matplotlib is heavy, and only chart-drawing requests need it.
    from analysis.charts import to_png, to_svg

    from .charts import charts_for

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, axes in charts_for(report, definition, lang).items():
        for ext, render in (("png", to_png), ("svg", to_svg)):
            path = directory / f"{name}.{ext}"
            path.write_bytes(render(axes))
            written.append(path)
    return written
