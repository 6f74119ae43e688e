"""The national portal's petition figures beside ours (issue #18 item 5): petition
satisfaction = (petitions − disliked more than liked − overdue − repeated) ÷ petitions, each
once; on-time shares per stage clock. Every expected number below is counted by hand from
the calendar and the marks written out here, never taken from the code's own output (both
databases)."""
from __future__ import annotations

from datetime import date

import pytest

from analysis.accountability import portal_petition_satisfaction, stage_on_time_shares
from helpers import fresh
from survey_app.extensions import db
from survey_app.models import Petition, PetitionVerdict
from survey_app.services.officials.scope import Scope
from survey_app.services.petitions import operations as service

PORTAL = service.PetitionSettings()  # 2 / 5 / 15 / 2 working days


def test_the_satisfaction_formula_on_a_worked_example():
    # Five petitions: #1 overdue and repeated (subtracted once), #2 disliked (2 no, 1 yes),
    # #3 a tie (3 and 3: not disliked), #4 nobody marked, #5 repeated only.
    # Excluded {1, 2, 5} = 3 → (5 − 3) ÷ 5 = 40.00 %.
    f = portal_petition_satisfaction([True, False, False, False, False], [True, False, False, False, True],
                                     [0, 1, 3, 0, 0], [0, 2, 3, 0, 0])
    assert (f.petitions, f.disliked, f.overdue, f.repeated, f.excluded, f.satisfaction) == (5, 1, 1, 2, 3, 40.0)
    # 2 of 3 kept → 66.666… → 66.67 (two decimals); none → N/A.
    assert portal_petition_satisfaction([True, False, False], [False] * 3, [0] * 3, [0] * 3).satisfaction == 66.67
    assert portal_petition_satisfaction([], [], [], []).satisfaction is None
    for bad in (([1], [False], [0], [0]), ([False], [False], [-1], [0]), ([False], [False, True], [0], [0])):
        with pytest.raises(ValueError):
            portal_petition_satisfaction(*bad)


def test_the_stage_shares_on_a_worked_example():
    shares = stage_on_time_shares([
        {"resolve": "on_time", "publish": "on_time"},
        {"resolve": "late", "publish": "late"},
        {"resolve": "overdue"},
        {"resolve": "paused", "info": "late"},
        {"refuse": "on_time"},
        {"resolve": "due_soon"},
    ])
    # resolve: 1 on time of 3 decided (on time, late, overdue; paused and due soon wait) = 33.33 %.
    assert (shares["resolve"].on_time, shares["resolve"].late, shares["resolve"].overdue,
            shares["resolve"].decided, shares["resolve"].share) == (1, 1, 1, 3, 33.33)
    assert (shares["publish"].decided, shares["publish"].share) == (2, 50.0)
    assert (shares["info"].share, shares["refuse"].share) == (0.0, 100.0)
    assert stage_on_time_shares([])["resolve"].share is None
    with pytest.raises(ValueError):
        stage_on_time_shares([{"resolve": "finished"}])
    with pytest.raises(ValueError):
        stage_on_time_shares([{"appeal": "on_time"}])


def marks(petition: Petition, satisfied: int, dissatisfied: int, suspect_satisfied: int = 0) -> None:
    n = 0
    for verdict, count, trust in (("satisfied", satisfied, "ok"), ("dissatisfied", dissatisfied, "ok"),
                                  ("satisfied", suspect_satisfied, "suspect")):
        for _ in range(count):
            n += 1
            db.session.add(PetitionVerdict(petition_id=petition.id, verdict=verdict, device_hash=f"{petition.id}-{n}",
                                           trust=trust, trust_reason="honeypot" if trust == "suspect" else None))
    db.session.commit()


