"""A client that changes its user agent at every request is a new "device" each time
(device = keyed daily hash of address + user agent). Every limit on a citizen form, the
login and the burst flag must still hold against it: each is also kept on the address
alone (higher, since people behind one NAT share an address). Memory and Redis storage."""
from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, insert, select

from helpers import hidden_fields
from survey_app.extensions import db
from survey_app.models import Petition, Response
from survey_app.ratelimit import daily_address_hash, daily_device_hash

_serial = itertools.count()
CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def rotating(app, address: str = "203.0.113.7"):
    """A test client from one address whose user agent changes before every request."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    original_open = client.open

    def open_with_new_agent(*args, **kwargs):
        client.environ_base["HTTP_USER_AGENT"] = f"Mozilla/5.0 (Linux; Android 14; SM-A{next(_serial):04d}) Mobile"
        return original_open(*args, **kwargs)

    client.open = open_with_new_agent
    return client


def stored() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Response))


def trust_rows():
    db.session.expire_all()
    return db.session.execute(select(Response.trust, Response.trust_reason).order_by(Response.id)).all()


# ------------------------------------------------------------------ refusals

def test_a_rotating_client_meets_the_address_limit_on_survey_answers(limited, answer, token_campaign, issue):
    # Issue #15: on the poster QR only a flood is refused (RATELIMIT_SURVEY_FLOOD_ADDRESS)
    app = limited(RATELIMIT_SURVEY_DEVICE="2 per 10 minutes", RATELIMIT_SURVEY_ADDRESS="4 per 10 minutes",
                  RATELIMIT_SURVEY_FLOOD_ADDRESS="3 per 10 minutes", RATELIMIT_SURVEY_POINT="100 per minute")
    client = rotating(app)
    code, = issue(token_campaign(), "p2tieuhoc")
    statuses = [answer(client, "/s/p2motcua").status_code for _ in range(3)]
    statuses.append(answer(client, f"/v/{code}").status_code)        # shared by every survey form
    assert statuses == [303] * 4, "each answer came from a new device: the device limit of 2 never applied"
    over = answer(client, "/s/p2yte")
    assert over.status_code == 429 and int(over.headers["Retry-After"]) > 0
    assert "Ông/Bà vui lòng thử lại sau 10 phút" in over.get_data(as_text=True)  # issue #15: the form comes back
    assert stored() == 4
    # someone at another address is not affected
    assert answer(rotating(app, "198.51.100.20"), "/s/p2motcua").status_code == 303
    assert stored() == 5


def test_a_rotating_client_meets_the_address_limit_on_typed_codes(limited):
    app = limited(RATELIMIT_CODE_ENTRY="2 per 10 minutes", RATELIMIT_CODE_ENTRY_ADDRESS="4 per 10 minutes")
    client = rotating(app)
    statuses = []
    for c in "ABCDEF":
        fields = hidden_fields(client.get("/v").get_data(as_text=True))
        statuses.append(client.post("/v", data={**fields, "code": f"K7QM-3XDA-9F2P-HW8{c}"}).status_code)
    assert statuses == [404, 404, 404, 404, 429, 429]


def test_a_rotating_client_meets_the_address_limit_on_tracking_lookups(limited):
    app = limited(RATELIMIT_TRACKING_LOOKUP="2 per 10 minutes", RATELIMIT_TRACKING_LOOKUP_ADDRESS="3 per 10 minutes")
    client = rotating(app)
    statuses = [client.get(f"/t?code=7K3QM-XD9F{c}").status_code for c in "ABCDE"]
    assert statuses == [404, 404, 404, 429, 429]
    assert rotating(app, "198.51.100.20").get("/t?code=7K3QM-XD9FA").status_code == 404


def test_a_rotating_client_meets_the_address_limit_on_petitions(limited):
    app = limited(RATELIMIT_PETITION_DEVICE="1 per 10 minutes", RATELIMIT_PETITION_ADDRESS="2 per 10 minutes")
    client = rotating(app)

    def post(text):
        fields = hidden_fields(client.get("/f/p2motcua").get_data(as_text=True))
        return client.post("/f/p2motcua", data={**fields, "category": "other", "text": text})

    assert [post(t).status_code for t in ("Một", "Hai")] == [303, 303]
    over = post("Ba: không được lưu")
    assert over.status_code == 429 and "Ba: không được lưu" in over.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Petition)) == 2


def test_a_rotating_client_meets_the_address_limit_on_failed_logins(limited):
    app = limited(LOGIN_DEVICE_LIMIT="2 per 15 minutes", LOGIN_ADDRESS_LIMIT="3 per 15 minutes")
    client = rotating(app)
    statuses = []
    for name in ("a", "b", "c", "d"):
        token = CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)
        statuses.append(client.post("/login", data={"csrf_token": token, "username": f"nobody-{name}",
                                                    "password": "a wrong password"}).status_code)
    assert statuses == [401, 401, 401, 429]


# ------------------------------------------------------------------ the burst flag

def test_a_rotating_client_is_flagged_as_an_address_burst(demo_app, variant, answer):
    app = variant(SURVEY_BURST_ADDRESS=5)
    client = rotating(app)
    for _ in range(4):
        assert answer(client, "/s/p2motcua").status_code == 303
    assert trust_rows() == [("ok", None)] * 4, "four new devices, each under the device burst"
    assert answer(client, "/s/p2motcua").status_code == 303
    assert trust_rows() == [("suspect", "address_burst")] * 5
    # another address at the same counter, and this address at another point, are not part of it
    assert answer(rotating(app, "198.51.100.20"), "/s/p2motcua").status_code == 303
    assert answer(client, "/s/p2yte").status_code == 303
    assert trust_rows()[5:] == [("ok", None), ("ok", None)]


def test_one_phone_sending_again_and_again_is_both_bursts(demo_app, variant, answer):
    app = variant(SURVEY_BURST_ADDRESS=3)
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (Linux; Android 13; Nokia G21) Mobile"
    for _ in range(3):
        assert answer(client, "/s/p2motcua").status_code == 303
    assert trust_rows() == [("suspect", "device_burst,address_burst")] * 3


def test_a_busy_office_wifi_is_not_an_address_burst(demo_app, variant, answer, open_campaign, unit_by_code):
    """1,000 answers in the past week: about 3 per 10 opening minutes (1,000 / 336 windows),
    so the bar rises to 5 × 3 = 15, and 10 phones on the office Wi-Fi in 10 minutes is a busy
    but ordinary hour at this counter, not a burst."""
    campaign, unit = open_campaign("p2motcua"), unit_by_code("p2motcua")
    two_days_ago = datetime.now(timezone.utc) - timedelta(days=2)
    db.session.execute(insert(Response), [
        {"campaign_id": campaign.id, "unit_id": unit.id, "instrument_version_id": campaign.instrument_version_id,
         "channel": "qr", "language": "vi", "submitted_at": two_days_ago + timedelta(seconds=i), "trust": "ok",
         "idempotency_key": f"past-{i:026d}"} for i in range(1000)])
    db.session.commit()
    app = variant(SURVEY_BURST_ADDRESS=5)
    client = rotating(app)
    for _ in range(10):
        assert answer(client, "/s/p2motcua").status_code == 303
    assert trust_rows()[1000:] == [("ok", None)] * 10


def test_only_keyed_daily_hashes_are_stored(demo_app, answer):
    client = rotating(demo_app)
    answer(client, "/s/p2motcua")
    row = db.session.execute(select(Response.__table__)).one()
    assert not any("203.0.113.7" in str(v) or "Android" in str(v) for v in row)
    key = demo_app.config["SECRET_KEY"]
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%d")
    assert row.address_hash == daily_address_hash("203.0.113.7", key, today)
    assert row.address_hash != daily_address_hash("203.0.113.7", key, tomorrow)
    # the address hash cannot be matched with a device hash of the same address
    assert row.address_hash not in {daily_device_hash("203.0.113.7", ua, key, today) for ua in ("", "-")}


def test_a_kiosk_is_one_enrolled_device_and_carries_no_address_hash(demo_app, variant, answer):
    from survey_app.services.officials.lookup import find_unit
    from survey_app.services.qr import kiosks

    app = variant(SURVEY_BURST_ADDRESS=2)
    tablet = app.test_client()
    enrolment = kiosks.enrol_kiosk(db.session, find_unit(db.session, "p2yte"), "Quầy tiếp đón")
    db.session.commit()
    page = tablet.get(enrolment.path)
    assert tablet.post(enrolment.path, data=hidden_fields(page.get_data(as_text=True))).status_code == 303
    for _ in range(3):
        assert answer(tablet, "/k/p2yte").status_code == 303
    db.session.expire_all()
    rows = db.session.execute(select(Response.trust, Response.address_hash, Response.device_hash)).all()
    assert rows == [("ok", None, None)] * 3


def test_the_address_settings_are_checked_when_the_service_starts():
    import pytest

    from survey_app.config import ConfigError, load_settings

    assert load_settings({"SURVEY_BURST_ADDRESS": "12"})["SURVEY_BURST_ADDRESS"] == 12
    with pytest.raises(ConfigError, match="SURVEY_BURST_ADDRESS must be at least 2"):
        load_settings({"SURVEY_BURST_ADDRESS": "1"})
    for name in ("RATELIMIT_SURVEY_ADDRESS", "RATELIMIT_CODE_ENTRY_ADDRESS", "RATELIMIT_PETITION_ADDRESS",
                 "RATELIMIT_TRACKING_LOOKUP_ADDRESS"):
        assert load_settings({name: "7 per minute"})[name] == "7 per minute"
        with pytest.raises(ConfigError, match=f"{name} must look like"):
            load_settings({name: "seven a minute"})
