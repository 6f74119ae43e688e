"""``flask --app wsgi apikeys create|list|revoke``: keys for the JSON reports API."""
from __future__ import annotations

import click
from sqlalchemy import select

from ..extensions import db
from ..models import API_SCOPES, ApiKey
from ..services.officials import apikeys, lookup


@click.group("apikeys", help="API keys for /api/v1 (Authorization: Bearer <key>): reading reports, writing dossiers.")
def apikeys_cli() -> None:
    pass


@apikeys_cli.command("create", help="Make a key for a unit's subtree (read its reports, or write its dossiers); prints it once.")
@click.option("--unit", "unit_ref", required=True, help="Unit path (/vn/qt/...) or service point code.")
@click.option("--label", required=True, help="Who uses the key, for what (shown in lists and the audit log).")
@click.option("--scope", "scopes", multiple=True, default=("reports:read",), show_default=True,
              type=click.Choice(API_SCOPES),
              help="reports:read (read reports) or dossiers:write (the one-stop software); repeat for both.")
def create(unit_ref: str, label: str, scopes: tuple[str, ...]) -> None:
    unit = lookup.find_unit(db.session, unit_ref)
    if unit is None:
        raise click.ClickException(f"no unit {unit_ref!r} (give a service point code or a path like /vn/qt/)")
    try:
        made = apikeys.create_key(db.session, unit, label, scopes=tuple(scopes))
    except apikeys.ApiKeyError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"API key {made.key.id} ({made.key.prefix}) for {unit.path} – {made.key.label}")
    click.echo("Keep it now; it is not shown again:", err=True)
    click.echo(made.secret)


@apikeys_cli.command("list", help="Every key: id, prefix, unit, label, state.")
def list_keys() -> None:
    for key in apikeys.list_keys(db.session):
        state = "active" if key.active else f"revoked {key.revoked_at:%Y-%m-%d}"
        click.echo(f"{key.id:>4}  {key.prefix}  {key.unit.path:<30} {state:<18} {key.label}")


@apikeys_cli.command("revoke", help="Revoke a key at once.")
@click.argument("key_id", type=int)
def revoke(key_id: int) -> None:
    key = db.session.scalar(select(ApiKey).where(ApiKey.id == key_id))
    if key is None:
        raise click.ClickException(f"no API key {key_id}")
    if apikeys.revoke(db.session, key):
        db.session.commit()
        click.echo(f"revoked API key {key.id} ({key.prefix})")
    else:
        click.echo(f"API key {key.id} was already revoked")

