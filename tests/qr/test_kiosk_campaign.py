"""Issue #15: a kiosk shows its point's quick survey unless a manager chose another campaign.

The rule (``services/qr/kiosks.kiosk_target``): the chosen campaign while it is open at the
point; otherwise the point's open campaign of the quick instrument (``quick-feedback``);
otherwise the point's first open campaign. A poster prefers any other survey to the quick
one. The demo gives each one-stop counter a quick campaign (``demo.add_quick_feedback``)
without changing what its poster shows.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from helpers import hidden_fields
from survey_app.extensions import db
from survey_app.models import Campaign, Kiosk, Response, Unit
from survey_app.services.collect.instruments import latest_version
from survey_app.services.data import demo
from survey_app.services.officials.lookup import find_unit
from survey_app.services.qr import kiosks

NOW = datetime.now(timezone.utc)


def enrol_client(client, code: str = "p2motcua") -> Kiosk:
    """Enrol this client's 'tablet' for a point; returns its kiosk."""
    enrolment = kiosks.enrol_kiosk(db.session, find_unit(db.session, code), "Quầy 1")
    db.session.commit()
    page = client.get(enrolment.path)
    assert client.post(enrolment.path, data=hidden_fields(page.get_data(as_text=True))).status_code == 303
    return db.session.get(Kiosk, enrolment.kiosk.id)


def add_campaign(key: str, code: str = "p2motcua", *, name: str | None = None, starts_at=None,
                 status: str = "open", access_mode: str = "open") -> Campaign:
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    campaign = Campaign(name=name or f"{key} – {unit.name_vi}", instrument_version=latest_version(db.session, key),
                        access_mode=access_mode, status=status,
                        starts_at=starts_at if starts_at is not None else NOW - timedelta(days=1))
    campaign.units.append(unit)
    db.session.add(campaign)
    db.session.commit()
    return campaign


def shown_campaign(client, url: str = "/k/p2motcua") -> int:
    """The campaign the page's form token is bound to (what the answer would be stored for)."""
    from flask import current_app

    page = client.get(url)
    assert page.status_code == 200, page.status_code
    token = hidden_fields(page.get_data(as_text=True))["form_token"]
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="hailong.survey-form").loads(token)["c"]


def sipas_at(code: str = "p2motcua") -> Campaign:
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    return db.session.scalar(select(Campaign).where(Campaign.units.contains(unit), Campaign.access_mode == "open")
                             .order_by(Campaign.id))


def test_without_a_quick_campaign_the_kiosk_shows_the_first_open_one_as_before(client):
    enrol_client(client)
    assert shown_campaign(client) == sipas_at().id
    assert shown_campaign(client, "/s/p2motcua") == sipas_at().id


def test_a_poster_keeps_its_full_survey_beside_a_newer_quick_one(client):
    enrol_client(client)
    quick = add_campaign("quick-feedback", starts_at=NOW - timedelta(minutes=5))
    assert shown_campaign(client, "/s/p2motcua") == sipas_at().id
    assert shown_campaign(client) == quick.id
    sipas_at().status = "paused"  # the quick one alone: the poster shows it too
    db.session.commit()
    assert shown_campaign(client, "/s/p2motcua") == quick.id


def test_the_quick_campaign_wins_over_a_newer_full_survey(client, answer):
    kiosk = enrol_client(client)
    quick = add_campaign("quick-feedback", starts_at=NOW - timedelta(days=30))
    newer = add_campaign("one-stop", starts_at=NOW - timedelta(days=1))
    assert shown_campaign(client) == quick.id
    assert shown_campaign(client, "/s/p2motcua") == newer.id, "a poster still shows the most recently started"
    assert answer(client, "/k/p2motcua").status_code == 303
    stored = db.session.scalars(select(Response)).one()
    assert (stored.campaign_id, stored.channel) == (quick.id, "kiosk")
    assert kiosks.kiosk_target(db.session, "p2motcua", kiosk).campaign.id == quick.id


def test_a_chosen_campaign_is_shown_while_it_is_open(client, answer):
    kiosk = enrol_client(client)
    quick = add_campaign("quick-feedback")
    chosen = add_campaign("one-stop", name="Đánh giá Một cửa tại quầy", starts_at=NOW - timedelta(days=60))
    kiosk.campaign_id = chosen.id
    db.session.commit()
    assert shown_campaign(client) == chosen.id
    assert answer(client, "/k/p2motcua").status_code == 303
    assert db.session.scalars(select(Response.campaign_id)).all() == [chosen.id]

    chosen.status = "paused"  # not open: back to the quick one, the choice is kept
    db.session.commit()
    assert shown_campaign(client) == quick.id
    db.session.expire_all()
    assert db.session.get(Kiosk, kiosk.id).campaign_id == chosen.id

    chosen.status = "open"
    chosen.ends_at = NOW - timedelta(minutes=1)  # ended
    db.session.commit()
    assert shown_campaign(client) == quick.id


def test_a_chosen_campaign_of_another_point_is_never_shown(client):
    kiosk = enrol_client(client)
    elsewhere = add_campaign("quick-feedback", code="p1motcua")
    kiosk.campaign_id = elsewhere.id
    db.session.commit()
    assert shown_campaign(client) == sipas_at().id


def test_a_chosen_campaign_that_opens_later_waits_and_deleting_it_clears_the_choice(client):
    kiosk = enrol_client(client)
    later = add_campaign("one-stop", starts_at=NOW + timedelta(days=3))
    kiosk.campaign_id = later.id
    db.session.commit()
    assert shown_campaign(client) == sipas_at().id
    db.session.delete(later)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Kiosk, kiosk.id).campaign_id is None, "ON DELETE SET NULL"
    assert shown_campaign(client) == sipas_at().id


def test_the_demo_gives_each_one_stop_counter_a_quick_campaign_and_keeps_its_posters(demo_app, client):
    counters = [code for _p, _s, kind, _vi, _en, code, _x, _a in demo.TREE if kind == "one_stop"]
    assert counters == ["pqtttpv", "pqtdtn1", "p2motcua", "p1motcua"]
    posters = {code: shown_campaign(client, f"/s/{code}") for code in counters}
    assert demo.add_quick_feedback(db.session) == 4
    assert demo.add_quick_feedback(db.session) == 0, "loading again adds nothing"
    for code in counters:
        assert shown_campaign(client, f"/s/{code}") == posters[code], code
    for code in ("p2motcua", "pqtttpv"):  # as demo_history does: the full survey started two years ago
        sipas_at(code).starts_at = NOW - timedelta(days=800)
    db.session.commit()
    for code in counters:
        assert shown_campaign(client, f"/s/{code}") == posters[code], code
        target = kiosks.kiosk_target(db.session, code, None)
        assert target.version.snapshot["key"] == "quick-feedback", code
        assert target.campaign.name == f"Đánh giá nhanh tại quầy – {target.unit.name_vi}"
    other = db.session.scalar(select(func.count()).select_from(Campaign).join(Campaign.units).where(
        Unit.kind != "one_stop", Campaign.name.like("Đánh giá nhanh%")))
    assert other == 0, "only the one-stop counters"
    kiosk = enrol_client(client, "p1motcua")
    assert shown_campaign(client, "/k/p1motcua") == kiosks.kiosk_target(db.session, "p1motcua", kiosk).campaign.id
