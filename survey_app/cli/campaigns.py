"""``flask --app wsgi campaigns list|create|open|close``: campaigns from the command line.

    flask --app wsgi campaigns list [--unit <code-or-path>] [--status draft|open|paused|closed]
    flask --app wsgi campaigns create --unit p2motcua --instrument sipas [--version N] [--title "…"]
                                      [--starts YYYY-MM-DD] [--ends YYYY-MM-DD] [--mode open|code]
    flask --app wsgi campaigns open <id>
    flask --app wsgi campaigns close <id>

Thin over :mod:`survey_app.services.officials.campaigns`, acting as the system (an
administrator of the whole tree, audited as ``system``) like the other commands.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from ..extensions import db
from ..models import CAMPAIGN_STATUSES, Campaign, Instrument, InstrumentVersion, Unit, campaign_unit
from ..services.officials import campaigns as campaign_service
from ..services.officials.scope import GrantInfo, Scope
from ..services.officials.units import path_under
from .qr_helpers import unit_by_ref

#: ``--mode``: ``code`` is one-time codes handed out at the visit (``visit_token``).
MODES = {"open": "open", "code": "visit_token", "visit_token": "visit_token", "respondent_token": "respondent_token"}


@click.group("campaigns", help="Survey campaigns at service points: list, create, open, close.")
@click.pass_context
def campaigns_cli(ctx: click.Context) -> None:
    ctx.with_resource(force_locale("en"))  # messages from the services, in English here


def _system_scope() -> Scope:
    return Scope(db.session, None, [GrantInfo(0, 0, "/", "admin")])


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=_zone()).astimezone(ZoneInfo("UTC"))


def _day(moment: datetime | None) -> str:
    return moment.astimezone(_zone()).strftime("%Y-%m-%d") if moment else "-"


@campaigns_cli.command("list", help="List campaigns by id, with their points, survey, status and dates.")
@click.option("--unit", "unit_ref", default=None, help="Only campaigns at this unit or below (a code or a path).")
@click.option("--status", type=click.Choice(CAMPAIGN_STATUSES), default=None, help="Only campaigns in this status.")
def list_campaigns(unit_ref: str | None, status: str | None) -> None:
    query = select(Campaign).order_by(Campaign.id)
    if unit_ref:
        unit = unit_by_ref(unit_ref)
        query = query.where(Campaign.id.in_(
            select(campaign_unit.c.campaign_id).join(Unit, Unit.id == campaign_unit.c.unit_id)
            .where(path_under(Unit.path, unit.path))))
    if status:
        query = query.where(Campaign.status == status)
    found = db.session.scalars(query).all()
    if not found:
        click.echo("No campaigns.")
        return
    counts = campaign_service.totals(db.session, [c.id for c in found])
    click.echo(f"{'id':>4}  {'status':<7} {'mode':<16} {'instrument':<22} {'starts':<10} {'ends':<10} {'answers':>7}  "
               "points")
    for campaign in found:
        version = campaign.instrument_version
        points = ", ".join(f"{u.code or u.path} ({u.name_vi})" for u in sorted(campaign.units, key=lambda u: u.path))
        click.echo(f"{campaign.id:>4}  {campaign.status:<7} {campaign.access_mode:<16} "
                   f"{version.instrument.key + ' v' + str(version.number):<22} {_day(campaign.starts_at):<10} "
                   f"{_day(campaign.ends_at):<10} {counts.get(campaign.id, 0):>7}  {points}")
        click.echo(f"      {campaign.name}")


def _version(key: str, number: int | None) -> InstrumentVersion:
    query = select(InstrumentVersion).join(Instrument).where(Instrument.key == key)
    if number is not None:
        query = query.where(InstrumentVersion.number == number)
    version = db.session.scalar(query.order_by(InstrumentVersion.number.desc()).limit(1))
    if version is None:
        known = ", ".join(db.session.scalars(select(Instrument.key).order_by(Instrument.key))) or "none"
        if number is not None and db.session.scalar(select(Instrument.id).where(Instrument.key == key)):
            raise click.ClickException(f"the instrument {key!r} has no version {number}")
        raise click.ClickException(f"no instrument with the key {key!r} (loaded: {known}); "
                                   "'flask --app wsgi instruments load' loads surveys/")
    return version


@campaigns_cli.command("create", help="Create a campaign in draft at one or more service points; 'open' opens it.")
@click.option("--unit", "unit_refs", multiple=True, required=True,
              help="A service point's code (or path); repeat for several points.")
@click.option("--instrument", "instrument_key", required=True, help="The survey's key, e.g. sipas.")
@click.option("--version", "version_number", type=int, default=None, help="Its version (default: the latest).")
@click.option("--title", default=None, help="The campaign's name (default: the survey's title and the point).")
@click.option("--starts", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="First day (YYYY-MM-DD, local time); default: from when it is opened.")
@click.option("--ends", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day (YYYY-MM-DD, local time); default: until it is closed.")
@click.option("--mode", type=click.Choice(list(MODES)), default="open", show_default=True,
              help="How citizens reach it: open (poster QR) or code (one-time codes, = visit_token).")
@click.option("--open", "open_now", is_flag=True, help="Open it at once.")
def create_campaign(unit_refs: tuple[str, ...], instrument_key: str, version_number: int | None, title: str | None,
                    starts: datetime | None, ends: datetime | None, mode: str, open_now: bool) -> None:
    units = [unit_by_ref(ref) for ref in unit_refs]
    version = _version(instrument_key, version_number)
    if title is None:
        title = f"{version.snapshot['title']['vi']} – {', '.join(u.name_vi for u in units)}"[:200]
    scope = _system_scope()
    try:
        campaign = campaign_service.create_campaign(
            db.session, scope, name=title, version=version, units=units, access_mode=MODES[mode],
            starts_at=_local_midnight(starts.date()) if starts else None,
            ends_at=_local_midnight(ends.date() + timedelta(days=1)) if ends else None)
    except campaign_service.CampaignError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    if open_now:
        try:
            campaign_service.change_status(db.session, scope, campaign, "open")
        except campaign_service.CampaignError as exc:
            db.session.rollback()
            raise click.ClickException(f"Campaign {campaign.id} was created as a draft, but not opened: {exc}") from None
    click.echo(f"Campaign {campaign.id} ({campaign.status}): {campaign.name}")
    if campaign.status == "draft":
        click.echo(f"Open it with: flask --app wsgi campaigns open {campaign.id}")


def _campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id) if 0 < campaign_id < 2**31 else None
    if campaign is None:
        raise click.ClickException(f"there is no campaign {campaign_id} ('campaigns list' lists them)")
    return campaign


def _change(campaign_id: int, action: str) -> None:
    campaign = _campaign(campaign_id)
    try:
        campaign_service.change_status(db.session, _system_scope(), campaign, action)
    except campaign_service.CampaignError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"Campaign {campaign.id} is {campaign.status}: {campaign.name}")


@campaigns_cli.command("open", help="Open a draft or paused campaign: citizens can answer.")
@click.argument("campaign_id", type=int)
def open_campaign(campaign_id: int) -> None:
    _change(campaign_id, "open")


@campaigns_cli.command("pause", help="Pause an open campaign: no answers until it is opened again.")
@click.argument("campaign_id", type=int)
def pause_campaign(campaign_id: int) -> None:
    _change(campaign_id, "pause")


@campaigns_cli.command("close", help="Close a campaign for good.")
@click.argument("campaign_id", type=int)
def close_campaign(campaign_id: int) -> None:
    _change(campaign_id, "close")
