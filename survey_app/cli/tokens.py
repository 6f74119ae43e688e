"""Command line for QR codes in the real world (issue 3):

    flask --app wsgi posters --unit <code-or-path> --out posters.pdf [--size a4|a6]
    flask --app wsgi tokens issue --campaign <id> --unit <code> -n 500 --out slips.pdf [--expires YYYY-MM-DD] [--format pdf|csv]
    flask --app wsgi kiosks enrol --unit <code> [--label "Quầy 1"]
    flask --app wsgi kiosks list [--unit <code-or-path>] [--all]
    flask --app wsgi kiosks revoke <kiosk-id>…

There is no request on the command line to take the public address from, so printing
needs ``--base-url`` or the ``PUBLIC_BASE_URL`` setting.
"""
from __future__ import annotations

import os
import sys
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app

from .extensions import db
from .models import Campaign, Kiosk, Unit, utcnow
from .services import kiosks as kiosk_service
from .services import posters as poster_service
from .services import slips as slip_service
from .services import tokens as token_service
from .services.lookup import find_unit
from .services.qr import normalize_base_url

BASE_URL_HELP = "Public address the codes lead to, e.g. https://hailong.example.gov.vn (default: PUBLIC_BASE_URL)."


def _base_url(explicit: str | None) -> str:
    raw = explicit or current_app.config.get("PUBLIC_BASE_URL")
    if not raw:
        raise click.ClickException(
            "no public address for the QR codes: pass --base-url https://… or set PUBLIC_BASE_URL "
            "(there is no web request here to take the address from)")
    try:
        return normalize_base_url(raw)
    except ValueError as exc:
        raise click.ClickException(f"--base-url / PUBLIC_BASE_URL: {exc}") from None


def _unit(ref: str) -> Unit:
    unit = find_unit(db.session, ref)
    if unit is None:
        raise click.ClickException(f"no unit with the code or path {ref!r}")
    return unit


def _write(out: Path, data: bytes) -> None:
    """Write atomically: a half-written PDF never replaces a good one."""
    out = out.expanduser()
    if not out.parent.is_dir():
        raise click.ClickException(f"{out.parent}: no such folder")
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise click.ClickException(f"{out}: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------- posters

@click.command("posters", help="Print a poster PDF for every service point in a unit's subtree.")
@click.option("--unit", "unit_ref", required=True, help="A service point's code, or any unit's path (/vn/qt/tx-qt/p2/).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The PDF to write.")
@click.option("--size", type=click.Choice(sorted(poster_service.POSTER_SIZES)), default="a4", show_default=True,
              help="a4: wall poster; a6: table tent.")
@click.option("--base-url", default=None, help=BASE_URL_HELP)
def posters_command(unit_ref: str, out: Path, size: str, base_url: str | None) -> None:
    base = _base_url(base_url)
    unit = _unit(unit_ref)
    try:
        data = poster_service.build_posters_pdf(db.session, unit, base_url=base, size=size)
    except poster_service.PosterError as exc:
        raise click.ClickException(str(exc)) from None
    count = len(poster_service.service_points_under(db.session, unit))
    _write(out, data)
    click.echo(f"{out}: {count} poster(s), {size.upper()}, for {unit.path} ({base}/s/…)")


# --------------------------------------------------------------------------- one-time codes

@click.group("tokens", help="One-time codes for visit_token and respondent_token campaigns.")
def tokens_cli() -> None:
    pass


def _expiry(day: date | None) -> datetime | None:
    """Valid through ``day`` in the service's time zone: expires at the next local midnight."""
    if day is None:
        return None
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(ZoneInfo("UTC"))


@tokens_cli.command("issue", help="Issue one-time codes as cut-out slips (PDF) or as CSV for a one-stop software.")
@click.option("--campaign", "campaign_id", required=True, type=int, help="The campaign's id.")
@click.option("--unit", "unit_ref", required=True, help="The unit the codes are for (its code, or its path).")
@click.option("-n", "--count", required=True, type=int, help=f"How many codes (1–{token_service.MAX_BATCH}).")
@click.option("--out", required=True, help="The file to write ('-' writes CSV to standard output).")
@click.option("--expires", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day the codes work (YYYY-MM-DD, local time); default: until the campaign ends.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "csv"]), default="pdf", show_default=True)
@click.option("--base-url", default=None, help=BASE_URL_HELP)
def issue_tokens(campaign_id: int, unit_ref: str, count: int, out: str, expires: datetime | None, fmt: str,
                 base_url: str | None) -> None:
    if out == "-" and fmt != "csv":
        raise click.ClickException("a PDF needs a file: give --out slips.pdf (only CSV can go to standard output)")
    if not 1 <= count <= token_service.MAX_BATCH:
        raise click.ClickException(f"-n must be between 1 and {token_service.MAX_BATCH}, not {count}")
    base = _base_url(base_url)
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise click.ClickException(f"there is no campaign {campaign_id}")
    unit = _unit(unit_ref)
    expires_at = _expiry(expires.date() if expires else None)
    try:
        codes = token_service.issue_tokens(db.session, campaign, unit, count, expires_at=expires_at)
        if fmt == "csv":
            data = token_service.codes_csv(codes, base, expires_at).encode("utf-8")
        else:
            data = slip_service.build_slips_pdf(codes, campaign, unit, base_url=base, expires_at=expires_at,
                                                zone=current_app.config["DISPLAY_TIMEZONE"])
        if out == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            _write(Path(out), data)
    except token_service.TokenIssueError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    except BaseException:
        db.session.rollback()  # nothing printed, nothing stored
        raise
    db.session.commit()
    through = slip_service.valid_through(expires_at, current_app.config["DISPLAY_TIMEZONE"])
    summary = (f"{count} code(s) for campaign {campaign.id} at {unit.code or unit.path}"
               f"{', valid through ' + through if through else ''}")
    click.echo(summary if out == "-" else f"{out}: {summary}", err=out == "-")


