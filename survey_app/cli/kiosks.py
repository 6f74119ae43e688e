"""``flask --app wsgi kiosks enrol|list|revoke``: tablets in kiosk mode at a counter.

    flask --app wsgi kiosks enrol --unit <code> [--label "Quầy 1"]
    flask --app wsgi kiosks list [--unit <code-or-path>] [--all]
    flask --app wsgi kiosks revoke <kiosk-id>…
"""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import click
from flask import current_app

from ..extensions import db
from ..models import Kiosk, utcnow
from ..services.qr import kiosks as kiosk_service
from .qr_helpers import BASE_URL_HELP, public_base_url, unit_by_ref


@click.group("kiosks", help="Tablets in kiosk mode at a service point's counter.")
def kiosks_cli() -> None:
    pass


@kiosks_cli.command("enrol", help="Create a kiosk and print its one-time enrolment link.")
@click.option("--unit", "unit_ref", required=True, help="The service point's code.")
@click.option("--label", default="", help='A name for the tablet, e.g. "Quầy 1".')
@click.option("--base-url", default=None, help=BASE_URL_HELP)
def enrol_kiosk(unit_ref: str, label: str, base_url: str | None) -> None:
    base = public_base_url(base_url)
    unit = unit_by_ref(unit_ref)
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
    unit = unit_by_ref(unit_ref) if unit_ref else None
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
