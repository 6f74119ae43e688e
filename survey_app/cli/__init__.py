"""The ``flask --app wsgi …`` commands: one module per command, named after it.

``flask instruments`` lives in :mod:`.instruments`, ``flask demo`` in :mod:`.demo`,
``flask users`` in :mod:`.users`, ``flask backup`` / ``restore`` in :mod:`.backup`, ``flask report`` in :mod:`.report`, and so on;
:func:`init_app` registers them all. ``posters``, ``tokens`` and ``kiosks`` share
:mod:`.qr_helpers` (the public address the QR codes lead to, atomic file writes).
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from . import (apikeys, backup, campaigns, demo, dossiers, instruments, jobs, kiosks, partitions, posters, report,
                   responses, retention, rollup, tokens, tree, users)

    app.cli.add_command(instruments.instruments_cli)
    app.cli.add_command(demo.demo_cli)
    app.cli.add_command(users.users_cli)
    app.cli.add_command(rollup.rollup_command)
    app.cli.add_command(report.report_command)
    app.cli.add_command(responses.responses_cli)
    app.cli.add_command(posters.posters_command)
    app.cli.add_command(tokens.tokens_cli)
    app.cli.add_command(kiosks.kiosks_cli)
    app.cli.add_command(campaigns.campaigns_cli)  # list, create, open, close
    app.cli.add_command(apikeys.apikeys_cli)  # keys for the JSON reports API
    app.cli.add_command(tree.tree_cli)  # the official tree and its lineage
    app.cli.add_command(dossiers.dossiers_cli)
    app.cli.add_command(jobs.jobs_cli)  # the background-job worker (survey_app/jobs.py)
    app.cli.add_command(backup.backup_command)  # the whole database to a file
    app.cli.add_command(backup.restore_command)  # ... and back
    app.cli.add_command(retention.retention_command)  # what is kept no longer
    app.cli.add_command(partitions.partitions_cli)  # the monthly partitions (PostgreSQL)
