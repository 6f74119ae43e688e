"""A tablet at the counter: headless Chromium (JavaScript off) is enrolled as a kiosk,
a citizen answers, sees the thank-you, and the page returns to an empty survey."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from browser import chromium_page, live_server
from survey_app.extensions import db
from survey_app.models import Answer, Response
from survey_app.services.officials.lookup import find_unit
from survey_app.services.qr import kiosks

pytestmark = pytest.mark.browser


def test_enrolled_tablet_collects_an_answer_and_starts_over(demo_app, tmp_path):
    demo_app.config["KIOSK_RESET_SECONDS"] = 1
    enrolment = kiosks.enrol_kiosk(db.session, find_unit(db.session, "p2motcua"), "Quầy 1")
    db.session.commit()
    with live_server(demo_app) as base, chromium_page(viewport=(800, 1280)) as page:
        # before enrolment the kiosk page refuses this tablet
        refused = page.goto(f"{base}/k/p2motcua")
        assert refused.status == 403
        assert "chưa được thiết lập làm máy khảo sát" in page.locator("main").inner_text()

        page.goto(base + enrolment.path)
        page.get_by_role("button", name="Dùng máy tính bảng này làm máy khảo sát").click()
        page.wait_for_url(re.compile(r"/k/p2motcua\?lang=vi$"))
        assert page.locator("body").get_attribute("class") == "kiosk"
        assert page.locator(".opts label").first.bounding_box()["height"] >= 60, "large tap targets"

        fieldsets = page.locator("fieldset")
        for i in range(fieldsets.count()):
            radios = fieldsets.nth(i).locator("input[type=radio]")
            if radios.count():
                radios.last.check()
        page.locator("textarea").fill("Máy tính bảng ở quầy rất dễ dùng")
        page.screenshot(path=str(tmp_path / "kiosk-form.png"), full_page=True)
        page.get_by_role("button", name="Gửi câu trả lời").click()
        assert page.locator("h1").inner_text() == "Xin cảm ơn!"
        assert page.url.endswith("/k/p2motcua/thanks?lang=vi")

        # the meta refresh brings the next person an empty survey, no JavaScript involved
        page.wait_for_url(f"{base}/k/p2motcua?lang=vi", timeout=15_000)
        page.locator("fieldset").first.wait_for()
        assert page.locator("input:checked").count() == 0
        assert page.locator("textarea").input_value() == ""

    response = db.session.scalars(select(Response)).one()
    assert (response.channel, response.language, response.trust, response.device_hash) == ("kiosk", "vi", "ok", None)
    comment = db.session.scalar(select(Answer.value_text).where(Answer.response_id == response.id,
                                                                Answer.question_key == "comment"))
    assert comment == "Máy tính bảng ở quầy rất dễ dùng"
