"""``flask --app wsgi instruments load``: validate and load the survey files (surveys/*.toml);
``import-xlsform`` and ``export-xlsform``: the same instruments as XLSForm workbooks."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from ..extensions import db
from ..services.collect import instruments as instrument_service
from ..services.collect import xlsform


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


@instruments_cli.command("import-xlsform", help="Convert an XLSForm workbook (.xlsx) into an instrument and load it.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--toml", "toml_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the instrument as a TOML file (e.g. into surveys/).")
def import_xlsform(path: Path, toml_out: Path | None) -> None:
    data = path.read_bytes()[: xlsform.MAX_WORKBOOK_BYTES + 1]
    try:
        definition = xlsform.read_workbook(data, path.name)
    except xlsform.XLSFormError as exc:
        for line in exc.lines(path.name):
            click.echo(line, err=True)
        raise click.ClickException(f"{len(exc.problems)} problem(s); nothing was loaded") from None
    try:
        outcome = instrument_service.store(db.session, definition, f"xlsform/{path.name}")
    except instrument_service.InstrumentError as exc:  # refused before anything was written
        db.session.rollback()
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"{len(exc.problems)} problem(s); nothing was loaded") from None
    db.session.commit()
    if toml_out is not None:
        toml_out.write_text(xlsform.to_toml(definition), encoding="utf-8")
    state = "new version" if outcome.created else "unchanged"
    click.echo(f"{outcome.key}: v{outcome.version} ({state})")


@instruments_cli.command("export-xlsform", help="Write an instrument's latest version as an XLSForm workbook.")
@click.argument("key")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The workbook to write (default: KEY.xlsx).")
def export_xlsform(key: str, out: Path | None) -> None:
    version = instrument_service.latest_version(db.session, key)
    if version is None:
        raise click.ClickException(f"{key}: no such instrument (load it first: flask instruments load)")
    try:
        data = xlsform.write_workbook(version.snapshot)
    except ValueError as exc:
        raise click.ClickException(f"{key} v{version.number}: cannot be written as XLSForm: {exc}") from None
    out = out or Path(f"{key}.xlsx")
    out.write_bytes(data)
    click.echo(f"{key}: v{version.number} written to {out} ({len(data)} bytes)")
