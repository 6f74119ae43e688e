"""Rollups are exact: what they hold equals what the raw answers say, however they grew."""
from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from analysis import counts
from analysis.instrument import scoring_of
from helpers import campaign_target, raw_tables, rolled_tables
from helpers import add_response, survey_target
from survey_app.extensions import db
from survey_app.models import (Answer, Response, RollupCell, RollupFactor, RollupMoments,
                               RollupResponse, RollupState)
from survey_app.services.collect.instruments import latest_version
from survey_app.services.collect.surveys import submit_response
from survey_app.services.reports import rollup

WARD = "/vn/qt/"


target = survey_target
add = add_response


def filters_for(key: str, **kw) -> counts.Filters:
    version = latest_version(db.session, key)
    base = dict(unit_path=WARD, version_ids=(version.id,), date_from=date(2025, 1, 1), date_to=date(2027, 12, 31))
    base.update(kw)
    return counts.Filters(**base)


raw = raw_tables
rolled = rolled_tables


def test_a_small_case_by_hand(demo_app):
    # 16:30 UTC on 31 Jan is 23:30 on 31 Jan in Vietnam; 17:30 UTC is already 1 Feb there.
    a = add("p2motcua", [("tc1", 5, None), ("tc2", 4, None), ("comment", None, "tốt")],
            datetime(2026, 1, 31, 16, 30, tzinfo=timezone.utc))
    add("p2motcua", [("tc1", 2, None), ("tc2", 4, None)], datetime(2026, 1, 31, 17, 30, tzinfo=timezone.utc))
    add("p1motcua", [("tc1", 3, None)], datetime(2026, 2, 2, 3, 0, tzinfo=timezone.utc), trust="suspect")
    done = rollup.catch_up(db.session)
    assert (done.responses, done.batches) == (3, 1)
    assert rollup.pending_count(db.session) == 0
    p2 = target("p2motcua").unit.id
    tables = rolled(filters_for("sipas"))
    assert tables.cells == {
        (p2, date(2026, 1, 1), "tc1", "i:5"): 1,
        (p2, date(2026, 1, 1), "tc2", "i:4"): 1,
        (p2, date(2026, 2, 1), "tc1", "i:2"): 1,
        (p2, date(2026, 2, 1), "tc2", "i:4"): 1,
    }  # by local month; free text is not counted; the suspect response is excluded by default
    # responses, scored, satisfied, all_satisfied, points_n, points_sum, points_sumsq
    # (unit, local month, local weekday (Saturday 31 Jan = 5, Sunday 1 Feb = 6), local hour)
    assert tables.responses == {(p2, date(2026, 1, 1), 5, 23): [1, 2, 2, 1, 0, 0, 0],
                                (p2, date(2026, 2, 1), 6, 0): [1, 2, 1, 0, 0, 0, 0]}
    assert tables == raw(filters_for("sipas"))
    with_suspect = rolled(filters_for("sipas", include_suspect=True))
    assert sum(v[0] for v in with_suspect.responses.values()) == 3
    # the catch-up is incremental: nothing pending, nothing added
    assert rollup.catch_up(db.session).responses == 0
    assert db.session.get(RollupState, "main").responses_rolled == 3
    assert db.session.get(RollupState, "main").last_response_id >= a


