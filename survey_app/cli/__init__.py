"""Command-line operations: ``flask --app wsgi instruments load``, ``flask --app wsgi demo load``."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app

from .extensions import db
from .services import demo as demo_service
from .services import instruments as instrument_service


@click.group("instruments", help="Survey instruments (surveys/*.toml).")
def instruments_cli() -> None:
    pass


@instruments_cli.command("load", help="Validate every instrument file and load new or changed ones.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of instrument files (default: SURVEYS_DIR, i.e. surveys/).")
def load_instruments(directory: Path | None) -> None:
    directory = directory or Path(current_app.config["SURVEYS_DIR"])
    if not directory.is_dir():
        raise click.ClickException(f"{directory}: no such folder")
    try:
        outcomes = instrument_service.load_directory(db.session, directory)
    except instrument_service.InstrumentError as exc:
        db.session.rollback()
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"{len(exc.problems)} problem(s); nothing was loaded") from None
    for outcome in outcomes:
        state = "new version" if outcome.created else "unchanged"
        click.echo(f"{outcome.key}: v{outcome.version} ({state})")


@click.group("demo", help="Demo tree and campaigns.")
def demo_cli() -> None:
    pass


@demo_cli.command("load", help="Create the demo tree and open campaigns (idempotent).")
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True,
              help="Printed in front of the survey URLs.")
@click.option("--history/--no-history", default=True, show_default=True,
              help="Also add a year of past responses to demo points that have none.")
def load_demo(base_url: str, history: bool) -> None:
    from .services import demo_history

    points = demo_service.load_demo(db.session)
    if history:
        added = demo_history.add_history(db.session)
        if added:
            click.echo(f"Added {added} past demo responses.")
    click.echo("Demo surveys:")
    for point in points:
        click.echo(f"  {base_url.rstrip('/')}/s/{point.code}   {point.name_vi} ({point.instrument})")
    click.echo(f"Demo officials (log in at {base_url.rstrip('/')}/login; demo only, password {demo_service.DEMO_PASSWORD}):")
    for username, _display, path, role in demo_service.DEMO_ACCOUNTS:
        click.echo(f"  {username:<13} {role:<8} {path}")


def init_app(app: Flask) -> None:
    from . import cli_import, cli_reports

    app.cli.add_command(instruments_cli)
    app.cli.add_command(demo_cli)
    from .cli_users import users_cli

    app.cli.add_command(users_cli)
    cli_reports.init_app(app)
    cli_import.init_app(app)
    from . import cli_qr

    cli_qr.init_app(app)
    from . import cli_apikeys  # issue 6: keys for the JSON reports API

    cli_apikeys.init_app(app)
