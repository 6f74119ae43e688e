"""The audit log: ``record(...)`` adds an event to the caller's transaction, so an action
and its record are committed (or rolled back) together."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from ...models import AuditEvent, Unit, User, utcnow

#: Every action the log knows. Later features add theirs here (export, publication, …).
ACTIONS = (
    "user.created", "user.deactivated", "user.activated", "user.password_reset", "user.password_changed",
    "grant.added", "grant.changed", "grant.revoked",
    "login.locked",
    "unit.created", "unit.renamed", "unit.moved", "unit.deactivated", "unit.activated", "unit.deleted",
    "unit.succeeded", "grants.carried",
    "campaign.created", "campaign.opened", "campaign.paused", "campaign.closed",
    "instrument.uploaded", "tokens.issued",
    "kiosk.enrolled", "kiosk.revoked", "kiosk.campaign_chosen", "export.created", "report.published",
    # Petitions: the workflow, and every view or deletion of contact details.
    "petition.assigned", "petition.noted", "petition.answer_saved", "petition.answer_published",
    "petition.text_approved", "petition.text_withheld", "petition.closed", "petition.reopened",
    "petition.contact_viewed", "petition.contact_deleted", "petition.refused", "petition.info_requested",
    "petition.info_recorded", "petition.published", "petition.merged", "petition.repeat_unmarked",
    # Reports: withdrawing a publication, moderating comments, API keys.
    "report.unpublished", "comment.hidden", "comment.restored", "apikey.created", "apikey.revoked",
    # Dossiers from the one-stop software: a CSV import, the breakdown by counter staff.
    "dossiers.imported", "dossiers.staff_viewed", "dossiers.flagged",
    # Alerts: rules per unit, acknowledging an alert with a note.
    "alertrule.created", "alertrule.deleted", "alert.acknowledged", "user.email_changed",
    # Retention: each run of the purge (device hashes, old petition contacts), and of the
    # whole-month retirement of old responses (PostgreSQL partitions archived and dropped).
    "retention.run", "retention.responses",
)

SYSTEM = "system"  # actor name for the command line


def record(session: Session, action: str, *, actor: User | None = None, actor_name: str | None = None,
           unit: Unit | None = None, target: str | None = None, detail: dict[str, Any] | None = None,
           at: datetime | None = None) -> AuditEvent:
    """Add one event: who (``actor``), what (``action``, ``target``, ``detail``), when, and
    in the name of which unit. The caller commits."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; add it to services.audit.ACTIONS")
    event = AuditEvent(
        at=at or utcnow(), action=action,
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.username if actor is not None else (actor_name if actor_name is not None else SYSTEM),
        unit_id=unit.id if unit is not None else None,
        unit_path=unit.path if unit is not None else None,
        target=target[:200] if target else None,
        detail=detail or {},
    )
    session.add(event)
    return event


def filtered(query: Select[tuple[AuditEvent]], *, action: str | None = None, username: str | None = None,
             since: datetime | None = None, until: datetime | None = None) -> Select[tuple[AuditEvent]]:
    """Narrow a (scoped) event query by action, actor's username and time range [since, until)."""
    if action:
        query = query.where(AuditEvent.action == action)
    if username:
        query = query.where(AuditEvent.actor_name == username)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    return query
