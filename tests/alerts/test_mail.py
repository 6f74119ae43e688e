"""Alert e-mail through a real SMTP server started by the test (aiosmtpd): received once,
in Vietnamese, by the officials with access; a failed delivery is recorded and retried."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from alerts.smtp import free_port, smtp_server
from survey_app.extensions import db
from survey_app.jobs import alert_link
from survey_app.models import Alert, User
from survey_app.services.alerts import rules
from survey_app.services.alerts.evaluate import evaluate_all
from survey_app.services.alerts.mail import deliver
from survey_app.services.petitions.workdays import WorkdayCalendar

TODAY = date(2026, 11, 15)


def open_alert(point, admin_scope) -> Alert:
    actor = db.session.scalar(select(User).where(User.username == "demo-admin"))
    rules.create_rule(db.session, admin_scope, point.unit, kind="below", instrument_key="quick-feedback",
                      threshold=70, actor=actor)
    point.add(2, date(2026, 10, 8), 12)
    [alert_id] = evaluate_all(db.session, today=TODAY, calendar=WorkdayCalendar())
    return db.session.get(Alert, alert_id)


def mail_config(port: int) -> dict:
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_FROM": "canhbao@hailong.example.gov.vn",
            "MAIL_TIMEOUT": 5, "PUBLIC_BASE_URL": "https://hailong.example.gov.vn"}


def test_an_alert_email_is_received_by_a_real_smtp_server_once(point, admin_scope, officials):
    alert = open_alert(point, admin_scope)
    with smtp_server() as (inbox, port):
        config = mail_config(port)
        assert deliver(db.session, config, alert.id, alert_link(config, alert.id)) == "sent"
        assert deliver(db.session, config, alert.id, alert_link(config, alert.id)) == "already sent"
    assert len(inbox.messages) == 1
    sender, to, msg = inbox.messages[0]
    assert sender == "canhbao@hailong.example.gov.vn"
    assert to == ["quanly.p2@example.gov.vn"]  # not p1's manager
    assert msg["Subject"] == "[Hài Lòng] Cảnh báo: Quầy thử cảnh báo"
    body = msg.get_content()
    assert "Chỉ số của 2026-10 là 0.0%" in body and "12 lượt trả lời" in body and "70.0%" in body
    assert f"https://hailong.example.gov.vn/admin/alerts/{alert.id}" in body
    db.session.refresh(alert)
    assert alert.emailed_at is not None and alert.email_attempts == 1 and alert.email_error is None


def test_a_failed_delivery_is_recorded_and_a_retry_sends_it(point, admin_scope, officials):
    alert = open_alert(point, admin_scope)
    port = free_port()  # nothing listens yet
    config = mail_config(port)
    with pytest.raises(OSError):
        deliver(db.session, config, alert.id, alert_link(config, alert.id))
    db.session.refresh(alert)
    assert alert.emailed_at is None and alert.email_attempts == 1 and "ConnectionRefused" in alert.email_error
    with smtp_server(port) as (inbox, _port):
        assert deliver(db.session, config, alert.id, alert_link(config, alert.id)) == "sent"
    assert len(inbox.messages) == 1
    db.session.refresh(alert)
    assert alert.email_attempts == 2 and alert.email_error is None


def test_without_a_mail_server_the_alert_stays_in_the_inbox(point, admin_scope, officials):
    alert = open_alert(point, admin_scope)
    assert deliver(db.session, {"MAIL_SERVER": ""}, alert.id, "/admin/alerts/1") == "not configured"
    db.session.refresh(alert)
    assert alert.emailed_at is None and alert.status == "open"
