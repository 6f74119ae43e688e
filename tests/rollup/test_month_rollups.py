"""Month-level rollups: reports read whole months from them and days only at the edges.

Reports from the rollups must equal reports from the raw answers for any window, and a
report's reads must not grow with the number of days or responses; a catch-up makes the
same number of statements whatever the size of its batch.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

import flask_migrate
import pytest
import sqlalchemy as sa
from sqlalchemy import delete, func, select

from analysis import counts
from helpers import add_response as add
from survey_app.extensions import db
from survey_app.models import RollupCell, RollupCellMonth, RollupResponse, RollupResponseMonth, RollupState
from survey_app.services.collect.instruments import latest_version
from survey_app.services.reports import build as reports
from survey_app.services.reports import rollup

TOWN = "/vn/qt/"
START = datetime(2026, 1, 1, 3, tzinfo=timezone.utc)  # 10:00 local


@contextmanager
def statements():
    """The SQL statements run on the engine inside the block."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def answers(level: int):
    keys = [q["key"] for q in latest_version(db.session, "sipas").snapshot["questions"] if q["type"] == "scale"]
    return [(k, 1 + (level + i) % 5, None) for i, k in enumerate(keys)]


def fill(days: int, per_day: int, first: datetime = START) -> None:
    for d in range(days):
        for i in range(per_day):
            add("p2motcua" if i % 2 else "p1motcua", answers(d + i), first + timedelta(days=d, minutes=37 * i))


def request(date_from: date, date_to: date, **kw) -> reports.ReportRequest:
    return reports.ReportRequest(unit=reports.find_unit(db.session, TOWN), instrument_key="sipas",
                                 date_from=date_from, date_to=date_to, **kw)


def filters(date_from: date, date_to: date) -> counts.Filters:
    return counts.Filters(unit_path=TOWN, version_ids=(latest_version(db.session, "sipas").id,),
                          date_from=date_from, date_to=date_to)


def test_month_split():
    assert counts.month_split(date(2026, 1, 1), date(2026, 3, 31)) == ((date(2026, 1, 1), date(2026, 4, 1)), [])
    assert counts.month_split(date(2026, 1, 31), date(2026, 3, 1)) == (
        (date(2026, 2, 1), date(2026, 3, 1)),
        [(date(2026, 1, 31), date(2026, 1, 31)), (date(2026, 3, 1), date(2026, 3, 1))])
    assert counts.month_split(date(2026, 2, 2), date(2026, 2, 27)) == (None, [(date(2026, 2, 2), date(2026, 2, 27))])
    assert counts.month_split(date(2026, 2, 1), date(2026, 2, 28)) == ((date(2026, 2, 1), date(2026, 3, 1)), [])
    assert counts.month_split(date(2024, 2, 1), date(2024, 2, 28)) == (None, [(date(2024, 2, 1), date(2024, 2, 28))])


@pytest.mark.parametrize("window", [(date(2026, 1, 1), date(2026, 3, 31)),     # whole months only
                                    (date(2026, 1, 15), date(2026, 3, 10)),    # both edges inside months
                                    (date(2026, 2, 3), date(2026, 2, 20)),     # inside one month
                                    (date(2026, 1, 31), date(2026, 2, 1)),     # two edge days, no whole month
                                    (date(2026, 2, 1), date(2026, 4, 10))])    # whole month then an edge
def test_report_from_rollups_equals_raw_for_windows_with_edges(demo_app, window):
    fill(days=100, per_day=2)
    rollup.catch_up(db.session, batch_size=37)  # batches that split days and months
    for period in ("month", "quarter"):
        req = request(*window, period=period, as_of=date(2026, 6, 1))
        assert reports.make_report(db.session, req) == reports.make_report(db.session, req, source="raw")


