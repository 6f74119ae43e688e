"""The evaluation of alert rules on real responses, through the reports' own numbers:
below a threshold, a significant drop, a spike of negative answers, a petition near its
deadline; low n decides nothing; recovery closes the alert; a re-run duplicates nothing."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Alert, User
from survey_app.services.alerts import rules
from survey_app.services.alerts.evaluate import evaluate_all
from survey_app.services.alerts.mail import recipients
from survey_app.services.petitions.workdays import WorkdayCalendar

TODAY = date(2026, 11, 15)  # last complete month: October; the one before: September
OCT, SEP = date(2026, 10, 8), date(2026, 9, 9)


def actor() -> User:
    return db.session.scalar(select(User).where(User.username == "demo-admin"))


def rule(scope, point, kind, threshold=None, key="quick-feedback"):
    return rules.create_rule(db.session, scope, point.unit, kind=kind, instrument_key=key, threshold=threshold,
                             actor=actor())


def run(today=TODAY):
    return evaluate_all(db.session, today=today, calendar=WorkdayCalendar())


def alerts_of(r):
    return list(db.session.scalars(select(Alert).where(Alert.rule_id == r.id).order_by(Alert.id)))


def test_an_index_below_its_threshold_opens_one_alert_and_closes_when_it_recovers(point, admin_scope):
    r = rule(admin_scope, point, "below", 70)
    point.add(5, OCT, 10)
    point.add(2, OCT, 10)  # October: 10 of 20 satisfied = 50 %
    opened = run()
    [alert] = alerts_of(r)
    assert opened == [alert.id] and alert.status == "open"
    assert alert.detail["period"] == "2026-10" and alert.detail["n"] == 20 and alert.detail["value"] == 50.0
    assert alert.detail["low"] < 50 < alert.detail["high"]

    assert run() == [], "a re-run opens nothing new"
    assert alerts_of(r) == [alert] and alert.status == "open"

    point.add(5, OCT, 40)  # October now 50 of 60 = 83 %: recovered
    assert run() == []
    db.session.refresh(alert)
    assert alert.status == "resolved" and alert.resolved_at is not None
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 1


def test_a_low_n_month_raises_no_alert_and_does_not_close_one(point, admin_scope):
    r = rule(admin_scope, point, "below", 70)
    point.add(1, OCT, 9)  # 9 responses, all unhappy: under the report's low-n threshold (10)
    assert run() == [] and alerts_of(r) == []
    point.add(1, OCT, 1)  # the tenth: now it counts
    assert len(run()) == 1
    # November, low n, the month after: nothing is decided, the alert stays open
    point.add(5, date(2026, 11, 5), 3)
    assert run(date(2026, 12, 3)) == []
    assert [a.status for a in alerts_of(r)] == ["open"]


def test_a_significant_drop_alerts_and_a_noisy_one_does_not(point, admin_scope):
    r = rule(admin_scope, point, "drop", 0)
    point.add(5, SEP, 18)
    point.add(2, SEP, 2)    # September 90 % of 20
    point.add(5, OCT, 16)
    point.add(2, OCT, 4)    # October 80 % of 20: lower, within the noise
    assert run() == [] and alerts_of(r) == []
    point.add(2, OCT, 20)   # October 16 of 40 = 40 %: a real drop
    run()
    [alert] = alerts_of(r)
    assert (alert.detail["from"], alert.detail["to"]) == ("2026-09", "2026-10")
    assert alert.detail["difference"] == -50.0 and alert.detail["high"] < 0 and alert.detail["p"] < 0.05


def test_a_drop_rule_with_a_minimum_size_ignores_smaller_drops(point, admin_scope):
    r = rule(admin_scope, point, "drop", 60)
    point.add(5, SEP, 36)
    point.add(2, SEP, 4)
    point.add(5, OCT, 16)
    point.add(2, OCT, 24)  # 90 % → 40 %: significant, but 50 points < 60
    assert run() == [] and alerts_of(r) == []


def test_a_spike_of_negative_answers_in_the_last_day(point, admin_scope):
    r = rule(admin_scope, point, "spike", 0.01)
    yesterday = TODAY - timedelta(days=1)
    for back in range(1, 29):  # the 28 days before: 5 a day, 1 in 10 unhappy
        day = yesterday - timedelta(days=back)
        point.add(5, day, 4 if back % 2 else 5)
        if back % 2:
            point.add(2, day, 1)
    point.add(5, yesterday, 7)
    point.add(2, yesterday, 3)  # 3 of 10: high, but not beyond chance at 1 %
    assert run() == [] and alerts_of(r) == []
    point.add(2, yesterday, 6)  # 9 of 16 unhappy
    run()
    [alert] = alerts_of(r)
    d = alert.detail
    assert (d["day"], d["negative"], d["n"], d["baseline_n"]) == ("2026-11-14", 9, 16, 140)
    assert d["p"] < 0.01
    # the next day is quiet (and has too few responses): the spike has passed, nothing decided yet
    assert run(TODAY + timedelta(days=1)) == []
    assert alerts_of(r)[0].status == "open"
    point.add(5, TODAY, 10)
    run(TODAY + timedelta(days=1))
    assert alerts_of(r)[0].status == "resolved"


def test_petitions_near_their_deadline(point, admin_scope):
    from survey_app.services.petitions import operations as petitions

    filed = petitions.file_petition(db.session, point.unit, category="procedure", text="Góp ý về thủ tục")
    petition = filed.petition
    today = petition.due_on - timedelta(days=14)
    far = rules.create_rule(db.session, admin_scope, point.unit, kind="petition_deadline", instrument_key=None,
                            threshold=2, actor=actor())
    assert run(today) == [] and alerts_of(far) == []
    near = rules.create_rule(db.session, admin_scope, point.unit, kind="petition_deadline", instrument_key=None,
                             threshold=30, actor=actor())
    run(today)
    [alert] = alerts_of(near)
    assert alert.subject == f"petition:{petition.id}" and alert.detail["working_days_left"] > 2
    # answered and closed: the alert closes itself
    petition.status = "closed"
    db.session.commit()
    run(today)
    assert alerts_of(near)[0].status == "resolved"


def test_recipients_are_the_officials_with_access_and_an_address(point, admin_scope, officials):
    r = rule(admin_scope, point, "below", 70)
    point.add(2, OCT, 10)
    [alert_id] = run()
    alert = db.session.get(Alert, alert_id)
    assert recipients(db.session, alert) == ["quanly.p2@example.gov.vn"]  # not the other ward's manager
    officials["p2"].active = False
    db.session.commit()
    assert recipients(db.session, alert) == []
    assert r.unit_id == point.unit.id


@pytest.mark.parametrize("kind, threshold, field", [
    ("below", 150, "threshold"), ("below", -1, "threshold"), ("spike", 0.5, "threshold"),
    ("spike", 0, "threshold"), ("petition_deadline", 2.5, "threshold"), ("petition_deadline", 31, "threshold"),
    ("nonsense", 1, "kind"), ("below", float("nan"), "threshold"),
])
def test_bad_rules_are_refused_with_a_sentence(demo_app, point, admin_scope, kind, threshold, field):
    with demo_app.test_request_context("/"):
        with pytest.raises(rules.AlertError) as caught:
            rule(admin_scope, point, kind, threshold)
        assert caught.value.field == field and caught.value.message
        with pytest.raises(rules.AlertError) as caught:
            rule(admin_scope, point, "below", 70, key="no-such-survey")
        assert caught.value.field == "instrument"
    assert db.session.scalar(select(func.count()).select_from(rules.AlertRule)) == 0
