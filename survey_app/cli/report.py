"""``flask --app wsgi report``: a unit's report as JSON on standard output, its charts as files."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from ..extensions import db
from ..services.reports import build as reports


def _day(_ctx, param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-03-31") from None


@click.command("report", help="Print the report of a unit's subtree for an instrument and a window.")
@click.option("--unit", "unit_ref", required=True, help="Service point code or unit path (/vn/qt/...).")
@click.option("--instrument", "instrument_key", required=True)
@click.option("--from", "date_from", required=True, callback=_day, help="First local day, YYYY-MM-DD.")
@click.option("--to", "date_to", required=True, callback=_day, help="Last local day, YYYY-MM-DD.")
@click.option("--period", type=click.Choice(["month", "quarter"]), default="month", show_default=True)
@click.option("--include-suspect", is_flag=True, help="Also count responses flagged as suspect.")
@click.option("--channel", "channels", multiple=True, help="Only these channels (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True)
@click.option("--charts", "charts_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write every chart (PNG and SVG) into this folder.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
def report_command(unit_ref, instrument_key, date_from, date_to, period, include_suspect, channels, fmt,
                   charts_dir, lang) -> None:
    unit = reports.find_unit(db.session, unit_ref)
    if unit is None:
        raise click.ClickException(f"no unit {unit_ref!r} (give a service point code or a path like /vn/qt/)")
    req = reports.ReportRequest(unit=unit, instrument_key=instrument_key, date_from=date_from, date_to=date_to,
                                period=period, include_suspect=include_suspect,
                                channels=tuple(channels) or None)
    try:
        report = reports.make_report(db.session, req)
    except reports.ReportError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    if charts_dir is not None:
        definition = reports.instrument_versions(db.session, instrument_key)[-1].snapshot
        written = reports.write_charts(report, definition, charts_dir, lang)
        click.echo(f"wrote {len(written)} chart file(s) to {charts_dir}", err=True)

