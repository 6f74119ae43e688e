"""Retention: keyed device hashes are purged after their local day plus a margin, petition
contacts a configured time after the answer; each run is audited; nothing else changes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from helpers import add_response
from survey_app.extensions import db
from survey_app.models import AuditEvent, Petition, PetitionContact, PetitionEvent, Response, Unit
from survey_app.services.data import retention
from survey_app.services.petitions import operations as petitions

UTC = timezone.utc
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 10:00 on 2 December in Viet Nam


def hashed_response(when: datetime) -> int:
    rid = add_response("p2motcua", [("tc1", 4, None)], when)
    db.session.execute(sa.update(Response).where(Response.id == rid)
                       .values(device_hash="d" * 32, address_hash="a" * 32))
    db.session.commit()
    return rid


def hashes(rid: int) -> tuple:
    db.session.expire_all()
    r = db.session.get(Response, rid)
    return r.device_hash, r.address_hash


def test_cutoff_is_the_start_of_a_local_day():
    # margin 1 at 10:00 on 2 Dec (Viet Nam): hashes from before 1 Dec 00:00 local go
    assert retention.hash_cutoff(NOW, 1) == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert retention.hash_cutoff(NOW, 0) == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    # 23:30 UTC on 1 Dec is already 2 Dec in Viet Nam
    assert retention.hash_cutoff(datetime(2026, 12, 1, 23, 30, tzinfo=UTC), 1) == datetime(2026, 11, 30, 17, 0,
                                                                                          tzinfo=UTC)


def test_hashes_go_after_their_day_and_margin_and_responses_stay(demo_app):
    last_minute_of_30 = hashed_response(datetime(2026, 11, 30, 16, 59, tzinfo=UTC))  # 23:59 on 30 Nov local
    first_minute_of_1 = hashed_response(datetime(2026, 11, 30, 17, 0, tzinfo=UTC))   # 00:00 on 1 Dec local
    today = hashed_response(datetime(2026, 12, 2, 2, 0, tzinfo=UTC))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Response))

    dry = retention.run(db.session, retention.Policy(hash_margin_days=1), now=NOW, dry_run=True)
    assert dry.hashes_cleared == 1 and hashes(last_minute_of_30) == ("d" * 32, "a" * 32)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "retention.run")) == 0

    done = retention.run(db.session, retention.Policy(hash_margin_days=1), now=NOW)
    assert done.hashes_cleared == 1
    assert hashes(last_minute_of_30) == (None, None)
    assert hashes(first_minute_of_1) == ("d" * 32, "a" * 32)
    assert hashes(today) == ("d" * 32, "a" * 32)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == total

    # a day later (margin 1) the 1 December hash goes too; today's stays
    again = retention.run(db.session, retention.Policy(hash_margin_days=1), now=NOW + timedelta(days=1))
    assert again.hashes_cleared == 1 and hashes(first_minute_of_1) == (None, None)
    assert hashes(today) == ("d" * 32, "a" * 32)
    assert retention.run(db.session, retention.Policy(hash_margin_days=1),
                         now=NOW + timedelta(days=1)).hashes_cleared == 0

    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "retention.run")
                                .order_by(AuditEvent.id)).all()
    assert [e.detail["hashes_cleared"] for e in events] == [1, 1, 0]  # every run audited, also an empty one
    assert events[0].actor_name == "system" and events[0].detail["hash_margin_days"] == 1


def test_contacts_go_a_configured_time_after_the_answer(demo_app):
    unit = db.session.scalar(sa.select(Unit).where(Unit.code == "p2motcua"))
    contact = petitions.ContactInput(consent_text="Tôi đồng ý được liên hệ về phản ánh này.", consent_language="vi",
                                     name="Nguyễn Văn A", phone="0901234567")

    def filed(status: str, answered: datetime | None, closed: datetime | None = None) -> int:
        p = petitions.file_petition(db.session, unit, category="procedure", text="Hồ sơ bị trả chậm ba ngày.",
                                    contact=contact, now=datetime(2025, 1, 6, 2, tzinfo=UTC)).petition
        p.status, p.answered_at, p.closed_at = status, answered, closed
        db.session.commit()
        return p.id

    old_answer = filed("answered", datetime(2025, 11, 1, tzinfo=UTC))
    recent_answer = filed("answered", datetime(2026, 6, 1, tzinfo=UTC))
    reclosed_recently = filed("closed", datetime(2025, 1, 10, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    still_open = filed("received", None)

    done = retention.run(db.session, retention.Policy(contact_days=365), now=NOW)
    assert done.contacts_deleted == 1
    db.session.expire_all()

    def has_contact(pid: int) -> bool:
        return db.session.get(PetitionContact, pid) is not None

    assert not has_contact(old_answer)
    assert has_contact(recent_answer) and has_contact(reclosed_recently) and has_contact(still_open)
    kept = db.session.get(Petition, old_answer)
    assert kept is not None and kept.body == "Hồ sơ bị trả chậm ba ngày."  # the petition stays
    [event] = db.session.scalars(sa.select(PetitionEvent).where(PetitionEvent.petition_id == old_answer,
                                                                PetitionEvent.kind == "contact_deleted")).all()
    assert event.actor_name == "system" and event.public is False
    audit = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "retention.run")).one()
    assert audit.detail["contacts_deleted"] == 1 and audit.detail["contact_days"] == 365


def test_the_command_and_the_daily_job(demo_app, variant):
    rid = hashed_response(datetime.now(UTC) - timedelta(days=5))
    runner = demo_app.test_cli_runner()
    dry = runner.invoke(args=["retention", "--dry-run"])
    assert dry.exit_code == 0 and "would clear the device hashes of 1 response(s)" in dry.output, dry.output
    assert hashes(rid) == ("d" * 32, "a" * 32)

    from survey_app.jobs import get_jobs

    app = variant(HUEY_IMMEDIATE=True, RETENTION_HASH_MARGIN_DAYS=1)
    result = get_jobs(app).retention.call_local()
    assert result == {"hashes_cleared": 1, "contacts_deleted": 0}
    assert hashes(rid) == (None, None)
    out = runner.invoke(args=["retention"])
    assert out.exit_code == 0 and "cleared the device hashes of 0 response(s)" in out.output
