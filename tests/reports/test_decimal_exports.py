"""A number with decimals, stored as value × 10^decimals, reads back as the value in every
export: the CSV, the XLSX (a number cell, and the codebook says how many decimals), the JSON
API and the dashboard."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from helpers import get_ok as get
from survey_app.models import utcnow
from test_decimal import open_distance_survey

def csv_rows(data: bytes) -> list[dict]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data[3:].decode("utf-8"))))


BASE = {"waited": 4, "staff": 4, "clean": 5, "queued": 0}


@pytest.fixture
def distances(place, h):
    """Three citizens of p2's counter: 3,5 km, 12,5 km and 0,5 km (stored as 35, 125, 5)."""
    target = open_distance_survey()
    now = utcnow()
    ids = []
    for i, tenths in enumerate((35, 125, 5)):
        answers = [(k, v, None) for k, v in BASE.items()] + [("distance_km", tenths, None)]
        ids.append(h.submit(place.p2_point, answers, now - timedelta(minutes=10 - i), key="queue-local"))
    today = now.date()
    window = {"instrument": "queue-local", "window": "custom", "from": (today - timedelta(days=1)).isoformat(),
              "to": (today + timedelta(days=1)).isoformat()}
    return target, ids, window


def query(window: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(window)


def test_the_csv_and_the_xlsx_write_the_value_with_its_decimals(place, distances, login):
    _target, ids, window = distances
    client = login("demo-manager")
    rows = csv_rows(get(client, f"/reports/{place.p2.id}/export.csv?{query(window)}").data)
    assert {int(r["response_id"]): r["distance_km"] for r in rows} == dict(zip(ids, ["3.5", "12.5", "0.5"]))
    data = get(client, f"/reports/{place.p2.id}/export.xlsx?{query(window)}").data
    responses, codebook, _summary, _charts, readable = load_workbook(io.BytesIO(data)).worksheets
    header = [c.value for c in responses[1]]
    column = header.index("distance_km")
    values = [row[column] for row in responses.iter_rows(min_row=2, values_only=True)]
    assert values == [3.5, 12.5, 0.5], "number cells, not texts"
    book = {row[0]: row for row in codebook.iter_rows(min_row=2, values_only=True)}
    assert book["distance_km"][2] == "số"  # a number, in words
    column = [c.value for c in readable[1]].index(book["distance_km"][7])
    assert [row[column] for row in readable.iter_rows(min_row=2, values_only=True)] == [3.5, 12.5, 0.5]
    assert book["distance_km"][6] == "số, từ 0 đến 100.5, tối đa 1 chữ số sau dấu thập phân"


def test_the_json_api_and_the_dashboard_read_the_value(place, distances, login):
    _target, _ids, window = distances
    client = login("demo-manager")
    report = get(client, f"/api/v1/reports/{place.p2.path.strip('/')}?{query(window)}").get_json()
    entry = next(q for q in report["questions"] if q["key"] == "distance_km")
    assert entry["counts"] == {"0.5": 1, "3.5": 1, "12.5": 1}
    assert entry["n"] == 3 and entry["mean"] == pytest.approx(5.5)
    page = get(client, f"/reports/{place.p2.id}?{query(window)}").get_data(as_text=True)
    row = page.split('id="q-distance_km"', 1)[1].split("</tr>", 1)[0]
    assert "5,50" in row, "the mean in km, as Vietnamese writes it"


def test_unscale_is_exact():
    from analysis.instrument import unscale

    assert unscale(125, 1) == Decimal("12.5") and str(unscale(350, 2)) == "3.50"
