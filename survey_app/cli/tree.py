"""``flask --app wsgi tree …``: the official tree and its lineage from the command line.

``tree load-official [--province 44]`` creates or updates the 34 provinces and 3,321
communes of the national list; ``tree succeed`` declares that a unit continues others from a
date (merger, split, rename); ``tree import-lineage FILE.csv`` declares many at once.
"""
from __future__ import annotations

import time

import click

from ..extensions import db
from ..services.officials import official_tree


@click.group("tree", help="The official administrative tree and its lineage.")
def tree_cli() -> None:
    pass


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
