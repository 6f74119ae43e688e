"""``flask --app wsgi tokens issue``: one-time codes as cut-out slips (PDF) or as CSV.

    flask --app wsgi tokens issue --unit <code> [--campaign <id>] -n 500 --out slips.pdf [--expires YYYY-MM-DD] [--format pdf|csv]

Without ``--campaign`` the codes are for the unit's one open (or upcoming) one-time-code campaign.
"""
from __future__ import annotations

import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app

from ..extensions import db
from ..models import Campaign
from ..services.qr import slips as slip_service
from ..services.qr import tokens as token_service
from .qr_helpers import BASE_URL_HELP, public_base_url, unit_by_ref, write_file


@click.group("tokens", help="One-time codes for visit_token and respondent_token campaigns.")
def tokens_cli() -> None:
    pass


def _expiry(day: date | None) -> datetime | None:
    """Valid through ``day`` in the service's time zone: expires at the next local midnight."""
    if day is None:
        return None
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(ZoneInfo("UTC"))


def _code_campaign_of(unit) -> Campaign:
    """The unit's one one-time-code campaign that still takes answers, or a clear error."""
    from sqlalchemy import select

    from ..models import TOKEN_ACCESS_MODES, campaign_unit, utcnow

    now = utcnow()
    found = [c for c in db.session.scalars(
        select(Campaign).join(campaign_unit, campaign_unit.c.campaign_id == Campaign.id)
        .where(campaign_unit.c.unit_id == unit.id, Campaign.access_mode.in_(TOKEN_ACCESS_MODES))
        .order_by(Campaign.id)) if c.state_at(now) not in ("closed", "ended")]
    ref = unit.code or unit.path
    if not found:
        raise click.ClickException(
            f"{ref} has no one-time-code campaign that takes answers; create one with "
            f"'flask --app wsgi campaigns create --unit {ref} --instrument <key> --mode code --open'")
    if len(found) > 1:
        raise click.ClickException(
            f"{ref} has several one-time-code campaigns ({', '.join(str(c.id) for c in found)}): "
            "choose one with --campaign")
    return found[0]


@tokens_cli.command("issue", help="Issue one-time codes as cut-out slips (PDF) or as CSV for a one-stop software.")
@click.option("--campaign", "campaign_id", type=int, default=None,
              help="The campaign's id ('campaigns list' lists them); default: the unit's one open code campaign.")
@click.option("--unit", "unit_ref", required=True, help="The unit the codes are for (its code, or its path).")
@click.option("-n", "--count", required=True, type=int, help=f"How many codes (1–{token_service.MAX_BATCH}).")
@click.option("--out", required=True, help="The file to write ('-' writes CSV to standard output).")
@click.option("--expires", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day the codes work (YYYY-MM-DD, local time); default: until the campaign ends.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "csv"]), default="pdf", show_default=True)
@click.option("--base-url", default=None, help=BASE_URL_HELP)
def issue_tokens(campaign_id: int | None, unit_ref: str, count: int, out: str, expires: datetime | None, fmt: str,
                 base_url: str | None) -> None:
    if out == "-" and fmt != "csv":
        raise click.ClickException("a PDF needs a file: give --out slips.pdf (only CSV can go to standard output)")
    if not 1 <= count <= token_service.MAX_BATCH:
        raise click.ClickException(f"-n must be between 1 and {token_service.MAX_BATCH}, not {count}")
    base = public_base_url(base_url)
    unit = unit_by_ref(unit_ref)
    if campaign_id is None:
        campaign = _code_campaign_of(unit)
    else:
        campaign = db.session.get(Campaign, campaign_id) if 0 < campaign_id < 2**31 else None
        if campaign is None:
            raise click.ClickException(f"there is no campaign {campaign_id}")
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
            write_file(Path(out), data)
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
