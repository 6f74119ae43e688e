"""``flask campaigns list|create|open|pause|close``: thin over the campaign service, audited as the system."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Campaign


def run(app, *args):
    return app.test_cli_runner().invoke(args=["campaigns", *args])


def count() -> int:
    return db.session.scalar(select(func.count(Campaign.id)))


def test_list_shows_every_campaign_and_filters(demo_app):
    result = run(demo_app, "list")
    assert result.exit_code == 0, result.output
    for campaign in db.session.scalars(select(Campaign)):
        assert f"{campaign.name}" in result.output
    result = run(demo_app, "list", "--unit", "/vn/qt/p2/")
    assert result.exit_code == 0, result.output
    assert "p2motcua" in result.output and "p2tieuhoc" in result.output and "p1motcua" not in result.output
    row = next(line for line in result.output.splitlines() if "p2tieuhoc (" in line)
    year = datetime.now(ZoneInfo("UTC")).year
    assert " open " in row and "education-parents v1" in row and f"{year}-01-01" in row
    result = run(demo_app, "list", "--status", "closed")
    assert result.exit_code == 0 and "No campaigns." in result.output
    result = run(demo_app, "list", "--status", "gone")
    assert result.exit_code == 2 and "Invalid value for '--status'" in result.output


def test_create_open_close_through_the_service_and_the_audit_log(demo_app):
    before = count()
    result = run(demo_app, "create", "--unit", "p2tieuhoc", "--instrument", "education-parents", "--mode", "code",
                 "--title", "Phiếu phụ huynh lớp 5", "--starts", "2026-09-01", "--ends", "2099-05-31")
    assert result.exit_code == 0, result.output
    assert count() == before + 1
    campaign = db.session.scalars(select(Campaign).order_by(Campaign.id.desc())).first()
    assert result.output.startswith(f"Campaign {campaign.id} (draft): Phiếu phụ huynh lớp 5")
    assert campaign.access_mode == "visit_token" and campaign.status == "draft"
    assert [u.code for u in campaign.units] == ["p2tieuhoc"]
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    assert campaign.starts_at == datetime(2026, 9, 1, tzinfo=zone)
    assert campaign.ends_at == datetime(2099, 6, 1, tzinfo=zone)  # through the last day, local time
    created = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "campaign.created",
                                                         AuditEvent.target == f"campaign:{campaign.id}"))
    assert created.actor_name == "system" and created.detail["access_mode"] == "visit_token"

    result = run(demo_app, "open", str(campaign.id))
    assert result.exit_code == 0 and f"Campaign {campaign.id} is open" in result.output, result.output
    result = run(demo_app, "open", str(campaign.id))
    assert result.exit_code == 1 and "already open" in result.output
    result = run(demo_app, "close", str(campaign.id))
    assert result.exit_code == 0 and "is closed" in result.output, result.output
    result = run(demo_app, "open", str(campaign.id))
    assert result.exit_code == 1 and "a closed campaign cannot change" in result.output
    db.session.expire_all()
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.target == f"campaign:{campaign.id}")
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["campaign.created", "campaign.opened", "campaign.closed"]


def test_create_takes_the_latest_version_and_a_default_title(demo_app):
    result = run(demo_app, "create", "--unit", "p1yte", "--instrument", "health-outpatient", "--version", "1")
    assert result.exit_code == 0, result.output
    campaign = db.session.scalars(select(Campaign).order_by(Campaign.id.desc())).first()
    assert campaign.instrument_version.number == 1 and "Trạm Y tế Phường 1" in campaign.name
    assert f"campaigns open {campaign.id}" in result.output


def test_bad_input_is_refused_with_a_message_and_nothing_is_written(demo_app):
    before = count()
    cases = [
        (["--unit", "nowhere", "--instrument", "sipas"], "no unit with the code or path 'nowhere'"),
        (["--unit", "p2motcua", "--instrument", "no-such"], "no instrument with the key 'no-such'"),
        (["--unit", "p2motcua", "--instrument", "sipas", "--version", "9"], "has no version 9"),
        # A one-stop counter is not a school.
        (["--unit", "p2motcua", "--instrument", "education-parents"], "does not fit Bộ phận Một cửa Phường 2"),
        (["--unit", "/vn/qt/p2/", "--instrument", "sipas"], "is not an active service point"),
        (["--unit", "p2motcua", "--instrument", "sipas", "--ends", "2020-01-31"], "already in the past"),
        (["--unit", "p2motcua", "--instrument", "sipas", "--starts", "2098-02-01", "--ends", "2098-01-01"],
         "The end must be after the start"),
        (["--unit", "p2motcua", "--instrument", "sipas", "--mode", "paper"], "Invalid value for '--mode'"),
    ]
    for args, message in cases:
        result = run(demo_app, "create", *args)
        assert result.exit_code != 0 and message in result.output, (args, result.output)
    assert count() == before
    # Opening a second open poster campaign of SIPAS at a point that has one is refused by the service.
    result = run(demo_app, "create", "--unit", "p2motcua", "--instrument", "sipas", "--open")
    assert result.exit_code == 1 and "already has an open campaign of the same kind" in result.output
    assert f"Campaign {before + 1} was created as a draft" in result.output
    assert db.session.get(Campaign, before + 1).status == "draft"
    result = run(demo_app, "open", "999999")
    assert result.exit_code == 1 and "there is no campaign 999999" in result.output
