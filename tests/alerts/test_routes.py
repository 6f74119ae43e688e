"""The alert pages: the inbox shows only the official's area, another ward's alert is 404,
acknowledging needs a note (audited), bad rules and over-long notes are 4xx with a
sentence, never 500."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from alerts.conftest import csrf_from
from survey_app.extensions import db
from survey_app.models import Alert, AlertRule, AuditEvent, User
from survey_app.services.alerts import rules
from survey_app.services.alerts.evaluate import evaluate_all
from survey_app.services.alerts.inbox import NOTE_MAX
from survey_app.services.petitions.workdays import WorkdayCalendar

TODAY = date(2026, 11, 15)


@pytest.fixture
def alert(point, admin_scope) -> Alert:
    actor = db.session.scalar(select(User).where(User.username == "demo-admin"))
    rules.create_rule(db.session, admin_scope, point.unit, kind="below", instrument_key="quick-feedback",
                      threshold=70, actor=actor)
    point.add(2, date(2026, 10, 8), 12)
    [alert_id] = evaluate_all(db.session, today=TODAY, calendar=WorkdayCalendar())
    return db.session.get(Alert, alert_id)


def page(client, url):
    with client.get(url) as r:
        return r.status_code, r.get_data(as_text=True)


def test_the_inbox_and_an_alert_for_the_wards_official(alert, login):
    client = login("demo-viewer")
    status, html = page(client, "/admin/alerts/")
    assert status == 200 and "Quầy thử cảnh báo" in html and "dưới ngưỡng 70.0%" in html
    status, html = page(client, f"/admin/alerts/{alert.id}")
    assert status == 200 and "Chỉ số của 2026-10 là 0.0%" in html
    assert 'name="note"' not in html  # a viewer reads, a manager acknowledges


def test_another_wards_official_gets_404_on_the_alert(alert, login, officials, csrf_from_page=csrf_from):
    client = login("p1canhbao")
    assert page(client, f"/admin/alerts/{alert.id}")[0] == 404
    status, html = page(client, "/admin/alerts/")
    assert status == 200 and "Quầy thử cảnh báo" not in html
    _status, own = page(client, "/account/password")
    token = csrf_from_page(own)
    with client.post(f"/admin/alerts/{alert.id}/acknowledge", data={"csrf_token": token, "note": "x"}) as r:
        assert r.status_code == 404
    assert page(client, f"/admin/alerts/units/{alert.unit_id}/rules")[0] == 404
    db.session.refresh(alert)
    assert alert.status == "open"


def test_acknowledge_with_a_note_is_audited(alert, login):
    client = login("demo-manager")
    _s, html = page(client, f"/admin/alerts/{alert.id}")
    token = csrf_from(html)
    with client.post(f"/admin/alerts/{alert.id}/acknowledge", data={"csrf_token": token, "note": "   "}) as r:
        assert r.status_code == 422 and "Vui lòng viết ghi chú" in r.get_data(as_text=True)
    with client.post(f"/admin/alerts/{alert.id}/acknowledge",
                     data={"csrf_token": token, "note": "x" * (NOTE_MAX + 1)}) as r:
        assert r.status_code == 422 and f"{NOTE_MAX} ký tự" in r.get_data(as_text=True)
    db.session.refresh(alert)
    assert alert.status == "open"
    with client.post(f"/admin/alerts/{alert.id}/acknowledge",
                     data={"csrf_token": token, "note": "Đã họp với bộ phận một cửa"}) as r:
        assert r.status_code == 303
    db.session.refresh(alert)
    assert alert.status == "acknowledged" and alert.note == "Đã họp với bộ phận một cửa"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "alert.acknowledged"))
    assert event.actor_name == "demo-manager" and event.unit_id == alert.unit_id
    assert event.detail["note"] == "Đã họp với bộ phận một cửa"


@pytest.mark.parametrize("form, message", [
    ({"kind": "below", "instrument": "quick-feedback", "threshold": "abc"}, "Vui lòng nhập ngưỡng là một số"),
    ({"kind": "below", "instrument": "quick-feedback", "threshold": "101"}, "Ngưỡng phải nằm trong khoảng 0 đến 100"),
    ({"kind": "spike", "instrument": "quick-feedback", "threshold": "0,5"}, "0.0001 đến 0.1"),
    ({"kind": "petition_deadline", "instrument": "", "threshold": "1.5"}, "số nguyên từ 0 đến 30"),
    ({"kind": "explode", "instrument": "quick-feedback", "threshold": "1"}, "Vui lòng chọn nội dung cần cảnh báo"),
    ({"kind": "below", "instrument": "nope", "threshold": "50"}, "Vui lòng chọn"),
    ({"kind": "below", "instrument": "quick-feedback", "threshold": "1e400"}, "Vui lòng nhập ngưỡng là một số"),
])
def test_bad_rules_answer_422_with_a_sentence(point, login, form, message):
    client = login("demo-manager")
    status, html = page(client, f"/admin/alerts/units/{point.unit.id}/rules")
    assert status == 200
    with client.post(f"/admin/alerts/units/{point.unit.id}/rules", data={"csrf_token": csrf_from(html), **form}) as r:
        assert r.status_code == 422
        assert message in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AlertRule)) == 0


def test_a_manager_adds_and_removes_a_rule(point, login):
    client = login("demo-manager")
    _s, html = page(client, f"/admin/alerts/units/{point.unit.id}/rules")
    token = csrf_from(html)
    with client.post(f"/admin/alerts/units/{point.unit.id}/rules",
                     data={"csrf_token": token, "kind": "below", "instrument": "quick-feedback", "threshold": "72,5"}) as r:
        assert r.status_code == 303
    rule = db.session.scalar(select(AlertRule))
    assert (rule.kind, rule.instrument_key, rule.threshold, rule.unit_id) == ("below", "quick-feedback", 72.5,
                                                                              point.unit.id)
    with client.post(f"/admin/alerts/rules/{rule.id}/delete", data={"csrf_token": token}) as r:
        assert r.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(AlertRule)) == 0
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"alertrule.created", "alertrule.deleted"} <= actions


def test_an_officials_email_address_is_checked(demo_app, login):
    client = login("demo-admin")
    viewer = db.session.scalar(select(User).where(User.username == "demo-viewer"))
    status, html = page(client, f"/admin/users/{viewer.id}")
    token = csrf_from(html)
    with client.post(f"/admin/users/{viewer.id}/email", data={"csrf_token": token, "email": "not an address"}) as r:
        assert r.status_code == 422 and "ten.ho@example.gov.vn" in r.get_data(as_text=True)
    with client.post(f"/admin/users/{viewer.id}/email", data={"csrf_token": token, "email": "Xem.P2@Example.gov.vn"}) as r:
        assert r.status_code == 303
    db.session.refresh(viewer)
    assert viewer.email == "xem.p2@example.gov.vn"