# --------------------------------------------------------------------------- kiosks

@click.group("kiosks", help="Tablets in kiosk mode at a service point's counter.")
def kiosks_cli() -> None:
    pass


@kiosks_cli.command("enrol", help="Create a kiosk and print its one-time enrolment link.")
@click.option("--unit", "unit_ref", required=True, help="The service point's code.")
@click.option("--label", default="", help='A name for the tablet, e.g. "Quầy 1".')
@click.option("--base-url", default=None, help=BASE_URL_HELP)
def enrol_kiosk(unit_ref: str, label: str, base_url: str | None) -> None:
    base = _base_url(base_url)
    unit = _unit(unit_ref)
    valid_for = timedelta(seconds=current_app.config["KIOSK_ENROL_MAX_AGE"])
    try:
        enrolment = kiosk_service.enrol_kiosk(db.session, unit, label, valid_for=valid_for)
    except kiosk_service.KioskError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    until = enrolment.expires_at.astimezone(zone).strftime("%d/%m/%Y %H:%M")
    click.echo(f"Kiosk {enrolment.kiosk.id} for {unit.code} {enrolment.kiosk.label!r}.")
    click.echo(f"Open this link once on the tablet (valid until {until}):")
    click.echo(f"  {base}{enrolment.path}")


@kiosks_cli.command("list", help="List kiosks (of a unit's subtree).")
@click.option("--unit", "unit_ref", default=None, help="A service point's code or a unit's path.")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked kiosks.")
def list_kiosks(unit_ref: str | None, include_revoked: bool) -> None:
    unit = _unit(unit_ref) if unit_ref else None
    found = kiosk_service.list_kiosks(db.session, unit, include_revoked=include_revoked)
    if not found:
        click.echo("No kiosks.")
        return
    now = utcnow()
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    for kiosk in found:
        since = kiosk.enrolled_at or kiosk.created_at
        click.echo(f"{kiosk.id:>5}  {kiosk.unit.code:<16} {kiosk.state_at(now):<8} "
                   f"{since.astimezone(zone).strftime('%d/%m/%Y %H:%M')}  {kiosk.label}")


@kiosks_cli.command("revoke", help="Revoke kiosks: their tablets stop working at once.")
@click.argument("kiosk_ids", nargs=-1, required=True, type=int)
def revoke_kiosks(kiosk_ids: tuple[int, ...]) -> None:
    missing = [str(i) for i in kiosk_ids if db.session.get(Kiosk, i) is None]
    if missing:  # all or nothing
        raise click.ClickException(f"no kiosk with id {', '.join(missing)}; nothing was revoked")
    revoked = [kiosk_service.revoke_kiosk(db.session, kiosk_id) for kiosk_id in kiosk_ids]
    db.session.commit()
    for kiosk in revoked:
        click.echo(f"Kiosk {kiosk.id} ({kiosk.unit.code} {kiosk.label!r}) revoked.")


def init_app(app: Flask) -> None:
    app.cli.add_command(posters_command)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(kiosks_cli)