@pytest.fixture
def world(place, file, h, in_request):
    """Eight petitions of ward p2's counter, all received on Monday 2 March 2026 (09:00 in
    Viet Nam). With the portal's limits (working days, none of them a holiday):
    resolve due Monday 23 March (3–6, 9–13, 16–20, 23 March); refuse due Wednesday 4 March;
    information due Monday 9 March; publish due 2 working days after the answer."""
    manager = h.official("demo-manager")
    scope = Scope.for_user(manager)
    t = h.utc

    def new():
        return file(place.p2_point, now=t(2026, 3, 2, 2), settings=PORTAL)

    def answer(p, answered, published):
        service.save_answer(db.session, scope, fresh(p), "Đã xử lý.", actor=manager, now=answered)
        service.send_answer(db.session, scope, fresh(p), actor=manager, now=answered)
        if published is not None:
            service.make_public(db.session, scope, fresh(p), actor=manager, now=published)

    a, b, c, d, e, f, g, m = (new() for _ in range(8))
    # A: answered Thu 12 Mar (on time), published Mon 16 Mar (due 16: on time); 1 yes, 2 no
    #    (and 3 suspect yes, not counted) → disliked.
    answer(a, t(2026, 3, 12, 3), t(2026, 3, 16, 3))
    marks(a, 1, 2, suspect_satisfied=3)
    # B: answered Wed 25 Mar (after the 23rd: late → overdue), published Thu 26 Mar (due Fri
    #    27: on time); a repeat of A → overdue and repeated, subtracted once.
    answer(b, t(2026, 3, 25, 3), t(2026, 3, 26, 3))
    # C: answered Thu 12 Mar (on time), published Fri 20 Mar (due Mon 16: late); 2 and 2 (a
    #    tie: not disliked); a repeat of A → repeated.
    answer(c, t(2026, 3, 12, 3), t(2026, 3, 20, 3))
    marks(c, 2, 2)
    # D: never answered; on 30 April it is past 23 March → overdue.
    # E: refused Tue 3 Mar (due Wed 4: on time); no resolve clock.
    service.refuse(db.session, scope, fresh(e), "Không thuộc thẩm quyền của phường.", actor=manager,
                   now=t(2026, 3, 3, 3))
    # F: information asked Tue 10 Mar (due Mon 9: late), still waiting: resolve paused.
    service.request_info(db.session, scope, fresh(f), "Xin cho biết số nhà.", actor=manager, now=t(2026, 3, 10, 3))
    # G: answered Thu 5 Mar (on time), published Fri 6 Mar (due Mon 9: on time); 3 yes, 1 no.
    answer(g, t(2026, 3, 5, 3), t(2026, 3, 6, 3))
    marks(g, 3, 1)
    # M: a duplicate merged into G: left out of the portal's figures (counted with G).
    for p, field, target in ((b, "repeat_of_id", a), (c, "repeat_of_id", a), (m, "merged_into_id", g)):
        setattr(fresh(p), field, target.id)
        db.session.commit()
    return place


def test_the_service_counts_the_portals_figures_by_hand(world):
    result = service.accountability(db.session, world.p2, date(2026, 3, 1), date(2026, 3, 31),
                                    as_of=date(2026, 4, 30), settings=PORTAL)
    portal = result["portal"]
    # Counted: A B C D E F G (M merged) = 7. Disliked {A}; overdue {B, D}; repeated {B, C};
    # excluded {A, B, C, D} = 4 → (7 − 4) ÷ 7 = 42.857… → 42.86 %.
    assert portal["satisfaction"] == {"petitions": 7, "disliked": 1, "overdue": 2, "repeated": 2, "excluded": 4,
                                      "share": 42.86}
    stages = portal["stages"]
    # refuse: E on time → 1/1. info: F late → 0/1.
    assert stages["refuse"] == {"on_time": 1, "late": 0, "overdue": 0, "decided": 1, "share": 100.0}
    assert stages["info"] == {"on_time": 0, "late": 1, "overdue": 0, "decided": 1, "share": 0.0}
    # resolve: A, C, G on time; B late; D overdue; F paused (not counted); E refused (none) → 3/5.
    assert stages["resolve"] == {"on_time": 3, "late": 1, "overdue": 1, "decided": 5, "share": 60.0}
    # publish: A, B, G on time; C late → 3/4.
    assert stages["publish"] == {"on_time": 3, "late": 1, "overdue": 0, "decided": 4, "share": 75.0}
    # Ours beside it: all eight received (M too).
    assert result["figures"]["received"] == 8
    # The ward p2 has the counter as its child: the same figures there.
    [counter] = [u for u in result["units"] if u["unit"]["code"] == "p2motcua"]
    assert counter["portal"]["satisfaction"]["share"] == 42.86
    # Not on public pages yet.
    assert service.accountability(db.session, world.p2, date(2026, 3, 1), date(2026, 3, 31), public=True,
                                  as_of=date(2026, 4, 30), settings=PORTAL)["portal"] is None


def test_nothing_to_count_is_na(place, in_request):
    portal = service.accountability(db.session, place.p1, date(2026, 3, 1), date(2026, 3, 31),
                                    as_of=date(2026, 4, 30), settings=PORTAL)["portal"]
    assert portal["satisfaction"]["share"] is None and portal["stages"]["resolve"]["share"] is None


def test_the_figures_page_shows_both_and_says_which_is_which(world, login):
    client = login("demo-manager")
    with client.get(f"/admin/petitions/figures?unit={world.p2.id}&from=2026-03-01&to=2026-03-31") as page:
        html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Số liệu của Hài Lòng" in html and "Cổng Dịch vụ công quốc gia (Quyết định 766/QĐ-TTg)" in html
    assert "42.86%" in html and "60.00%" in html and "75.00%" in html
