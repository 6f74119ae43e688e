"""The alert inbox in a desktop browser (headless Chromium, JavaScript off): the province
administrator sees the counter's alert, acknowledges it with a note, and finds the
acknowledgement in the audit log."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from browser import chromium_page, live_server
from survey_app.extensions import db
from survey_app.models import Alert, User
from survey_app.services.alerts import rules
from survey_app.services.alerts.evaluate import evaluate_all
from survey_app.services.data.demo import DEMO_PASSWORD
from survey_app.services.petitions.workdays import WorkdayCalendar

pytestmark = pytest.mark.browser


def test_an_official_acknowledges_an_alert_in_the_browser(demo_app, point, admin_scope, tmp_path):
    actor = db.session.scalar(select(User).where(User.username == "demo-admin"))
    rules.create_rule(db.session, admin_scope, point.unit, kind="below", instrument_key="quick-feedback",
                      threshold=70, actor=actor)
    point.add(2, date(2026, 10, 8), 9)
    point.add(5, date(2026, 10, 9), 3)
    [alert_id] = evaluate_all(db.session, today=date(2026, 11, 15), calendar=WorkdayCalendar())
    note = "Đã làm việc với bộ phận một cửa; bổ sung cán bộ vào buổi sáng."

    with live_server(demo_app) as base, chromium_page(viewport=(1280, 900), mobile=False) as page:
        page.goto(f"{base}/login")
        page.get_by_label("Tên đăng nhập").fill("demo-admin")
        page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.get_by_role("navigation", name="Quản lý").get_by_role("link", name="Cảnh báo").click()
        assert page.url == f"{base}/admin/alerts/"
        assert page.locator("h1").inner_text() == "Cảnh báo"
        row = page.locator("table.grid tbody tr", has_text="Quầy thử cảnh báo")
        assert row.count() == 1
        assert "Chỉ số dưới ngưỡng" in row.inner_text() and "25.0%" in row.inner_text()
        page.screenshot(path=str(tmp_path / "inbox.png"), full_page=True)

        row.get_by_role("link").click()
        assert page.url == f"{base}/admin/alerts/{alert_id}"
        page.get_by_role("button", name="Ghi nhận").click()  # no note: refused with a sentence
        assert "Vui lòng viết ghi chú" in page.locator(".err").inner_text()
        page.get_by_label("Ghi chú: đã tìm thấy gì, sẽ làm gì").fill(note)
        page.get_by_role("button", name="Ghi nhận").click()
        assert "Đã ghi nhận cảnh báo" in page.locator(".flash").inner_text()
        assert note in page.locator(".note").inner_text()
        assert "đã ghi nhận" in page.locator(".badge").first.inner_text()
        page.screenshot(path=str(tmp_path / "alert.png"), full_page=True)

        page.get_by_role("link", name="Nhật ký hoạt động").click()
        entry = page.locator("tr", has_text="ghi nhận cảnh báo")
        assert entry.count() == 1
        assert "demo-admin" in entry.inner_text() and "Quầy thử cảnh báo" in entry.inner_text()
        assert note[:40] in entry.inner_text()
        page.screenshot(path=str(tmp_path / "audit.png"), full_page=True)
    db.session.expire_all()
    assert db.session.get(Alert, alert_id).status == "acknowledged"
