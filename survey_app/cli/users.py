"""``flask --app wsgi users …``: officials' accounts from the command line.

Passwords are prompted (twice) or read from standard input with ``--password-stdin``;
never taken as an argument, where they would end up in the shell history.
"""
from __future__ import annotations

import sys

import click
from flask_babel import force_locale
from sqlalchemy import select

from ..extensions import db
from ..models import ROLES, Grant, Unit, User
from ..services.officials import accounts
from ..services.officials.lookup import find_unit

ROLE_CHOICE = click.Choice(ROLES)


def _unit(ref: str) -> Unit:
    unit = find_unit(db.session, ref)
    if unit is None:
        raise click.ClickException(f"no unit with path or code {ref!r}")
    return unit


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == accounts.normalise_username(username)))
    if user is None:
        raise click.ClickException(f"no account {username!r}")
    return user


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise click.ClickException("--password-stdin: nothing on standard input")
        return line.rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.group("users", help="Officials' accounts and their grants.")
@click.pass_context
def users_cli(ctx: click.Context) -> None:
    ctx.with_resource(force_locale("en"))  # messages from the services, in English here


@users_cli.command("create", help="Create an account with a grant (its role on a unit and everything below).")
@click.option("--username", required=True)
@click.option("--unit", "unit_ref", required=True, help="Unit path (/vn/qt/) or service point code.")
@click.option("--role", type=ROLE_CHOICE, required=True)
@click.option("--name", "display_name", default="", help="Full name (default: the username).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def create(username: str, unit_ref: str, role: str, display_name: str, password_stdin: bool) -> None:
    unit = _unit(unit_ref)
    try:
        accounts.check_username(username)
        password = _password(password_stdin)
        user = accounts.create_user(db.session, username=username, display_name=display_name, password=password,
                                    unit=unit, role=role)
    except accounts.AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {user.username}: {role} on {unit.path}")


@users_cli.command("grant", help="Give (or change) an account's role on a unit.")
@click.option("--username", required=True)
@click.option("--unit", "unit_ref", required=True, help="Unit path (/vn/qt/) or service point code.")
@click.option("--role", type=ROLE_CHOICE, required=True)
def grant(username: str, unit_ref: str, role: str) -> None:
    user, unit = _user(username), _unit(unit_ref)
    try:
        accounts.add_grant(db.session, user, unit, role)
    except accounts.AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"{user.username}: {role} on {unit.path}")


@users_cli.command("revoke", help="Remove an account's grant on a unit.")
@click.option("--username", required=True)
@click.option("--unit", "unit_ref", required=True, help="Unit path (/vn/qt/) or service point code.")
def revoke(username: str, unit_ref: str) -> None:
    user, unit = _user(username), _unit(unit_ref)
    found = db.session.scalar(select(Grant).where(Grant.user_id == user.id, Grant.unit_id == unit.id))
    if found is None:
        raise click.ClickException(f"{user.username} has no grant on {unit.path}")
    accounts.revoke_grant(db.session, found)
    click.echo(f"{user.username}: no longer has access to {unit.path}")


@users_cli.command("set-password", help="Set a new password (ends the account's sessions, lifts a lock).")
@click.option("--username", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def set_password(username: str, password_stdin: bool) -> None:
    user = _user(username)
    try:
        accounts.set_password(db.session, user, _password(password_stdin))
    except accounts.AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"{user.username}: password changed")


@users_cli.command("list", help="Every account with its grants.")
def list_users() -> None:
    for user in db.session.scalars(select(User).order_by(User.username)):
        grants = ", ".join(f"{g.role}@{g.unit.path}" for g in user.grants) or "no access"
        state = "" if user.active else " (deactivated)"
        click.echo(f"{user.username}{state}: {grants}")
