"""The dashboard: its numbers are the report's, every filter is validated (400, never
500), filters change what is counted, charts are cached by filter key and watermark."""
from __future__ import annotations

import html
import re
from datetime import date, datetime, timezone

import pytest

from survey_app.extensions import db
from survey_app.services.reports import build as reports
from survey_app.services.reports import views as report_views


def pct(x: float) -> str:
    return f"{100 * x:.1f}".replace(".", ",") + "%"


def report_for(unit, **kw):
    base = dict(unit=unit, instrument_key="sipas", date_from=date(2026, 1, 1), date_to=date(2026, 6, 30))
    base.update(kw)
    return reports.make_report(db.session, reports.ReportRequest(**base))


def page(client, url: str, status: int = 200) -> str:
    with client.get(url) as response:
        body = response.get_data(as_text=True)
        assert response.status_code == status, (url, response.status_code, body[-800:])
        return html.unescape(body)


def test_the_dashboard_shows_the_reports_numbers_each_with_its_n(place, sipas, login, h):
    client = login("demo-viewer")
    body = page(client, f"/reports/{place.p2.id}?{h.qs()}")
    r = report_for(place.p2)
    assert r["responses"] == 30
    assert "Phường 2" in body and "30 phiếu" in body
    assert pct(r["index"]["value"]) in body
    low, high = r["index"]["low"], r["index"]["high"]
    assert f"{100 * low:.1f}–{100 * high:.1f}%".replace(".", ",") in body
    assert "n = 30" in body
    for f in r["factors"]:
        assert pct(f["index"]) in body
    # the trend test in plain words, translated: five responses a month are too few for it
    assert [t["n"] for t in r["trend"]] == [5] * 6 and r["trend_test"]["enough"] is False
    assert "chưa đủ số kỳ để đánh giá xu hướng" in body
    # every question with its n and its satisfied share
    for q in r["questions"]:
        assert q["text"]["vi"] in body
        if q["satisfied"] is not None:
            assert pct(q["satisfied"]) in body
    # units below: the ward's three service points; the counter has all 30, the others none
    assert "Bộ phận Một cửa Phường 2" in body and "Trạm Y tế Phường 2" in body
    # charts are images of a scoped route, never inline
    assert f'/reports/{place.p2.id}/charts/likert.svg?' in body and "<svg" not in body
    assert "<script" not in body and "style=" not in body


def test_small_cells_are_marked_low_n(place, login, h):
    keys = h.sipas_keys()
    for i in range(4):
        h.submit(place.p2_point, [(k, 4, None) for k in keys], datetime(2026, 2, 2 + i, tzinfo=timezone.utc))
    body = page(login("demo-viewer"), f"/reports/{place.p2_point.id}?{h.qs()}")
    assert "n = 4" in body
    assert 'class="badge lown"' in body and "ít phiếu" in body


def test_a_town_official_compares_wards_by_shrunken_rank_with_funnel_flags(place, sipas, login, h):
    client = login("demo-admin")
    body = page(client, f"/reports/{place.town.id}?{h.qs()}")
    r = report_for(place.town)
    ranked = sorted((u for u in r["units"] if u["rank"]), key=lambda u: u["rank"])
    assert [u["name"]["vi"] for u in ranked] == ["Phường 2", "Phường 1"]
    assert body.index("Phường 2</a>") < body.index("Phường 1</a>")
    assert "/charts/funnel.svg" in body
    by_name = page(client, f"/reports/{place.town.id}?{h.qs(sort='name')}")
    assert by_name.index("Phường 1</a>") < by_name.index("Phường 2</a>")


@pytest.mark.parametrize("params, message", [
    ({"instrument": "nope"}, "Không có phiếu khảo sát"),
    ({"window": "2026-13"}, "Khoảng thời gian"),
    ({"window": "custom", "from": "", "to": ""}, "ngày đầu và ngày cuối"),
    ({"window": "custom", "from": "2026-05-01", "to": "2026-04-01"}, "trước ngày đầu"),
    ({"window": "custom", "from": "2026-02-30", "to": "2026-04-01"}, "không phải là một ngày"),
    ({"window": "custom", "from": "1900-01-01", "to": "2026-04-01"}, "từ năm"),
    ({"window": "custom", "from": "2001-01-01", "to": "2026-04-01"}, "mười năm"),
    ({"period": "week"}, "theo tháng"),
    ({"channel": "fax"}, "Kênh"),
    ({"include_suspect": "maybe"}, "include_suspect"),
    ({"campaign": "abc"}, "Đợt khảo sát này"),
    ({"sort": "best"}, "xếp"),
])
def test_every_bad_filter_is_a_clear_400(place, login, h, params, message):
    client = login("demo-viewer")
    body = page(client, f"/reports/{place.p2.id}?{h.qs(**params)}", status=400)
    assert message in body
    for url in (f"/reports/{place.p2.id}/charts/trend.svg?{h.qs(**params)}",
                f"/reports/{place.p2.id}/comments?{h.qs(**params)}"):
        if "sort" in params:
            continue
        with client.get(url) as response:
            assert response.status_code == 400, url


def test_another_wards_campaign_is_a_bad_filter(place, sipas, login, h):
    p1_campaign = h.campaign_of(place.p1_point, "sipas")
    body = page(login("demo-viewer"), f"/reports/{place.p2.id}?{h.qs(campaign=p1_campaign.id)}", status=400)
    assert "Đợt khảo sát này" in body and p1_campaign.name not in body


