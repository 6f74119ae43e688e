"""Every page a citizen reads, apart from the survey forms themselves, in the suite's
Chromium at 360 × 800 with JavaScript on (axe needs it): axe-core finds no violation of any
impact, nothing is wider than the screen, and a screenshot of each is kept in
``/tmp/shots/pages-<name>.png`` to look at."""
from __future__ import annotations

import secrets
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

import helpers
from axe import axe_violations
from browser import chromium_page, live_server
from survey_app.extensions import db
from survey_app.models import Campaign, Publication, Unit
from survey_app.services.collect.instruments import latest_version
from survey_app.services.collect.surveys import SurveyTarget, submit_response
from survey_app.services.petitions import operations as petitions

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")
WIDTH, HEIGHT = 360, 800


def point(code: str) -> Unit:
    return db.session.scalar(select(Unit).where(Unit.code == code))


def campaigns_at(code: str) -> list[Campaign]:
    return list(db.session.scalars(select(Campaign).where(Campaign.units.contains(point(code)))))


def publish_q1(app) -> None:
    """Twelve SIPAS answers a month at ward 2's counter, January to March 2026 (every month
    shown, so the trend is drawn), published for the ward by its manager."""
    import re

    from survey_app.services.data.demo import DEMO_PASSWORD

    version = latest_version(db.session, "sipas")
    campaign = next(c for c in campaigns_at("p2motcua") if c.instrument_version_id == version.id)
    target = SurveyTarget(point("p2motcua"), campaign, version)
    keys = [q["key"] for q in version.snapshot["questions"] if q["type"] == "scale"]
    for month in (1, 2, 3):
        for i in range(12):
            answers = [(k, 1 + (i + j + month) % 5, None) for j, k in enumerate(keys)]
            submit_response(db.session, target, answers, channel="qr", language="vi",
                            idempotency_key=secrets.token_hex(16),
                            submitted_at=datetime(2026, month, 2 + 2 * i, 3, tzinfo=timezone.utc))
    ward = point("p2motcua").parent
    client = app.test_client()
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"csrf_token": token, "username": "demo-manager",
                                       "password": DEMO_PASSWORD}).status_code == 303
    page = client.get(f"/reports/{ward.id}/publications?instrument=sipas").get_data(as_text=True)
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page).group(1)
    sent = client.post(f"/reports/{ward.id}/publish", data={"csrf_token": token, "instrument": "sipas",
                                                            "window": "2026-Q1"})
    assert sent.status_code == 303, sent.get_data(as_text=True)[:500]
    assert db.session.scalar(select(Publication.id).where(Publication.unit_id == ward.id)) is not None


@pytest.fixture
def citizen_world(demo_app):
    """The demo, plus: a spent one-time code, a filed petition, a closed campaign (the
    health station of ward 2), one that opens in 2031 (ward 1's) and a published quarter
    of ward 2."""
    code = helpers.spent_code("p2tieuhoc")
    filed = petitions.file_petition(db.session, point("p2motcua"), category="procedure",
                                    text="Đề nghị niêm yết rõ phí, lệ phí tại quầy.")
    db.session.commit()
    for campaign in campaigns_at("p2yte"):
        campaign.status = "closed"
    for campaign in campaigns_at("p1yte"):
        campaign.starts_at = datetime(2031, 3, 1, 1, 30, tzinfo=timezone.utc)
    db.session.commit()
    publish_q1(demo_app)
    return {"spent": code, "tracking": petitions.format_tracking(filed.tracking_code)}


def look(page, name: str, problems: list[str]) -> None:
    """axe on the page as it is, no horizontal overflow at 360 px, and a screenshot."""
    for v in axe_violations(page):
        problems.append(f"{name}: {v['id']} ({v['impact']}): {v['help']} at {v['targets'][:5]}")
    width = page.evaluate("document.scrollingElement.scrollWidth")
    if width > WIDTH:
        problems.append(f"{name}: the page is {width} px wide at {WIDTH} px")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"pages-{name}.png"), full_page=True)


