"""The hand-made XLSForm, imported, answered in headless Chromium with JavaScript on: the
question about queue minutes hides and shows with its condition, and what is stored is
what was asked."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from browser import chromium_page, live_server
from helpers import campaign_target
from survey_app.extensions import db
from survey_app.models import Answer, Response, utcnow
from survey_app.services.collect import instruments, xlsform
from test_xlsform import local_form, workbook

pytestmark = pytest.mark.browser


def test_a_citizen_answers_the_imported_form_and_skip_logic_hides_and_shows(demo_app):
    definition = xlsform.read_workbook(workbook(local_form()), "queue.xlsx")
    instruments.store(db.session, definition, "xlsform/queue.xlsx")
    db.session.commit()
    target = campaign_target("p2motcua", "queue-local")
    target.campaign.starts_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    campaign_id = target.campaign.id
    with live_server(demo_app) as base, chromium_page(javascript=True) as page:
        page.goto(f"{base}/s/p2motcua")
        assert page.locator("h1").inner_text() == "Khảo sát nhanh về xếp hàng"
        minutes, why = page.locator("#q-queue_minutes"), page.locator("#q-why")
        assert not minutes.is_visible() and not why.is_visible(), "nothing answered yet: both conditions false"
        page.locator("#q-waited input[value='5']").check()
        page.locator("#q-staff input[value='4']").check()
        page.locator("#q-clean input[value='4']").check()
        page.locator("#q-queued input[value='1']").check()
        assert minutes.is_visible()
        page.locator("#q-queue_minutes input").fill("40")
        page.locator("#q-queued input[value='0']").check()
        assert not minutes.is_visible(), "no queue: the minutes hide again"
        page.locator("#q-issues input[value='noisy']").check()
        assert why.is_visible(), "selected(${issues}, 'noisy') shows the question"
        page.locator("#q-why input").fill("Quá ồn")
        page.locator("#q-waited input[value='2']").check()
        assert why.is_visible()
        page.get_by_role("button", name="Gửi câu trả lời").click()
        assert page.locator("h1").inner_text() == "Xin cảm ơn!"

    response = db.session.scalars(select(Response).where(Response.campaign_id == campaign_id)).one()
    stored = db.session.execute(select(Answer.question_key, Answer.value_int, Answer.value_text)
                                .where(Answer.response_id == response.id).order_by(Answer.id)).all()
    assert [tuple(r) for r in stored] == [("waited", 2, None), ("staff", 4, None), ("clean", 4, None),
                                          ("issues", None, "noisy"), ("queued", 0, None), ("why", None, "Quá ồn")]


def test_without_javascript_the_dependent_question_shows_with_its_note(demo_app):
    definition = xlsform.read_workbook(workbook(local_form()), "queue.xlsx")
    instruments.store(db.session, definition, "xlsform/queue.xlsx")
    db.session.commit()
    target = campaign_target("p2motcua", "queue-local")
    target.campaign.starts_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    with live_server(demo_app) as base, chromium_page() as page:
        page.goto(f"{base}/s/p2motcua")
        minutes = page.locator("#q-queue_minutes")
        assert minutes.is_visible()
        assert minutes.locator(".when").inner_text() == "Chỉ trả lời nếu câu 5 là “Có”."
