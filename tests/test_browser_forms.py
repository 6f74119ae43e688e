"""Errors that lead somewhere: the summary's links take the citizen (and the focus) to the question."""
from __future__ import annotations

import pytest

from axe import assert_accessible
from browser import chromium_page, live_server

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
