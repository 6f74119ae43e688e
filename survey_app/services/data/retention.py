"""Retention: personal data kept no longer than its purpose needs (Law 91/2025/QH15 on
personal data protection; docs/PRIVACY.md states the policy).

One run (:func:`run`, daily from the job queue, or ``flask --app wsgi retention``):

- **Keyed device and address hashes** (``response.device_hash`` / ``address_hash``): they
  exist to spot a burst from one phone or one address within a day, and rotate daily
  (``ratelimit.daily_device_hash``). A hash made on local day D is set to NULL once local
  day D + 1 + ``RETENTION_HASH_MARGIN_DAYS`` begins (margin 1: a Monday hash is gone when
  Wednesday starts in Viet Nam). The response itself stays.
- **Petition contact details** (``petition_contact``): kept, with the consent they came
  with, while the petition may still need them; deleted ``RETENTION_CONTACT_DAYS`` (365)
  after the petition was answered or closed, whichever is later. The petition stays, and its
  history records the deletion (not shown to the public).

- **Large exports** (``export_job``, files under ``instance/exports/``): a file and its row
  are deleted once ``expires_at`` has passed (``EXPORT_KEEP_HOURS`` after the request).

- **Job runs** (``job_run``, the admin "jobs" page): completed ones after 7 days, failed
  ones after 90 (no personal data, but no reason to keep them longer).

Each run that is not a dry run writes one audit event (``retention.run``) with what it
purged and the cut-offs used, also when it purged nothing. Running it twice is harmless.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import os

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...models import ExportJob, Petition, PetitionContact, PetitionEvent, Response, utcnow
from ..officials import audit
from . import job_runs

__all__ = ["Policy", "Outcome", "run", "hash_cutoff", "contact_cutoff"]

LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
BATCH = 5_000


@dataclass(frozen=True)
class Policy:
    hash_margin_days: int = 1
    contact_days: int = 365

    @classmethod
    def from_config(cls, config) -> "Policy":
        return cls(hash_margin_days=int(config.get("RETENTION_HASH_MARGIN_DAYS", 1)),
                   contact_days=int(config.get("RETENTION_CONTACT_DAYS", 365)))


@dataclass(frozen=True)
class Outcome:
    hashes_cleared: int
    contacts_deleted: int
    hash_cutoff: datetime
    contact_cutoff: datetime
    dry_run: bool
    exports_purged: int = 0


def hash_cutoff(now: datetime, margin_days: int) -> datetime:
    """Start (in UTC) of the local day ``margin_days`` before today: older hashes go."""
    local_today = now.astimezone(LOCAL_ZONE).date()
    start = datetime.combine(local_today - timedelta(days=margin_days), time(0), tzinfo=LOCAL_ZONE)
    return start.astimezone(timezone.utc)


def contact_cutoff(now: datetime, contact_days: int) -> datetime:
    return now.astimezone(timezone.utc) - timedelta(days=contact_days)


def _finished_before(cutoff: datetime):
    """Petitions answered or closed, the later of the two before ``cutoff``."""
    finished = sa.case((Petition.closed_at > Petition.answered_at, Petition.closed_at),
                       else_=sa.func.coalesce(Petition.answered_at, Petition.closed_at))
    return sa.and_(Petition.status.in_(("answered", "closed")), finished.is_not(None), finished < cutoff)


def run(session: Session, policy: Policy, *, now: datetime | None = None, dry_run: bool = False) -> Outcome:
    now = now or utcnow()
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    h_cut = hash_cutoff(now, policy.hash_margin_days)
    c_cut = contact_cutoff(now, policy.contact_days)
    hashed = sa.and_(sa.or_(Response.device_hash.is_not(None), Response.address_hash.is_not(None)),
                     Response.submitted_at < h_cut)
    old_contacts = (sa.select(PetitionContact.petition_id).join(Petition, Petition.id == PetitionContact.petition_id)
                    .where(_finished_before(c_cut)).order_by(PetitionContact.petition_id))
    if dry_run:
        cleared = session.scalar(sa.select(sa.func.count()).select_from(Response).where(hashed))
        deleted = session.scalar(sa.select(sa.func.count()).select_from(old_contacts.subquery()))
        return Outcome(cleared, deleted, h_cut, c_cut, True)

    cleared = 0
    while True:  # short transactions: a batch of ids at a time
        ids = session.scalars(sa.select(Response.id).where(hashed).order_by(Response.id).limit(BATCH)).all()
        if not ids:
            break
        session.execute(sa.update(Response).where(Response.id.in_(ids))
                        .values(device_hash=None, address_hash=None).execution_options(synchronize_session=False))
        session.commit()
        cleared += len(ids)

    deleted = 0
    for petition_id in session.scalars(old_contacts).all():
        session.execute(sa.delete(PetitionContact).where(PetitionContact.petition_id == petition_id))
        session.add(PetitionEvent(petition_id=petition_id, at=now, kind="contact_deleted", public=False,
                                  actor_id=None, actor_name=audit.SYSTEM))
        deleted += 1
    pruned = job_runs.prune(session, now)
    purged = purge_exports(session, now)
    audit.record(session, "retention.run", target="retention",
                 detail={"hashes_cleared": cleared, "contacts_deleted": deleted, "job_runs_pruned": pruned,
                         # as local days (the hash cut-off is the start of that day in Viet Nam)
                         "hash_cutoff": h_cut.astimezone(LOCAL_ZONE).date().isoformat(),
                         "contact_cutoff": c_cut.astimezone(LOCAL_ZONE).date().isoformat(),
                         "hash_margin_days": policy.hash_margin_days, "contact_days": policy.contact_days})
    session.commit()
    return Outcome(cleared, deleted, h_cut, c_cut, False, purged)


def purge_exports(session: Session, now: datetime) -> int:
    """Delete the large exports past their ``expires_at``: the file (and a ``.partial`` left by
    a build that died), then the row. Returns how many rows went; the caller commits."""
    expired = session.scalars(sa.select(ExportJob).where(ExportJob.expires_at < now)).all()
    for job in expired:
        if job.file_path:
            for path in (job.file_path, job.file_path + ".partial"):
                try:
                    os.remove(path)
                except FileNotFoundError:
                    pass
        session.delete(job)
    return len(expired)