def test_filters_change_what_is_counted_and_the_url_reproduces_the_view(place, sipas, login, h):
    client = login("demo-viewer")
    assert "30 phiếu" in page(client, f"/reports/{place.p2.id}?{h.qs()}")
    assert "32 phiếu" in page(client, f"/reports/{place.p2.id}?{h.qs(include_suspect='1')}")
    assert "6 phiếu" in page(client, f"/reports/{place.p2.id}?{h.qs(channel='paper')}")
    own = h.campaign_of(place.p2_point, "sipas")
    assert "30 phiếu" in page(client, f"/reports/{place.p2.id}?{h.qs(campaign=own.id)}")
    # a quarter window and quarterly trend
    body = page(client, f"/reports/{place.p2.id}?instrument=sipas&window=2026-Q1&period=quarter")
    assert "15 phiếu" in body and "01/01/2026 – 31/03/2026" in body
    # the fixed link has the dates written out, and reproduces the view
    link = re.search(r'href="([^"]+)"[^>]*>Đường dẫn tới trang này', body).group(1)
    assert "window=custom" in link and "from=2026-01-01" in link and "to=2026-03-31" in link
    again = page(client, link)
    assert "15 phiếu" in again and "01/01/2026 – 31/03/2026" in again


def test_charts_are_cached_by_filters_and_a_new_response_invalidates_them(place, sipas, login, h, monkeypatch):
    client = login("demo-viewer")
    calls = []
    real = report_views.render_charts

    def counting(*args, **kwargs):
        calls.append(args[3] if len(args) > 3 else kwargs.get("fmt"))
        return real(*args, **kwargs)

    monkeypatch.setattr(report_views, "render_charts", counting)
    url = f"/reports/{place.p2.id}/charts/trend.svg?{h.qs()}&lang=vi"
    with client.get(url) as first:
        assert first.status_code == 200 and first.mimetype == "image/svg+xml"
        svg = first.data
    with client.get(f"/reports/{place.p2.id}/charts/likert.svg?{h.qs()}&lang=vi") as second:
        assert second.status_code == 200 and second.data.startswith(b"<?xml")
    assert len(calls) == 1  # one rendering served both charts
    with client.get(url) as again:
        assert again.data == svg and len(calls) == 1
    with client.get(f"/reports/{place.p2.id}/charts/trend.svg?{h.qs(period='quarter')}&lang=vi") as other:
        assert other.status_code == 200 and len(calls) == 2
    h.submit(place.p2_point, [(k, 5, None) for k in h.sipas_keys()], datetime(2026, 6, 20, tzinfo=timezone.utc))
    with client.get(url) as fresh:
        assert fresh.status_code == 200 and len(calls) == 3 and fresh.data != svg
    with client.get(f"/reports/{place.p2.id}/charts/nope.svg?{h.qs()}") as unknown:
        assert unknown.status_code == 404


def test_out_of_scope_units_are_refused_on_every_report_route(place, sipas, login, h):
    client = login("demo-manager")
    for path in ("", "/charts/trend.svg", "/comments", "/publications", "/export.csv", "/export.xlsx", "/report.pdf"):
        for unit in (place.p1, place.p1_point, place.town):
            with client.get(f"/reports/{unit.id}{path}?{h.qs()}") as response:
                assert response.status_code == 404, (path, unit.path, response.status_code)


def test_a_viewer_reads_but_does_not_export(place, sipas, login, h):
    client = login("demo-viewer")
    body = page(client, f"/reports/{place.p2.id}?{h.qs()}")
    assert "export.xlsx" not in body and "report.pdf" not in body
    for path in ("/export.csv", "/export.xlsx", "/report.pdf"):
        with client.get(f"/reports/{place.p2.id}{path}?{h.qs()}") as response:
            assert response.status_code == 403
    assert h.audits("export.created") == []


def test_the_landing_page_is_the_officials_own_area_and_works_without_data(place, login):
    body = page(login("demo-viewer"), "/reports/")
    assert "<h1>Phường 2</h1>" in body
    # the landing is the ward's overview (issue #17): without answers, no card shows a number
    assert "Không đủ câu trả lời" in body and 'class="kpi-value' not in body


def test_the_petitions_accountability_figures_are_on_the_dashboard(place, login, h):
    from survey_app.services.petitions import operations as petitions

    petitions.file_petition(db.session, place.p2_point, category="procedure", text="Xin hướng dẫn thủ tục.",
                            now=datetime(2026, 3, 2, 3, tzinfo=timezone.utc))
    body = page(login("demo-viewer"), f"/reports/{place.p2.id}?{h.qs()}")
    section = body.split("Phản ánh, kiến nghị: trách nhiệm giải trình")[1]
    assert "Bộ phận Một cửa Phường 2" in section
    assert '<td class="count">1</td>' in section.replace("\n", "")


def test_english_dashboard(place, sipas, login, h):
    body = page(login("demo-viewer"), f"/reports/{place.p2.id}?{h.qs()}&lang=en")
    r = report_for(place.p2)
    assert f"{100 * r['index']['value']:.1f}%" in body
    assert "30 responses" in body and "Every question" in body


def test_dates_typed_in_the_form_win_over_the_preset_they_came_with(place, sipas, login, h):
    client = login("demo-viewer")
    base = f"/reports/{place.p2.id}?instrument=sipas&window=2026"
    untouched = page(client, f"{base}&from=2026-01-01&to=2026-12-31&shown_from=2026-01-01&shown_to=2026-12-31")
    assert "01/01/2026 – 31/12/2026" in untouched and "30 phiếu" in untouched
    typed = page(client, f"{base}&from=2026-02-01&to=2026-03-31&shown_from=2026-01-01&shown_to=2026-12-31")
    assert "01/02/2026 – 31/03/2026" in typed and "10 phiếu" in typed
    page(client, f"{base}&from=2026-02-30&to=2026-03-31&shown_from=2026-01-01&shown_to=2026-12-31", status=400)
