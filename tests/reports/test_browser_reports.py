"""A ward manager at a desktop browser (headless Chromium, JavaScript off) opens the
ward's report, changes a filter, and downloads the Excel and PDF versions; both open."""
from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from openpyxl import load_workbook

from browser import chromium_page, live_server, loaded_width
from survey_app.services.data.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def test_a_manager_reads_filters_and_downloads_the_report(demo_app, place, sipas, h, tmp_path):
    start = f"/reports/{place.p2.id}?{h.qs()}"
    with live_server(demo_app) as base, chromium_page(viewport=(1280, 900), mobile=False) as page:
        page.goto(base + start)
        assert page.url.startswith(f"{base}/login?next=")
        page.get_by_label("Tên đăng nhập").fill("demo-manager")
        page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        assert page.url == base + start
        assert page.locator("h1").inner_text() == "Phường 2"
        headline = page.locator("#headline-index").inner_text()
        assert headline.endswith("%") and "," in headline
        # the chart is drawn on request: wait until the browser has it (a loaded machine is slow)
        assert loaded_width(page.locator("img[src*='charts/trend.svg']")) > 100
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

        # a filter: the trend by quarter, paper answers only
        page.get_by_label("Xu hướng theo").select_option("quarter")
        page.get_by_label("phiếu giấy").check()
        page.get_by_role("button", name="Áp dụng").click()
        assert "period=quarter" in page.url and "channel=paper" in page.url
        assert "6 phiếu" in page.locator(".rmeta").inner_text()
        page.locator("details.numbers summary").click()  # a native disclosure: no script needed
        assert "Q1/2026" in page.locator("details.numbers").inner_text()  # as the chart axis writes it

        # the Excel file of this view opens, with the six paper responses
        with page.expect_download() as info:
            page.get_by_role("link", name="Excel").click()
        saved = tmp_path / info.value.suggested_filename
        info.value.save_as(saved)
        assert saved.suffix == ".xlsx"
        book = load_workbook(io.BytesIO(saved.read_bytes()))
        assert book.sheetnames == ["Phiếu trả lời", "Bảng mã", "Tổng hợp", "Biểu đồ", "Phiếu – tiêu đề tiếng Việt"]
        assert book.worksheets[0].max_row == 7

        # and so does the PDF, in Vietnamese, naming the ward
        with page.expect_download() as info:
            page.get_by_role("link", name="PDF").click()
        pdf = tmp_path / info.value.suggested_filename
        info.value.save_as(pdf)
        assert pdf.read_bytes().startswith(b"%PDF")
        tool = shutil.which("pdftotext")
        if tool is not None:
            text = subprocess.run([tool, str(pdf), "-"], check=True, capture_output=True, timeout=60).stdout.decode()
            assert "Phường 2" in text and "Kết quả khảo sát sự hài lòng tại Phường 2" in text
    assert [e.detail["format"] for e in h.audits("export.created")] == ["xlsx", "pdf"]
