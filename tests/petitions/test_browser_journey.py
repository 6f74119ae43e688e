"""Issue #18's journey in real browsers (headless Chromium, JavaScript off), on SQLite and
PostgreSQL, with the e-mails received by a real SMTP server (aiosmtpd) and the server's clock
moved through the weeks (time-machine, the whole process: the live server's thread too):

file (Thu 28 Jan 2027) → the unit asks for more information (Fri 29 Jan) → the citizen replies
from the e-mail's link after Tết (Thu 18 Feb) → answered (Mon 22 Feb) → published (Tue 23 Feb)
→ the public's verdict on the answer → the petitioner says it did not resolve the matter
(Mon 1 Mar) → answered again (Fri 5 Mar).

Every due day is counted by hand on the calendar (Tết 2027 holidays: Thursday 4 – Wednesday
10 February) and written out below, so the code's own arithmetic is never the reference.
"""
from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from alerts.smtp import smtp_server
from browser import chromium_page, live_server
from survey_app.extensions import db
from survey_app.jobs import get_jobs
from survey_app.models import Petition, PetitionVerdict
from survey_app.services.data.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

TEXT = "Cống thoát nước trước nhà văn hoá tổ 7 bị tắc, mưa xuống là ngập cả đoạn đường."
QUESTION = "Xin Ông/Bà cho biết số nhà gần nhất hoặc gửi ảnh vị trí cống bị tắc."
REPLY = "Cống ở trước nhà số 45, đường Lê Lợi, ngay cổng nhà văn hoá tổ 7."
ANSWER = "Ngày 20/02/2027 Phường 2 đã nạo vét cống trước nhà số 45 đường Lê Lợi."
ANSWER_AGAIN = "Ngày 04/03/2027 Phường 2 đã thay nắp cống và nạo vét thêm 30 m cống dọc đường Lê Lợi."
EMAIL = "nguyen.van.an@example.vn"
VN = timezone(timedelta(hours=7))


def at(day: int, month: int, hour: int = 9, minute: int = 0) -> datetime:
    """A moment of 2027 in Viet Nam time."""
    return datetime(2027, month, day, hour, minute, tzinfo=VN)


def official_page(base: str, path: str):
    """A fresh desktop browser with the ward's manager logged in, at ``path``; a context
    manager (each official step is a new session: weeks pass between them)."""
    class Desk:
        def __enter__(self):
            self._cm = chromium_page(viewport=(1280, 900), mobile=False)
            page = self._cm.__enter__()
            page.goto(f"{base}{path}")
            page.get_by_label("Tên đăng nhập").fill("demo-manager")
            page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Đăng nhập").click()
            page.goto(f"{base}{path}")
            return page

        def __exit__(self, *exc):
            return self._cm.__exit__(*exc)
    return Desk()


def clock_row(page, stage: str) -> list[str]:
    return [c.strip() for c in page.locator(f"table.clocks tr[data-stage={stage}] td").all_inner_texts()]


def mails_since(inbox, seen: int) -> list:
    return [m for _frm, _to, m in inbox.messages[seen:]]


