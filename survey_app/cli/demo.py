"""``flask --app wsgi demo load``: the demo tree, campaigns, accounts and a year of history."""
from __future__ import annotations

import click

from ..extensions import db
from ..services.data import demo as demo_service


DEFAULT_BASE_URL = "http://127.0.0.1:5000"


def _keep_base_url(given: str | None) -> str:
    """The demo's address: ``given`` (kept in instance/ for the QR commands), else the one
    kept, else :data:`DEFAULT_BASE_URL` (kept when nothing was)."""
    from ..services.qr.encoding import normalize_base_url
    from .qr_helpers import store_base_url, stored_base_url

    stored = stored_base_url()
    try:
        base = normalize_base_url(given or stored or DEFAULT_BASE_URL)
    except ValueError as exc:
        raise click.ClickException(f"--base-url: {exc}") from None
    if base != stored:
        store_base_url(base)
    return base


@click.group("demo", help="Demo tree and campaigns.")
def demo_cli() -> None:
    pass


@demo_cli.command("load", help="Create the demo tree and open campaigns (idempotent).")
@click.option("--base-url", default=None,
              help="The address the demo is served at (make run passes its own): printed in front of the survey "
                   "URLs and kept in instance/ for posters, tokens and kiosks. Default: the one kept, else "
                   f"{DEFAULT_BASE_URL}.")
@click.option("--history/--no-history", default=True, show_default=True,
              help="Also add a year of past responses, and six months of served dossiers, to demo points that have none.")
def load_demo(base_url: str | None, history: bool) -> None:
    from ..services.data import demo_dossiers, demo_history

    base_url = _keep_base_url(base_url)

    points = demo_service.load_demo(db.session)
    if history:
        added = demo_history.add_history(db.session)
        if added:
            click.echo(f"Added {added} past demo responses.")
        served = demo_dossiers.add_dossiers(db.session)
        if served:
            click.echo(f"Added {served} served demo dossiers (one-stop counters), about a third of them rated.")
    quick = demo_service.add_quick_feedback(db.session)
    if quick:
        click.echo(f"Added {quick} quick-feedback campaigns for the kiosks of the one-stop counters.")
    _extras(base_url, comments=history)
    click.echo("Demo surveys:")
    for point in points:
        click.echo(f"  {base_url.rstrip('/')}/s/{point.code}   {point.name_vi} ({point.instrument})")
    click.echo(f"Demo officials (log in at {base_url.rstrip('/')}/login; demo only, password {demo_service.DEMO_PASSWORD}):")
    for username, _display, path, role in demo_service.DEMO_ACCOUNTS:
        click.echo(f"  {username:<13} {role:<8} {path}")


def _extras(base_url: str, comments: bool) -> None:
    """One-time codes, kiosks, a publication, petitions and (with the history) comments (``demo_extras``)."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from flask import current_app

    from ..services.data import demo_extras

    extras = demo_extras.add_extras(db.session, comments=comments,
                                    kiosk_valid_for=timedelta(seconds=current_app.config["KIOSK_ENROL_MAX_AGE"]))
    added = [f"{n} {what}" for n, what in ((extras.slips, "one-time codes"), (extras.petitions, "petitions"),
                                           (extras.comments, "comments")) if n]
    if extras.published:
        added.append("a publication (/p/" + demo_extras.PUBLISHED[0] + ")")
    if added:
        click.echo("Added " + ", ".join(added) + ".")
    if extras.kiosk_link_path:
        until = extras.kiosk_link_expires.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"]))
        click.echo(f"Demo kiosk at {demo_extras.LINK_POINT}: open this link once in a browser to turn it into the "
                   f"counter's tablet (valid until {until:%d/%m/%Y %H:%M}):")
        click.echo(f"  {base_url}{extras.kiosk_link_path}")
