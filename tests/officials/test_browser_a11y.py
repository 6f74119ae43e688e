"""Every official GET page, found as the route walk finds them (``app.url_map`` through
``OFFICIAL_BLUEPRINTS``, with the walk's argument values for ward p2's objects), opened by
the province administrator in the suite's Chromium at 1280 × 800: axe-core finds no
violation of any impact. Downloads (CSV, spreadsheets, PDF, images) are not pages and are
left out; so is any URL the administrator is refused (there is no page to check)."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

import pytest

from axe import axe_violations
from browser import chromium_page, live_server
from survey_app.extensions import db
from survey_app.services.collect.surveys import SurveyTarget, submit_response
from survey_app.services.data.demo import DEMO_PASSWORD

from .test_route_walk import argument_values, official_rules, urls_for

pytestmark = pytest.mark.browser


def official_pages(app, client, values) -> list[str]:
    """The URLs of every official GET route that answers the administrator with a page."""
    pages = []
    for rule, _view in official_rules(app):
        if "GET" not in rule.methods:
            continue
        for url in urls_for(rule, values):
            with client.get(url) as response:
                assert response.status_code < 500, f"GET {url} → {response.status_code}"
                if response.status_code == 200 and response.mimetype == "text/html":
                    pages.append(url)

    return sorted(set(pages))


def answers_at_the_counter(world) -> None:
    """Twelve SIPAS answers with comments at ward 2's counter in the last weeks, so the reports
    draw their tables, charts and comments instead of "no responses"."""
    version = world.p2_campaign.instrument_version
    target = SurveyTarget(world.p2_point, world.p2_campaign, version)
    keys = [q["key"] for q in version.snapshot["questions"] if q["type"] == "scale"]
    start = datetime.now(timezone.utc) - timedelta(days=20)
    for i in range(12):
        answers = [(k, 1 + (i + j) % 5, None) for j, k in enumerate(keys)] + [("comment", None, f"Góp ý số {i}")]
        submit_response(db.session, target, answers, channel="qr", language="vi",
                        idempotency_key=secrets.token_hex(16), submitted_at=start + timedelta(days=i))


def test_every_official_page_is_accessible_at_1280_px(demo_app, world, as_user):
    assert world.p2_campaign.instrument_version.instrument.key == "sipas"
    answers_at_the_counter(world)
    pages = official_pages(demo_app, as_user("demo-admin"), argument_values(world, own=True))
    assert len(pages) > 30, pages
    problems: list[str] = []
    with live_server(demo_app) as base, chromium_page(viewport=(1280, 800), mobile=False, javascript=True) as page:
        page.goto(f"{base}/login")
        page.locator("#username").fill("demo-admin")
        page.locator("#password").fill(DEMO_PASSWORD)
        page.locator("form button[type=submit]").click()
        assert not page.url.startswith(f"{base}/login"), page.url
        for url in pages:
            response = page.goto(base + url)
            assert response.status == 200, (url, response.status)
            for v in axe_violations(page):
                problems.append(f"{url}: {v['id']} ({v['impact']}): {v['help']} at {v['targets'][:5]}")
    assert not problems, f"{len(problems)} violations on {len(pages)} pages:\n" + "\n".join(problems)
