"""Thin route of the jobs page over ``services/data/job_runs`` and the queue's own counts."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template
from flask_babel import gettext as _

from ..extensions import db
from ..guard import official_route
from ..jobs import get_jobs
from ..models import utcnow
from ..services.data import job_runs
from . import bp

WINDOW = timedelta(days=7)


def task_labels() -> dict[str, str]:
    return {"evaluate_alerts": _("Alert evaluation (scheduled)"), "evaluate_alerts_now": _("Alert evaluation (now)"),
            "send_alert_email": _("Alert e-mail"), "rollup_catch_up": _("Report rollups catch-up"),
            "retention": _("Retention (personal data past its time)"),
            "petition_notices": _("Petition e-mails"), "send_petition_notice": _("Petition e-mail"),
            "build_export": _("Large export (CSV, Excel, PDF)"),
            "ensure_partitions": _("Monthly partitions of the responses")}


def status_labels() -> dict[str, str]:
    return {"running": _("running"), "complete": _("done"), "error": _("failed"),
            "retrying": _("failed, will retry")}


def _queue_counts() -> tuple[int | None, int | None]:
    """Tasks waiting and scheduled (retries, delays); None when the queue cannot be read."""
    try:
        huey = get_jobs().huey
        return huey.pending_count(), huey.scheduled_count()
    except Exception:  # noqa: BLE001 (the page still shows the runs when Redis is away)
        current_app.logger.warning("jobs page: the queue could not be read", exc_info=True)
        return None, None


@bp.get("/")
@official_route("admin", shared=True)
def index():
    pending, scheduled = _queue_counts()
    since = utcnow() - WINDOW
    return render_template("jobs_admin/index.html", summaries=job_runs.summaries(db.session, since),
                           failures=job_runs.failures(db.session), pending=pending, scheduled=scheduled,
                           task_labels=task_labels(), status_labels=status_labels(),
                           storage="Redis" if current_app.config.get("HUEY_REDIS_URL") else "SQLite")
