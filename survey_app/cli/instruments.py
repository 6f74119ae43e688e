"""``flask --app wsgi instruments load``: validate and load the survey files (surveys/*.toml)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from ..extensions import db
from ..services.collect import instruments as instrument_service


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
