"""``flask --app wsgi partitions ensure|list``: the monthly partitions of ``response`` and
``answer`` on PostgreSQL (:mod:`survey_app.services.data.partitions`); the worker runs
``ensure`` daily. On SQLite the tables are not partitioned and both say so."""
from __future__ import annotations

import click
from flask import current_app

from ..extensions import db
from ..services.data import partitions

NOT_HERE = "response and answer are partitioned on PostgreSQL only; this database ({}) has plain tables: nothing to do."


@click.group("partitions", help="Monthly partitions of the responses and answers (PostgreSQL).")
def partitions_cli() -> None:
    pass


def _partitioned() -> bool:
    if partitions.is_partitioned(db.session.connection()):
        return True
    click.echo(NOT_HERE.format(db.engine.dialect.name))
    return False


@partitions_cli.command("ensure", help="Create the coming months' partitions; move rows out of DEFAULT.")
@click.option("--months-ahead", type=click.IntRange(0, 24), default=None,
              help="Months after this one to prepare (default PARTITION_MONTHS_AHEAD, 2).")
def ensure_command(months_ahead: int | None) -> None:
    if not _partitioned():
        return
    months = months_ahead if months_ahead is not None else int(current_app.config.get("PARTITION_MONTHS_AHEAD", 2))
    done = partitions.ensure_partitions(db.session, months_ahead=months)
    click.echo(f"created {len(done.created)} partition(s){': ' + ', '.join(done.created) if done.created else ''}")
    for name, count in sorted(done.moved.items()):
        click.echo(f"moved {count:,} row(s) out of DEFAULT into {name}")


@partitions_cli.command("list", help="Every partition with its month and estimated rows.")
def list_command() -> None:
    if not _partitioned():
        return
    for item in partitions.list_partitions(db.session):
        month = f"{item.month:%Y-%m}" if item.month else "DEFAULT"
        click.echo(f"{item.table:<9} {item.name:<22} {month:<8} ~{item.rows:,} row(s)")
