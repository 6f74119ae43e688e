"""The report's charts and tables write periods as the reader does (Th1/2026, Q1/2026;
Jan 2026, Q1 2026), in the reader's language; the PDF's charts are always Vietnamese; the
hour × weekday chart of a counter writes each cell's n."""
from __future__ import annotations

import html
from datetime import date

from survey_app.extensions import db
from survey_app.services.reports import build as reports
from survey_app.services.reports import views as report_views
from survey_app.services.reports.charts import charts_for


def page(client, url: str) -> str:
    with client.get(url) as response:
        assert response.status_code == 200, url
        return html.unescape(response.get_data(as_text=True))


def svg(client, url: str) -> str:
    with client.get(url) as response:
        assert response.status_code == 200 and response.mimetype == "image/svg+xml", url
        return response.get_data(as_text=True)


def test_the_dashboard_and_its_trend_chart_write_periods_for_the_reader(place, sipas, login, h):
    client = login("demo-viewer")
    base = f"/reports/{place.p2.id}"
    row = '<th scope="row">'  # the trend table's rows
    vi = page(client, f"{base}?{h.qs()}&lang=vi")
    assert f"{row}Th1/2026" in vi and f"{row}Th6/2026" in vi and f"{row}01/2026" not in vi
    en = page(client, f"{base}?{h.qs()}&lang=en")
    assert f"{row}Jan 2026" in en and f"{row}Jun 2026" in en and "Th1/2026" not in en
    quarterly = page(client, f"{base}?{h.qs(period='quarter')}&lang=vi")
    assert f"{row}Q1/2026" in quarterly and f"{row}Q2/2026" in quarterly and f"{row}Quý" not in quarterly
    # the chart: text is drawn as glyph paths, each keeping its string in an XML comment
    chart_vi = svg(client, f"{base}/charts/trend.svg?{h.qs()}&lang=vi")
    assert "<!-- Th1/2026 -->" in chart_vi and "2026-01" not in chart_vi
    chart_en = svg(client, f"{base}/charts/trend.svg?{h.qs(period='quarter')}&lang=en")
    assert "<!-- Q1 2026 -->" in chart_en and "<!-- Q2 2026 -->" in chart_en


def test_the_pdf_charts_are_vietnamese_whatever_the_readers_language(place, sipas, login, h, monkeypatch):
    seen = []
    real = report_views.render_charts

    def spy(report, definition, lang, fmt, only=None):
        seen.append((lang, fmt))
        return real(report, definition, lang, fmt, only)

    monkeypatch.setattr(report_views, "render_charts", spy)
    with login("demo-manager").get(f"/reports/{place.p2.id}/report.pdf?{h.qs()}&lang=en") as response:
        assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert seen == [("vi", "png")]
    r = reports.make_report(db.session, reports.ReportRequest(
        unit=place.p2, instrument_key="sipas", date_from=date(2026, 1, 1), date_to=date(2026, 6, 30)))
    definition = reports.instrument_versions(db.session, "sipas")[-1].snapshot
    ax = charts_for(r, definition, "vi")["trend"]
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"Th{m}/2026" for m in range(1, 7)]


def test_a_counters_hour_weekday_chart_writes_each_cells_n(place, sipas):
    r = reports.make_report(db.session, reports.ReportRequest(
        unit=place.p2_point, instrument_key="sipas", date_from=date(2026, 1, 1), date_to=date(2026, 6, 30)))
    definition = reports.instrument_versions(db.session, "sipas")[-1].snapshot
    ax = charts_for(r, definition, "vi")["hour_weekday"]
    expected = {(hour, weekday): n for weekday, row in enumerate(r["pattern"]["responses"])
                for hour, n in enumerate(row) if n}
    assert expected
    written = {(round(t.get_position()[0]), round(t.get_position()[1])): int(t.get_text().replace(".", ""))
               for t in ax.texts}
    assert written == expected
    assert ax.images[0].get_cmap().name == "cividis"
