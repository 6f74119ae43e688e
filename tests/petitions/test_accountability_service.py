"""services.petitions.accountability: the JSON-ready figures the dashboard and the public
results page call, counted by hand from the petitions made here."""
from __future__ import annotations

import json
from datetime import date

from survey_app.extensions import db
from survey_app.services.officials.scope import Scope
from survey_app.services.petitions import operations as service


def _answer(petition, when, h):
    manager = h.official("demo-admin")
    scope = Scope.for_user(manager)
    service.save_answer(db.session, scope, petition, "Đã xử lý.", actor=manager, now=when)
    service.send_answer(db.session, scope, petition, actor=manager, now=when)


def test_figures_for_a_ward_and_its_points(place, file, h):
    # Received Friday 13 Feb 2026 (09:00 Viet Nam time): due Friday 6 March.
    first = file(place.p2_point, now=h.utc(2026, 2, 13, 2))
    _answer(first, h.utc(2026, 2, 24, 3), h)                       # 2 working days (23, 24 Feb), on time
    second = file(place.p2_point, now=h.utc(2026, 2, 13, 2))
    _answer(second, h.utc(2026, 3, 9, 3), h)                       # 11 working days, late
    file(place.p2_health, now=h.utc(2026, 2, 13, 2))               # never answered: overdue on 31 March
    file(place.p2_health, now=h.utc(2026, 3, 30, 2))               # due 13 April: open, not yet due
    file(place.p1_point, now=h.utc(2026, 2, 13, 2))                # another ward
    file(place.p2_point, now=h.utc(2025, 12, 31, 2))               # before the window
    file(place.p2_point, now=h.utc(2026, 3, 2, 2), trust="suspect", trust_reason="honeypot")

    result = service.accountability(db.session, place.p2, date(2026, 1, 1), date(2026, 3, 31),
                                    as_of=date(2026, 3, 31))
    json.dumps(result)  # JSON-ready
    assert result["unit"] == {"path": "/vn/qt/p2/", "name": {"vi": "Phường 2", "en": "Ward 2"}, "code": None}
    assert result["window"] == {"from": "2026-01-01", "to": "2026-03-31", "as_of": "2026-03-31"}
    f = result["figures"]
    assert (f["received"], f["answered"], f["answered_on_time"], f["open"], f["overdue_open"]) == (4, 2, 1, 2, 1)
    assert f["on_time"]["n"] == 3 and abs(f["on_time"]["share"] - 1 / 3) < 1e-12
    assert 0 < f["on_time"]["low"] < 1 / 3 < f["on_time"]["high"] < 1
    assert f["median_working_days"] == 6.5 and f["p90_working_days"] == 11.0
    assert f["withheld"] == []
    by_unit = {u["unit"]["code"]: u["figures"] for u in result["units"]}
    assert set(by_unit) == {"p2motcua", "p2yte", "p2tieuhoc"}
    assert (by_unit["p2motcua"]["received"], by_unit["p2motcua"]["answered"]) == (2, 2)
    assert (by_unit["p2yte"]["received"], by_unit["p2yte"]["overdue_open"]) == (2, 1)
    assert by_unit["p2tieuhoc"]["received"] == 0 and by_unit["p2tieuhoc"]["on_time"] is None
    with_suspect = service.accountability(db.session, place.p2, date(2026, 1, 1), date(2026, 3, 31),
                                          as_of=date(2026, 3, 31), include_suspect=True, children=False)
    assert with_suspect["figures"]["received"] == 5 and "units" not in with_suspect

    # As the same figures stood on 2 March: the late answer had not been given yet.
    earlier = service.accountability(db.session, place.p2, date(2026, 1, 1), date(2026, 3, 31),
                                     as_of=date(2026, 3, 2))["figures"]
    assert (earlier["answered"], earlier["overdue_open"]) == (1, 0)


def test_public_figures_withhold_small_cells(place, file, h):
    for _ in range(3):
        file(place.p2_point, now=h.utc(2026, 3, 2, 2))
    result = service.accountability(db.session, place.p2, date(2026, 3, 1), date(2026, 3, 31), public=True,
                                    as_of=date(2026, 3, 31))
    f = result["figures"]
    assert result["public"] is True
    assert f["received"] is None and f["overdue_open"] is None and f["on_time"] is None
    assert {"received", "overdue_open", "on_time"} <= set(f["withheld"])
    private = service.accountability(db.session, place.p2, date(2026, 3, 1), date(2026, 3, 31),
                                     as_of=date(2026, 3, 31))["figures"]
    assert (private["received"], private["overdue_open"]) == (3, 3)
