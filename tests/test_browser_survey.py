"""A citizen on a phone: headless Chromium, 360 px wide, JavaScript off."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from browser import chromium_page, live_server
from survey_app.extensions import db
from survey_app.models import Answer, Response

pytestmark = pytest.mark.browser


def test_citizen_answers_the_sipas_survey_on_a_phone(demo_app, tmp_path):
    with live_server(demo_app) as base, chromium_page() as page:
        page.goto(f"{base}/s/p2motcua")
        assert page.locator("h1").inner_text().strip()
        assert page.locator("html").get_attribute("lang") == "vi"
        # readable at 360 px: nothing wider than the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

        # switch to English and back to Vietnamese with the visible buttons (they post the form:
        # tests/test_browser_short.py checks that the answers are kept)
        page.get_by_role("button", name="English").click()
        assert page.locator("html").get_attribute("lang") == "en"
        page.get_by_role("button", name="Tiếng Việt").click()
        assert page.locator("html").get_attribute("lang") == "vi"

        # first try: forget one question, the form comes back with a message and our answers
        fieldsets = page.locator("fieldset")
        total = fieldsets.count()
        for i in range(total):
            radios = fieldsets.nth(i).locator("input[type=radio]")
            if radios.count() and i != 2:
                radios.nth(radios.count() - 2).check()  # "Hài lòng"
        page.locator("textarea").fill("Cán bộ hướng dẫn rất tận tình")
        page.get_by_role("button", name="Gửi câu trả lời").click()
        assert page.locator("#problems").is_visible()
        assert page.locator("fieldset.bad .err").inner_text() == "Vui lòng trả lời câu hỏi này."
        assert page.locator("textarea").input_value() == "Cán bộ hướng dẫn rất tận tình"
        assert db.session.scalar(select(func.count()).select_from(Response)) == 0

        # answer the missing question by tapping its label text, then send
        page.locator("fieldset.bad label").last.click()
        page.screenshot(path=str(tmp_path / "survey-phone.png"), full_page=True)
        page.get_by_role("button", name="Gửi câu trả lời").click()
        assert page.locator("h1").inner_text() == "Xin cảm ơn!"
        page.screenshot(path=str(tmp_path / "thanks-phone.png"))

    response = db.session.scalars(select(Response)).one()
    assert (response.channel, response.language) == ("qr", "vi")
    values = dict(db.session.execute(
        select(Answer.question_key, Answer.value_int).where(Answer.response_id == response.id, Answer.value_int.is_not(None))
    ).all())
    assert len(values) == 19
    assert values["tc1"] == 4 and values["tc3"] == 5  # tc3 was the forgotten one, answered with its last label
    comment = db.session.scalar(select(Answer.value_text).where(Answer.question_key == "comment"))
    assert comment == "Cán bộ hướng dẫn rất tận tình"
