"""The whole loop in a real browser (headless Chromium, JavaScript off): a citizen files a
petition on a 360 px phone, an official answers and publishes it at a desktop, the citizen
reads the answer at the tracking address. Screenshots go to ``PETITION_SHOTS`` if set."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from browser import chromium_page, live_server
from survey_app.extensions import db
from survey_app.models import Petition, PetitionContact
from survey_app.services.data.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

TEXT = "Đèn chiếu sáng trước cổng Bộ phận Một cửa bị hỏng, buổi chiều tối rất khó đi."
ANSWER = "UBND Phường 2 đã thay bóng đèn ngày 02/12/2026. Cảm ơn ông/bà đã phản ánh."


def test_a_petition_from_phone_to_published_answer(demo_app, tmp_path):
    shots = Path(os.environ.get("PETITION_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with live_server(demo_app) as base:
        with chromium_page() as phone:
            phone.goto(f"{base}/f/p2motcua")
            assert phone.locator("h1").inner_text() == "Gửi phản ánh"
            assert phone.evaluate("document.documentElement.scrollWidth") <= 360
            # forget the topic: the form comes back with a message and the text kept
            phone.get_by_role("textbox", name="Nội dung phản ánh").fill(TEXT)
            phone.get_by_label("Tên", exact=True).fill("Trần Văn Nam")
            phone.get_by_role("button", name="Gửi phản ánh").click()
            assert "Vui lòng chọn lĩnh vực của phản ánh." in phone.locator(".fld.bad .err").inner_text()
            assert phone.get_by_role("textbox", name="Nội dung phản ánh").input_value() == TEXT
            phone.get_by_label("Phản ánh về lĩnh vực nào?").select_option("infrastructure")
            phone.get_by_label("Tôi đồng ý để đơn vị lưu họ tên").check()
            phone.get_by_label("Điện thoại", exact=True).fill("0912 345 678")
            phone.get_by_label("Tôi cho phép công khai nội dung").check()
            phone.screenshot(path=str(shots / "petition-form-360.png"), full_page=True)
            phone.get_by_role("button", name="Gửi phản ánh").click()
            assert phone.locator("h1").inner_text() == "Phản ánh của Ông/Bà đã được gửi"
            code = phone.locator(".tcode").inner_text()
            assert phone.evaluate("document.documentElement.scrollWidth") <= 360
            phone.screenshot(path=str(shots / "petition-receipt-360.png"), full_page=True)
        petition = db.session.scalar(select(Petition))
        assert petition is not None and petition.body == TEXT
        assert db.session.scalar(select(PetitionContact)).phone == "0912 345 678"

        with chromium_page(viewport=(1280, 900), mobile=False) as desk:
            desk.goto(f"{base}/admin/petitions/")
            desk.get_by_label("Tên đăng nhập").fill("demo-manager")
            desk.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
            desk.get_by_role("button", name="Đăng nhập").click()
            assert desk.locator("h1").inner_text() == "Phản ánh, kiến nghị"
            desk.screenshot(path=str(shots / "petition-inbox-desktop.png"), full_page=True)
            desk.get_by_role("link", name=code).click()
            assert "0912 345 678" not in desk.content()
            desk.get_by_role("button", name="Xem thông tin liên hệ").click()
            assert "0912 345 678" in desk.locator(".contact-box").inner_text()
            desk.get_by_label("Câu trả lời cho người dân").fill(ANSWER)
            desk.get_by_role("button", name="Lưu câu trả lời").click()
            assert "Đã lưu câu trả lời" in desk.locator(".flash").inner_text()
            desk.get_by_role("button", name="Gửi câu trả lời cho người dân").click()
            assert "Đã gửi câu trả lời" in desk.locator(".flash").inner_text()
            desk.get_by_role("button", name="Công khai câu trả lời trên trang công khai").click()
            assert "Câu trả lời đã được công khai" in desk.locator(".flash").inner_text()
            desk.get_by_role("button", name="Duyệt công khai nội dung").click()
            desk.screenshot(path=str(shots / "petition-detail-desktop.png"), full_page=True)

            # The citizen's view, in the same browser after logging out, at phone width
            # (one browser fewer keeps the test quick).
            desk.get_by_role("button", name="Đăng xuất").click()
            desk.set_viewport_size({"width": 360, "height": 740})
            desk.goto(f"{base}/t")
            desk.get_by_label("Mã theo dõi").fill(code.lower().replace("-", " "))
            desk.get_by_role("button", name="Xem phản ánh").click()
            assert desk.locator("h1").inner_text() == f"Phản ánh {code}"
            assert ANSWER in desk.locator(".answer").inner_text()
            assert TEXT in desk.content()                      # allowed by the citizen and approved
            assert "0912" not in desk.content() and "Trần Văn Nam" not in desk.content()
            assert "Đăng xuất" not in desk.content()
            assert desk.evaluate("document.documentElement.scrollWidth") <= 360
            desk.screenshot(path=str(shots / "petition-status-360.png"), full_page=True)
