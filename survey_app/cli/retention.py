"""``flask --app wsgi retention``: purge what is kept no longer (device hashes, old petition
contacts) now, as the worker does daily (:mod:`survey_app.services.data.retention`)."""
from __future__ import annotations

import click
from flask import current_app

from ..extensions import db
from ..services.data import retention


@click.command("retention", help="Purge device hashes past their day and old petition contacts (audited).")
@click.option("--dry-run", is_flag=True, help="Count what would be purged; change nothing.")
def retention_command(dry_run: bool) -> None:
    policy = retention.Policy.from_config(current_app.config)
    done = retention.run(db.session, policy, dry_run=dry_run)
    verb = "would clear" if dry_run else "cleared"
    click.echo(f"{verb} the device hashes of {done.hashes_cleared:,} response(s) submitted before "
               f"{done.hash_cutoff:%Y-%m-%d %H:%M} UTC; {'would delete' if dry_run else 'deleted'} "
               f"{done.contacts_deleted:,} petition contact(s) of petitions finished before "
               f"{done.contact_cutoff:%Y-%m-%d}")
