"""The demo's answers look like real ones: a factor's criteria hang together (Cronbach's
alpha 0.7–0.9, checked against an independent formula), and one-stop counters take answers
only while they are open: never on a Sunday, some on Saturday morning."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import select

from analysis.reliability import cronbach_alpha_from_data
from survey_app.extensions import db
from survey_app.models import Answer, Dossier, Instrument, InstrumentVersion, Response, Unit
from survey_app.services.data import demo_dossiers, demo_history
from survey_app.services.data.demo_hours import is_open, next_open
from survey_app.services.reports import build as reports

NOW = datetime(2026, 11, 15, 5, tzinfo=timezone.utc)
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
TOWN = "/vn/qt/"
INSTRUMENTS = ("sipas", "health-outpatient", "education-parents", "one-stop")


@pytest.fixture
def demo_data(demo_app):
    assert demo_history.add_history(db.session, months=24, now=NOW) > 0
    assert demo_dossiers.add_dossiers(db.session, months=6, now=NOW) > 0
    return demo_app


def alpha_by_hand(m: np.ndarray) -> float:
    """Cronbach (1951): α = k/(k − 1) · (1 − Σ var(item) / var(total)), sample variances."""
    k = m.shape[1]
    return k / (k - 1) * (1 - m.var(axis=0, ddof=1).sum() / m.sum(axis=1).var(ddof=1))


def factor_matrices(key: str) -> dict[str, np.ndarray]:
    """Respondents × criteria of each factor of instrument ``key`` (its required scale
    questions), demo responses that answered every one of them."""
    version = db.session.scalars(select(InstrumentVersion).join(Instrument).where(Instrument.key == key)
                                 .order_by(InstrumentVersion.id)).all()[-1]
    items: dict[str, list[str]] = defaultdict(list)
    for q in version.snapshot["questions"]:
        if q["type"] == "scale" and q.get("factor") and q["required"]:
            items[q["factor"]].append(q["key"])
    rows = db.session.execute(select(Answer.response_id, Answer.question_key, Answer.value_int)
                              .join(Response, Response.id == Answer.response_id)
                              .where(Response.instrument_version_id == version.id,
                                     Response.idempotency_key.like("demo-%"))).all()
    by_response: dict[int, dict[str, int]] = defaultdict(dict)
    for rid, qkey, value in rows:
        by_response[rid][qkey] = value
    out = {}
    for factor, keys in items.items():
        complete = [[r[k] for k in keys] for r in by_response.values() if all(r.get(k) is not None for k in keys)]
        out[factor] = np.array(complete, dtype=float)
    return out


def test_every_factor_of_the_demo_hangs_together_like_real_answers(demo_data):
    measured, checked = {}, set()
    for key in INSTRUMENTS:
        matrices = factor_matrices(key)
        assert matrices, key
        report = reports.make_report(db.session, reports.ReportRequest(
            unit=reports.find_unit(db.session, TOWN), instrument_key=key, date_from=date(2024, 1, 1),
            date_to=date(2026, 11, 14), as_of=date(2026, 11, 16)))
        from_rollups = {r["factor"]: r["alpha"] for r in report["reliability"]}
        for factor, m in matrices.items():
            assert m.shape[0] >= 100 and m.shape[1] >= 2, (key, factor, m.shape)
            alpha = alpha_by_hand(m)
            measured[key, factor] = round(alpha, 3)
            assert 0.7 <= alpha <= 0.9, (key, factor, alpha)
            assert cronbach_alpha_from_data(m).alpha == pytest.approx(alpha, rel=1e-9)
            # the report's alpha (analysis.reliability from the rollups' sufficient statistics)
            if from_rollups.get(factor) is not None:
                assert 0.7 <= from_rollups[factor] <= 0.9, (key, factor, from_rollups[factor])
                checked.add((key, factor))
    # every SIPAS factor and the one-stop evaluation's single factor were measured
    assert {f for k, f in measured if k == "sipas"} == {"access", "procedures", "staff", "results", "feedback"}
    assert ("one-stop", "handling") in measured
    assert set(measured) <= checked


def _open_by_the_rules(local: datetime) -> bool:
    """Office hours written out independently of ``demo_hours``: Mon–Fri 7:00–11:30 and
    13:30–17:00, Saturday 7:30–11:30, Sunday closed."""
    t, day = local.time(), local.weekday()
    if day < 5:
        return time(7) <= t < time(11, 30) or time(13, 30) <= t < time(17)
    return day == 5 and time(7, 30) <= t < time(11, 30)


def _local(at: datetime) -> datetime:
    return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(ZONE)


def test_one_stop_counters_take_answers_and_dossiers_only_while_open(demo_data):
    rows = db.session.execute(select(Response.submitted_at, Unit.code).join(Unit, Unit.id == Response.unit_id)
                              .where(Unit.kind == "one_stop", Response.idempotency_key.like("demo-%"))).all()
    assert len({code for _at, code in rows}) == 4  # both former counters, the centre and its reception point
    local = [_local(at) for at, _code in rows]
    assert len(local) > 1000
    assert not [t for t in local if t.weekday() == 6], "a one-stop counter is closed on Sunday"
    assert all(_open_by_the_rules(t) for t in local)
    saturday = [t for t in local if t.weekday() == 5]
    assert saturday and all(t.hour < 12 for t in saturday)
    # the health stations are not counters: their answers keep every day of the week
    health = db.session.execute(select(Response.submitted_at).join(Unit, Unit.id == Response.unit_id)
                                .where(Unit.kind == "health", Response.idempotency_key.like("demo-%"))).scalars()
    assert 6 in {_local(at).weekday() for at in health}
    # the served dossiers: received and handed back while the counter is open
    dossiers = db.session.scalars(select(Dossier)).all()
    assert len(dossiers) >= 100
    for d in dossiers:
        assert _open_by_the_rules(_local(d.received_at)), d.code
        if d.returned_at is not None:
            assert _open_by_the_rules(_local(d.returned_at)), d.code
    returned = [d for d in dossiers if d.returned_at is not None]
    assert 0.02 <= sum(d.late for d in returned) / len(returned) <= 0.25
    rated = [d for d in returned if d.response_id]
    assert len(rated) >= 30


@pytest.mark.parametrize(("utc", "expected"), [
    (datetime(2026, 11, 16, 2, 0, tzinfo=timezone.utc), datetime(2026, 11, 16, 2, 0, tzinfo=timezone.utc)),  # Mon 9:00
    (datetime(2026, 11, 16, 5, 0, tzinfo=timezone.utc), datetime(2026, 11, 16, 6, 30, tzinfo=timezone.utc)),  # lunch
    (datetime(2026, 11, 21, 5, 0, tzinfo=timezone.utc), datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)),  # Sat 12:00
    (datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc), datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)),  # Sunday
    (datetime(2026, 11, 20, 23, 0, tzinfo=timezone.utc), datetime(2026, 11, 21, 0, 30, tzinfo=timezone.utc)),  # Sat 6:00
    (datetime(2026, 11, 20, 12, 0), datetime(2026, 11, 21, 0, 30, tzinfo=timezone.utc)),  # naive = UTC, Fri 19:00
])
def test_next_open(utc, expected):
    assert next_open(utc) == expected
    assert is_open(expected) and _open_by_the_rules(_local(expected))
