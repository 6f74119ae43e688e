"""Issue #17: drill-down keeps each unit's own survey, the default survey is deterministic,
the overview of a unit (every service kind, each with its own survey's headline), and the
ranking of all communes or all points of a kind at any depth."""
from __future__ import annotations

import html
import re
from datetime import date, datetime, timezone
from urllib.parse import parse_qs, urlparse

import pytest
from werkzeug.datastructures import MultiDict

from analysis.compare import compare_units
from survey_app.extensions import db
from survey_app.services.officials.scope import Scope
from survey_app.services.collect.instruments import latest_version
from survey_app.services.officials.units import by_path
from survey_app.services.reports import build as reports
from survey_app.services.reports import overview as overview_service
from survey_app.services.reports import ranking as ranking_service
from survey_app.services.reports import views as report_views
from survey_app.services.reports.sparkline import sparkline_points, sparkline_svg

WINDOW = date(2026, 1, 1), date(2026, 6, 30)


def page(client, url: str, status: int = 200) -> str:
    with client.get(url) as response:
        body = response.get_data(as_text=True)
        assert response.status_code == status, (url, response.status_code, body[-800:])
        return html.unescape(body)


def pct(x: float) -> str:
    return f"{100 * x:.1f}".replace(".", ",") + "%"


def report_for(unit, key="sipas", **kw):
    kw = {"date_from": WINDOW[0], "date_to": WINDOW[1], **kw}
    req = reports.ReportRequest(unit=unit, instrument_key=key, **kw)
    return reports.make_report(db.session, req)


def scale_answers(key: str, shift: int) -> list:
    snapshot = latest_version(db.session, key).snapshot
    out = []
    for j, q in enumerate(q for q in snapshot["questions"] if q["type"] == "scale"):
        levels = [lv["value"] for lv in snapshot["scales"][q["scale"]]["levels"]]
        out.append((q["key"], levels[(shift + j) % len(levels)], None))
    return out


def health_answers(place, h, n: int, month: int = 3):
    for i in range(n):
        h.submit(place.p2_health, scale_answers("health-outpatient", i), datetime(2026, month, 1 + i % 27, 2,
                                                                                  tzinfo=timezone.utc),
                 key="health-outpatient")


def links_to(body: str, unit_id: int) -> list[dict]:
    hrefs = re.findall(rf'href="(/reports/{unit_id}\?[^"]*)"', body)
    return [parse_qs(urlparse(html.unescape(h)).query) for h in hrefs]


# ------------------------------------------------------------------ the bug

def test_from_the_wards_sipas_report_each_child_opens_with_its_own_survey(place, sipas, login, h):
    health_answers(place, h, 12)
    body = page(login("demo-viewer"), f"/reports/{place.p2.id}?{h.qs()}")
    station = links_to(body, place.p2_health.id)
    assert station, "no link to the health station"
    assert {q["instrument"][0] for q in station} == {"health-outpatient"}
    assert all(q["from"] == ["2026-01-01"] and q["to"] == ["2026-06-30"] for q in station)  # the window is kept
    school = links_to(body, place.p2_school.id)
    assert {q["instrument"][0] for q in school} == {"education-parents"}  # its campaign, no answers yet
    counter = links_to(body, place.p2_point.id)
    assert {q["instrument"][0] for q in counter} == {"sipas"}  # the counter collects SIPAS: kept
    # and the station's page, opened by that link, is its own report, not an empty SIPAS one
    url = re.search(rf'href="(/reports/{place.p2_health.id}\?[^"]*)"', body).group(1)
    station_page = page(login("demo-viewer"), html.unescape(url))
    assert "12 phiếu" in station_page
    assert "Không có phiếu trả lời nào" not in station_page


def test_a_campaign_filter_is_dropped_when_the_child_uses_another_survey(place, sipas, login, h):
    campaign = h.campaign_of(place.p2_point, "sipas")
    body = page(login("demo-viewer"), f"/reports/{place.p2.id}?{h.qs(campaign=campaign.id)}")
    [station] = {tuple(sorted(q)) for q in links_to(body, place.p2_health.id)}
    assert "campaign" not in station
    assert any(q.get("campaign") == [str(campaign.id)] for q in links_to(body, place.p2_point.id))


