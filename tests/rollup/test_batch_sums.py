"""The catch-up sums a batch with array operations; what it stores must equal what the raw
answers give response by response (``analysis.counts.from_raw`` calls
``summarise_response`` and ``respondent_features`` for each response), for every shipped
instrument — points, factors, several question types — and for answers the form would
never let through (levels off the scale), which the raw path ignores too."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from analysis import counts
from helpers import campaign_target, raw_tables, rolled_tables
from survey_app.extensions import db
from survey_app.models import (Answer, Response, RollupCell, RollupCellMonth, RollupFactor, RollupMoments,
                               RollupResponse, RollupResponseMonth, RollupState)
from survey_app.services.collect.instruments import latest_version
from survey_app.services.collect.surveys import submit_response
from survey_app.services.reports import rollup

INSTRUMENTS = ["sipas", "one-stop", "health-outpatient", "education-parents", "quick-feedback", "papi-mirror"]
WARD = "/vn/qt/"
START = datetime(2026, 3, 1, tzinfo=timezone.utc)


raw = raw_tables
rolled = rolled_tables


def _reset():
    for model in (RollupCell, RollupCellMonth, RollupResponse, RollupResponseMonth, RollupFactor, RollupMoments,
                  RollupState, Answer, Response):
        db.session.execute(delete(model))
    db.session.commit()


def _answers(snapshot, draw) -> list[tuple[str, int | None, str | None]]:
    """Random answers to ``snapshot``'s questions: some skipped, some off the scale."""
    out = []
    for q in snapshot["questions"]:
        choice = draw(st.integers(0, 9))
        if choice == 0:
            continue
        kind = q["type"]
        if kind == "scale":
            levels = [lv["value"] for lv in snapshot["scales"][q["scale"]]["levels"]]
            value = draw(st.sampled_from(levels)) if choice > 1 else draw(st.sampled_from([-1, 0, 99]))
            out.append((q["key"], value, None))
        elif kind == "multi":
            keys = [o["key"] for o in q["options"]]
            for key in draw(st.lists(st.sampled_from(keys), min_size=1, max_size=len(keys), unique=True)):
                out.append((q["key"], None, key))
        elif kind == "single":
            out.append((q["key"], None, draw(st.sampled_from([o["key"] for o in q["options"]]))))
        elif kind in ("yesno", "rating", "percent", "number"):
            out.append((q["key"], draw(st.integers(0, 100)), None))
        else:
            out.append((q["key"], None, draw(st.sampled_from(["tốt", "chậm", "ok"]))))
    return out


@pytest.mark.parametrize("key", INSTRUMENTS)
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data(), batch_size=st.sampled_from([1, 3, 50]))
def test_batch_sums_equal_raw_answers_for_every_instrument(demo_app, key, data, batch_size):
    _reset()
    version = latest_version(db.session, key)
    targets = [campaign_target(code, key) for code in ("p1motcua", "p2motcua")]
    size = data.draw(st.integers(1, 30))
    for i in range(size):
        when = START + timedelta(minutes=data.draw(st.integers(0, 60 * 24 * 70)))
        submit_response(db.session, targets[i % 2], _answers(version.snapshot, data.draw),
                        channel=data.draw(st.sampled_from(["qr", "kiosk"])), language="vi",
                        idempotency_key=f"batch-{i}", trust=data.draw(st.sampled_from(["ok", "suspect"])),
                        submitted_at=when)
        if data.draw(st.integers(0, 5)) == 0:
            rollup.catch_up(db.session, batch_size=batch_size)
    rollup.catch_up(db.session, batch_size=batch_size)
    for include_suspect in (False, True):
        f = counts.Filters(unit_path=WARD, version_ids=(version.id,), date_from=date(2026, 2, 20),
                           date_to=date(2026, 6, 1), include_suspect=include_suspect)
        assert rolled(f) == raw(f)
    # Not vacuous: every response stored is in the window and below WARD.
    assert sum(sums[0] for sums in rolled(f).responses.values()) == size
    f = counts.Filters(unit_path=WARD, version_ids=(version.id,), date_from=date(2026, 3, 10),
                       date_to=date(2026, 4, 17), include_suspect=True)
    assert rolled(f) == raw(f)