def test_every_citizen_page_is_accessible_at_360_px(demo_app, citizen_world):
    problems: list[str] = []
    with live_server(demo_app) as base, chromium_page(viewport=(WIDTH, HEIGHT), javascript=True) as page:
        def visit(path: str, name: str, status: int = 200):
            response = page.goto(base + path)
            assert response.status == status, (path, response.status)
            assert page.locator("html").get_attribute("lang") in ("vi", "en")
            look(page, name, problems)

        visit("/", "landing")
        # the landing page's search, typed without diacritics
        page.get_by_label("Tên hoặc mã của nơi cung cấp dịch vụ").fill("phuong 2")
        with page.expect_navigation():  # the answer page, not the one before it
            page.get_by_role("button", name="Tìm kiếm").click()
        assert page.locator("ul.points li").count() == 3
        assert page.locator('a[href="/s/p2motcua?lang=vi"]').count() == 1
        assert page.locator('a[href="/s/p2yte?lang=vi"]').count() == 0  # its campaign is closed
        look(page, "landing-search", problems)
        visit("/?lang=en&q=ward", "landing-search-en")
        assert page.locator("ul.points li").count() >= 6

        visit("/v?lang=vi", "code-entry")  # back to Vietnamese (the choice is kept in the session)
        page.locator("#code").fill("ABC")
        with page.expect_navigation():  # the answer page, not the one before it
            page.locator("form button[type=submit]").click()
        assert page.locator("#problems").is_visible()
        look(page, "code-entry-error", problems)

        visit("/s/p2motcua/thanks", "thanks")
        visit("/f/p2motcua", "petition-form")
        visit("/t", "petition-track")
        visit(f"/t/{citizen_world['tracking']}", "petition-status")
        visit("/d", "dossier-entry")

        visit(f"/v/{citizen_world['spent']}", "error-spent-code", 410)
        assert "Mã này đã được sử dụng — cảm ơn Ông/Bà đã góp ý." in page.locator("main").inner_text()
        with page.expect_navigation():  # the answer page, not the one before it
            page.get_by_role("link", name="Gửi phản ánh tới Trường Tiểu học Phường 2").click()
        assert page.url.endswith("/f/p2tieuhoc?lang=vi")
        visit("/s/khongco", "error-unknown-point", 404)
        visit("/s/p2yte", "error-closed-campaign", 410)
        visit("/s/p1yte", "error-not-open-yet", 404)
        assert "01/03/2031 08:30" in page.locator("main").inner_text()
        visit("/khong-co-trang-nay", "error-404", 404)
        for shown in ("error-spent-code", "error-unknown-point", "error-closed-campaign", "error-404"):
            assert (SHOTS / f"pages-{shown}.png").exists()

        visit("/p/vn/qt/p2", "public-results")
        regions = page.locator('main [role="region"][tabindex="0"]')
        assert regions.count() >= 4
        for i in range(regions.count()):
            label = regions.nth(i).get_attribute("aria-labelledby")
            assert page.locator(f"#{label}").inner_text().strip(), label
        # the factor names are not squeezed to one word a line: each row header is a few words wide
        widths = page.eval_on_selector_all("table.factors th[scope=row]", "cells => cells.map(c => c.clientWidth)")
        assert widths and min(widths) >= 120, widths
        below = page.eval_on_selector_all("table.below th[scope=row]", "cells => cells.map(c => c.clientWidth)")
        assert below and min(below) >= 110, below
        assert page.locator("figure.chart img").count() == 1
        assert page.locator("figure.chart img").get_attribute("alt")
        chart = page.locator("figure.chart img").get_attribute("src")
        # a light image: the SVG travels compressed, a few kilobytes
        with demo_app.test_client().get(chart, headers={"Accept-Encoding": "gzip"}) as svg:
            assert svg.status_code == 200 and svg.headers.get("Content-Encoding") == "gzip"
            assert len(svg.data) < 10_000, len(svg.data)
        visit("/p/vn/qt/p2?lang=en", "public-results-en")
    assert not problems, "\n".join(problems)


def test_the_landing_page_works_without_javascript(demo_app):
    """A phone with JavaScript off: search, then type a one-time code and a tracking code."""
    with live_server(demo_app) as base, chromium_page(viewport=(WIDTH, HEIGHT)) as page:
        page.goto(base + "/")
        page.get_by_label("Tên hoặc mã của nơi cung cấp dịch vụ").fill("tram y te")
        with page.expect_navigation():  # the answer page, not the one before it
            page.get_by_role("button", name="Tìm kiếm").click()
        names = page.locator("ul.points .point-name").all_inner_texts()
        assert "Trạm Y tế Phường 2" in names and "Trạm Y tế Phường 1" in names
        with page.expect_navigation():  # the answer page, not the one before it
            page.get_by_role("link", name="Trả lời khảo sát · Trạm Y tế Phường 2").click()
        assert page.url.startswith(f"{base}/s/p2yte")
        page.goto(base + "/")
        page.get_by_label("Mã in trên giấy biên nhận hoặc phiếu khảo sát").fill("K7QM-3XDA-9F2P-HW8T")
        with page.expect_navigation():  # the answer page, not the one before it
            page.get_by_role("button", name="Mở khảo sát").click()
        assert page.url.startswith(f"{base}/v") and page.locator("#problems").is_visible()  # no such code
        page.goto(base + "/")
        page.get_by_label("Mã theo dõi").fill("7K3QM-XD9FP")
        with page.expect_navigation():  # the answer page, not the one before it
            page.get_by_role("button", name="Xem phản ánh").click()
        assert page.url.startswith(f"{base}/t?") and page.locator("#problems").is_visible()
        assert page.evaluate("document.scrollingElement.scrollWidth") <= WIDTH
