"""Issue #15 in a browser: a manager chooses, on a kiosk's page, the campaign its tablet
shows (keyboard and mouse alike: a labelled select and a button), and the page has no axe
violation at 1280 px. Screenshot in /tmp/shots_kiosk_admin/."""
from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest

from axe import assert_accessible
from browser import chromium_page, live_server
from survey_app.extensions import db
from survey_app.models import Campaign, Kiosk
from survey_app.services.collect.instruments import latest_version
from survey_app.services.data.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser
SHOTS = "/tmp/shots_kiosk_admin"


def test_a_manager_chooses_the_kiosks_campaign_in_the_browser(demo_app, world):
    os.makedirs(SHOTS, exist_ok=True)
    chosen = Campaign(name="Đánh giá Một cửa tại quầy", instrument_version=latest_version(db.session, "one-stop"),
                      access_mode="open", status="open", starts_at=datetime(2025, 6, 1, tzinfo=timezone.utc))
    chosen.units.append(world.p2_point)
    db.session.add(chosen)
    db.session.commit()
    with live_server(demo_app) as base, chromium_page(viewport=(1280, 900), mobile=False, javascript=True) as page:
        page.goto(f"{base}/login")
        page.get_by_label("Tên đăng nhập").fill("demo-manager")
        page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.goto(f"{base}/admin/units/{world.p2_point.id}")
        page.get_by_role("link", name="Máy tính bảng P2").click()
        assert page.locator("h1").inner_text() == "Máy kiosk Máy tính bảng P2"
        assert world.p2_campaign.name in page.locator(".facts").inner_text(), "the poster's survey, no quick one"
        assert_accessible(page, "kiosk page")
        page.get_by_label("Đợt khảo sát", exact=True).select_option(str(chosen.id))
        page.get_by_role("button", name="Lưu").click()
        assert "Từ nay máy kiosk hiển thị đợt khảo sát Đánh giá Một cửa tại quầy" in page.locator(".flash").inner_text()
        assert "Đánh giá Một cửa tại quầy" in page.locator(".facts").inner_text()
        assert_accessible(page, "kiosk page after the choice")
        page.screenshot(path=f"{SHOTS}/kiosk_admin.png", full_page=True)
    db.session.expire_all()
    assert db.session.get(Kiosk, world.p2_kiosk.id).campaign_id == chosen.id
