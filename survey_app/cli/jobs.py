"""``flask --app wsgi jobs``: the background-job worker and one-off runs of its jobs.

``jobs worker`` runs Huey's consumer (``survey_app/jobs.py``): the scheduled jobs
(alert evaluation, rollup catch-up) and the queued ones (alert e-mail, with retries).
It stops on SIGTERM at once and on SIGINT (Ctrl-C) after the running jobs finish.
``jobs evaluate-alerts`` evaluates every alert rule now, in this process, and queues the
e-mails of the alerts it opens (``--send`` sends them here instead).
"""
from __future__ import annotations

import logging

import click
from flask import current_app

from ..extensions import db
from ..jobs import alert_link, get_jobs


@click.group("jobs", help="Background jobs: the worker, and one-off runs.")
def jobs_cli() -> None:
    pass


@jobs_cli.command("worker", help="Run the job worker (scheduled and queued jobs) until stopped.")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Worker threads (default HUEY_WORKERS).")
@click.option("--no-periodic", is_flag=True, help="Do not run the scheduled jobs (another worker does).")
def worker_command(workers: int | None, no_periodic: bool) -> None:
    app = current_app._get_current_object()
    jobs = get_jobs(app)
    if jobs.huey.immediate:
        raise click.ClickException("HUEY_IMMEDIATE is on: jobs run in the caller, there is nothing to consume")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    kind = "Redis" if app.config.get("HUEY_REDIS_URL") else f"SQLite {jobs.huey.storage.filename}"
    click.echo(f"job worker on {kind}: {workers or app.config['HUEY_WORKERS']} thread(s)"
               f"{'' if no_periodic else ', scheduled jobs on'}")
    consumer = jobs.huey.create_consumer(workers=workers or app.config["HUEY_WORKERS"], worker_type="thread",
                                         periodic=not no_periodic, check_worker_health=True)
    consumer.run()


@jobs_cli.command("evaluate-alerts", help="Evaluate every alert rule now and queue the e-mails of new alerts.")
@click.option("--send", is_flag=True, help="Send the e-mails here and now instead of queueing them.")
def evaluate_command(send: bool) -> None:
    from ..services.alerts.evaluate import evaluate_all
    from ..services.alerts.mail import deliver
    from ..services.petitions.workdays import calendar_for

    app = current_app._get_current_object()
    opened = evaluate_all(db.session, calendar=calendar_for(app), logger=app.logger)
    click.echo(f"{len(opened)} alert(s) opened" + (f": {', '.join(map(str, opened))}" if opened else ""))
    jobs = get_jobs(app) if opened and not send else None
    for alert_id in opened:
        if send:
            click.echo(f"alert {alert_id}: {deliver(db.session, app.config, alert_id, alert_link(app.config, alert_id))}")
        else:
            jobs.send_alert_email(alert_id)
