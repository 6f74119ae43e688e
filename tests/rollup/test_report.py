"""Reports: numbers checked by hand, rollup reports equal raw reports, the CLI and its charts."""
from __future__ import annotations

import json
import secrets
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from sqlalchemy import delete
from statsmodels.stats.proportion import proportion_confint

from helpers import add_response as add
from helpers import campaign_target
from survey_app.extensions import db
from survey_app.models import (Answer, Response, RollupCell, RollupFactor, RollupMoments, RollupResponse,
                               RollupState)
from survey_app.services.collect.surveys import submit_response
from survey_app.services.reports import build as reports


TOWN = "/vn/qt/"
SIPAS_FACTORS = {"access": ["tc1", "tc2", "tc3", "tc4"], "procedures": ["tt1", "tt2", "tt3", "tt4"],
                 "staff": ["cc1", "cc2", "cc3", "cc4", "cc5"], "results": ["kq1", "kq2", "kq3"],
                 "feedback": ["gy1", "gy2", "gy3"]}


def request(unit_ref=TOWN, key="sipas", **kw):
    unit = reports.find_unit(db.session, unit_ref)
    base = dict(unit=unit, instrument_key=key, date_from=date(2026, 1, 1), date_to=date(2026, 12, 31))
    base.update(kw)
    return reports.ReportRequest(**base)


def test_sipas_index_by_hand(demo_app):
    when = datetime(2026, 5, 4, 3, tzinfo=timezone.utc)
    every = [k for ks in SIPAS_FACTORS.values() for k in ks]
    # three respondents: all 5s; all 3s; 4s except 'access' items at 2
    add("p2motcua", [(k, 5, None) for k in every], when)
    add("p2motcua", [(k, 3, None) for k in every], when)
    add("p1motcua", [(k, 2 if k in SIPAS_FACTORS["access"] else 4, None) for k in every], when)
    r = reports.make_report(db.session, request())
    # every criterion: 'access' 1/3 satisfied, others 2/3 → factors 1/3, 2/3 ×4 → SIPAS = (1/3 + 4·2/3)/5 = 0.6
    assert r["responses"] == 3
    assert r["index"]["value"] == pytest.approx(0.6)
    assert {f["key"]: f["index"] for f in r["factors"]} == pytest.approx(
        {"access": 1 / 3, "procedures": 2 / 3, "staff": 2 / 3, "results": 2 / 3, "feedback": 2 / 3})
    tc1 = next(q for q in r["questions"] if q["key"] == "tc1")
    assert tc1["counts"] == {"1": 0, "2": 1, "3": 1, "4": 0, "5": 1} and tc1["n"] == 3
    assert tc1["mean"] == pytest.approx(10 / 3)
    t_low, t_high = stats.t.interval(0.95, 2, loc=10 / 3, scale=stats.tstd([2, 3, 5]) / 3 ** 0.5)
    assert (tc1["mean_low"], tc1["mean_high"]) == pytest.approx((t_low, t_high))
    low, high = proportion_confint(1, 3, method="wilson")
    assert (tc1["satisfied"], tc1["satisfied_low"], tc1["satisfied_high"]) == pytest.approx((1 / 3, low, high))
    # units below the province that have answers: the two (former) wards
    units = {u["unit"]: u for u in r["units"]}
    assert {path for path, u in units.items() if u["n"]} == {"/vn/qt/p1/", "/vn/qt/p2/"}
    # units are compared on the index itself: P2 has all 5s and all 3s, so every criterion is 1/2
    assert units["/vn/qt/p2/"]["n"] == 2 and units["/vn/qt/p2/"]["index"] == pytest.approx(0.5)
    assert units["/vn/qt/p1/"]["index"] == pytest.approx(0.8)  # access 0, the other four factors 1
    assert r["trend_test"]["enough"] is False and r["trend_test"]["reason"] == "not enough periods"
    assert r["questions"][0]["low_n"] is True


