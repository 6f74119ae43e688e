"""The documents an official files: the PDF in the Vietnamese administrative layout
(Nghị định 30/2020/NĐ-CP) without near-empty pages, checked by rendering every page
(pdftoppm) and reading its text (pdftotext); the XLSX read back with openpyxl and unzipped
for its native charts."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from helpers import get_ok as get

RENDERS = Path("/tmp")


def tool(name: str) -> str:
    import os

    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing; .ci/run installs poppler-utils")
        pytest.skip(f"{name} (poppler-utils) is not installed")
    return path


def pages_of(data: bytes, tmp_path: Path, dpi: int = 40) -> list[Image.Image]:
    """Every page, rasterised in grey as a printer would."""
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(data)
    subprocess.run([tool("pdftoppm"), "-r", str(dpi), "-gray", "-png", str(pdf), str(tmp_path / "page")],
                   check=True, capture_output=True, timeout=120)
    out = []
    for path in sorted(tmp_path.glob("page-*.png"), key=lambda p: int(p.stem.split("-")[-1])):
        with Image.open(path) as image:
            image.load()
            out.append(image.convert("L"))
    return out


def ink_share(page: Image.Image) -> float:
    """How far down the page its content reaches, as a share of the height between the
    running header and the footer: the last row with ink (a pixel darker than light grey)
    in the body area. A page filled to the bottom reads about 1, an empty one 0."""
    width, height = page.size
    top, bottom = int(height * 0.075), int(height * 0.93)  # below the running header, above the footer
    pixels = page.load()
    last = top
    for y in range(top, bottom):
        if any(pixels[x, y] < 200 for x in range(0, width, 2)):
            last = y
    return (last - top) / (bottom - top)


def text_of(data: bytes, tmp_path: Path) -> str:
    pdf = tmp_path / "text.pdf"
    pdf.write_bytes(data)
    return subprocess.run([tool("pdftotext"), "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True,
                          timeout=60).stdout.decode("utf-8")

FULL_ENOUGH = 0.6  # every page but the last reaches at least this far down its body


@pytest.mark.parametrize("who, unit", [("demo-manager", "p2"), ("demo-admin", "town")])
def test_the_pdf_has_no_near_empty_page(place, sipas, login, h, tmp_path, who, unit):
    data = get(login(who), f"/reports/{getattr(place, unit).id}/report.pdf?{h.qs()}").data
    pages = pages_of(data, tmp_path)
    assert len(pages) >= 3, "a report with charts and every question takes a few pages"
    shares = [ink_share(p) for p in pages]
    assert all(s >= FULL_ENOUGH for s in shares[:-1]), shares
    assert shares[-1] > 0.1, "the last page has the signature"
    if who == "demo-manager":  # the renders a reviewer looks at
        pages[0].save(tmp_path / "p1.png")


def test_the_pdf_reads_as_an_administrative_document(place, sipas, login, h, tmp_path):
    """Nghị định 30/2020/NĐ-CP: the issuing body and the national motto side by side, the
    place and date, the title, and at the end the recipients and the signature."""
    data = get(login("demo-manager"), f"/reports/{place.p2.id}/report.pdf?{h.qs()}").data
    text = text_of(data, tmp_path)
    flat = " ".join(text.split())
    first = " ".join(text.split("\f")[0].split())
    assert "UBND TỈNH QUẢNG TRỊ" in first and "UBND PHƯỜNG 2" in first
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in first and "Độc lập - Tự do - Hạnh phúc" in first
    today = re.search(r"Quảng Trị, ngày (\d{2}) tháng (\d{1,2}) năm (\d{4})", first)
    assert today, first[:400]
    assert 1 <= int(today[1]) <= 31 and 1 <= int(today[2]) <= 12
    assert today[2].startswith("0") == (int(today[2]) < 3), "months 1 and 2 take a leading zero, as the decree says"
    assert "BÁO CÁO" in first and "Kết quả khảo sát sự hài lòng tại Phường 2" in first
    assert "(từ ngày 01/01/2026 đến ngày 30/06/2026)" in first
    last = " ".join([p for p in text.split("\f") if p.strip()][-1].split())
    assert "NGƯỜI LẬP BÁO CÁO" in last and "(Ký, ghi rõ họ tên)" in last
    assert "Cán bộ quản lý Phường 2 (demo)" in last, "the official's full name under the signature"
    assert "Nơi nhận:" in last and "- Như trên;" in last and "- Lưu: VT." in last
    # figures as Vietnamese writes them: a decimal comma, never a decimal point
    assert re.search(r"\b\d+,\d%", flat) and re.search(r"\b\d,\d{2}\b", flat)
    assert not re.search(r"\b\d+\.\d%", flat)


def test_the_pdf_header_names_a_service_point_under_its_commune(place, sipas, login, h, tmp_path):
    data = get(login("demo-manager"), f"/reports/{place.p2_point.id}/report.pdf?{h.qs()}").data
    first = " ".join(text_of(data, tmp_path).split("\f")[0].split())
    assert "UBND PHƯỜNG 2" in first and "BỘ PHẬN MỘT CỬA PHƯỜNG 2" in first
    assert "Quảng Trị, ngày" in first


def test_an_image_that_mostly_fits_is_shrunk_not_sent_to_a_new_page(demo_app):
    from flask_babel import force_locale
    from survey_app.services.reports import pdf as report_pdf

    buffer = io.BytesIO()
    Image.new("RGB", (1000, 500), "black").save(buffer, format="PNG")
    png = buffer.getvalue()  # 180 mm wide, 90 mm high on the page
    with demo_app.test_request_context(), force_locale("vi"):
        doc = report_pdf._new_pdf("t")
        doc.add_page()
        room = 90 * 0.7 + 3
        doc.set_y(doc.h - report_pdf.BOTTOM - room)
        report_pdf._image(doc, png, max_height=100)
        assert doc.page_no() == 1, "70% of the image fits: it is shrunk onto the page"
        doc.set_y(doc.h - report_pdf.BOTTOM - (90 * 0.4 + 3))
        report_pdf._image(doc, png, max_height=100)
        assert doc.page_no() == 2, "only 40% fits: the image starts a new page"
        report_pdf.close_fonts(doc)


@pytest.mark.parametrize("utc, expected", [
    (datetime(2026, 1, 4, 18, 0), "Quảng Trị, ngày 05 tháng 01 năm 2026"),  # 01:00 on the 5th in Viet Nam
    (datetime(2026, 11, 20, 3, 0), "Quảng Trị, ngày 20 tháng 11 năm 2026"),
    (datetime(2026, 3, 9, 3, 0), "Quảng Trị, ngày 09 tháng 3 năm 2026"),
])
def test_the_date_line_is_written_as_the_decree_says(demo_app, utc, expected):
    from datetime import timezone

    from flask_babel import force_locale
    from survey_app.services.reports.pdf import date_line

    with demo_app.test_request_context(), force_locale("vi"):
        assert date_line("Quảng Trị", utc.replace(tzinfo=timezone.utc)) == expected



# ------------------------------------------------------------------ XLSX

def test_the_xlsx_reads_back_with_vietnamese_headers_dates_filters_and_rounding(place, sipas, login, h):
    data = get(login("demo-manager"), f"/reports/{place.p2.id}/export.xlsx?{h.qs()}").data
    wb = load_workbook(io.BytesIO(data))
    responses, codebook, summary, charts, readable = wb.worksheets[:5]
    # the Vietnamese headers, each mapped to its machine key in the codebook
    vi_header = [c.value for c in readable[1]]
    assert vi_header[:3] == ["Số phiếu", "Thời điểm gửi", "Mã điểm phục vụ"]
    assert all(h_ and not re.fullmatch(r"[a-z0-9_]+", h_) for h_ in vi_header), vi_header
    keys = [c.value for c in responses[1]]
    book = {row[0]: row for row in codebook.iter_rows(min_row=2, values_only=True)}
    assert codebook["H1"].value.startswith("Tiêu đề cột")
    assert [book[k][7] for k in keys] == vi_header, "the codebook maps every Vietnamese header to its key"
    tc1 = vi_header[keys.index("tc1")]
    assert tc1.startswith("Câu ") and tc1.endswith("(mã)") and book["tc1"][2] == "thang đo"
    # the same responses on both sheets, submitted times as real date-times in Viet Nam time
    assert readable.max_row == responses.max_row == 31
    for sheet in (responses, readable):
        first = sheet.cell(row=2, column=2)
        assert isinstance(first.value, datetime) and first.value == datetime(2026, 1, 3, 9, 30)
        assert first.number_format == "dd/mm/yyyy hh:mm"
        assert sheet.freeze_panes == "B2", "the header row (and the response number) stay in view"
        assert sheet.auto_filter.ref == f"A1:{sheet.cell(row=1, column=len(keys)).column_letter}31"
    assert {r[keys.index("channel")] for r in readable.iter_rows(min_row=2, values_only=True)} == {"mã QR", "phiếu giấy"}
    # the summary: exact values shown rounded, real dates, yes/no in words
    rows = {r[0].value: r for r in summary.iter_rows() if r and r[0].value}
    index = rows["Chỉ số"]
    assert isinstance(index[1].value, float) and index[1].number_format == "0.0%"
    assert index[5].value == "Không", "low n, in words"
    assert isinstance(rows["Ngày đầu"][1].value, datetime) and rows["Ngày đầu"][1].number_format == "dd/mm/yyyy"
    tc1_row = rows["tc1"]
    assert tc1_row[2].value == "thang đo" and tc1_row[4].number_format == "0.00" and tc1_row[7].number_format == "0.0%"
    # the trend's periods as the charts and the page write them (Th1/2026 …)
    trend = [r for r in summary.iter_rows(values_only=True) if r and isinstance(r[0], str)
             and re.fullmatch(r"Th\d{1,2}/2026", r[0])]
    assert [r[0] for r in trend] == ["Th1/2026", "Th2/2026", "Th3/2026", "Th4/2026", "Th5/2026", "Th6/2026"]
    texts = [c for sheet in wb.worksheets for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert not {"True", "False", "scale", "longtext", "below_95", "within"} & set(texts)
    assert not any(isinstance(c, bool) for row in summary.iter_rows(values_only=True) for c in row), \
        "yes/no in words, not TRUE/FALSE"
    # the chart sheet's table
    assert charts["A1"].value == "Chỉ số và các yếu tố" and charts["A2"].value == "Chỉ số chung"
    assert charts["B2"].value == index[1].value


def test_the_xlsx_has_native_charts_of_the_headline_and_the_trend(place, sipas, login, h):
    data = get(login("demo-manager"), f"/reports/{place.p2.id}/export.xlsx?{h.qs()}").data
    report = get(login("demo-manager"), f"/api/v1/reports/vn/qt/p2?{h.qs()}").get_json()
    factors, periods = len(report["factors"]), len(report["trend"])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = set(z.namelist())
        assert {"xl/charts/chart1.xml", "xl/charts/chart2.xml"} <= names
        bars = z.read("xl/charts/chart1.xml").decode()
        line = z.read("xl/charts/chart2.xml").decode()
        drawing_rels = [n for n in names if n.startswith("xl/worksheets/_rels/")]
        sheet_of_drawing = {n for n in drawing_rels if "drawing" in z.read(n).decode()}
    assert "<c:barChart>" in bars or "<barChart>" in bars
    assert "<c:lineChart>" in line or "<lineChart>" in line
    sheet = "'Biểu đồ'!"
    # the bars: the overall index and each factor (rows 2 to 2 + factors), titles in Vietnamese
    assert f"{sheet}$A$2:$A${2 + factors}" in bars and f"{sheet}$B$2:$B${2 + factors}" in bars
    assert "Chỉ số hài lòng và các yếu tố" in bars
    # the line: the index and its interval, one point per month
    top = 2 + factors + 2  # a blank row and the trend's header
    for col in "BCD":
        assert f"{sheet}${col}${top + 1}:${col}${top + periods}" in line
    assert "Chỉ số theo tháng" in line
    assert sheet_of_drawing == {"xl/worksheets/_rels/sheet4.xml.rels"}, "the charts sit on the fourth sheet"
