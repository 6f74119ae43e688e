"""Issue #15: a poster (/s) answer over the device or address limit is stored and flagged,
not refused; only a plain flood is refused, and then the form comes back with the answers
filled in and the minutes to wait. The client address behind trusted proxies, the device
cookie, and nothing raw stored."""
from __future__ import annotations

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Response

PHONE = "Mozilla/5.0 (Linux; Android 13; Nokia G21) Chrome/130.0 Mobile"


def rows():
    db.session.expire_all()
    return db.session.execute(select(Response.trust, Response.trust_reason).order_by(Response.id)).all()


def phone(app, agent: str = PHONE, address: str = "203.0.113.7"):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = agent
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_the_sixth_to_twelfth_answer_of_one_device_are_stored_and_flagged(limited, answer):
    app = limited(RATELIMIT_SURVEY_DEVICE="5 per 10 minutes", RATELIMIT_SURVEY_POINT="100 per minute")
    client = phone(app)
    statuses = [answer(client, "/s/p2motcua").status_code for _ in range(12)]
    assert statuses == [303] * 12, "nothing a real citizen would send is refused"
    stored = rows()
    assert len(stored) == 12
    for trust, reason in stored[5:]:
        assert trust == "suspect" and "over_limit" in reason.split(",")
    assert all("over_limit" not in (reason or "") for _trust, reason in stored[:5])


def test_a_flood_is_refused_with_the_answers_kept_and_the_minutes_to_wait(limited, answer):
    app = limited(RATELIMIT_SURVEY_DEVICE="2 per 10 minutes", RATELIMIT_SURVEY_FLOOD_DEVICE="3 per 10 minutes",
                  RATELIMIT_SURVEY_POINT="100 per minute")
    client = phone(app)
    assert [answer(client, "/s/p2motcua").status_code for _ in range(3)] == [303] * 3
    over = answer(client, "/s/p2motcua", extra={"q_comment": "Cán bộ rất tận tình, cảm ơn"})
    assert over.status_code == 429 and int(over.headers["Retry-After"]) > 0
    body = over.get_data(as_text=True)
    assert "Ông/Bà vui lòng thử lại sau 10 phút" in body
    assert "429" not in body.split("<body", 1)[1]
    assert '<form method="post"' in body and 'checked' in body, "the posted answers are filled in"
    assert len(rows()) == 3


def test_proxy_headers_are_ignored_by_default_and_read_when_configured(variant):
    from flask import request

    plain = variant()
    assert plain.config["TRUSTED_PROXIES"] == 0

    @plain.get("/_addr")
    def _addr():
        return request.remote_addr or ""
    headers = {"X-Forwarded-For": "198.51.100.9"}
    assert plain.test_client().get("/_addr", headers=headers).get_data(as_text=True) == "127.0.0.1"

    proxied = variant(TRUSTED_PROXIES=1)
    proxied.add_url_rule("/_addr", "_addr", _addr)
    assert proxied.test_client().get("/_addr", headers=headers).get_data(as_text=True) == "198.51.100.9"


def test_two_phones_of_one_model_behind_one_address_are_told_apart_by_their_cookie(limited, answer):
    app = limited(RATELIMIT_SURVEY_DEVICE="2 per 10 minutes", RATELIMIT_SURVEY_POINT="100 per minute")
    first, second = phone(app), phone(app)
    for client in (first, second):
        assert answer(client, "/s/p2motcua").status_code == 303
        assert answer(client, "/s/p2motcua").status_code == 303
    cookies = [c.get_cookie("hl_device") for c in (first, second)]
    assert all(c is not None and c.http_only and c.same_site == "Lax" for c in cookies)
    assert cookies[0].value != cookies[1].value
    assert all("over_limit" not in (reason or "") for _trust, reason in rows()), "two devices, two counts"
    db.session.expire_all()
    hashes = {h for (h,) in db.session.execute(select(Response.device_hash))}
    assert len(hashes) == 2


def test_a_client_that_drops_its_cookie_still_meets_the_address_flood_limit(limited, answer):
    app = limited(RATELIMIT_SURVEY_FLOOD_DEVICE="2 per 10 minutes", RATELIMIT_SURVEY_FLOOD_ADDRESS="4 per 10 minutes",
                  RATELIMIT_SURVEY_POINT="100 per minute")
    client = phone(app)
    statuses = []
    for _ in range(5):
        client.delete_cookie("hl_device")
        statuses.append(answer(client, "/s/p2motcua").status_code)
    assert statuses == [303] * 4 + [429]


def test_no_raw_address_or_cookie_is_stored(demo_app, answer):
    client = phone(demo_app, address="192.0.2.55")
    assert answer(client, "/s/p2motcua").status_code == 303
    cookie = client.get_cookie("hl_device").value
    db.session.expire_all()
    row = db.session.execute(select(Response.__table__)).one()
    values = [str(v) for v in row]
    assert not any("192.0.2.55" in v or cookie in v or "Nokia" in v for v in values)
    assert row.device_hash and row.address_hash
