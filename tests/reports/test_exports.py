"""Exports: CSV (UTF-8 with BOM), XLSX (responses, codebook, summary), PDF (Vietnamese,
text extractable), each audited, each limited to the caller's scope — and the numbers on
the page, in the CSV/XLSX, in the PDF and in the JSON agree for the same filters."""
from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter

from openpyxl import load_workbook
from sqlalchemy import select

from helpers import get_ok as get
from helpers import pdf_text
from survey_app.extensions import db
from survey_app.models import Answer
from survey_app.services.officials.scope import Scope
from survey_app.services.reports import comments as comment_service


def csv_rows(data: bytes) -> list[dict]:
    assert data.startswith(b"\xef\xbb\xbf"), "the CSV starts with a UTF-8 byte-order mark"
    return list(csv.DictReader(io.StringIO(data[3:].decode("utf-8"))))


def pct(x: float) -> str:
    return f"{100 * x:.1f}".replace(".", ",") + "%"


def test_csv_has_one_row_per_response_codes_and_labels(place, sipas, login, h):
    client = login("demo-manager")
    response = get(client, f"/reports/{place.p2.id}/export.csv?{h.qs()}")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert 'filename="hailong-vn-qt-p2-sipas-2026-01-01-2026-06-30.csv"' in response.headers[
        "Content-Disposition"]
    rows = csv_rows(response.data)
    assert len(rows) == 30
    assert {int(r["response_id"]) for r in rows} == set(sipas.ok)
    assert "trust" not in rows[0]  # suspect responses are not in this export, so no trust column
    first = rows[0]
    assert first["unit_code"] == "p2motcua" and first["unit_name"] == "Bộ phận Một cửa Phường 2"
    assert first["tc1"] in "12345" and first["tc1_label"] in (
        "Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng")
    assert first["submitted_at"].startswith("2026-01-03 09:30")  # 02:30 UTC is 09:30 in Viet Nam
    texts = {int(r["response_id"]): r["comment"] for r in rows if r["comment"]}
    assert texts == sipas.comments
    paper = {int(r["response_id"]) for r in rows if r["channel"] == "paper"}
    assert paper == set(sipas.paper)


def test_suspect_responses_only_when_the_filter_includes_them(place, sipas, login, h):
    client = login("demo-manager")
    rows = csv_rows(get(client, f"/reports/{place.p2.id}/export.csv?{h.qs(include_suspect='1')}").data)
    assert len(rows) == 32
    assert Counter(r["trust"] for r in rows) == {"ok": 30, "suspect": 2}
    wb = load_workbook(io.BytesIO(get(client, f"/reports/{place.p2.id}/export.xlsx?{h.qs()}").data))
    sheet = wb.worksheets[0]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert "trust" not in header and sheet.max_row == 31


def test_xlsx_has_responses_codebook_and_summary(place, sipas, login, h):
    client = login("demo-manager")
    data = get(client, f"/reports/{place.p2.id}/export.xlsx?{h.qs()}").data
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Phiếu trả lời", "Bảng mã", "Tổng hợp", "Biểu đồ", "Phiếu – tiêu đề tiếng Việt"]
    responses, codebook, summary, _charts, readable = wb.worksheets
    header = [c.value for c in responses[1]]
    assert header[:3] == ["response_id", "submitted_at", "unit_code"]
    assert "tc1" in header and "tc1_label" in header and "comment" in header
    assert responses.max_row == 31
    book = {row[0]: row for row in codebook.iter_rows(min_row=2, values_only=True)}
    assert book["tc1"][1] == "tc1" and "5 = Rất hài lòng" in book["tc1"][6]
    assert book["comment"][2] == "văn bản dài"  # the question's type, in words
    assert readable.max_row == responses.max_row


def test_out_of_scope_exports_are_refused_and_nothing_is_audited(place, sipas, login, h):
    client = login("p1manager")
    for path in ("/export.csv", "/export.xlsx", "/report.pdf"):
        for unit in (place.p2, place.p2_point, place.town):
            with client.get(f"/reports/{unit.id}{path}?{h.qs()}") as response:
                assert response.status_code == 404, (path, unit.path)
    assert h.audits("export.created") == []
    # the same manager exports their own ward, and only it
    rows = csv_rows(get(client, f"/reports/{place.p1.id}/export.csv?{h.qs()}").data)
    assert {int(r["response_id"]) for r in rows} == set(sipas.p1)


