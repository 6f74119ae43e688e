"""Errors that lead somewhere: the summary's links take the citizen (and the focus) to the question."""
from __future__ import annotations

import pytest

from axe import assert_accessible
from browser import chromium_page, live_server
from helpers import CITIZEN_POINTS, answer_only

pytestmark = pytest.mark.browser


def test_the_error_summary_links_to_the_missing_question(demo_app):
    with live_server(demo_app) as base, chromium_page(viewport=(360, 800), javascript=True) as page:
        page.goto(f"{base}/s/p2motcua")
        assert page.locator("form").get_attribute("novalidate") is not None
        fieldsets = page.locator("fieldset")
        skipped = None
        for i in range(fieldsets.count()):
            radios = fieldsets.nth(i).locator("input[type=radio]")
            if not radios.count():
                continue
            if skipped is None and fieldsets.nth(i).get_attribute("aria-required") == "true":
                skipped = fieldsets.nth(i).get_attribute("id")
                continue
            radios.nth(radios.count() - 2).check()
        assert skipped and skipped.startswith("q-")
        with page.expect_navigation() as sent:
            page.get_by_role("button", name="Gửi câu trả lời").click()
        assert sent.value.status == 422

        summary = page.locator("#problems")
        assert summary.get_attribute("role") == "alert"
        link = summary.locator(f'a[href="#{skipped}"]')
        assert link.count() == 1
        assert "Vui lòng trả lời câu hỏi này." in link.inner_text()
        link.click()
        assert page.evaluate("document.activeElement.id") == skipped

        bad = page.locator(f"#{skipped}")
        assert bad.get_attribute("tabindex") == "-1"
        assert bad.get_attribute("aria-required") == "true"
        radios = bad.locator("input[type=radio]")
        assert radios.count() > 1
        message_id = bad.locator(".err").get_attribute("id")
        assert message_id
        for i in range(radios.count()):
            assert radios.nth(i).get_attribute("required") is not None
            assert message_id in radios.nth(i).get_attribute("aria-describedby").split()
        # the star is for the eyes only; a screen reader hears "(bắt buộc)"
        assert bad.locator(".req").get_attribute("aria-hidden") == "true"
        assert bad.locator(".vh").inner_text().strip() == "(bắt buộc)"
        page.screenshot(path="/tmp/shots_forms/errors.png", full_page=True)
        assert_accessible(page, "survey form with errors")


@pytest.mark.parametrize("key", list(CITIZEN_POINTS))
def test_every_form_sent_empty_lists_each_required_question_as_a_link(demo_app, key):
    """Each citizen form at 360 px, empty and then sent empty: axe finds nothing on either, the
    summary links every required question, and its last link moves the focus to the last one."""
    code = answer_only(key)
    with live_server(demo_app) as base, chromium_page(viewport=(360, 800), javascript=True) as page:
        page.goto(f"{base}/s/{code}")
        assert_accessible(page, f"{key}: empty form")
        required = page.evaluate("""() => [...document.querySelectorAll("fieldset[id^='q-']")]
            .filter(fs => fs.querySelector('[required]')).map(fs => fs.id)""")
        assert required
        with page.expect_navigation() as sent:
            page.get_by_role("button", name="Gửi câu trả lời").click()
        assert sent.value.status == 422
        links = page.locator("#problems a")
        assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [f"#{q}" for q in required]
        links.last.click()
        assert page.evaluate("document.activeElement.id") == required[-1]
        assert page.locator(f"#{required[-1]}").is_visible()
        # not under the progress bar that stays at the top of the screen
        bar_bottom = page.locator(".progress").bounding_box()
        assert page.locator(f"#{required[-1]}").bounding_box()["y"] >= bar_bottom["y"] + bar_bottom["height"]
        assert_accessible(page, f"{key}: form sent empty")
