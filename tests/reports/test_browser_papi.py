"""A ward manager in headless Chromium (desktop, JavaScript off) reads the PAPI mirror of
the ward — eight dimensions, intervals, change since the last round — enters the
province's published PAPI scores with one typing mistake, is told what is wrong, corrects
it, and sees the comparison beside the mirror's scores."""
from __future__ import annotations

import pytest

from browser import chromium_page, live_server
from survey_app.extensions import db
from survey_app.models import PapiPublished
from survey_app.services.data.demo import DEMO_PASSWORD

from .test_papi import two_rounds  # noqa: F401  (the fixture: two household rounds in ward p2)

pytestmark = pytest.mark.browser

SCORES = {"Tham gia của người dân ở cấp cơ sở": "5,43", "Công khai, minh bạch trong việc ra quyết định ở địa phương": "5,61",
          "Trách nhiệm giải trình với người dân": "4,9", "Kiểm soát tham nhũng trong khu vực công": "7",
          "Thủ tục hành chính công": "7,25", "Cung ứng dịch vụ công": "7,5", "Quản trị môi trường": "4,12",
          "Quản trị điện tử": "1,5"}


def test_a_manager_reads_the_mirror_and_compares_it_with_the_province(demo_app, place, two_rounds, tmp_path):  # noqa: F811
    start = f"/reports/{place.p2.id}/papi"
    with live_server(demo_app) as base, chromium_page(viewport=(1280, 900), mobile=False) as page:
        page.goto(base + start)
        page.get_by_label("Tên đăng nhập").fill("demo-manager")
        page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        assert page.url == base + start
        assert page.locator("h1").inner_text() == "Gương PAPI: Phường 2"
        table = page.locator("#papi-dimensions")
        assert table.locator("tbody tr").count() == 8
        assert table.locator("tr[data-dimension=corruption] td.score").inner_text().strip().endswith("8,50")
        assert "+3,00" in table.locator("tr[data-dimension=corruption]").inner_text()
        assert "68,00" in table.locator("tfoot").inner_text()
        assert page.locator("#methods").is_visible()
        assert "Chưa nhập điểm PAPI đã công bố của tỉnh." in page.locator("#papi-source").inner_text()

        page.get_by_role("link", name="Nhập điểm PAPI đã công bố").click()
        page.get_by_label("Năm khảo sát PAPI").fill("2024")
        page.get_by_label("Nguồn (báo cáo, trang)").fill("Báo cáo PAPI 2024, tr. 120")
        for label, value in SCORES.items():
            page.get_by_label(label, exact=True).fill(value)
        page.get_by_label("Quản trị môi trường", exact=True).fill("41,2")  # a slip of the finger
        page.get_by_role("button", name="Lưu").click()
        errors = page.locator("#papi-errors")
        assert errors.is_visible()
        assert "Quản trị môi trường: “41,2” không phải là số như 5,43" in errors.inner_text() \
            or "Quản trị môi trường: Điểm mỗi nội dung của PAPI là từ 1 đến 10." in errors.inner_text()
        assert page.get_by_label("Tham gia của người dân ở cấp cơ sở", exact=True).input_value() == "5,43"
        assert db.session.query(PapiPublished).count() == 0
        page.screenshot(path=str(tmp_path / "papi-form-error.png"), full_page=True)

        page.get_by_label("Quản trị môi trường", exact=True).fill("4,12")
        page.get_by_role("button", name="Lưu").click()
        assert page.url == base + start
        assert "Đã lưu điểm PAPI công bố năm 2024." in page.locator(".flash").inner_text()
        assert "Tỉnh, PAPI 2024" in table.locator("thead").inner_text()
        assert "Báo cáo PAPI 2024, tr. 120 (năm 2024)" in page.locator("#papi-source").inner_text()
        row = table.locator("tr[data-dimension=egovernance]")
        assert "1,50" in row.locator("td.published").inner_text() and "cao hơn" in row.inner_text()
        assert "43,31" in table.locator("tfoot").inner_text()
        page.screenshot(path=str(tmp_path / "papi-report.png"), full_page=True)