def test_the_default_survey_is_the_units_own_and_does_not_flip(place, sipas, h):
    today = date(2026, 7, 1)
    # the ward: SIPAS has 30 trusted answers, the health station none: SIPAS, every time
    assert [report_views.default_instrument(db.session, place.p2, today) for _ in range(3)] == ["sipas"] * 3
    # the station's own survey, though the ward's most answered is SIPAS
    assert report_views.default_instrument(db.session, place.p2_health, today) == "health-outpatient"
    # 31 health answers, not rolled up yet: the default counts them (it catches the rollups up first)
    health_answers(place, h, 31)
    assert report_views.default_instrument(db.session, place.p2, today) == "health-outpatient"
    assert report_views.unit_instruments(db.session, place.p2, today)[:2] == ["health-outpatient", "sipas"]


def test_a_tie_is_broken_by_the_survey_key(place, h):
    today = date(2026, 7, 1)
    for i in range(4):
        when = datetime(2026, 5, 1 + i, 2, tzinfo=timezone.utc)
        h.submit(place.p2_point, scale_answers("sipas", i), when)
        h.submit(place.p2_health, scale_answers("health-outpatient", i), when, key="health-outpatient")
    seen = {report_views.default_instrument(db.session, place.p2, today) for _ in range(5)}
    assert seen == {"health-outpatient"}  # 4 against 4: "health-outpatient" < "sipas"


# ------------------------------------------------------------------ the overview

def test_the_overview_shows_each_kind_with_its_own_surveys_headline(place, sipas, login, h):
    health_answers(place, h, 12)
    body = page(login("demo-viewer"), f"/reports/{place.p2.id}/overview?window=2026&period=quarter")
    sipas_report = report_for(place.p2, date_to=date(2026, 12, 31), period="quarter")
    health = report_for(place.p2, "health-outpatient", date_to=date(2026, 12, 31), period="quarter")
    one_stop = body.split('id="group-one_stop"')[1].split("</section>")[0]
    assert "Dịch vụ một cửa" in one_stop
    card = one_stop.split('id="card-sipas"')[1].split("</article>")[0]
    headline = card.split('class="kpi-value headline">')[1].split("</p>")[0]
    assert headline == pct(sipas_report["index"]["value"])
    sub = card.split('class="kpi-sub">')[1].split("</p>")[0]
    assert pct(sipas_report["index"]["low"])[:-1] in sub and pct(sipas_report["index"]["high"]) in sub
    assert "n = 30" in sub
    # the sparkline: Q1 and Q2 (15 answers each); Q3 and Q4 have none and are not drawn
    assert card.count("<circle") == 2 and 'role="img"' in card
    # the card links to the SIPAS dashboard, the health card to the health one
    assert f'/reports/{place.p2.id}?instrument=sipas&window=2026&period=quarter' in card
    health_card = body.split('id="card-health-outpatient"')[1].split("</article>")[0]
    assert f'/reports/{place.p2.id}?instrument=health-outpatient' in health_card
    assert health["index"]["n"] == 12 and not health["index"]["low_n"]
    assert 'class="kpi-value headline"' in health_card and "n = 12" in health_card
    # the school's survey has a campaign and no answer: not a number
    school = body.split('id="card-education-parents"')[1].split("</article>")[0]
    assert "Không đủ câu trả lời" in school and "n = 0" in school
    assert 'class="kpi-value' not in school


def test_a_small_n_headline_is_not_shown_as_a_number(place, login, h):
    health_answers(place, h, 7)
    body = page(login("demo-viewer"), f"/reports/{place.p2.id}/overview?window=2026")
    card = body.split('id="card-health-outpatient"')[1].split("</article>")[0]
    assert "Không đủ câu trả lời" in card and "n = 7" in card
    r = report_for(place.p2, "health-outpatient", date_to=date(2026, 12, 31))
    assert r["index"]["low_n"] and r["index"]["value"] is not None
    assert pct(r["index"]["value"]) not in card and "kpi-value" not in card


def test_the_overview_counts_open_petitions_per_kind(place, login):
    from survey_app.services.petitions import operations as petitions

    when = datetime(2026, 3, 2, 3, tzinfo=timezone.utc)
    for unit in (place.p2_point, place.p2_point, place.p2_health):
        petitions.file_petition(db.session, unit, category="procedure", text="Xin hướng dẫn thủ tục.", now=when)
    body = page(login("demo-viewer"), f"/reports/{place.p2.id}/overview")
    one_stop = body.split('id="group-one_stop"')[1].split("</section>")[0]
    health = body.split('id="group-health"')[1].split("</section>")[0]
    assert "Phản ánh đang xử lý: 2 (2 quá hạn)" in one_stop
    assert "Phản ánh đang xử lý: 1 (1 quá hạn)" in health
    assert "Phản ánh đang xử lý: 3 (3 quá hạn)" in body.split('id="open-petitions"')[1][:80]