def test_one_stop_points_and_grade(demo_app):
    t = campaign_target("p2motcua", "one-stop", "Đánh giá hồ sơ")
    one_stop = t.version
    keys = [q["key"] for q in one_stop.snapshot["questions"] if q["type"] == "scale"]
    totals = []
    for level in (3, 3, 2):  # 18, 18 and 9 points
        submit_response(db.session, t, [(k, level, None) for k in keys], channel="qr", language="vi",
                        idempotency_key=secrets.token_hex(16), submitted_at=datetime(2026, 6, 1, 3, tzinfo=timezone.utc))
        totals.append(sum({1: 0, 2: 1, 3: 2}[level] for _ in keys))
    r = reports.make_report(db.session, request("p2motcua", "one-stop"))
    assert r["index"]["unit"] == "points" and r["index"]["max"] == 18
    assert r["index"]["value"] == pytest.approx(15.0)
    low, high = stats.t.interval(0.95, 2, loc=15, scale=stats.tstd(totals) / 3 ** 0.5)
    assert (r["index"]["low"], r["index"]["high"]) == pytest.approx((low, high))
    assert r["index"]["grade"]["vi"] == "Tốt"  # 15 is not > 15, so not "Xuất sắc"


def test_bad_report_requests_are_refused_with_a_reason(demo_app):
    with pytest.raises(reports.ReportError, match="before the start"):
        reports.make_report(db.session, request(date_from=date(2026, 5, 1), date_to=date(2026, 4, 1)))
    with pytest.raises(reports.ReportError, match="no instrument"):
        reports.make_report(db.session, request(key="nope"))
    with pytest.raises(reports.ReportError, match="period"):
        reports.make_report(db.session, request(period="week"))


def _reset():
    for model in (RollupCell, RollupResponse, RollupFactor, RollupMoments, RollupState, Answer, Response):
        db.session.execute(delete(model))
    db.session.commit()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(items=st.lists(st.tuples(st.sampled_from(["p2motcua", "p1motcua", "p2yte"]), st.integers(0, 400),
                                st.integers(1, 5), st.sampled_from(["ok", "suspect"])), min_size=1, max_size=40),
       period=st.sampled_from(["month", "quarter"]), include_suspect=st.booleans())
def test_report_from_rollups_equals_report_from_raw_answers(demo_app, items, period, include_suspect):
    _reset()
    every = [k for ks in SIPAS_FACTORS.values() for k in ks]
    for i, (code, day, level, trust) in enumerate(items):
        if code == "p2yte":
            continue  # another instrument at the health station: must not leak into the SIPAS report
        answers = [(k, max(1, min(5, level + (j + i) % 3 - 1)), None) for j, k in enumerate(every) if (i + j) % 7]
        add(code, answers, datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(days=day, hours=i), trust=trust)
    req = request(period=period, include_suspect=include_suspect)
    assert reports.make_report(db.session, req, source="rollups") == reports.make_report(db.session, req, source="raw")


def test_cli_report_json_and_charts(demo_app, tmp_path):
    every = [k for ks in SIPAS_FACTORS.values() for k in ks]
    for month in range(1, 7):  # six complete months of 10 respondents: enough for the trend test
        for i in range(10):
            code = "p2motcua" if i % 2 else "p1motcua"
            add(code, [(k, 3 + (i + month) % 3, None) for k in every], datetime(2026, month, 3 + i, 2, tzinfo=timezone.utc))
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["report", "--unit", TOWN, "--instrument", "sipas", "--from", "2026-01-01",
                                 "--to", "2026-06-30", "--format", "json", "--charts", str(tmp_path / "charts")])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["responses"] == 60
    assert [t["period"] for t in payload["trend"]] == [f"2026-0{m}" for m in range(1, 7)]
    assert payload["trend_test"]["enough"] is True
    for key in ("index", "factors", "questions", "trend", "trend_test", "change", "units", "comparison",
                "reliability"):
        assert key in payload
    pngs = sorted(p.name for p in (tmp_path / "charts").glob("*.png"))
    assert pngs == ["factors_by_unit.png", "funnel.png", "hour_weekday.png", "likert.png", "trend.png"]
    for p in (tmp_path / "charts").glob("*.png"):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Phường 2".encode() in (tmp_path / "charts" / "funnel.svg").read_bytes() or \
        b"<path" in (tmp_path / "charts" / "funnel.svg").read_bytes()
    bad = runner.invoke(args=["report", "--unit", "nowhere", "--instrument", "sipas", "--from", "2026-01-01",
                              "--to", "2026-06-30"])
    assert bad.exit_code != 0 and "no unit 'nowhere'" in bad.output
    bad_date = runner.invoke(args=["report", "--unit", TOWN, "--instrument", "sipas", "--from", "2026-13-01",
                                   "--to", "2026-06-30"])
    assert bad_date.exit_code != 0 and "is not a date" in bad_date.output
    rolled = runner.invoke(args=["rollup"])
    assert rolled.exit_code == 0 and "0 pending" in rolled.output


