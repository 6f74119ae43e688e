"""Every service point's QR (SVG, PNG, poster PDF) holds exactly its survey address, read back
with a real decoder; posters carry the Vietnamese call to action and the short address."""
from __future__ import annotations

import io
import math
import re
import unicodedata

import pytest
from PIL import Image, ImageDraw

from survey_app.extensions import db
from survey_app.services.officials import units
from survey_app.services.officials.lookup import find_unit
from survey_app.services.qr import posters

BASE = "https://hailong.example.gov.vn"
CTA_VI = "Mời Ông/Bà quét mã QR để đánh giá mức độ hài lòng"
CTA_EN = "Scan the QR code to tell us how satisfied you are"


def symbol_width_mm(result, dpi: int) -> float:
    top_left, top_right = result.position.top_left, result.position.top_right
    return math.dist((top_left.x, top_left.y), (top_right.x, top_right.y)) / dpi * 25.4


def one_line(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------ images on the web

def test_png_holds_the_survey_url_of_the_request_host(client, decode_qr):
    response = client.get("/s/p2motcua/qr.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    with Image.open(io.BytesIO(response.data)) as image:
        found = decode_qr(image.convert("L"))
    assert [r.text for r in found] == ["http://localhost/s/p2motcua"]
    assert found[0].ec_level in ("Q", "H")


def test_public_base_url_setting_wins_over_the_host(demo_app, variant, decode_qr):
    app = variant(PUBLIC_BASE_URL=BASE + "/")
    with app.test_client().get("/s/p2yte/qr.png") as response:
        with Image.open(io.BytesIO(response.data)) as image:
            assert [r.text for r in decode_qr(image.convert("L"))] == [BASE + "/s/p2yte"]


def rasterize_svg(svg: str, module_px: int = 8) -> Image.Image:
    """Draw our SVG's path (runs of 'M x y h w v1 h-w z') the way a browser would."""
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    image = Image.new("L", (size * module_px, size * module_px), 255)
    draw = ImageDraw.Draw(image)
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", svg):
        x, y, w = int(x), int(y), int(w)
        draw.rectangle([x * module_px, y * module_px, (x + w) * module_px - 1, (y + 1) * module_px - 1], fill=0)
    return image


def test_svg_holds_the_survey_url(client, decode_qr):
    response = client.get("/s/p2tieuhoc/qr.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and "<script" not in svg
    assert [r.text for r in decode_qr(rasterize_svg(svg))] == ["http://localhost/s/p2tieuhoc"]


@pytest.mark.parametrize("url", ["/s/khongco/qr.png", "/s/khongco/qr.svg", "/s/" + "x" * 40 + "/qr.png"])
def test_unknown_point_has_no_qr(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "Không tìm thấy khảo sát" in response.get_data(as_text=True)


def test_deactivated_point_has_no_qr(client, unit_by_code):
    unit_by_code("p2yte").active = False
    db.session.commit()
    assert client.get("/s/p2yte/qr.png").status_code == 404


# ------------------------------------------------------------------ poster PDFs

@pytest.mark.parametrize("size, page_mm, min_symbol_mm", [("a4", (210, 297), 100), ("a6", (105, 148), 55)])
def test_poster_scans_to_the_exact_url_and_says_what_to_do(demo_app, unit_by_code, pdf_tools, decode_qr, size, page_mm,
                                                           min_symbol_mm):
    pdf = posters.build_posters_pdf(db.session, unit_by_code("p2motcua"), base_url=BASE, size=size)
    assert pdf.startswith(b"%PDF")
    assert pdf_tools.pages(pdf) == 1
    dpi = 60 if size == "a4" else 110
    image = pdf_tools.image(pdf, dpi=dpi)
    assert abs(image.width / dpi * 25.4 - page_mm[0]) < 1.5 and abs(image.height / dpi * 25.4 - page_mm[1]) < 1.5
    found = decode_qr(image)
    assert [r.text for r in found] == [BASE + "/s/p2motcua"]
    # big enough to scan from a metre away (about a tenth of the distance)
    assert symbol_width_mm(found[0], dpi) >= min_symbol_mm

    text = pdf_tools.text(pdf)
    assert unicodedata.is_normalized("NFC", text)
    flat = one_line(text)
    assert CTA_VI in flat
    assert CTA_EN in flat
    assert flat.index(CTA_VI) < flat.index(CTA_EN), "Vietnamese first, English below"
    assert "hailong.example.gov.vn/s/p2motcua" in flat
    assert "Bộ phận Một cửa Phường 2" in flat
    assert "Phường 2 · Tỉnh Quảng Trị" in flat
    assert "Ẩn danh · Không cần cài ứng dụng · Không cần đăng nhập" in flat


def test_subtree_makes_one_page_per_active_point_in_path_order(demo_app, unit_by_code, pdf_tools, decode_qr):
    unit_by_code("p2yte").active = False
    db.session.commit()
    ward = find_unit(db.session, "/vn/qt/p2/")
    pdf = posters.build_posters_pdf(db.session, ward, base_url=BASE)
    assert pdf_tools.pages(pdf) == 2
    for page, code in enumerate(["p2motcua", "p2tieuhoc"], start=1):
        assert [r.text for r in decode_qr(pdf_tools.image(pdf, page, dpi=50))] == [f"{BASE}/s/{code}"]


def test_bad_poster_requests_are_refused_with_a_reason(demo_app, unit_by_code):
    cases = [
        ({"size": "a3"}, "poster size must be one of a4, a6"),
        ({"base_url": "ftp://example.org"}, "is not a public base URL"),
        ({"base_url": "https://example.org/?x=1"}, "is not a public base URL"),
        ({"base_url": ""}, "empty"),
    ]
    for kwargs, message in cases:
        arguments = {"base_url": BASE, "size": "a4", **kwargs}
        with pytest.raises(posters.PosterError, match=re.escape(message)):
            posters.build_posters_pdf(db.session, unit_by_code("p2motcua"), **arguments)


def test_a_unit_without_points_has_no_posters(demo_app):
    empty = units.create_unit(db.session, find_unit(db.session, "/vn/qt/"), "p9", "admin", "Phường 9", "Ward 9")
    db.session.commit()
    with pytest.raises(posters.PosterError, match="no active service point"):
        posters.build_posters_pdf(db.session, empty, base_url=BASE)


# ------------------------------------------------------------------ the command

def test_cli_writes_the_posters_of_a_ward_by_path(demo_app, tmp_path, pdf_tools, decode_qr):
    out = tmp_path / "p2.pdf"
    result = demo_app.test_cli_runner().invoke(
        args=["posters", "--unit", "/vn/qt/p2/", "--out", str(out), "--base-url", BASE])
    assert result.exit_code == 0, result.output
    assert "3 poster(s), A4" in result.output
    pdf = out.read_bytes()
    assert pdf_tools.pages(pdf) == 3
    urls = [decode_qr(pdf_tools.image(pdf, page, dpi=50))[0].text for page in (1, 2, 3)]
    assert urls == [f"{BASE}/s/p2motcua", f"{BASE}/s/p2tieuhoc", f"{BASE}/s/p2yte"]
    assert not list(tmp_path.glob(".p2.pdf.*")), "no temporary file left behind"


def test_cli_table_tent_for_one_point_by_code_using_the_setting(demo_app, variant, tmp_path, pdf_tools, decode_qr):
    app = variant(PUBLIC_BASE_URL=BASE)
    out = tmp_path / "tent.pdf"
    result = app.test_cli_runner().invoke(args=["posters", "--unit", "p1yte", "--out", str(out), "--size", "a6"])
    assert result.exit_code == 0, result.output
    pdf = out.read_bytes()
    assert pdf_tools.pages(pdf) == 1
    assert [r.text for r in decode_qr(pdf_tools.image(pdf, dpi=110))] == [BASE + "/s/p1yte"]


def test_cli_refusals_say_what_is_wrong_and_write_nothing(demo_app, tmp_path):
    cases = [
        (["--unit", "p2motcua"], "pass --base-url https://… or set PUBLIC_BASE_URL"),
        (["--unit", "khongco", "--base-url", BASE], "no unit with the code or path 'khongco'"),
        (["--unit", "/vn/khong/co/", "--base-url", BASE], "no unit with the code or path"),
        (["--unit", "p2motcua", "--base-url", "hailong.example.gov.vn"], "is not a public base URL"),
    ]
    out = tmp_path / "never.pdf"
    for args, message in cases:
        result = demo_app.test_cli_runner().invoke(args=["posters", "--out", str(out), *args])
        assert result.exit_code == 1, result.output
        assert message in result.output
        assert not out.exists()


def test_cli_rejects_an_unknown_size(demo_app, tmp_path):
    result = demo_app.test_cli_runner().invoke(
        args=["posters", "--unit", "p2motcua", "--out", str(tmp_path / "x.pdf"), "--size", "a0", "--base-url", BASE])
    assert result.exit_code == 2
    assert "'a0' is not one of 'a4', 'a6'" in result.output


def test_a_malformed_public_base_url_stops_the_service_at_start():
    from survey_app.config import ConfigError, load_settings

    assert load_settings({"PUBLIC_BASE_URL": "https://hailong.example.gov.vn/"})["PUBLIC_BASE_URL"] == BASE
    assert load_settings({})["PUBLIC_BASE_URL"] == ""
    for bad in ("hailong.example.gov.vn", "ftp://hailong.example.gov.vn", "https://x.vn/?a=1"):
        with pytest.raises(ConfigError, match="PUBLIC_BASE_URL must be a public address"):
            load_settings({"PUBLIC_BASE_URL": bad})