def test_every_export_is_audited(place, sipas, login, h):
    client = login("demo-manager")
    for path in ("/export.csv", "/export.xlsx", "/report.pdf"):
        get(client, f"/reports/{place.p2.id}{path}?{h.qs(channel='paper')}")
    events = h.audits("export.created")
    assert [e.detail["format"] for e in events] == ["csv", "xlsx", "pdf"]
    assert all(e.actor_name == "demo-manager" and e.unit_path == place.p2.path for e in events)
    assert events[0].detail["rows"] == 6 and events[0].detail["channels"] == ["paper"]
    assert events[0].detail["from"] == "2026-01-01" and events[0].detail["instrument"] == "sipas"


def test_a_hidden_comment_is_left_out_of_the_exports(place, sipas, login, h):
    rid, text = next(iter(sipas.comments.items()))
    answer = db.session.scalar(select(Answer).where(Answer.response_id == rid, Answer.question_key == "comment"))
    comment_service.set_hidden(db.session, Scope.for_user(h.official("demo-manager")), answer.id, True,
                               actor=h.official("demo-manager"))
    db.session.commit()
    rows = csv_rows(get(login("demo-manager"), f"/reports/{place.p2.id}/export.csv?{h.qs()}").data)
    by_id = {int(r["response_id"]): r for r in rows}
    assert by_id[rid]["comment"] == "" and by_id[rid]["tc1"]  # the response stays, its text does not
    assert sum(1 for r in rows if r["comment"]) == len(sipas.comments) - 1


def test_page_csv_xlsx_pdf_and_json_agree(place, sipas, login, h, tmp_path):
    """One set of filters; the same numbers everywhere."""
    client = login("demo-manager")
    params = h.qs(channel=["qr", "paper"], period="quarter")
    data = get(client, f"/api/v1/reports/vn/qt/p2?{params}").get_json()
    # the CLI prints the same JSON
    cli = client.application.test_cli_runner().invoke(args=[
        "report", "--unit", "/vn/qt/p2/", "--instrument", "sipas", "--from", "2026-01-01", "--to", "2026-06-30",
        "--period", "quarter", "--channel", "qr", "--channel", "paper"])
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.stdout) == data

    index, n = data["index"], data["responses"]
    assert n == 30
    page = html.unescape(get(client, f"/reports/{place.p2.id}?{params}").get_data(as_text=True))
    assert pct(index["value"]) in page and f"n = {n}" in page

    rows = csv_rows(get(client, f"/reports/{place.p2.id}/export.csv?{params}").data)
    assert len(rows) == n
    for q in data["questions"]:
        if q["type"] == "scale":
            counted = Counter(r[q["key"]] for r in rows if r[q["key"]])
            assert {k: counted.get(k, 0) for k in q["counts"]} == q["counts"], q["key"]
            assert sum(counted.values()) == q["n"]

    wb = load_workbook(io.BytesIO(get(client, f"/reports/{place.p2.id}/export.xlsx?{params}").data))
    summary = list(wb.worksheets[2].iter_rows(values_only=True))
    index_row = next(r for r in summary if r[0] == "Chỉ số")
    assert index_row[1:5] == (index["value"], index["low"], index["high"], index["n"])
    for q in data["questions"]:
        row = next(r for r in summary if r[0] == q["key"])
        assert row[3] == q["n"] and row[4] == q["mean"] and row[7] == q["satisfied"]
    for f in data["factors"]:
        row = next(r for r in summary if r[1] == f["key"])
        assert row[2] == f["index"] and row[5] == f["n"]
    assert len(wb.worksheets[0]["A"]) - 1 == n

    text = pdf_text(get(client, f"/reports/{place.p2.id}/report.pdf?{params}").data, tmp_path)
    flat = " ".join(text.split())
    assert "Phường 2" in flat and "BÁO CÁO" in flat and "Kết quả khảo sát sự hài lòng tại Phường 2" in flat
    assert pct(index["value"]) in flat and f"n = {n}" in flat
    for f in data["factors"]:
        assert pct(f["index"]) in flat
    for q in data["questions"]:
        if q["satisfied"] is not None:
            assert pct(q["satisfied"]) in flat, q["key"]
    assert "Giờ Việt Nam" in flat or "giờ Việt Nam" in flat
    assert "01/01/2026 – 30/06/2026" in flat
