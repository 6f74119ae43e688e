"""The citizen's side: the form at /f/<ref>, consent, photos, abuse defence, tracking codes,
the thank-you page's invitation."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from helpers import hidden_fields, survey_target
from survey_app.extensions import db
from survey_app.models import Petition, PetitionContact, PetitionPhoto
from survey_app.services.petitions import operations as service

TEXT = "Đèn đường trước nhà văn hoá khu phố 3 bị hỏng đã hai tuần, buổi tối rất tối."


def tracking_from(response) -> str:
    match = re.match(r"/t/([0-9A-Z]{5}-[0-9A-Z]{5})\?", response.headers["Location"])
    assert match, response.headers.get("Location")
    return match.group(1)


def test_the_form_is_vietnamese_first_and_says_it_is_not_a_denunciation(client):
    with client.get("/f/p2motcua") as page:
        html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="vi">' in html and "Gửi phản ánh" in html and "Bộ phận Một cửa Phường 2" in html
    assert "không phải kênh tố cáo" in html and "Luật Tố cáo năm 2018" in html and "nơi tiếp công dân" in html
    for category in service.CATEGORIES:
        assert f'value="{category}"' in html
    with client.get("/f/p2motcua?lang=en") as page:
        html = page.get_data(as_text=True)
    assert "not a denunciation" in html and "Law on Denunciation 2018" in html


def test_an_administrative_unit_is_reached_by_its_path(client, send, h):
    with client.get("/f/vn/qt/p2") as page:
        assert page.status_code == 200 and "Phường 2" in page.get_data(as_text=True)
    response = send(client, "vn/qt/p2", {"category": "public_order", "text": TEXT})
    assert response.status_code == 303
    petition = service.find_by_tracking(db.session, tracking_from(response))
    assert petition.unit.path == "/vn/qt/p2/" and petition.origin_unit_id == petition.unit_id


def test_an_unknown_place_is_a_clear_404_in_the_visitors_language(client):
    with client.get("/f/khongco") as page:
        assert page.status_code == 404 and "Không tìm thấy đơn vị" in page.get_data(as_text=True)
    with client.get("/f/khongco?lang=en") as page:
        assert page.status_code == 404 and "Unit not found" in page.get_data(as_text=True)


def test_without_consent_no_contact_detail_is_stored_even_if_filled(client, send, h):
    response = send(client, "p2motcua", {"category": "procedure", "text": TEXT, "name": "Nguyễn Văn An",
                                         "phone": "0912 345 678", "email": "an@example.vn"})
    assert response.status_code == 303
    assert "contact=dropped" in response.headers["Location"]
    assert h.count(PetitionContact) == 0
    petition = db.session.scalars(select(Petition)).one()
    # nothing of it anywhere in the row either
    assert "0912" not in repr(vars(petition)) and "an@example.vn" not in petition.body
    with client.get(response.headers["Location"]) as page:
        assert "không được lưu" in page.get_data(as_text=True)


def test_with_consent_the_contact_is_kept_with_the_consent_text_and_time(client, send, h):
    response = send(client, "p2motcua", {"category": "procedure", "text": TEXT, "contact_consent": "y",
                                         "name": "Nguyễn Văn An", "phone": "0912 345 678", "email": ""})
    assert response.status_code == 303 and "contact=dropped" not in response.headers["Location"]
    contact = db.session.scalars(select(PetitionContact)).one()
    assert (contact.name, contact.phone, contact.email) == ("Nguyễn Văn An", "0912 345 678", None)
    assert contact.consent_text.startswith("Tôi đồng ý để đơn vị lưu họ tên, số điện thoại và email")
    assert contact.consent_language == "vi"
    petition = contact.petition
    assert contact.consent_at == petition.received_at


def test_consent_without_a_way_to_contact_asks_again_and_keeps_the_text(client, send, h):
    response = send(client, "p2motcua", {"category": "procedure", "text": TEXT, "contact_consent": "y",
                                         "name": "An", "phone": "", "email": "không phải email"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Vui lòng nhập địa chỉ email" in html
    assert TEXT in html and 'value="An"' in html
    assert h.count(Petition) == 0


@pytest.mark.parametrize("data, message", [
    ({"category": "", "text": TEXT}, "Vui lòng chọn lĩnh vực của phản ánh."),
    ({"category": "procedure", "text": "   "}, "Vui lòng viết nội dung phản ánh."),
    ({"category": "nonsense", "text": TEXT}, "Vui lòng chọn lĩnh vực của phản ánh."),
    ({"category": "procedure", "text": "ạ" * 4001}, "Vui lòng rút gọn nội dung còn 4000 ký tự (hiện có 4001)."),
])
def test_bad_input_re_renders_the_form_with_a_message_per_field(client, send, h, data, message):
    response = send(client, "p2motcua", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'id="problems"' in html
    if data["text"].strip():
        assert data["text"] in html
    assert h.count(Petition) == 0


def test_text_is_nfc_normalised(client, send):
    import unicodedata

    decomposed = unicodedata.normalize("NFD", TEXT)
    assert send(client, "p2motcua", {"category": "procedure", "text": decomposed}).status_code == 303
    assert db.session.scalars(select(Petition)).one().body == TEXT


def test_an_expired_session_keeps_the_text(client, send, h):
    hidden = h.form_page(client, "p2motcua")
    hidden["csrf_token"] = "stale"
    response = send(client, "p2motcua", {"category": "health", "text": TEXT}, hidden=hidden)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Phiên làm việc đã hết hạn" in html and TEXT in html
    assert h.count(Petition) == 0


def _jpeg_with_gps(size=(3000, 2000)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"                      # Make
    exif[0x0131] = "SecretCam 1.0"                   # Software
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (16.0, 45.0, 10.0)         # 16°45′10″N (Quảng Trị)
    gps[3], gps[4] = "E", (107.0, 11.0, 20.0)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, comment=b"secret comment")
    return buffer.getvalue()


def test_a_photo_is_re_encoded_without_metadata_and_capped(client, send, h):
    original = _jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as check:  # the test image really carries GPS
        assert check.getexif().get_ifd(0x8825)
    response = send(client, "p2motcua", {"category": "infrastructure", "text": TEXT}, photo=original)
    assert response.status_code == 303
    photo = db.session.scalars(select(PetitionPhoto)).one()
    assert photo.mime == "image/jpeg" and (photo.width, photo.height) == (1600, 1067)
    assert b"Exif" not in photo.content and b"SecretCam" not in photo.content and b"secret comment" not in photo.content
    with Image.open(io.BytesIO(photo.content)) as stored:
        assert stored.format == "JPEG" and stored.size == (1600, 1067)
        assert not stored.getexif() and "comment" not in stored.info


def test_a_photo_larger_than_the_sites_usual_request_cap_is_accepted(demo_app, client, send, h):
    import numpy as np

    noise = np.random.default_rng(1).integers(0, 256, size=(600, 600, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="JPEG", quality=90)  # ~320 KB: over 256 KB, under
    # the 500 KB at which the test client spools its body to a file it never closes
    assert len(buffer.getvalue()) > demo_app.config["MAX_CONTENT_LENGTH"]
    assert send(client, "p2motcua", {"category": "environment", "text": TEXT}, photo=buffer.getvalue()).status_code == 303
    assert h.count(PetitionPhoto) == 1


def test_a_png_is_accepted_and_anything_else_refused_with_the_text_kept(client, send, h):
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 30), (0, 0, 255, 128)).save(buffer, format="PNG")
    assert send(client, "p2motcua", {"category": "environment", "text": TEXT}, photo=buffer.getvalue(),
                filename="a.png").status_code == 303
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    response = send(client, "p2motcua", {"category": "environment", "text": TEXT + " (2)"}, photo=gif.getvalue(),
                    filename="a.jpg")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Ảnh phải ở định dạng JPEG hoặc PNG." in html and TEXT + " (2)" in html
    assert h.count(Petition) == 1 and h.count(PetitionPhoto) == 1


def test_a_photo_over_the_size_limit_is_refused(demo_app, client, send, h):
    demo_app.config["PETITION_PHOTO_MAX_BYTES"] = 20 * 1024
    response = send(client, "p2motcua", {"category": "environment", "text": TEXT}, photo=_jpeg_with_gps((800, 600))
                    + b"\0" * 30 * 1024)
    assert response.status_code == 422
    assert "Ảnh lớn hơn 1 MB" in response.get_data(as_text=True)
    assert h.count(Petition) == 0


def test_a_filled_honeypot_is_kept_but_flagged(client, send):
    response = send(client, "p2motcua", {"category": "other", "text": TEXT, "website": "http://spam.example"})
    assert response.status_code == 303
    petition = db.session.scalars(select(Petition)).one()
    assert (petition.trust, petition.trust_reason) == ("suspect", "honeypot")


def test_a_double_tap_stores_one_petition_with_one_code(client, send, h):
    hidden = h.form_page(client, "p2motcua")
    first = send(client, "p2motcua", {"category": "health", "text": TEXT}, hidden=hidden)
    again = send(client, "p2motcua", {"category": "health", "text": TEXT}, hidden=hidden)
    assert first.status_code == again.status_code == 303
    assert tracking_from(first) == tracking_from(again)
    assert h.count(Petition) == 1


def test_tracking_codes_are_easy_to_read_type_and_unique():
    codes = {service.new_tracking_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) == 10 and set(code) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert len(service.ALPHABET) ** service.CODE_LENGTH >= 2 ** 50
    assert service.format_tracking("7K3QMXD9FP") == "7K3QM-XD9FP"
    for typed in ("7k3qm-xd9fp", " 7K3QM XD9FP ", "7K3QMXD9FP", "7k3qm–xd9fp", "7K3QM.XD9FP"):
        assert service.normalize_tracking(typed) == "7K3QMXD9FP", typed
    assert service.normalize_tracking("OIL00-00000") == "01100-00000".replace("-", "")  # Crockford aliases
    for bad in ("7K3QM-XD9F", "7K3QM-XD9FPP", "UUUUU-UUUUU", "", None, "x" * 50):
        assert service.normalize_tracking(bad) is None


def test_the_receipt_shows_the_code_and_a_qr_to_the_status_page(client, send, decode):
    response = send(client, "p2motcua", {"category": "procedure", "text": TEXT})
    code = tracking_from(response)
    with client.get(response.headers["Location"]) as page:
        html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert f'<p class="tcode" lang="en">{code}</p>' in html and "Mã theo dõi của Ông/Bà" in html
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert decode(svg) == f"http://localhost/t/{code}"


def test_the_tracking_form_is_tolerant_and_unknown_codes_are_a_clear_404(client, send):
    code = tracking_from(send(client, "p2motcua", {"category": "procedure", "text": TEXT}))
    with client.get("/t") as page:
        assert page.status_code == 200 and "Theo dõi phản ánh của Ông/Bà" in page.get_data(as_text=True)
    with client.get("/t", query_string={"code": code.lower().replace("-", " ")}) as found:
        assert found.status_code == 303 and found.headers["Location"].startswith(f"/t/{code}")
    with client.get(f"/t/{code.lower()}") as lower:
        assert lower.status_code == 301 and lower.headers["Location"].startswith(f"/t/{code}")
    with client.get("/t", query_string={"code": "ZZZZZ-ZZZZZ"}) as unknown:
        assert unknown.status_code == 404 and "Không tìm thấy mã theo dõi này." in unknown.get_data(as_text=True)
    with client.get("/t", query_string={"code": "hello"}) as bad:
        assert bad.status_code == 422 and "gồm 10 chữ và số" in bad.get_data(as_text=True)
    with client.get("/t/ZZZZZ-ZZZZZ") as page:
        assert page.status_code == 404 and "Không tìm thấy mã theo dõi" in page.get_data(as_text=True)
    with client.get("/t/ZZZZZ-ZZZZZ?lang=en") as page:
        assert page.status_code == 404 and "Tracking code not found" in page.get_data(as_text=True)


def test_a_flood_is_refused_with_a_429_and_the_text_kept(variant, place, h):
    app = variant(RATELIMIT_ENABLED=True, RATELIMIT_PETITION_DEVICE="2 per 10 minutes")
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (Linux; Android 13) Mobile"

    def post(text):
        hidden = h.form_page(client, "p2motcua")
        return client.post("/f/p2motcua", data={**hidden, "category": "other", "text": text})

    assert post("Một").status_code == 303 and post("Hai").status_code == 303
    over = post(TEXT)
    assert over.status_code == 429 and int(over.headers["Retry-After"]) > 0
    html = over.get_data(as_text=True)
    assert "CHƯA được lưu" in html and TEXT in html
    assert h.count(Petition) == 2
    other_device = app.test_client()
    other_device.environ_base["HTTP_USER_AGENT"] = "Another phone"
    hidden = h.form_page(other_device, "p2motcua")
    assert other_device.post("/f/p2motcua", data={**hidden, "category": "other", "text": "Ba"}).status_code == 303


def _answer(client, code: str, level: int) -> str:
    target = survey_target(code)
    definition = target.definition
    with client.get(f"/s/{code}") as page:
        data = hidden_fields(page.get_data(as_text=True))
    for q in definition["questions"]:
        if q["type"] == "scale":
            data["q_" + q["key"]] = str(level)
        elif q["type"] in ("single", "multi"):
            data["q_" + q["key"]] = q["options"][0]["key"]
        elif q["type"] == "yesno":
            data["q_" + q["key"]] = "1"
        elif q["type"] in ("rating", "percent"):
            data["q_" + q["key"]] = str(q["max"])
        else:
            data["q_" + q["key"]] = "Cán bộ tận tình"
    with client.post(f"/s/{code}", data=data) as response:
        assert response.status_code == 303, response.get_data(as_text=True)[:300]
        return response.headers["Location"]


def test_the_thank_you_page_invites_feedback_prominently_after_a_low_score(client):
    low = _answer(client, "p2motcua", 1)
    assert "low=1" in low
    with client.get(low) as page:
        html = page.get_data(as_text=True)
    assert 'class="fb-link prominent"' in html and "Rất tiếc vì Ông/Bà chưa hài lòng." in html
    assert 'href="/f/p2motcua?lang=vi"' in html
    high = _answer(client, "p2yte", 5)
    assert "low=1" not in high
    with client.get(high) as page:
        html = page.get_data(as_text=True)
    assert 'class="fb-link"' in html and 'href="/f/p2yte?lang=vi"' in html


def test_what_counts_as_a_low_score():
    definition = {"scales": {"l5": {"levels": [{"value": v} for v in range(1, 6)], "satisfied": [4, 5]},
                             "s3": {"levels": [{"value": v} for v in range(1, 4)], "satisfied": [2, 3]}},
                  "questions": [{"key": "a", "type": "scale", "scale": "l5"}, {"key": "b", "type": "scale", "scale": "s3"},
                                {"key": "c", "type": "rating"}]}
    assert service.is_low_score(definition, [("a", 2, None)])
    assert not service.is_low_score(definition, [("a", 3, None), ("b", 2, None), ("c", 0, None)])
    assert service.is_low_score(definition, [("a", 5, None), ("b", 1, None)])


def _png_header_only(width: int, height: int) -> bytes:
    """A ~60-byte PNG that declares ``width`` × ``height`` pixels (a decompression bomb's shape)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


@pytest.mark.parametrize("width, height", [(60000, 60000), (12000, 12000), (8000, 7000)])
def test_a_photo_declaring_too_many_pixels_is_refused_with_the_text_kept(client, send, h, width, height):
    """Above Pillow's error threshold, between its warning and error thresholds, and above ours."""
    bomb = _png_header_only(width, height)
    assert len(bomb) < 80
    response = send(client, "p2motcua", {"category": "environment", "text": TEXT}, photo=bomb, filename="a.png")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Ảnh quá lớn về số điểm ảnh" in html and TEXT in html
    assert h.count(Petition) == 0
    with client.application.test_request_context(), pytest.raises(service.PhotoError) as refused:
        service.process_photo(bomb, max_bytes=5 * 1024 * 1024, max_side=1600)
    assert refused.value.reason == "too_many_pixels"
