"""Suspicious submissions are stored and flagged (trust = 'suspect', trust_reason), never
silently dropped: honeypot, too fast, a burst from one device, a run of identical answers
far above the point's usual rate. And no raw IP is ever stored."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from flask import current_app
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import insert, select

from helpers import hidden_fields
from survey_app.extensions import db
from survey_app.models import Response
from survey_app.ratelimit import daily_device_hash
from survey_app.services.officials.lookup import find_unit
from survey_app.services.qr import kiosks

PHONE = "Mozilla/5.0 (Linux; Android 14; SM-A155F) Chrome/131.0 Mobile"


def trust_rows():
    db.session.expire_all()
    return db.session.execute(select(Response.trust, Response.trust_reason).order_by(Response.id)).all()


def device(client, ua: str):
    """A client that looks like another phone."""
    client.environ_base["HTTP_USER_AGENT"] = ua
    return client


# ------------------------------------------------------------------ honeypot

def test_the_honeypot_is_hidden_by_css_and_filling_it_flags(client, answer):
    html = client.get("/s/p2motcua").get_data(as_text=True)
    field = '<input type="text" name="website" value="" autocomplete="off" tabindex="-1">'
    assert field in html
    assert '<div class="hp" aria-hidden="true">' in html
    with client.get("/static/site.css") as css:
        assert ".hp{position:absolute;left:-9999px" in css.get_data(as_text=True)

    assert answer(client, "/s/p2motcua", {"website": "http://cheap-pills.example"}).status_code == 303
    assert trust_rows() == [("suspect", "honeypot")]


def test_an_empty_honeypot_is_fine(client, answer):
    assert answer(client, "/s/p2motcua", {"website": "  "}).status_code == 303
    assert trust_rows() == [("ok", None)]


# ------------------------------------------------------------------ minimum fill time

def backdate(form_token: str, seconds: int) -> str:
    """The same form token, as if it had been served ``seconds`` ago."""
    class Earlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds

    secret = current_app.config["SECRET_KEY"]
    payload = URLSafeTimedSerializer(secret, salt="hailong.survey-form").loads(form_token)
    return URLSafeTimedSerializer(secret, salt="hailong.survey-form", signer=Earlier).dumps(payload)


def test_a_form_sent_faster_than_the_minimum_fill_time_is_flagged(demo_app, variant, full_answers, open_campaign):
    # an hour: no test run is that slow, so the "too fast" case cannot pass by accident
    app = variant(SURVEY_MIN_FILL_SECONDS=3600)
    client = app.test_client()
    answers = full_answers(open_campaign("p2motcua").instrument_version.snapshot)
    fields = hidden_fields(client.get("/s/p2motcua").get_data(as_text=True))
    assert client.post("/s/p2motcua", data={**fields, **answers}).status_code == 303

    fields = hidden_fields(client.get("/s/p2motcua").get_data(as_text=True))
    fields["form_token"] = backdate(fields["form_token"], 2 * 3600)
    assert client.post("/s/p2motcua", data={**fields, **answers}).status_code == 303
    assert trust_rows() == [("suspect", "too_fast"), ("ok", None)]


def test_fixing_an_answer_after_an_error_counts_from_the_first_page(demo_app, variant, full_answers, open_campaign):
    app = variant(SURVEY_MIN_FILL_SECONDS=3600)
    client = app.test_client()
    definition = open_campaign("p2motcua").instrument_version.snapshot
    answers = full_answers(definition)
    fields = hidden_fields(client.get("/s/p2motcua").get_data(as_text=True))
    fields["form_token"] = backdate(fields["form_token"], 2 * 3600)  # the person got the form long ago
    missing = "q_" + next(q["key"] for q in definition["questions"] if q["required"])
    first = client.post("/s/p2motcua", data={**fields, **{k: v for k, v in answers.items() if k != missing}})
    assert first.status_code == 422
    again = hidden_fields(first.get_data(as_text=True))  # a fresh form token, sent back at once
    assert client.post("/s/p2motcua", data={**again, **answers}).status_code == 303
    assert trust_rows() == [("ok", None)]


# ------------------------------------------------------------------ bursts from one device

def test_a_burst_from_one_device_is_flagged_whole(client, answer, demo_app):
    device(client, PHONE)
    for _ in range(2):
        assert answer(client, "/s/p2motcua").status_code == 303
    assert trust_rows() == [("ok", None), ("ok", None)]
    assert answer(client, "/s/p2motcua").status_code == 303
    assert trust_rows() == [("suspect", "device_burst")] * 3

    # another phone at the same counter, and this phone at another point, are not part of it
    other = device(demo_app.test_client(), PHONE.replace("SM-A155F", "Redmi Note 13"))
    assert answer(other, "/s/p2motcua").status_code == 303
    assert answer(client, "/s/p2yte").status_code == 303
    assert trust_rows()[3:] == [("ok", None), ("ok", None)]


def test_only_a_keyed_daily_hash_of_the_device_is_stored(client, answer, demo_app):
    device(client, PHONE)
    answer(client, "/s/p2motcua")
    row = db.session.execute(select(Response.__table__)).one()
    values = [str(v) for v in row]
    assert not any("127.0.0.1" in v or "Android" in v for v in values)
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    cookie = client.get_cookie("hl_device").value  # issue #15: the device key has the device cookie too
    assert not any(cookie in v for v in values)
    assert row.device_hash == daily_device_hash("127.0.0.1", PHONE, demo_app.config["SECRET_KEY"], today,
                                                cookie=cookie)
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%d")
    assert row.device_hash != daily_device_hash("127.0.0.1", PHONE, demo_app.config["SECRET_KEY"], tomorrow)


def test_a_parent_with_a_code_per_child_on_one_phone_is_not_a_burst(client, answer, token_campaign, issue):
    device(client, PHONE)
    for code in issue(token_campaign(), "p2tieuhoc", n=3):
        assert answer(client, f"/v/{code}").status_code == 303
    assert trust_rows() == [("ok", None)] * 3


# ------------------------------------------------------------------ runs of identical answers

def phones(app, n):
    return [device(app.test_client(), f"{PHONE} build/{i}") for i in range(n)]


def test_a_run_of_identical_answers_far_above_the_usual_rate_is_flagged(demo_app, variant, answer):
    app = variant(SURVEY_IDENTICAL_MIN=4)
    for client in phones(app, 3):
        assert answer(client, "/s/p2motcua").status_code == 303
    assert trust_rows() == [("ok", None)] * 3
    fourth, fifth = phones(app, 5)[3:]
    assert answer(fourth, "/s/p2motcua").status_code == 303
    assert trust_rows() == [("suspect", "identical_run")] * 4
    # a different answer set is not part of the run
    assert answer(fifth, "/s/p2motcua", {"q_tc1": "3"}).status_code == 303
    assert trust_rows()[4] == ("ok", None)


def test_a_busy_point_has_a_higher_bar(demo_app, variant, answer, open_campaign, unit_by_code):
    campaign, unit = open_campaign("p2motcua"), unit_by_code("p2motcua")
    two_days_ago = datetime.now(timezone.utc) - timedelta(days=2)
    # 400 answers in the past week: about 6 per 10 minutes of opening hours, so 4 alike is normal
    db.session.execute(insert(Response), [
        {"campaign_id": campaign.id, "unit_id": unit.id, "instrument_version_id": campaign.instrument_version_id,
         "channel": "qr", "language": "vi", "submitted_at": two_days_ago + timedelta(seconds=i), "trust": "ok",
         "idempotency_key": f"past-{i:026d}"} for i in range(400)])
    db.session.commit()
    app = variant(SURVEY_IDENTICAL_MIN=4)
    for client in phones(app, 4):
        assert answer(client, "/s/p2motcua").status_code == 303
    assert trust_rows()[400:] == [("ok", None)] * 4


@pytest.mark.parametrize("setting", ["SURVEY_BURST_DEVICE", "SURVEY_IDENTICAL_MIN"])
def test_the_thresholds_are_settings(setting):
    from survey_app.config import ConfigError, load_settings

    assert load_settings({setting: "5"})[setting] == 5
    with pytest.raises(ConfigError, match=f"{setting} must be at least 2"):
        load_settings({setting: "1"})


def test_a_kiosk_tapped_alike_again_and_again_is_flagged(demo_app, variant, answer):
    app = variant(SURVEY_IDENTICAL_MIN=3)
    tablet = app.test_client()
    enrolment = kiosks.enrol_kiosk(db.session, find_unit(db.session, "p2yte"), "Quầy tiếp đón")
    db.session.commit()
    page = tablet.get(enrolment.path)
    assert tablet.post(enrolment.path, data=hidden_fields(page.get_data(as_text=True))).status_code == 303
    for _ in range(3):
        assert answer(tablet, "/k/p2yte").status_code == 303
    assert trust_rows() == [("suspect", "identical_run")] * 3
