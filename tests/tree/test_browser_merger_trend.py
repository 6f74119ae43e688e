"""Phường Quảng Trị's official opens the ward's two-year trend in headless Chromium: it
crosses 1 July 2025, the months before are its predecessors' answers, marked "trước sáp
nhập", and the trend chart draws."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from browser import chromium_page, live_server, loaded_width
from survey_app.extensions import db
from survey_app.services.data import demo_history
from survey_app.services.data.demo import DEMO_PASSWORD
from survey_app.services.officials.units import by_path

pytestmark = pytest.mark.browser


def test_the_merged_wards_trend_crosses_the_merger_with_its_predecessors_history(demo_app, tmp_path):
    assert demo_history.add_history(db.session, months=24, now=datetime(2026, 11, 15, 5, tzinfo=timezone.utc)) > 0
    ward = by_path(db.session, "/vn/qt/quang-tri/")
    start = (f"/reports/{ward.id}?instrument=sipas&window=custom&from=2024-12-01&to=2026-10-31&period=month")
    with live_server(demo_app) as base, chromium_page(viewport=(1280, 900), mobile=False) as page:
        page.goto(base + start)
        assert page.url.startswith(f"{base}/login?next=")
        page.get_by_label("Tên đăng nhập").fill("demo-phuong")
        page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        assert page.url == base + start
        assert page.locator("h1").inner_text() == "Phường Quảng Trị"
        note = page.locator("#lineage-note").inner_text()
        assert "01/07/2025" in note and "Phường 1" in note and "Phường 2" in note and "trước sáp nhập" in note
        trend = page.locator("img[src*='charts/trend.svg']")
        trend.scroll_into_view_if_needed()
        assert loaded_width(trend) > 100
        page.locator("details.numbers summary").first.click()
        rows = {r.locator("th").inner_text(): r for r in page.locator("details.numbers tbody tr").all()
                if r.locator("th").count()}
        june, july = next(k for k in rows if k.startswith("Th6/2025")), next(k for k in rows if k.startswith("Th7/2025"))
        assert "trước sáp nhập" in june and "trước sáp nhập" not in july
        assert sum(1 for k in rows if "trước sáp nhập" in k) == 7  # Th12/2024 … Th6/2025
        page.screenshot(path=str(tmp_path / "merger-trend.png"), full_page=True)
        # the chart itself: the predecessors' months are there, no hole at the merger
        svg = page.request.get(base + trend.get_attribute("src"))
        assert svg.status == 200 and b"<svg" in svg.body()
