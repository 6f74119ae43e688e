"""Issue #17 in the suite's Chromium (JavaScript off): the overview of a ward at 1280 and
360 px, the province-wide ranking printed on one A4 page, the dashboard on a phone
(headline first, filters folded), and the drill-down from the ward's SIPAS report to the
health station's own survey."""
from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timezone

import pytest

from browser import chromium_page, live_server, loaded_width
from survey_app.services.collect.instruments import latest_version
from survey_app.extensions import db
from survey_app.services.data.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    assert not page.url.startswith(f"{base}/login"), page.url


def health_answers(place, h, n: int) -> None:
    snapshot = latest_version(db.session, "health-outpatient").snapshot
    scales = [q for q in snapshot["questions"] if q["type"] == "scale"]
    for i in range(n):
        answers = [(q["key"], [lv["value"] for lv in snapshot["scales"][q["scale"]]["levels"]][-1 - (i + j) % 2], None)
                   for j, q in enumerate(scales)]
        h.submit(place.p2_health, answers, datetime(2026, 1 + i % 6, 2 + i % 20, 2, tzinfo=timezone.utc),
                 key="health-outpatient")


def test_the_overview_of_a_ward_at_1280_and_360_px(demo_app, place, sipas, h, tmp_path):
    health_answers(place, h, 12)
    url = f"/reports/{place.p2.id}/overview?window=2026&period=quarter"
    with live_server(demo_app) as base:
        for width, mobile in ((1280, False), (360, True)):
            with chromium_page(viewport=(width, 800), mobile=mobile) as page:
                log_in(page, base, "demo-viewer")
                page.goto(base + url)
                assert page.locator("h1").inner_text() == "Phường 2"
                kinds = page.locator("section.ovgroup h2").all_inner_texts()
                assert kinds[:3] == ["Dịch vụ một cửa", "Y tế", "Giáo dục"]
                sipas_card = page.locator("#card-sipas")
                assert sipas_card.locator(".headline").inner_text().endswith("%")
                assert sipas_card.locator("svg.spark circle").count() == 2
                assert page.locator("#card-health-outpatient .headline").inner_text() != "Không đủ câu trả lời"
                assert page.locator("#card-education-parents .headline").inner_text() == "Không đủ câu trả lời"
                # nothing wider than the screen
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                page.screenshot(path=str(tmp_path / f"overview-{width}.png"), full_page=True)
                if width == 1280:
                    # a card opens its own survey's report
                    page.locator("#card-health-outpatient h3 a").click()
                    assert "instrument=health-outpatient" in page.url
                    assert "12 phiếu" in page.locator(".rmeta").inner_text()


def test_from_the_wards_sipas_report_the_health_station_opens_its_own_survey(demo_app, place, sipas, h):
    health_answers(place, h, 12)
    with live_server(demo_app) as base, chromium_page(viewport=(1280, 900), mobile=False) as page:
        log_in(page, base, "demo-viewer")
        page.goto(f"{base}/reports/{place.p2.id}?{h.qs()}")
        assert "Khảo sát sự hài lòng về dịch vụ hành chính công" in page.locator(".rmeta").inner_text()
        page.locator("table.units").get_by_role("link", name="Trạm Y tế Phường 2").click()
        assert page.locator("h1").inner_text() == "Trạm Y tế Phường 2"
        assert "12 phiếu" in page.locator(".rmeta").inner_text()
        assert page.locator("#headline-index").count() == 1
        assert page.locator("p.card.empty").count() == 0


def test_the_province_ranks_every_point_and_prints_on_one_a4_page(demo_app, place, sipas, h, tmp_path):
    pdfinfo = shutil.which("pdfinfo")
    assert pdfinfo, "poppler's pdfinfo is needed (.ci/run installs it)"
    with live_server(demo_app) as base, chromium_page(viewport=(1280, 900), mobile=False) as page:
        log_in(page, base, "demo-admin")
        page.goto(f"{base}/reports/{place.town.id}/ranking?{h.qs(level='communes')}")
        names = page.locator("#ranking tbody th").all_inner_texts()
        assert {"Phường 1", "Phường 2", "Phường Quảng Trị"} <= set(names)
        page.get_by_label("So sánh", exact=True).select_option("points")
        page.get_by_label("Loại dịch vụ").select_option("one_stop")
        page.get_by_role("button", name="Áp dụng").click()
        page.wait_for_load_state("load")  # the funnel image included
        assert "level=points" in page.url and "kind=one_stop" in page.url
        names = page.locator("#ranking tbody th").all_inner_texts()
        assert {"Bộ phận Một cửa Phường 1", "Bộ phận Một cửa Phường 2"} <= set(names)
        assert not any("Trạm Y tế" in n for n in names)
        funnel = page.locator("img[src*='ranking/funnel.svg']")
        assert loaded_width(funnel) > 100
        page.screenshot(path=str(tmp_path / "ranking-1280.png"), full_page=True)
        pdf = tmp_path / "ranking.pdf"
        page.emulate_media(media="print")
        page.pdf(path=str(pdf), format="A4", print_background=True)
    info = subprocess.run([pdfinfo, str(pdf)], check=True, capture_output=True, timeout=60).stdout.decode()
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages == 1, info


def test_the_dashboard_on_a_phone_shows_the_headline_first_and_folds_the_filters(demo_app, place, sipas, h,
                                                                                  tmp_path):
    with live_server(demo_app) as base:
        with chromium_page(viewport=(360, 740), mobile=True) as page:
            log_in(page, base, "demo-viewer")
            page.goto(f"{base}/reports/{place.p2.id}?{h.qs()}")
            assert page.locator("details.rfold").evaluate("d => d.open") is False
            assert not page.locator("#f-instrument").is_visible()
            box = page.locator("#headline-index").bounding_box()
            assert box is not None and box["y"] + box["height"] <= 740, box  # above the fold
            page.screenshot(path=str(tmp_path / "dashboard-360.png"))
            # the filters are one tap away, no script needed
            page.locator("details.rfold > summary").click()
            assert page.locator("#f-instrument").is_visible()
        with chromium_page(viewport=(1280, 800), mobile=False) as page:
            log_in(page, base, "demo-viewer")
            page.goto(f"{base}/reports/{place.p2.id}?{h.qs()}")
            assert page.locator("#f-instrument").is_visible()  # a wide screen shows them unfolded
            assert not page.locator("details.rfold > summary").is_visible()
            page.screenshot(path=str(tmp_path / "dashboard-1280.png"))