def test_file_ask_reply_answer_publish_verdict_reopen_answer_again(demo_app, variant, tmp_path):
    time_machine = pytest.importorskip("time_machine")
    shots = Path(os.environ.get("PETITION_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with smtp_server() as (inbox, port), time_machine.travel(at(28, 1), tick=True) as clock:
        app = variant(HUEY_IMMEDIATE=True, MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                      MAIL_FROM="phananh@p2.example.gov.vn", MAIL_RETRIES=0, MAIL_TIMEOUT=5)
        jobs = get_jobs(app)
        with live_server(app) as base:
            app.config["PUBLIC_BASE_URL"] = base

            def sweep() -> None:
                """What the worker does every minute: e-mail the new public steps."""
                jobs.petition_notices()

            # ---- Thursday 28 January 2027: the citizen files on a phone, with consent to be e-mailed.
            with chromium_page() as phone:
                phone.goto(f"{base}/f/p2motcua")
                phone.get_by_label("Phản ánh về lĩnh vực nào?").select_option("infrastructure")
                phone.get_by_role("textbox", name="Nội dung phản ánh").fill(TEXT)
                phone.get_by_label("Tôi đồng ý để đơn vị lưu họ tên").check()
                phone.get_by_label("Tên", exact=True).fill("Nguyễn Văn An")
                phone.get_by_label("Email", exact=True).fill(EMAIL)
                phone.get_by_label("Tôi cho phép công khai nội dung").check()
                phone.get_by_role("button", name="Gửi phản ánh").click()
                assert phone.locator("h1").inner_text() == "Phản ánh của Ông/Bà đã được gửi"
                code = phone.locator(".tcode").inner_text()
                # 15 working days from Thu 28 Jan: 29 Jan (1), 1–3 Feb (4), Tết 4–10 Feb not
                # counted, 11–12 Feb (6), 15–19 Feb (11), 22–25 Feb (15) → Thursday 25 February.
                assert "25/02/2027" in phone.locator("dl.facts").inner_text()
            petition = db.session.scalar(select(Petition).where(Petition.body == TEXT))
            pid = petition.id
            sweep()
            [receipt] = mails_since(inbox, 0)
            assert receipt["To"] == EMAIL and receipt["Subject"] == f"Đã tiếp nhận phản ánh {code}"
            assert "25/02/2027" in receipt.get_content()
            seen = 1

            # ---- Friday 29 January: the unit asks for more information; the clock stops.
            clock.move_to(at(29, 1, 10))
            with official_page(base, f"/admin/petitions/{pid}") as desk:
                desk.get_by_label("Nội dung đề nghị người dân bổ sung (người dân sẽ đọc)").fill(QUESTION)
                desk.get_by_role("button", name="Đề nghị bổ sung thông tin").click()
                assert "Đã đề nghị người dân bổ sung thông tin" in desk.locator(".flash").inner_text()
                assert clock_row(desk, "resolve")[2:] == ["—", "—", "tạm dừng: chờ người dân"]
                # The info stage: 5 working days from 28 Jan are 29 Jan, 1, 2, 3 Feb and (after
                # Tết) 11 Feb; asked on day 1, on time.
                assert clock_row(desk, "info")[2:4] == ["11/02/2027", "29/01/2027"]
                assert clock_row(desk, "info")[4].startswith("đúng hạn")
            sweep()
            [asked] = mails_since(inbox, seen)
            seen += 1
            assert asked["Subject"] == f"Phản ánh {code} cần bổ sung thông tin"
            body = asked.get_content()
            assert QUESTION in body
            link = re.search(rf"{re.escape(base)}/t/{code}\S*", body).group(0)

            # ---- Thursday 18 February, after Tết: the citizen follows the e-mail's link and replies.
            clock.move_to(at(18, 2, 20))
            with chromium_page() as phone:
                phone.goto(link)
                assert QUESTION in phone.locator(".ask").inner_text()
                assert "tạm dừng tính thời hạn" in phone.locator("dl.facts").inner_text()
                phone.get_by_label("Thông tin Ông/Bà bổ sung").fill(REPLY)
                phone.get_by_role("button", name="Gửi thông tin bổ sung").click()
                assert "thời hạn giải quyết được tính tiếp" in phone.locator(".note").inner_text()
                # Waited: the working days in (29 Jan, 18 Feb] = 1, 2, 3, 11, 12, 15, 16, 17, 18 Feb
                # = 9. Due 25 Feb + 9 working days: 26 Feb, 1–5 Mar, 8, 9, 10 Mar → Wednesday 10 March.
                assert "10/03/2027" in phone.locator("dl.facts").inner_text()
                assert phone.evaluate("document.documentElement.scrollWidth") <= 360
                phone.screenshot(path=str(shots / "journey-replied-360.png"), full_page=True)
            sweep()
            assert mails_since(inbox, seen) == []   # the citizen's own reply is not mailed back

            # ---- Monday 22 February: answered; Tuesday 23 February: published.
            clock.move_to(at(22, 2, 14))
            with official_page(base, f"/admin/petitions/{pid}") as desk:
                assert REPLY in desk.locator("ol.history").inner_text()
                assert clock_row(desk, "resolve")[2] == "10/03/2027"
                assert "9 ngày làm việc chờ người dân" in desk.content()
                desk.get_by_label("Câu trả lời cho người dân").fill(ANSWER)
                desk.get_by_role("button", name="Lưu câu trả lời").click()
                desk.get_by_role("button", name="Gửi câu trả lời cho người dân").click()
                assert "Đã gửi câu trả lời" in desk.locator(".flash").inner_text()
                assert clock_row(desk, "resolve")[3:] == ["22/02/2027", "đúng hạn"]
                # Publish within 2 working days of Mon 22 Feb → Wednesday 24 February.
                assert clock_row(desk, "publish")[2:4] == ["24/02/2027", "—"]
            sweep()
            [answered] = mails_since(inbox, seen)
            seen += 1
            assert answered["Subject"] == f"Phản ánh {code} đã có trả lời"
            assert ANSWER in answered.get_content()
            clock.move_to(at(23, 2, 9))
            with official_page(base, f"/admin/petitions/{pid}") as desk:
                desk.get_by_role("button", name="Công khai câu trả lời trên trang công khai").click()
                assert "Câu trả lời đã được công khai" in desk.locator(".flash").inner_text()
                assert clock_row(desk, "publish")[3:] == ["23/02/2027", "đúng hạn"]
                desk.screenshot(path=str(shots / "journey-published-desktop.png"), full_page=True)
            sweep()
            [published] = mails_since(inbox, seen)
            seen += 1
            assert published["Subject"] == f"Phản ánh {code} đã được công khai câu trả lời"

            # ---- The public's verdict on the published answer (anyone, once per device).
            with chromium_page() as neighbour:
                neighbour.goto(f"{base}/a/{pid}")
                assert ANSWER in neighbour.locator(".answer").inner_text()
                assert code not in neighbour.content()        # the public page never shows the code
                assert "Cảm ơn Ông/Bà: ý kiến của Ông/Bà đã được ghi nhận." in verdict(neighbour, "Không hài lòng")
                neighbour.goto(f"{base}/a/{pid}")
                again = verdict(neighbour, "Hài lòng")         # the same device, a second time
                assert "Ý kiến của Ông/Bà về câu trả lời này đã được ghi nhận từ thiết bị này." in again, again
            with chromium_page() as passer_by:                 # another device (one browser at a time)
                passer_by.goto(f"{base}/a/{pid}")
                assert "Cảm ơn Ông/Bà" in verdict(passer_by, "Hài lòng")
            marks = db.session.execute(select(PetitionVerdict.verdict, PetitionVerdict.trust)
                                       .where(PetitionVerdict.petition_id == pid)
                                       .order_by(PetitionVerdict.id)).all()
            assert [tuple(m) for m in marks] == [("dissatisfied", "ok"), ("satisfied", "ok")]

            # ---- Monday 1 March: the petitioner says the answer did not resolve the matter.
            clock.move_to(at(1, 3, 8))
            with chromium_page() as phone:
                phone.goto(link)
                phone.get_by_role("button", name="Câu trả lời chưa giải quyết được vấn đề").click()
                assert "đã được mở lại" in phone.locator(".note").inner_text()
                # A new clock from Mon 1 March: 2–5 (4), 8–12 (9), 15–19 (14), 22 Mar (15).
                assert "22/03/2027" in phone.locator("dl.facts").inner_text()
                assert phone.get_by_role("button", name="Câu trả lời chưa giải quyết được vấn đề").count() == 0
            sweep()
            [reopened] = mails_since(inbox, seen)
            seen += 1
            assert reopened["Subject"] == f"Phản ánh {code} được mở lại"
            assert "22/03/2027" in reopened.get_content()

            # ---- Friday 5 March: answered again.
            clock.move_to(at(5, 3, 10))
            with official_page(base, f"/admin/petitions/{pid}") as desk:
                assert clock_row(desk, "resolve")[2] == "22/03/2027"
                desk.get_by_label("Câu trả lời cho người dân").fill(ANSWER_AGAIN)
                desk.get_by_role("button", name="Lưu câu trả lời").click()
                desk.get_by_role("button", name="Gửi câu trả lời cho người dân").click()
                assert clock_row(desk, "resolve")[3:] == ["05/03/2027", "đúng hạn"]
            sweep()
            [again] = mails_since(inbox, seen)
            assert ANSWER_AGAIN in again.get_content()
            with chromium_page() as phone:
                phone.goto(link)
                assert ANSWER_AGAIN in phone.locator(".answer").inner_text()
                assert phone.get_by_role("button", name="Câu trả lời chưa giải quyết được vấn đề").count() == 0
                history = phone.locator("ol.history").inner_text()
                assert "chưa giải quyết được vấn đề" in history and "bổ sung thông tin" in history
                phone.screenshot(path=str(shots / "journey-answered-again-360.png"), full_page=True)
            assert all(to == [EMAIL] for _frm, to, _m in inbox.messages)


def verdict(page, choice: str) -> str:
    """Mark the published answer at /a/<id>; returns the page's message."""
    page.get_by_role("button", name=choice, exact=True).click()
    return page.locator("#verdict").inner_text()
