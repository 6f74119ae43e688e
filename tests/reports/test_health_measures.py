"""The Ministry of Health measures — general and comprehensive satisfaction, mean score,
return rate ("other" left out of its denominator) and expectation met — appear on the
dashboard, in the XLSX, in the PDF and on the public page, with the same values."""
from __future__ import annotations

import html
import io
from datetime import datetime, timezone

from openpyxl import load_workbook

from survey_app.extensions import db
from survey_app.services.collect.instruments import latest_version
from survey_app.services.reports import build as reports

from helpers import get_ok as get
from helpers import pdf_text

WINDOW = {"instrument": "health-outpatient", "window": "2026-05"}
LABELS_VI = ("Tỷ lệ hài lòng chung", "Tỷ lệ hài lòng toàn diện", "Điểm trung bình (1–5)",
             "Sẽ quay lại hoặc giới thiệu", "Mức đáp ứng mong đợi (%)")


def pct(x: float) -> str:
    return f"{100 * x:.1f}".replace(".", ",") + "%"


def _health(place, h) -> dict:
    snapshot = latest_version(db.session, "health-outpatient").snapshot
    items = [q["key"] for q in snapshot["questions"] if q["type"] == "scale" and q.get("factor")]
    options = ["definitely_return"] * 9 + ["maybe_return"] * 5 + ["never_return"] * 4 + ["other"] * 6
    for i, option in enumerate(options):
        level = 5 if i % 4 else 2
        h.submit(place.p2_health, [(k, level, None) for k in items] + [("return", None, option),
                                                                        ("expectation", 70 + i, None)],
                 datetime(2026, 5, 2 + i, 3, tzinfo=timezone.utc), key="health-outpatient")
    return reports.make_report(db.session, reports.ReportRequest(
        unit=place.p2_health, instrument_key="health-outpatient", date_from=datetime(2026, 5, 1).date(),
        date_to=datetime(2026, 5, 31).date()))["moh"]


def test_every_health_measure_is_on_the_dashboard_the_xlsx_the_pdf_and_the_public_page(place, login, h, tmp_path):
    moh = _health(place, h)
    assert moh["return_rate"]["value"] == 14 / 18 and moh["return_rate"]["n"] == 18  # not 14/24
    client = login("demo-manager")
    from urllib.parse import urlencode

    params = urlencode(WINDOW)
    body = html.unescape(get(client, f"/reports/{place.p2_health.id}?{params}").get_data(as_text=True))
    table = body.split('id="moh-measures"')[1].split("</table>")[0]
    for label in LABELS_VI:
        assert label in table, label
    for key in ("general", "comprehensive", "return_rate"):
        assert pct(moh[key]["value"]) in table, key
    assert "“Khác”" in body  # the hint on the return rate's denominator

    wb = load_workbook(io.BytesIO(get(client, f"/reports/{place.p2_health.id}/export.xlsx?{params}").data))
    summary = {row[0]: row for row in wb["Tổng hợp"].iter_rows(values_only=True) if row and row[0]}
    assert summary["Sẽ quay lại hoặc giới thiệu"][1] == moh["return_rate"]["value"]
    assert summary["Tỷ lệ hài lòng toàn diện"][1] == moh["comprehensive"]["value"]
    assert summary["Điểm trung bình (1–5)"][1] == moh["mean_score"]["value"]
    assert summary["Mức đáp ứng mong đợi (%)"][1] == moh["expectation"]["value"]

    text = pdf_text(get(client, f"/reports/{place.p2_health.id}/report.pdf?{params}").data, tmp_path)
    flat = " ".join(text.split())
    assert "Các chỉ số theo phương pháp của Bộ Y tế" in flat
    for label in ("Tỷ lệ hài lòng toàn diện", "Sẽ quay lại hoặc giới thiệu", "Mức đáp ứng mong đợi"):
        assert label in flat, label
    assert pct(moh["return_rate"]["value"]) in flat

    page = html.unescape(get(client, f"/reports/{place.p2_health.id}/publications").get_data(as_text=True))
    token = h.csrf_from(page)
    with client.post(f"/reports/{place.p2_health.id}/publish", data={"csrf_token": token, **WINDOW}) as response:
        assert response.status_code == 303
    public = html.unescape(client.application.test_client().get("/p/p2yte").get_data(as_text=True))
    table = public.split('id="moh-measures"')[1].split("</table>")[0]
    for label in LABELS_VI:
        assert label in table, label
    assert pct(moh["return_rate"]["value"]) in table and "p =" not in public
