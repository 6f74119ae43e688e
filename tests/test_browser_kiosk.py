"""Issue #15 in a browser: a kiosk tablet that loses its connection keeps the answers in
localStorage and sends them when it returns (each once); the flood page keeps the answers.
Screenshots go to /tmp/shots_limits/."""
from __future__ import annotations

import os
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from axe import assert_accessible
from browser import chromium_page, live_server
from survey_app.extensions import db
from survey_app.models import Response
from survey_app.services.officials.lookup import find_unit
from survey_app.services.qr import kiosks

pytestmark = pytest.mark.browser
SHOTS = "/tmp/shots_limits"


def stored() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Response))


def fill(page) -> None:
    fieldsets = page.locator("fieldset")
    for i in range(fieldsets.count()):
        radios = fieldsets.nth(i).locator("input[type=radio]")
        if radios.count():
            radios.last.check()


@contextmanager
def enrolled_tablet(app):
    """A tablet (800 × 1280, JavaScript on) enrolled as a kiosk of p2motcua, on its survey page."""
    enrolment = kiosks.enrol_kiosk(db.session, find_unit(db.session, "p2motcua"), "Quầy 1")
    db.session.commit()
    with live_server(app) as base, chromium_page(viewport=(800, 1280), javascript=True) as page:
        page.goto(base + enrolment.path)
        assert_accessible(page, "kiosk enrolment page")
        page.get_by_role("button", name="Dùng máy tính bảng này làm máy khảo sát").click()
        page.wait_for_url(re.compile(r"/k/p2motcua\?lang=vi$"))
        yield page


def test_answers_given_offline_are_sent_once_when_the_connection_returns(demo_app):
    os.makedirs(SHOTS, exist_ok=True)
    with enrolled_tablet(demo_app) as page:
        assert page.locator("#kiosk-queue").get_attribute("data-idle") == "90"  # KIOSK_IDLE_RESET_SECONDS
        assert_accessible(page, "kiosk survey")
        page.screenshot(path=f"{SHOTS}/kiosk.png", full_page=True)

        page.context.set_offline(True)
        for _ in range(2):
            fill(page)
            page.get_by_role("button", name="Gửi câu trả lời").click()
            page.locator("#kiosk-queue-status").get_by_text("Mất kết nối").wait_for()
        queued = page.evaluate("() => JSON.parse(localStorage.getItem('hailong.kiosk.queue'))")
        assert len(queued) == 2 and queued[0]["token"] != queued[1]["token"]
        assert_accessible(page, "kiosk survey, answer queued offline")
        page.screenshot(path=f"{SHOTS}/kiosk_offline_queued.png", full_page=True)
        assert stored() == 0

        page.context.set_offline(False)
        for _ in range(200):  # the page's CSP forbids wait_for_function's eval: poll the queue
            if page.evaluate("() => JSON.parse(localStorage.getItem('hailong.kiosk.queue') || '[]').length") == 0:
                break
            page.wait_for_timeout(50)
        assert stored() == 2

        # a replayed token adds no row
        status = page.evaluate("""(item) => fetch(item.action, {method: 'POST', body: new URLSearchParams(item.body),
                                                                 redirect: 'manual'}).then((r) => r.type)""", queued[0])
        assert status == "opaqueredirect"  # 303 to the thank-you page, as for the first time
    assert stored() == 2, "the replayed token stored nothing more"
    assert {r.channel for r in db.session.scalars(select(Response))} == {"kiosk"}


def test_the_flood_page_keeps_the_answers_and_says_when_to_try_again(variant):
    os.makedirs(SHOTS, exist_ok=True)
    app = variant(RATELIMIT_ENABLED=True, RATELIMIT_SURVEY_FLOOD_DEVICE="1 per 10 minutes",
                  RATELIMIT_SURVEY_POINT="100 per minute", SURVEY_MIN_FILL_SECONDS=0)
    with live_server(app) as base, chromium_page(javascript=True) as page:
        for _ in range(2):
            page.goto(f"{base}/s/p2motcua")
            fill(page)
            page.get_by_role("button", name="Gửi câu trả lời").click()
        assert "Ông/Bà vui lòng thử lại sau 10 phút" in page.locator("main").inner_text()
        assert page.locator("input[type=radio]:checked").count() >= 1, "the answers are filled in again"
        assert_accessible(page, "flood page")
        page.screenshot(path=f"{SHOTS}/flood.png", full_page=True)
    assert stored() == 1


def test_the_kiosk_language_switch_keeps_the_answers_and_stores_nothing(demo_app):
    with enrolled_tablet(demo_app) as page:
        first = page.locator("fieldset").first.locator("input[type=radio]").last
        first.check()
        page.get_by_role("button", name="English").click()
        page.wait_for_url(re.compile(r"/k/p2motcua\?lang=en$"))
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("fieldset").first.locator("input[type=radio]").last.is_checked()
        assert page.get_by_role("button", name="Send my answers").count() == 1
        assert_accessible(page, "kiosk survey, switched to English")
        assert stored() == 0

        # offline the switch cannot fetch the other language: nothing is queued, the answers stay
        page.context.set_offline(True)
        page.get_by_role("button", name="Tiếng Việt").click()
        page.wait_for_timeout(200)
        assert page.evaluate("() => JSON.parse(localStorage.getItem('hailong.kiosk.queue') || '[]').length") == 0
        assert page.locator("fieldset").first.locator("input[type=radio]").last.is_checked()
        page.context.set_offline(False)
    assert stored() == 0


def test_a_kiosk_answer_sent_online_thanks_and_returns_to_the_survey(variant):
    app = variant(KIOSK_RESET_SECONDS=2)
    with enrolled_tablet(app) as page:
        fill(page)
        page.get_by_role("button", name="Gửi câu trả lời").click()
        page.wait_for_url(re.compile(r"/k/p2motcua/thanks\?lang=vi$"))
        assert_accessible(page, "kiosk thank-you page")  # no timed meta refresh with JavaScript
        page.screenshot(path=f"{SHOTS}/kiosk_thanks.png", full_page=True)
        page.wait_for_url(re.compile(r"/k/p2motcua\?lang=vi$"), timeout=10_000)  # kiosk_return.js
        assert page.get_by_role("button", name="Gửi câu trả lời").count() == 1
    assert stored() == 1

