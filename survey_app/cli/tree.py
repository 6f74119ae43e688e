"""``flask --app wsgi tree …``: the official tree and its lineage from the command line.

``tree load-official [--province 44]`` creates or updates the 34 provinces and 3,321
communes of the national list; ``tree succeed`` declares that a unit continues others from a
date (merger, split, rename); ``tree import-lineage FILE.csv`` declares many at once.
"""
from __future__ import annotations

import time

import click
from flask_babel import force_locale

from ..extensions import db
from ..services.officials import official_tree


@click.group("tree", help="The official administrative tree and its lineage.")
@click.pass_context
def tree_cli(ctx: click.Context) -> None:
    ctx.with_resource(force_locale("en"))  # messages from the services, in English here


@tree_cli.command("load-official", help="Create or update the official provinces and communes (idempotent).")
@click.option("--province", "province_code", default=None, help="Only this province (official code, e.g. 44).")
def load_official(province_code: str | None) -> None:
    started = time.monotonic()
    try:
        result = official_tree.load_official(db.session, province_code)
    except official_tree.OfficialTreeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{result.provinces} provinces, {result.communes} communes: {result.created} created, "
               f"{result.updated} updated, {result.unchanged} unchanged "
               f"({time.monotonic() - started:.1f} s).")
    for path in result.skipped:
        click.echo(f"  skipped {path}: a service point has the province's name there")


def _system_scope():
    from ..services.officials.scope import GrantInfo, Scope

    return Scope(db.session, None, [GrantInfo(0, 0, "/", "admin")])


def _unit(ref: str):
    from ..services.officials.lineage import _find

    unit = _find(db.session, ref)
    if unit is None:
        raise click.ClickException(f"no unit with official code, path or code {ref!r}")
    return unit


def _declared(successor, predecessor, effective_on, change):
    """The succession already declared with the same day and kind, if any."""
    from sqlalchemy import select

    from ..models import Succession

    return db.session.scalar(select(Succession).where(
        Succession.predecessor_id == predecessor.id, Succession.successor_id == successor.id,
        Succession.effective_on == effective_on, Succession.change == change))


@tree_cli.command("succeed", help="Declare that SUCCESSOR continues the given former units from a date.")
@click.argument("successor")
@click.option("--predecessor", "predecessors", multiple=True, required=True,
              help="A former unit (official code, path or point code); repeat for a merger. "
                   "For a split add its share of the area: --predecessor /vn/qt/x/:0.4")
@click.option("--from", "effective_on", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The first day of the successor (YYYY-MM-DD), e.g. 2025-07-01.")
@click.option("--change", type=click.Choice(["merger", "split", "rename"]), default="merger", show_default=True)
@click.option("--note", default=None, help="E.g. the resolution that decided it.")
def succeed(successor: str, predecessors: tuple[str, ...], effective_on, change: str, note: str | None) -> None:
    from ..services.officials import lineage

    pairs = []
    for ref in predecessors:
        ref, _sep, share = ref.partition(":")  # paths and codes have no ':'
        pairs.append((_unit(ref), share or None))
    target = _unit(successor)
    declared = [_declared(target, predecessor, effective_on.date(), change) for predecessor, _share in pairs]
    if all(declared):  # the very same declaration again (a setup script run twice): nothing to do
        for row in declared:
            click.echo(f"{row.successor.path} already succeeds {row.predecessor.path} from {row.effective_on} "
                       f"({row.change}): nothing changed")
        return
    try:
        made = lineage.declare(db.session, _system_scope(), target, pairs,
                               effective_on=effective_on.date(), change=change, note=note)
    except lineage.LineageError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    for row in made:
        click.echo(f"{row.successor.path} succeeds {row.predecessor.path} from {row.effective_on} ({row.change})")


@tree_cli.command("import-lineage", help="Declare the successions of a legacy → 2025 mapping (CSV).")
@click.argument("mapping", type=click.File("r", encoding="utf-8-sig"))
def import_lineage(mapping) -> None:
    from ..services.officials import lineage

    try:
        count = lineage.import_mapping(db.session, _system_scope(), mapping.read())
    except lineage.LineageError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{count} successions declared.")


@tree_cli.command("carry-grants", help="Give the grants on PREDECESSOR on its SUCCESSOR too (an admin's decision).")
@click.argument("predecessor")
@click.argument("successor")
def carry_grants(predecessor: str, successor: str) -> None:
    from sqlalchemy import select

    from ..models import Succession
    from ..services.officials import lineage

    pred, succ = _unit(predecessor), _unit(successor)
    row = db.session.scalar(select(Succession).where(Succession.predecessor_id == pred.id,
                                                     Succession.successor_id == succ.id))
    if row is None:
        raise click.ClickException(f"{succ.path} does not succeed {pred.path}")
    added = lineage.carry_grants(db.session, _system_scope(), row)
    click.echo(f"{added} grants carried from {pred.path} to {succ.path}.")
