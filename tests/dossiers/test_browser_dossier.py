"""The whole journey in Chromium: the one-stop software POSTs a dossier, the citizen opens
its evaluation URL on a phone and answers, and a manager sees the rated dossier on the
dashboard (response rate, the portal's figures)."""
from __future__ import annotations

import json
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from browser import chromium_page, live_server
from survey_app.extensions import db
from survey_app.models import Dossier
from survey_app.services.data.demo import DEMO_PASSWORD
from survey_app.services.reports.rollup import LOCAL_TZ

pytestmark = pytest.mark.browser


def test_from_post_to_a_rated_dossier_on_the_dashboard(demo_app, counters, d):
    now = datetime.now(LOCAL_TZ).replace(microsecond=0)
    body = d.dossier("000.00.27.H56-JOURNEY-0001", received_at=(now - timedelta(days=2)).replace(tzinfo=None).isoformat(),
                     due_at=(now - timedelta(days=1)).isoformat(), returned_at=(now - timedelta(hours=30)).isoformat())
    with live_server(demo_app) as base:
        request = urllib.request.Request(f"{base}/api/v1/dossiers", data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json", **d.bearer(counters.write_p2)})
        with urllib.request.urlopen(request) as answer:
            assert answer.status == 201
            made = json.load(answer)["dossier"]
        url = made["evaluation"]["url"]
        assert url.startswith(base + "/v/")

        with chromium_page() as phone:
            phone.goto(url)
            assert phone.locator("html").get_attribute("lang") == "vi"
            assert phone.evaluate("document.documentElement.scrollWidth") <= 360
            fieldsets = phone.locator("fieldset")
            for i in range(fieldsets.count()):
                radios = fieldsets.nth(i).locator("input[type=radio]")
                if radios.count():
                    radios.nth(radios.count() - 1).check()  # "Rất hài lòng"
            phone.get_by_role("button", name="Gửi câu trả lời").click()
            assert phone.locator("h1").inner_text() == "Xin cảm ơn!"
            phone.goto(url)  # once only
            assert "đã được sử dụng" in phone.locator("main").inner_text()

        dossier = db.session.scalar(select(Dossier))
        db.session.refresh(dossier)
        assert dossier.response_id is not None

        today = now.date()
        window = f"instrument=one-stop&window=custom&from={today - timedelta(days=10)}&to={today}"
        with chromium_page(viewport=(1280, 900), mobile=False) as page:
            page.goto(f"{base}/reports/{counters.p2.parent_id}?{window}")
            page.get_by_label("Tên đăng nhập").fill("demo-manager")
            page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Đăng nhập").click()
            assert page.locator("#dossiers").is_visible()
            text = page.locator("main").inner_text()
            assert "Hồ sơ đã giải quyết và được đánh giá" in text
            assert "1 hồ sơ được đánh giá" in text or "tỷ lệ phản hồi 100" in text
            portal = page.locator("#portal-figures").inner_text()
            assert "100,00%" in portal or "100.00%" in portal  # on time, satisfied: the portal's 100%
            assert "Đăng ký khai sinh" in page.locator("#by-procedure").inner_text()