def test_whole_month_reads_do_not_grow_with_days_or_responses(demo_app):
    """A window of whole months reads only month-level rows, as many for 3 as for 9
    responses a day; only a window that starts inside a month reads day-level rows."""
    window = (date(2026, 1, 1), date(2026, 2, 28))
    fill(days=59, per_day=3)
    rollup.catch_up(db.session)
    with statements() as few:
        tables = counts.from_rollups(db.session.connection(), filters(*window))
    db.session.commit()
    month_rows = db.session.scalar(select(func.count()).select_from(RollupCellMonth))
    assert month_rows == 2 * 2  # two points × two months, however many days
    assert not any("FROM rollup_cell " in s or "FROM rollup_response " in s for s in few)

    fill(days=59, per_day=6)
    rollup.catch_up(db.session)
    with statements() as more:
        bigger = counts.from_rollups(db.session.connection(), filters(*window))
    db.session.commit()
    assert len(more) == len(few)
    assert db.session.scalar(select(func.count()).select_from(RollupCellMonth)) == month_rows
    assert sum(v[0] for v in bigger.responses.values()) == 3 * sum(v[0] for v in tables.responses.values())
    assert db.session.scalar(select(func.count()).select_from(RollupCell)) == 2 * 59  # a row per point and day

    with statements() as edge:
        counts.from_rollups(db.session.connection(), filters(date(2026, 1, 20), date(2026, 2, 28)))
    db.session.commit()
    assert any("FROM rollup_cell " in s for s in edge) and any("FROM rollup_response " in s for s in edge)


def test_catch_up_statements_do_not_grow_with_the_batch(demo_app):
    def catch_up_statements(per_day: int, first: datetime) -> int:
        fill(days=20, per_day=per_day, first=first)
        with statements() as seen:
            done = rollup.catch_up(db.session)
        assert done.batches == 1 and done.responses == 20 * per_day
        return len(seen)

    fill(days=1, per_day=1, first=START - timedelta(days=3))
    rollup.catch_up(db.session)  # the first catch-up also creates the state row
    small = catch_up_statements(1, START)
    large = catch_up_statements(12, START + timedelta(days=40))
    assert large == small


def test_clearing_the_state_row_clears_the_month_rollups(demo_app):
    fill(days=3, per_day=2)
    rollup.catch_up(db.session)
    assert db.session.scalar(select(func.count()).select_from(RollupResponseMonth)) > 0
    for model in (RollupCell, RollupResponse):
        db.session.execute(delete(model))
    db.session.execute(delete(RollupState))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(RollupCellMonth)) == 0
    assert db.session.scalar(select(func.count()).select_from(RollupResponseMonth)) == 0


def test_migration_0009_has_the_rollups_rebuilt(empty_app):
    """Rollups of the old layout are cleared and every response is rolled up again."""
    flask_migrate.upgrade(revision="0007_honest_numbers")
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO unit (id, slug, path, kind, name_vi, name_en, code, is_service_point, active, created_at) "
                             "VALUES (1, 'p', '/p/', 'one_stop', 'Điểm', 'Point', 'pt1', true, true, '2026-01-01 00:00:00')"))
        conn.execute(sa.text("INSERT INTO instrument (id, key, created_at) VALUES (1, 'x', '2026-01-01 00:00:00')"))
        conn.execute(sa.text("INSERT INTO instrument_version (id, instrument_id, number, content_hash, snapshot, source_name, created_at) "
                             "VALUES (1, 1, 1, 'h', '{}', 'x.toml', '2026-01-01 00:00:00')"))
        conn.execute(sa.text("INSERT INTO campaign (id, name, instrument_version_id, access_mode, status, created_at) "
                             "VALUES (1, 'c', 1, 'open', 'open', '2026-01-01 00:00:00')"))
        conn.execute(sa.text("INSERT INTO response (id, campaign_id, unit_id, instrument_version_id, channel, language, submitted_at, trust, idempotency_key, rolled_up) "
                             "VALUES (1, 1, 1, 1, 'qr', 'vi', '2026-01-02 03:00:00', 'ok', 'k1', true)"))
        conn.execute(sa.text("INSERT INTO rollup_cell (campaign_id, unit_id, instrument_version_id, day, channel, trust, question_key, value_key, n) "
                             "VALUES (1, 1, 1, '2026-01-02', 'qr', 'ok', 'q1', 'i:5', 1)"))
        conn.execute(sa.text("INSERT INTO rollup_state (name, responses_rolled) VALUES ('main', 1)"))
    flask_migrate.upgrade(revision="0009_month_rollups")
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM rollup_cell")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM rollup_state")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM response WHERE rolled_up = :t").bindparams(t=True)).scalar_one() == 0
    flask_migrate.downgrade(revision="0007_honest_numbers")
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM response")).scalar_one() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM rollup_cell")).scalar_one() == 0
