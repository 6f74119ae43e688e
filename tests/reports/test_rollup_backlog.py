"""Reports never wait on a long catch-up (issue #19 item 1): a request rolls up at most
``ROLLUP_REQUEST_MAX`` pending responses itself; with a longer backlog it takes no
catch-up lock, counts what is rolled up, and says how many responses wait and as of when.
After the every-minute job has run, the notice is gone and the figures include them."""
from __future__ import annotations

import io
from datetime import datetime, timezone

from openpyxl import load_workbook
from survey_app.extensions import db
from survey_app.jobs import get_jobs
from survey_app.models import RollupState
from survey_app.services.reports import rollup


def _rolled() -> int:
    db.session.expire_all()
    state = db.session.get(RollupState, rollup.STATE_NAME)
    return int(state.responses_rolled) if state else 0


def _dashboard(client, unit, h) -> str:
    with client.get(f"/reports/{unit.id}?{h.qs()}") as page:
        assert page.status_code == 200
        return page.get_data(as_text=True)


def test_a_backlog_above_the_bound_is_left_to_the_job_and_said(demo_app, place, sipas, login, h, monkeypatch):
    manager = login("demo-manager")
    unit = place.p2
    html = _dashboard(manager, unit, h)  # a small backlog (the history): caught up in the request
    assert 'id="rollup-backlog"' not in html
    assert rollup.pending_count(db.session) == 0
    before = _rolled()

    demo_app.config["ROLLUP_REQUEST_MAX"] = 3
    keys = h.sipas_keys()
    for day in range(1, 6):
        h.submit(place.p2_point, [(k, 5, None) for k in keys], datetime(2026, 6, day, 2, tzinfo=timezone.utc))
    assert rollup.pending_count(db.session) == 5

    locks = []
    real_lock, real_catch_up = rollup._lock_state, rollup.catch_up
    monkeypatch.setattr(rollup, "_lock_state", lambda s: locks.append("lock") or real_lock(s))
    monkeypatch.setattr(rollup, "catch_up", lambda s, **kw: locks.append("catch_up") or real_catch_up(s, **kw))
    html = _dashboard(manager, unit, h)
    assert locks == []
    assert _rolled() == before and rollup.pending_count(db.session) == 5
    assert 'id="rollup-backlog"' in html
    # as of the time the last rolled-up response was sent (the history's last, a suspect one,
    # 15 April 01:00 UTC = 08:00 in Viet Nam)
    assert "5 phiếu mới chưa được tính; số liệu tính đến 08:00 15/04/2026." in html
    with manager.get(f"/reports/{unit.id}/export.xlsx?{h.qs()}") as r:
        assert r.status_code == 200
        book = load_workbook(io.BytesIO(r.data))
    cells = [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert any(c.startswith("5 phiếu mới chưa được tính; số liệu tính đến") for c in cells)  # the summary's metadata
    assert locks == []
    n_before = _count_shown(html)

    monkeypatch.setattr(rollup, "_lock_state", real_lock)
    monkeypatch.setattr(rollup, "catch_up", real_catch_up)
    get_jobs(demo_app).rollup_catch_up.call_local()  # the every-minute job
    assert rollup.pending_count(db.session) == 0 and _rolled() == before + 5
    html = _dashboard(manager, unit, h)
    assert 'id="rollup-backlog"' not in html
    assert _count_shown(html) == n_before + 5


def _count_shown(html: str) -> int:
    import re

    match = re.search(r"<span>([\d.,\s]+) phiếu</span>", html)
    assert match, "no response count on the page"
    return int(re.sub(r"\D", "", match.group(1)))


def test_a_backlog_within_the_bound_is_caught_up_in_the_request(demo_app, place, sipas, login, h):
    demo_app.config["ROLLUP_REQUEST_MAX"] = 10_000
    assert rollup.pending_count(db.session) > 0
    html = _dashboard(login("demo-manager"), place.p2, h)
    assert 'id="rollup-backlog"' not in html
    assert rollup.pending_count(db.session) == 0
