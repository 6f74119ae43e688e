"""``flask --app wsgi dossiers import|flag-excess``: served dossiers from a one-stop
software's CSV export, for offices without the API, and the review flag of months with
more ratings than dossiers."""
from __future__ import annotations


import click
from flask_babel import force_locale

from ..extensions import db
from ..services.data import paper_import
from ..services.dossiers import figures, operations
from ..services.officials import audit, lookup
from ..services.officials.scope import GrantInfo, Scope


@click.group("dossiers", help="Dossiers served at one-stop counters (what the API takes, from a CSV file).")
def dossiers_cli() -> None:
    pass


def _unit(ref: str):
    unit = lookup.find_unit(db.session, ref)
    if unit is None:
        raise click.ClickException(f"no unit {ref!r} (give a service point code or a path like /vn/qt/)")
    return unit


@dossiers_cli.command("import", help="Import a CSV export (columns: " + ", ".join(operations.FIELDS) + "). "
                      "Every row is checked as the API checks a dossier; one bad row and nothing is written; "
                      "importing the same file again changes nothing.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--unit", "unit_ref", required=True, help="The unit whose service points the file may name.")
@click.option("--dry-run", is_flag=True, help="Only check the file.")
def import_command(path: str, unit_ref: str, dry_run: bool) -> None:
    unit = _unit(unit_ref)
    scope = Scope(db.session, None, [GrantInfo(grant_id=0, unit_id=unit.id, path=unit.path, role="viewer")], 1)
    try:
        sheet = paper_import.read_csv(path)
    except paper_import.ImportFailed as exc:
        raise click.ClickException("\n".join(exc.problems)) from None
    payloads, numbers, unknown = operations.rows_to_payloads(sheet.columns, sheet.rows)
    problems = [f"column {name!r} is not one of: {', '.join(operations.FIELDS)}" for name in unknown]
    if not payloads:
        problems.append("the file has no dossier rows")
    outcomes = []
    if not problems:
        with force_locale("en"):
            try:
                outcomes = operations.upsert_many(db.session, scope, payloads, actor_name="csv", source="csv",
                                                  limit=None)
            except operations.DossierInvalid as exc:
                db.session.rollback()
                problems = [f"row {numbers[p.index] if p.index is not None else '?'}"
                            f"{', column ' + p.field if p.field else ''}: {p.message}" for p in exc.problems]
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s); nothing was imported:\n" + "\n".join(problems))
    counts = {name: sum(1 for o in outcomes if o.result == name) for name in ("created", "updated", "unchanged")}
    if dry_run:
        db.session.rollback()
        click.echo(f"checked: {len(outcomes)} dossiers would be imported ({counts['created']} new, "
                   f"{counts['updated']} updated, {counts['unchanged']} unchanged); nothing written")
        return
    audit.record(db.session, "dossiers.imported", unit=unit, target=path[-200:], detail=counts)
    db.session.commit()
    click.echo(f"imported {len(outcomes)} dossiers: {counts['created']} new, {counts['updated']} updated, "
               f"{counts['unchanged']} unchanged. New dossiers' check codes (for /d):")
    for outcome in outcomes:
        if outcome.result == "created":
            click.echo(f"  {outcome.dossier.code},{outcome.dossier.check_code},{outcome.evaluation_code}")


@dossiers_cli.command("flag-excess", help="Mark suspect (not delete) the ratings of months in which a point had "
                      "more ratings than dossiers it returned (the dossiers' own ratings stay).")
@click.option("--unit", "unit_ref", required=True)
@click.option("--from", "date_from", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "date_to", required=True, type=click.DateTime(["%Y-%m-%d"]))
def flag_excess(unit_ref: str, date_from, date_to) -> None:
    unit = _unit(unit_ref)
    start, end = date_from.date(), date_to.date()
    periods = figures.excess_periods(db.session, unit, start, end)
    count = figures.flag_excess(db.session, unit, start, end)
    if count:
        audit.record(db.session, "dossiers.flagged", unit=unit, detail={"responses": count, "periods": periods})
        db.session.commit()
    click.echo(f"{len(periods)} month(s) with more ratings than dossiers; {count} response(s) marked suspect")