def test_the_reports_landing_is_the_overview_of_the_officials_unit(place, login):
    body = page(login("demo-viewer"), "/reports/")
    assert "<h1>Phường 2</h1>" in body and 'id="group-one_stop"' in body


def test_the_overview_and_ranking_refuse_another_wards_official_and_bad_input(place, sipas, login):
    client = login("demo-viewer")
    for unit in (place.p1, place.p1_point, place.town):
        for path in ("/overview", "/ranking", "/ranking/funnel.svg"):
            with client.get(f"/reports/{unit.id}{path}") as response:
                assert response.status_code == 404, (unit.path, path, response.status_code)
    body = page(client, f"/reports/{place.p2.id}/overview?window=2026-13", 400)
    assert "Khoảng thời gian" in body or "role=\"alert\"" in body
    for bad in ("level=district", "kind=market", "level=points&level=communes"):
        page(client, f"/reports/{place.p2.id}/ranking?{bad}", 400)


def test_the_one_stop_cards_show_the_dossiers_response_rate(place, login):
    from survey_app.services.data import demo_dossiers
    from survey_app.services.dossiers.figures import dossier_section

    assert demo_dossiers.add_dossiers(db.session, months=2) > 0
    _window, first, last = report_views.resolve_window("12m", None, None, reports.local_today())
    section = dossier_section(db.session, place.p2, first, last)
    assert section["returned"] > 0 and section["rated"] > 0
    body = page(login("demo-viewer"), f"/reports/{place.p2.id}/overview")
    one_stop = body.split('id="group-one_stop"')[1].split("</section>")[0]
    rates = re.findall(r'<dd class="rate">([^<]+)<span class="muted">\(([^)]+)\)', one_stop)
    assert rates, one_stop[:2000]
    assert all(rate.strip() == pct(section["response_rate"]) for rate, _detail in rates)
    assert all(f"{section['rated']} trên {section['returned']}" in detail for _rate, detail in rates)
    health = body.split('id="group-health"')[1].split("</section>")[0]
    assert 'class="rate"' not in health


# ------------------------------------------------------------------ the ranking

def test_the_province_ranks_all_its_communes_with_each_ones_own_numbers(place, sipas, login, h):
    town = place.town
    client = login("demo-admin")
    body = page(client, f"/reports/{town.id}/ranking?{h.qs(level='communes')}")
    table = body.split('id="ranking"')[1].split("</table>")[0]
    communes = [u for u in ranking_service.compared_units(db.session, town, ranking_service.RankingChoice(
        "communes", None))]
    assert {u.path for u in communes} >= {"/vn/qt/p1/", "/vn/qt/p2/", "/vn/qt/quang-tri/"}
    for commune in communes:
        assert commune.name_vi in table
    # each commune's row is that commune's own report (index and interval), not recomputed
    for commune in (place.p1, place.p2):
        own = report_for(commune)
        row = table.split(commune.name_vi)[1].split("</tr>")[0]
        assert f"{own['index']['n']}" in row and pct(own["index"]["value"]) in row
        assert pct(own["index"]["low"]).rstrip("%") in row and pct(own["index"]["high"]) in row


def test_the_ranking_at_depth_is_the_comparison_of_those_units_own_estimates(place, sipas, h):
    """An independent check of the comparison: compare_units on each compared unit's own
    report (value, se², n) gives the ranking's shrunken values and funnel flags."""
    scope = Scope.for_user(h.official("demo-admin"))
    args = MultiDict({"instrument": "sipas", "window": "custom", "from": "2026-01-01", "to": "2026-06-30",
                      "level": "points", "kind": "one_stop"})
    result = ranking_service.rank(db.session, scope, place.town, args, date(2026, 7, 1))
    rows = {r["unit"]: r for r in result.rows}
    assert place.p1_point.path in rows and place.p2_point.path in rows
    own = {path: report_for(by_path(db.session, path)) for path, r in rows.items() if r["n"] >= 2}
    paths = sorted(own)
    assert len(paths) >= 2
    out = compare_units([own[p]["index"]["value"] for p in paths], [own[p]["index"]["se"] ** 2 for p in paths],
                        [own[p]["index"]["n"] for p in paths],
                        score_variances=[own[p]["index"]["se"] ** 2 * own[p]["index"]["n"] for p in paths],
                        bounds=(0.0, 1.0))
    for j, p in enumerate(paths):
        assert rows[p]["index"] == pytest.approx(own[p]["index"]["value"])
        assert rows[p]["shrunk"] == pytest.approx(float(out.shrunk[j]), rel=1e-6)
        assert rows[p]["funnel"] == out.flags[j]


