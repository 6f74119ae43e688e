"""Rate limits on the survey POSTs: per device and per service point, with memory storage
and with Redis. Over a limit: a 429 page in the visitor's language, and nothing stored."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from helpers import hidden_fields
from survey_app.extensions import db, limiter
from survey_app.models import Response
from survey_app.services.officials.lookup import find_unit
from survey_app.services.qr import kiosks

PHONE = "Mozilla/5.0 (Linux; Android 13; Nokia G21) Chrome/130.0 Mobile"


def stored() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Response))


def phone(app, name: str = PHONE):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = name
    return client


def test_a_device_over_its_limit_gets_a_translated_429_and_nothing_is_stored(limited, answer, token_campaign,
                                                                            issue):
    app = limited(RATELIMIT_SURVEY_DEVICE="3 per 10 minutes", RATELIMIT_SURVEY_POINT="100 per minute")
    if limited.storage == "redis":
        assert type(limiter.storage).__name__ == "RedisStorage"
    code, unspent = issue(token_campaign(), "p2tieuhoc", n=2)
    client = phone(app)
    assert answer(client, "/s/p2motcua").status_code == 303
    assert answer(client, f"/v/{code}").status_code == 303     # the limit is shared by every survey form
    assert answer(client, "/s/p2yte").status_code == 303

    # Issue #15: over the device limit, a poster (/s) answer is stored and flagged, not refused
    assert answer(client, "/s/p2motcua").status_code == 303
    assert stored() == 4
    newest = db.session.scalars(select(Response).order_by(Response.id.desc())).first()
    assert newest.trust == "suspect" and "over_limit" in newest.trust_reason
    # the other survey forms still refuse over the shared limit
    over = answer(client, f"/v/{unspent}")
    assert over.status_code == 429
    body = over.get_data(as_text=True)
    assert "Quá nhiều yêu cầu" in body and "Vui lòng chờ một lát rồi thử lại." in body
    assert int(over.headers["Retry-After"]) > 0
    english = answer(client, f"/v/{unspent}?lang=en")
    assert english.status_code == 429 and "Too many requests" in english.get_data(as_text=True)
    assert stored() == 4

    # reading is not limited, and another phone is not affected
    assert client.get("/s/p2motcua").status_code == 200
    assert answer(phone(app, PHONE + " other"), "/s/p2motcua").status_code == 303
    assert stored() == 5
    if limited.storage == "redis":
        prefix = app.config["RATELIMIT_KEY_PREFIX"]
        assert list(limiter.storage.storage.scan_iter(match=f"*{prefix}device:*")), "counted in Redis"


def test_a_point_over_its_burst_cap_refuses_every_device_and_the_kiosk(limited, answer):
    app = limited(RATELIMIT_SURVEY_DEVICE="100 per minute", RATELIMIT_SURVEY_POINT="3 per minute")
    for i in range(3):
        assert answer(phone(app, f"{PHONE} #{i}"), "/s/p2motcua").status_code == 303
    newcomer = phone(app, f"{PHONE} #new")
    over = answer(newcomer, "/s/p2motcua", extra={"q_comment": "Chờ hơi lâu"})
    assert over.status_code == 429 and int(over.headers["Retry-After"]) > 0
    body = over.get_data(as_text=True)
    # on the poster form the refusal keeps the answers and says when to try again (#15)
    assert "Điểm phục vụ này đang nhận rất nhiều câu trả lời" in body
    assert int(over.headers["Retry-After"]) <= 120, "a one-minute window (the limiter's Retry-After, in seconds)"
    wait = re.search(r"Ông/Bà vui lòng thử lại sau (\d+) phút", body)
    assert wait and int(wait.group(1)) in (1, 2), "the minutes to wait, rounded up"
    assert '<form method="post"' in body and "checked" in body and "Chờ hơi lâu" in body

    tablet = app.test_client()
    enrolment = kiosks.enrol_kiosk(db.session, find_unit(db.session, "p2motcua"), "Quầy 1")
    db.session.commit()
    page = tablet.get(enrolment.path)
    assert tablet.post(enrolment.path, data=hidden_fields(page.get_data(as_text=True))).status_code == 303
    assert answer(tablet, "/k/p2motcua").status_code == 429
    assert stored() == 3
    # the cap is per point
    assert answer(newcomer, "/s/p2yte").status_code == 303


def test_typing_codes_is_limited_per_device(limited):
    app = limited(RATELIMIT_CODE_ENTRY="2 per 10 minutes")
    client = phone(app)
    fields = hidden_fields(client.get("/v").get_data(as_text=True))
    statuses = [client.post("/v", data={**fields, "code": f"K7QM-3XDA-9F2P-HW8{c}"}).status_code for c in "ABC"]
    assert statuses == [404, 404, 429]


def test_limits_are_checked_when_the_service_starts():
    from survey_app.config import ConfigError, load_settings

    assert load_settings({"RATELIMIT_SURVEY_POINT": "60 per minute"})["RATELIMIT_SURVEY_POINT"] == "60 per minute"
    with pytest.raises(ConfigError, match="RATELIMIT_SURVEY_DEVICE must look like"):
        load_settings({"RATELIMIT_SURVEY_DEVICE": "five a minute"})
