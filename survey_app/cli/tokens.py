"""``flask --app wsgi tokens issue``: one-time codes as cut-out slips (PDF) or as CSV.

    flask --app wsgi tokens issue --campaign <id> --unit <code> -n 500 --out slips.pdf [--expires YYYY-MM-DD] [--format pdf|csv]
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
    base = public_base_url(base_url)
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise click.ClickException(f"there is no campaign {campaign_id}")
    unit = unit_by_ref(unit_ref)
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