def test_compare_with_the_direct_children_is_the_dashboards_comparison(place, sipas):
    default = report_for(place.town)
    children = tuple(c.path for c in place.town.children)
    compared = report_for(place.town, compare=children)
    assert compared["units"] == default["units"] and compared["comparison"] == default["comparison"]


def test_a_nested_compared_point_takes_its_answers_out_of_the_upper_row(place, h):
    centre = by_path(db.session, "/vn/qt/quang-tri/ttpvhcc/")
    reception = by_path(db.session, "/vn/qt/quang-tri/ttpvhcc/diem-tiep-nhan-1/")
    for i in range(6):
        when = datetime(2026, 2, 1 + i, 2, tzinfo=timezone.utc)
        h.submit(centre, scale_answers("sipas", i), when)
    for i in range(4):
        h.submit(reception, scale_answers("sipas", i + 1), datetime(2026, 2, 10 + i, 2, tzinfo=timezone.utc))
    r = report_for(place.town, compare=(centre.path, reception.path))
    n = {u["unit"]: u["n"] for u in r["units"]}
    assert n == {centre.path: 6, reception.path: 4}
    alone = report_for(reception)
    row = next(u for u in r["units"] if u["unit"] == reception.path)
    assert row["index"] == pytest.approx(alone["index"]["value"])


def test_the_ranking_of_points_filters_by_kind_and_names_each_commune(place, sipas, login, h):
    health_answers(place, h, 12)
    client = login("demo-admin")
    body = page(client, f"/reports/{place.town.id}/ranking?level=points&kind=health&window=2026")
    table = body.split('id="ranking"')[1].split("</table>")[0]
    assert "Trạm Y tế Phường 2" in table and "Trạm Y tế Phường 1" in table
    assert "Bộ phận Một cửa" not in table and "Trường Tiểu học" not in table
    assert "Đánh giá hài lòng" in body or "health-outpatient" in body  # the health survey, chosen by default
    assert re.search(r'<option value="health-outpatient" selected', body)
    # each point links to its own report with its own survey
    assert f'/reports/{place.p2_health.id}?instrument=health-outpatient' in html.unescape(table)
    # the commune column
    row = table.split("Trạm Y tế Phường 2")[1].split("</tr>")[0]
    assert "Phường 2" in row


def test_the_ranking_funnel_is_an_svg_of_the_compared_units(place, sipas, login, h):
    client = login("demo-admin")
    with client.get(f"/reports/{place.town.id}/ranking/funnel.svg?{h.qs(level='points', kind='one_stop')}") as r:
        assert r.status_code == 200 and r.mimetype == "image/svg+xml"
        svg = r.get_data(as_text=True)
    assert "Bộ phận Một cửa Phường 2" in svg and "Bộ phận Một cửa Phường 1" in svg


# ------------------------------------------------------------------ the sparkline

def test_the_sparkline_draws_only_complete_periods_with_enough_answers():
    trend = [{"index": 0.5, "partial": False, "low_n": False}, {"index": 0.9, "partial": False, "low_n": True},
             {"index": 0.7, "partial": False, "low_n": False}, {"index": 0.6, "partial": False, "low_n": False},
             {"index": 0.8, "partial": True, "low_n": False}]
    runs = sparkline_points(trend, "share")
    assert [len(r) for r in runs] == [1, 2]  # the low-n period breaks the line; the partial one is left out
    (x0, y0), = runs[0]
    (x2, y2), (x3, y3) = runs[1]
    assert x0 < x2 < x3
    assert y0 > y3 > y2  # 0.5 lowest (largest y), 0.7 highest
    assert y0 == pytest.approx(32 - 3) and y2 == pytest.approx(3)  # the drawn range is 0.5–0.7
    svg = sparkline_svg(trend, "share", "Xu hướng")
    assert svg.count("<circle") == 3 and svg.count("<polyline") == 1 and 'aria-label="Xu hướng"' in svg
    assert sparkline_svg([{"index": None, "partial": False, "low_n": True}], "share", "x") is None


def test_a_flat_sparkline_keeps_a_tenth_of_the_scale():
    trend = [{"index": 1.5, "partial": False, "low_n": False}, {"index": 1.5, "partial": False, "low_n": False}]
    [[(_x, a), (_x2, b)]] = sparkline_points(trend, "points", max_value=2)
    assert a == b == pytest.approx(3 + 26 / 2)  # centred in a span of 0.2 points
