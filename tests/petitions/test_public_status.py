"""The public status page at /t/<tracking> shows the status, the public history and the
published answer — and never what was not approved: the text without the citizen's
permission and an official's approval, internal notes, the draft answer, contact details,
the photo."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from survey_app.extensions import db
from survey_app.models import Petition
from survey_app.services.officials.scope import Scope
from survey_app.services.petitions import operations as service

SECRET_TEXT = "Nội dung riêng tư: ông Trần Văn Bình ở số 12 ngõ 4 đổ rác ra đường."
NOTE = "Ghi chú nội bộ: đã gọi điện cho tổ trưởng khu phố."
DRAFT = "Bản nháp chưa duyệt: sẽ xử lý trong tuần."
ANSWER = "UBND phường đã cho thay bóng đèn ngày 05/03/2026. Cảm ơn ông/bà đã phản ánh."


def _photo() -> service.ProcessedPhoto:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (10, 200, 10)).save(buffer, format="JPEG")
    return service.process_photo(buffer.getvalue(), max_bytes=10**6, max_side=100)


@pytest.fixture
def petition(demo_app, place, file, h) -> Petition:
    contact = service.ContactInput(consent_text="Tôi đồng ý…", consent_language="vi", name="Nguyễn Thị Hoa",
                                   phone="0987 654 321", email="hoa@example.vn")
    return file(place.p2_point, text=SECRET_TEXT, contact=contact, publish_consent=True, photo=_photo(),
                now=h.utc(2026, 3, 2, 2, 0))


def _page(client, petition) -> str:
    with client.get(f"/t/{service.format_tracking(petition.tracking_code)}") as page:
        assert page.status_code == 200
        return page.get_data(as_text=True)


def _scope(h) -> Scope:
    return Scope.for_user(h.official("demo-manager"))


def test_nothing_but_the_status_before_anything_is_approved(client, petition, h):
    manager = h.official("demo-manager")
    service.add_note(db.session, _scope(h), petition, NOTE, actor=manager)
    service.save_answer(db.session, _scope(h), petition, DRAFT, actor=manager)
    html = _page(client, petition)
    assert "đã tiếp nhận" in html and "Bộ phận Một cửa Phường 2 đã tiếp nhận" in html
    assert "02/03/2026 09:00" in html           # received at 02:00 UTC, shown in Viet Nam time
    assert "16/03/2026" in html                 # due: 10 working days after Monday 2 March
    for secret in (SECRET_TEXT, NOTE, DRAFT, "Nguyễn Thị Hoa", "0987", "hoa@example.vn", "photo", "<img"):
        assert secret not in html, secret
    assert "Nội dung phản ánh không được công khai" in html


def test_the_text_needs_the_citizens_permission_and_an_officials_approval(demo_app, client, place, file, h):
    manager = h.official("demo-manager")
    private = file(place.p2_point, text=SECRET_TEXT, publish_consent=False)
    with demo_app.test_request_context(), pytest.raises(service.PetitionError):
        service.set_text_public(db.session, _scope(h), private, True, actor=manager)
    db.session.rollback()
    assert SECRET_TEXT not in _page(client, private)

    allowed = file(place.p2_point, text=SECRET_TEXT + " (2)", publish_consent=True)
    assert SECRET_TEXT not in _page(client, allowed)           # allowed, not yet approved
    service.set_text_public(db.session, _scope(h), allowed, True, actor=manager)
    assert SECRET_TEXT + " (2)" in _page(client, allowed)      # allowed and approved
    service.set_text_public(db.session, _scope(h), allowed, False, actor=manager)
    assert SECRET_TEXT not in _page(client, allowed)           # withheld again


def test_the_published_answer_and_the_public_history(client, petition, place, h):
    manager = h.official("demo-manager")
    scope = _scope(h)
    service.add_note(db.session, scope, petition, NOTE, actor=manager, now=h.utc(2026, 3, 3, 1))
    service.assign(db.session, scope, petition, place.p2, actor=manager, now=h.utc(2026, 3, 3, 2))
    service.save_answer(db.session, scope, petition, ANSWER, actor=manager, now=h.utc(2026, 3, 5, 3))
    service.send_answer(db.session, scope, petition, actor=manager, now=h.utc(2026, 3, 5, 4))
    service.save_answer(db.session, scope, petition, DRAFT, actor=manager, now=h.utc(2026, 3, 5, 5))
    service.close(db.session, scope, petition, actor=manager, now=h.utc(2026, 3, 6, 8))
    html = _page(client, petition)
    assert ANSWER in html and "Trả lời lúc 05/03/2026 11:00" in html
    history = re.search(r'<ol class="history">(.*?)</ol>', html, re.S).group(1)
    items = re.findall(r"<li><time>([^<]+)</time> ([^<]+)</li>", history)
    assert items == [("02/03/2026 09:00", "Bộ phận Một cửa Phường 2 đã tiếp nhận"),
                     ("03/03/2026 09:00", "Đã chuyển đến Phường 2"),
                     ("05/03/2026 11:00", "Đã trả lời người dân"),
                     ("06/03/2026 15:00", "Đã đóng")]
    assert "đã đóng" in html
    for secret in (SECRET_TEXT, NOTE, DRAFT, "Nguyễn Thị Hoa", "0987", "hoa@example.vn", "demo-manager"):
        assert secret not in html, secret


def test_an_overdue_petition_says_so_in_public(client, place, file, h):
    late = file(place.p2_point, now=h.utc(2026, 1, 5, 2))     # due 19 January 2026
    html = _page(client, late)
    assert "19/01/2026" in html and "quá hạn" in html


def test_the_view_carries_only_public_fields(petition):
    fields = set(service.PublicStatus.__dataclass_fields__)
    assert fields == {"tracking", "category", "status", "unit_name_vi", "unit_name_en", "received_at", "due_on",
                      "overdue", "answered_late", "text", "answer", "answer_published_at", "history",
                      # the stages: the unit's question and refusal reason are written for the
                      # petitioner; the rest are flags
                      "question", "refusal_reason", "can_reply", "can_say_not_resolved", "reopened", "published"}
    view = service.public_status(petition, petition.due_on)
    assert view.text is None and view.answer is None
    assert view.question is None and view.refusal_reason is None and not view.can_reply
