"""``flask --app wsgi responses import``: paper forms typed into a CSV or Excel file."""
from __future__ import annotations

from pathlib import Path

import click

from ..extensions import db
from ..models import Campaign
from ..services.data import paper_import

#: Problems printed before "… and N more".
MAX_SHOWN = 50


@click.group("responses", help="Responses collected outside the web form.")
def responses_cli() -> None:
    pass


@responses_cli.command(
    "import",
    help="Import paper forms from FILE (.csv or .xlsx): one row per form; columns unit, submitted_at "
         "(Vietnam time: 2026-03-05, 05/03/2026 or 2026-03-05 14:30), then one per question key. "
         "All rows or none are imported; rows imported before are skipped.",
)
@click.option("--campaign", "campaign_id", type=int, required=True, help="The campaign's id.")
@click.option("--dry-run", is_flag=True, help="Check the file and count, but write nothing.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(campaign_id: int, dry_run: bool, file: Path) -> None:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise click.ClickException(f"no campaign {campaign_id}")
    try:
        result = paper_import.import_file(db.session, campaign, file, dry_run=dry_run)
    except paper_import.ImportFailed as exc:
        for problem in exc.problems[:MAX_SHOWN]:
            click.echo(problem, err=True)
        if len(exc.problems) > MAX_SHOWN:
            click.echo(f"… and {len(exc.problems) - MAX_SHOWN} more", err=True)
        raise click.ClickException(f"{len(exc.problems)} problem(s) in {file.name}; nothing was imported") from None
    blank = f", {result.blank_rows} blank row(s) ignored" if result.blank_rows else ""
    if dry_run:
        click.echo(f"{file.name}: {result.rows_read} row(s) read{blank}; would import {result.imported}, "
                   f"{result.already_present} already present (skipped); dry run: no changes written")
    else:
        click.echo(f"{file.name}: {result.rows_read} row(s) read{blank}; imported {result.imported}, "
                   f"{result.already_present} already present (skipped)")

