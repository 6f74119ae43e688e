"""``flask --app wsgi backup`` and ``flask --app wsgi restore``: the whole database to a file and back.

SQLite through its online backup API, PostgreSQL through ``pg_dump`` / ``pg_restore``
(:mod:`survey_app.services.data.backup`). A backup goes to ``instance/backups/`` unless a
file is named, and never overwrites one; a restore asks first unless ``--yes`` is given.
"""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from ..extensions import db
from ..services.data import backup as service


def _summary(verb: str, done: service.Summary) -> str:
    return (f"{verb} {done.path} ({done.backend}): {len(done.tables)} tables, {done.rows:,} rows; "
            f"responses {done.tables.get('response', 0):,}, answers {done.tables.get('answer', 0):,}")


@click.command("backup", help="Copy the whole database to a file (SQLite backup API or pg_dump).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="The backup file (default: instance/backups/hailong-<UTC time>.sqlite3 or .dump).")
def backup_command(output: Path | None) -> None:
    engine = db.engine
    path = output or service.default_path(current_app.instance_path, engine.dialect.name)
    try:
        done = service.backup(engine, path)
    except service.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_summary("backed up to", done))


@click.command("restore", help="Replace the whole database with a backup made by 'backup'.")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database.")
def restore_command(path: Path, yes: bool) -> None:
    engine = db.engine
    if not yes:
        click.confirm(f"Replace every table of {engine.url.render_as_string(hide_password=True)} with {path}?",
                      abort=True)
    db.session.remove()
    try:
        done = service.restore(engine, path)
    except service.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_summary("restored from", done))
    click.echo("If this code is newer than the backup: flask --app wsgi db upgrade heads")
