"""A ward manager at a desktop browser (headless Chromium, JavaScript off): log in, add a
service point, create and open a campaign for it, download its poster, and be refused the
other ward's pages."""
from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from browser import chromium_page, live_server
from survey_app.extensions import db
from survey_app.models import Campaign, Unit
from survey_app.services.collect.instruments import latest_version
from survey_app.services.data.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def poster_qr(pdf: Path) -> str | None:
    """What a phone reads from the poster's QR (poppler renders it, ZXing decodes it);
    ``None`` where poppler is not installed."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        return None
    import zxingcpp
    from PIL import Image

    subprocess.run([tool, "-r", "100", "-png", "-gray", "-singlefile", str(pdf), str(pdf.with_suffix(""))],
                   check=True, capture_output=True, timeout=60)
    with Image.open(pdf.with_suffix(".png")) as image:
        found = [r.text for r in zxingcpp.read_barcodes(image) if r.valid]
    assert len(found) == 1, found
    return found[0]


def test_a_ward_manager_runs_a_campaign_in_the_browser(demo_app, world, tmp_path):
    version = latest_version(db.session, "quick-feedback")
    with live_server(demo_app) as base, chromium_page(viewport=(1280, 900), mobile=False) as page:
        # an unknown visitor is sent to the login page, and back after logging in
        page.goto(f"{base}/admin/units/{world.p2.id}")
        assert page.url.startswith(f"{base}/login?next=")
        assert page.locator("html").get_attribute("lang") == "vi"
        page.get_by_label("Tên đăng nhập").fill("demo-manager")
        page.get_by_label("Mật khẩu").fill("wrong password")
        page.get_by_role("button", name="Đăng nhập").click()
        assert "Sai tên đăng nhập hoặc mật khẩu" in page.locator(".err").inner_text()
        page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        assert page.url == f"{base}/admin/units/{world.p2.id}"
        assert page.locator("h1").inner_text() == "Phường 2"

        # a new service point, with a generated code
        page.get_by_role("link", name="Thêm đơn vị hoặc điểm phục vụ").click()
        page.get_by_label("Tên tiếng Việt").fill("Quầy tiếp dân số 2")
        page.get_by_label("Loại", exact=True).select_option("one_stop")
        page.get_by_role("button", name="Tạo").click()
        assert "Đã tạo Quầy tiếp dân số 2." in page.locator(".flash").inner_text()
        point = db.session.scalar(select(Unit).where(Unit.name_vi == "Quầy tiếp dân số 2"))
        assert point is not None and point.is_service_point and point.code

        # a campaign for it, with a window in Viet Nam time
        page.goto(f"{base}/admin/units/{world.p2.id}/campaigns/new")
        page.get_by_label("Tên đợt khảo sát").fill("Khảo sát nhanh quầy số 2")
        page.get_by_label("Phiếu khảo sát").select_option(str(version.id))
        page.get_by_label(f"Quầy tiếp dân số 2 ({point.code})").check()
        page.get_by_label("Mở: bất kỳ ai quét mã QR trên áp phích").check()
        page.get_by_label("Kết thúc (giờ Việt Nam, không bắt buộc)").fill("2031-06-30T17:00")
        page.screenshot(path=str(tmp_path / "campaign-new.png"), full_page=True)
        page.get_by_role("button", name="Tạo đợt khảo sát").click()
        assert page.locator("h1").inner_text() == "Khảo sát nhanh quầy số 2"
        assert "bản nháp" in page.locator(".meta").inner_text()
        assert "30/06/2031 17:00" in page.locator(".facts").inner_text()

        # open it: citizens can answer at the new point
        page.get_by_role("button", name="Mở", exact=True).click()
        assert "Đợt khảo sát đã mở" in page.locator(".flash").inner_text()
        assert "đang mở" in page.locator(".meta").inner_text()
        campaign = db.session.scalar(select(Campaign).where(Campaign.name == "Khảo sát nhanh quầy số 2"))
        db.session.refresh(campaign)
        assert campaign.status == "open"
        assert campaign.ends_at == datetime(2031, 6, 30, 10, 0, tzinfo=timezone.utc)
        page.screenshot(path=str(tmp_path / "campaign.png"), full_page=True)

        # its poster
        with page.expect_download() as download_info:
            page.get_by_role("link", name="Áp phích (PDF)").click()
        download = download_info.value
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        assert saved.name == f"hailong-poster-{point.code}-a4.pdf"
        assert saved.read_bytes().startswith(b"%PDF") and saved.stat().st_size > 1000
        survey_url = poster_qr(saved) or f"{base}/s/{point.code}"
        assert survey_url == f"{base}/s/{point.code}", "the printed QR leads to the new point's survey"

        # the survey behind the poster answers
        page.goto(survey_url)
        # one fieldset per question, and the optional "where do you live" of a one-stop point
        assert page.locator("fieldset").count() == len(version.snapshot["questions"]) + 1
        assert page.locator("#q-residence select").count() == 1

        # the other ward's pages do not exist for this manager; admin pages are refused
        for url in (f"/admin/units/{world.p1.id}", f"/admin/campaigns/{world.p1_campaign.id}",
                    f"/admin/units/{world.p1_point.id}/campaigns/new", f"/admin/campaigns/{world.wide_campaign.id}"):
            response = page.goto(base + url)
            assert response.status == 404, url
            assert "ngoài phạm vi được giao" in page.locator(".msg").inner_text()
        response = page.goto(f"{base}/admin/users")
        assert response.status == 403
        page.goto(f"{base}/admin/campaigns")
        assert "Phường 1" not in page.locator("main").inner_text()

        # logging out ends it
        page.get_by_role("button", name="Đăng xuất").click()
        assert page.url == f"{base}/login"
        page.goto(f"{base}/admin/")
        assert page.url.startswith(f"{base}/login")
