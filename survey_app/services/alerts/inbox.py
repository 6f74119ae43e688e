"""The officials' alert inbox: alerts of the units in their scope, acknowledging one."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Select, select

from ...models import Alert, Unit, User, utcnow
from ..collect.text import clean_text
from ..officials import audit
from ..officials.scope import Scope
from .rules import AlertError

__all__ = ["NOTE_MAX", "acknowledge", "get_alert_or_404", "inbox_query"]

NOTE_MAX = 2000
STATUS_FILTERS = ("active", "open", "acknowledged", "resolved", "all")


def inbox_query(scope: Scope, status: str = "active") -> Select[tuple[Alert]]:
    """Alerts of units in scope, newest first; ``active`` = open or acknowledged."""
    query = select(Alert).join(Unit, Unit.id == Alert.unit_id).where(scope.path_clause(Unit.path, "viewer"))
    if status == "active":
        query = query.where(Alert.status != "resolved")
    elif status in ("open", "acknowledged", "resolved"):
        query = query.where(Alert.status == status)
    return query.order_by(Alert.opened_at.desc(), Alert.id.desc())


def get_alert_or_404(scope: Scope, alert_id: int, min_role: str = "viewer") -> Alert:
    return scope.get_in_unit_or_404(Alert, alert_id, min_role)


def acknowledge(session, scope: Scope, alert: Alert, note: str, *, actor: User) -> None:
    """Acknowledge with a note (manager of the alert's unit), audited; commits once."""
    scope.require(alert.unit, "manager")
    text = clean_text(note or "")
    if not text:
        raise AlertError(_("Please write a note: what was found, what will be done."), "note")
    if len(text) > NOTE_MAX:
        raise AlertError(_("Please shorten the note to %(limit)d characters.", limit=NOTE_MAX), "note")
    if alert.status == "resolved":
        raise AlertError(_("This alert has already closed itself: the results recovered."))
    alert.status = "acknowledged"
    alert.acknowledged_at, alert.acknowledged_by, alert.note = utcnow(), actor, text
    audit.record(session, "alert.acknowledged", actor=actor, unit=alert.unit, target=f"alert {alert.id}",
                 detail={"kind": alert.kind, "note": text[:200]})
    session.commit()