def test_factor_moments_and_points(demo_app):
    t = campaign_target("p2motcua", "one-stop", "Một cửa")
    one_stop, unit = t.version, t.unit
    scoring = scoring_of(one_stop.snapshot)
    items = scoring.factors["handling"]
    when = datetime(2026, 3, 10, 2, 0, tzinfo=timezone.utc)
    full = [(k, 3, None) for k in items]                       # 9 × 2 points = 18
    partial = [(k, 2, None) for k in items[:-1]]               # online skipped: 8 × 1 = 8
    for answers in (full, partial):
        submit_response(db.session, t, answers, channel="qr", language="vi",
                        idempotency_key=secrets.token_hex(16), submitted_at=when)
    rollup.catch_up(db.session)
    f = filters_for("one-stop", version_ids=(one_stop.id,))
    tables = rolled(f)
    [(key, values)] = tables.responses.items()
    # the file scales totals to the indicators answered: the skipped online indicator is
    # not 0 points, so 8 of 16 is 9 of 18; totals are stored in units of 1/280 point
    assert scoring.points_scale == 280
    assert values[4:] == [2, (18 + 9) * 280, (18 * 280) ** 2 + (9 * 280) ** 2]
    # only the complete respondent enters the factor moments
    [(fkey, (n, sums, cross))] = tables.factors.items()
    assert fkey == "handling" and n == 1
    assert sums == [3] * 9 and cross == [[9] * 9 for _ in range(9)]
    # stored under its unit and month: a window of the next month, or the other unit, has none
    assert rolled(filters_for("one-stop", version_ids=(one_stop.id,), date_from=date(2026, 4, 1))).factors == {}
    assert rolled(filters_for("one-stop", version_ids=(one_stop.id,), unit_path=unit.path + "x/")).factors == {}
    assert rolled(filters_for("one-stop", version_ids=(one_stop.id,), unit_path=unit.path)).factors["handling"][0] == 1
    assert tables == raw(f)


def test_reclassify_moves_a_response_between_trust_levels(demo_app):
    rid = add("p2motcua", [("tc1", 5, None)], datetime(2026, 4, 1, 2, tzinfo=timezone.utc))
    rollup.catch_up(db.session)
    assert sum(rolled(filters_for("sipas")).cells.values()) == 1
    assert rollup.reclassify(db.session, [rid], "suspect", "burst from one device") == 1
    assert rolled(filters_for("sipas")).cells == {}
    assert sum(rolled(filters_for("sipas", include_suspect=True)).cells.values()) == 1
    assert rolled(filters_for("sipas", include_suspect=True)) == raw(filters_for("sipas", include_suspect=True))
    assert db.session.get(Response, rid).trust_reason == "burst from one device"


# ------------------------------------------------------------------ the property

POINTS = ["p2motcua", "p1motcua"]
response_strategy = st.fixed_dictionaries({
    "point": st.sampled_from(POINTS),
    "minutes": st.integers(0, 60 * 24 * 120),
    "channel": st.sampled_from(["qr", "kiosk", "paper"]),
    "trust": st.sampled_from(["ok", "ok", "suspect"]),
    "values": st.lists(st.one_of(st.none(), st.integers(1, 5)), min_size=19, max_size=19),
    "catch_up_after": st.booleans(),
})


def _reset():
    for model in (RollupCell, RollupResponse, RollupFactor, RollupMoments, RollupState, Answer, Response):
        db.session.execute(delete(model))
    db.session.commit()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(batch=st.lists(response_strategy, min_size=1, max_size=25),
       window=st.tuples(st.integers(0, 60), st.integers(0, 120)),
       channels=st.sampled_from([None, ("qr",), ("qr", "kiosk")]),
       include_suspect=st.booleans(), batch_size=st.integers(1, 7))
def test_rollups_equal_raw_answers_on_random_data(demo_app, batch, window, channels, include_suspect, batch_size):
    _reset()
    keys = [q["key"] for q in latest_version(db.session, "sipas").snapshot["questions"] if q["type"] == "scale"]
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for item in batch:
        answers = [(k, v, None) for k, v in zip(keys, item["values"]) if v is not None]
        add(item["point"], answers, start + timedelta(minutes=item["minutes"]), item["channel"], item["trust"])
        if item["catch_up_after"]:
            rollup.catch_up(db.session, batch_size=batch_size)
    rollup.catch_up(db.session, batch_size=batch_size)
    first = date(2026, 1, 1) + timedelta(days=window[0])
    f = filters_for("sipas", date_from=first, date_to=first + timedelta(days=window[1]),
                    channels=channels, include_suspect=include_suspect)
    assert rolled(f) == raw(f)
    assert db.session.scalar(select(func.count()).select_from(Response).where(Response.rolled_up.is_(False))) == 0
