"""``flask --app wsgi rollup``: catch the rollup tables up with every new response."""
from __future__ import annotations

import click

from ..extensions import db
from ..services.reports import rollup


@click.command("rollup", help="Catch the rollups up with every new response.")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=2000, show_default=True)
def rollup_command(batch_size: int) -> None:
    done = rollup.catch_up(db.session, batch_size=batch_size)
    click.echo(f"rolled up {done.responses} response(s) in {done.batches} batch(es); "
               f"{rollup.pending_count(db.session)} pending")
