"""``flask --app wsgi retention``: purge what is kept no longer (device hashes, old petition
contacts) now, as the worker does daily (:mod:`survey_app.services.data.retention`)."""
from __future__ import annotations

import click
from flask import current_app

from ..extensions import db
from ..services.data import partition_retention, retention


@click.command("retention", help="Purge device hashes past their day and old petition contacts; with "
                                 "RESPONSE_KEEP_MONTHS, archive and drop older months of responses (audited).")
@click.option("--dry-run", is_flag=True, help="Count what would be purged; change nothing.")
def retention_command(dry_run: bool) -> None:
    policy = retention.Policy.from_config(current_app.config)
    done = retention.run(db.session, policy, dry_run=dry_run)
    verb = "would clear" if dry_run else "cleared"
    click.echo(f"{verb} the device hashes of {done.hashes_cleared:,} response(s) submitted before "
               f"{done.hash_cutoff:%Y-%m-%d %H:%M} UTC; {'would delete' if dry_run else 'deleted'} "
               f"{done.contacts_deleted:,} petition contact(s) of petitions finished before "
               f"{done.contact_cutoff:%Y-%m-%d}")
    keep = current_app.config.get("RESPONSE_KEEP_MONTHS")
    if not keep:
        click.echo("responses are kept for ever (RESPONSE_KEEP_MONTHS is not set)")
        return
    try:
        months = partition_retention.retire_old_months(db.session, keep_months=keep, dry_run=dry_run,
                                                       archive_dir=current_app.config.get("RESPONSE_ARCHIVE_DIR"))
    except partition_retention.NotPartitioned as refused:
        raise click.ClickException(str(refused)) from None
    except ValueError as wrong:
        raise click.ClickException(str(wrong)) from None
    click.echo(f"{'would archive and drop' if dry_run else 'archived and dropped'} {len(months.months)} month(s) "
               f"before {months.cutoff:%Y-%m} ({', '.join(months.months) or 'none'}): {months.responses:,} response(s), "
               f"{months.answers:,} answer(s)" + (f"; archives: {', '.join(months.files)}" if months.files else ""))
    for month, why in sorted(months.skipped.items()):
        click.echo(f"kept {month}: {why}")