@pytest.mark.parametrize("key", ["sipas", "health-outpatient", "education-parents"])
def test_cli_report_and_charts_on_the_demo_data(demo_app, tmp_path, key):
    from survey_app.services.data import demo_history

    # the former wards' points answer until the merger of 1 July 2025
    now = datetime(2025, 6, 28, 5, tzinfo=timezone.utc)
    assert demo_history.add_history(db.session, months=5, now=now) > 0
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["report", "--unit", TOWN, "--instrument", key, "--from", "2025-01-01",
                                 "--to", "2025-06-30", "--charts", str(tmp_path)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["responses"] > 0 and payload["index"]["value"] is not None
    assert {u["unit"] for u in payload["units"] if u["n"]} == {"/vn/qt/p1/", "/vn/qt/p2/"}
    if key == "health-outpatient":
        assert payload["instrument"]["method"] == "moh"
        assert {"general", "comprehensive", "return_rate", "expectation"} <= set(payload["moh"])
    assert (tmp_path / "likert.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "trend.svg").exists() and (tmp_path / "funnel.svg").exists()


def test_a_skipped_indicator_is_not_zero_points(demo_app):
    """The one-stop file scales each total to the indicators answered: a citizen who came
    in person skips "online service", and 16 of 16 points is 18 of 18, not 16."""
    t = campaign_target("p2motcua", "one-stop", "Đánh giá hồ sơ")
    one_stop = t.version
    assert one_stop.snapshot["scoring"]["scale_to_answered"] is True
    keys = [q["key"] for q in one_stop.snapshot["questions"] if q["type"] == "scale"]
    assert keys[-1] == "online"
    for answers in ([(k, 3, None) for k in keys[:-1]],                 # 16 of 16 → 18
                    [(k, 2, None) for k in keys[:-1]],                 # 8 of 16 → 9
                    [(k, 3 if i % 2 else 2, None) for i, k in enumerate(keys)]):  # 13 of 18
        submit_response(db.session, t, answers, channel="qr", language="vi", idempotency_key=secrets.token_hex(16),
                        submitted_at=datetime(2026, 6, 1, 3, tzinfo=timezone.utc))
    r = reports.make_report(db.session, request("p2motcua", "one-stop"))
    totals = [18, 9, 13]
    assert r["index"]["value"] == pytest.approx(40 / 3)  # not (16 + 8 + 13) / 3 = 12.33
    low, high = stats.t.interval(0.95, 2, loc=40 / 3, scale=stats.tstd(totals) / 3 ** 0.5)
    assert (r["index"]["low"], r["index"]["high"]) == pytest.approx((low, high))
    assert r["index"]["grade"]["vi"] == "Tốt"


def _monthly(code, counts, level=4, low_last=False):
    every = [k for ks in SIPAS_FACTORS.values() for k in ks]
    for (year, month), n in counts.items():
        for i in range(n):
            lv = 1 if (low_last and (year, month) == max(counts)) else (level if i % 4 else 5)
            add(code, [(k, lv, None) for k in every], datetime(year, month, 1 + i % 27, 3, tzinfo=timezone.utc))


def test_a_running_month_never_drives_the_change_or_the_trend(demo_app):
    """1 December: November had 38 answers, December one low one so far. The change is
    October → November (both complete), December is partial, and the trend leaves it out."""
    _monthly("p2motcua", {(2026, 10): 40, (2026, 11): 38})
    add("p2motcua", [(k, 1, None) for ks in SIPAS_FACTORS.values() for k in ks],
        datetime(2026, 12, 1, 1, tzinfo=timezone.utc))
    r = reports.make_report(db.session, request(date_from=date(2026, 1, 1), date_to=date(2026, 12, 31),
                                                as_of=date(2026, 12, 1)))
    trend = {t["period"]: t for t in r["trend"]}
    assert len(trend) == 12 and trend["2026-03"]["n"] == 0 and trend["2026-03"]["index"] is None  # empty months stay
    assert trend["2026-12"]["partial"] is True and trend["2026-12"]["n"] == 1
    assert all(not t["partial"] for p, t in trend.items() if p != "2026-12")
    assert (r["change"]["from"], r["change"]["to"], r["change"]["enough"]) == ("2026-10", "2026-11", True)
    assert r["change"]["unit"] == "share" and abs(r["change"]["difference"]) < 0.05
    assert r["change"]["p"] > 0.05  # the same answers both months: no "real change"
    assert r["trend_test"]["enough"] is False  # two complete months with n ≥ 10 are not a trend
    # a window ending at the running month: the same, December is never the headline change
    r2 = reports.make_report(db.session, request(date_from=date(2026, 11, 1), date_to=date(2026, 12, 31),
                                                 as_of=date(2026, 12, 1)))
    assert r2["change"]["to"] == "2026-11" and r2["change"]["enough"] is False
    assert r2["change"]["reason"] == "no earlier period"


def test_a_one_response_month_is_not_a_swing(demo_app):
    """A complete month with one response is compared with nothing: too few to compare."""
    _monthly("p2motcua", {(2026, 9): 30, (2026, 10): 1}, low_last=True)
    r = reports.make_report(db.session, request(date_from=date(2026, 9, 1), date_to=date(2026, 10, 31),
                                                as_of=date(2026, 12, 1)))
    assert (r["change"]["from"], r["change"]["to"]) == ("2026-09", "2026-10")
    assert r["change"]["enough"] is False and r["change"]["reason"] == "low n" and r["change"]["difference"] is None
    assert r["trend"][1]["low_n"] is True


def test_the_health_measures_follow_the_file(demo_app):
    """MOH: "other" on the return question is left out of the return rate's denominator,
    and the comprehensive rate, mean score, return rate and expectation are reported."""
    t = campaign_target("p2yte", "health-outpatient")
    health = t.version
    assert health.snapshot["scoring"]["return_exclude"] == ["other"]
    items = [q["key"] for q in health.snapshot["questions"] if q["type"] == "scale" and q.get("factor")]
    answers_for = {"definitely_return": 8, "maybe_return": 9, "never_return": 6, "other": 6}  # 17 of 23 return
    i = 0
    for option, n in answers_for.items():
        for _ in range(n):
            level = 5 if i % 3 else 3
            submit_response(db.session, t, [(k, level, None) for k in items] + [("return", None, option),
                                                                                  ("expectation", 80 + i % 5, None)],
                            channel="qr", language="vi", idempotency_key=secrets.token_hex(16),
                            submitted_at=datetime(2026, 6, 2, 3, tzinfo=timezone.utc))
            i += 1
    r = reports.make_report(db.session, request("p2yte", "health-outpatient"))
    moh = r["moh"]
    assert moh["return_rate"]["value"] == pytest.approx(17 / 23) and moh["return_rate"]["n"] == 23
    assert moh["return_rate"]["excluded"] == ["other"]
    assert moh["comprehensive"]["value"] == pytest.approx(19 / 29)  # every third respondent rated 3 throughout
    assert moh["mean_score"]["value"] == pytest.approx((19 * 5 + 10 * 3) / 29)
    assert moh["mean_score"]["low"] < moh["mean_score"]["value"] < moh["mean_score"]["high"]
    assert moh["expectation"]["n"] == 29 and moh["general"]["n"] == 29
