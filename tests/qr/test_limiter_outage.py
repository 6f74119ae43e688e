"""Redis down: the survey still takes answers, the limits are counted in memory meanwhile
(logged once), and /healthz says the service is degraded. The outside probe saw every
survey POST answer 500 from the limiter while /healthz said 200."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db, limiter
from survey_app.models import Response

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1
PHONE = "Mozilla/5.0 (Linux; Android 13; Nokia G21) Chrome/130.0 Mobile"


def stored() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Response))


@pytest.fixture
def dead_redis(variant):
    app = variant(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=DEAD_REDIS,
                  RATELIMIT_SURVEY_DEVICE="3 per 10 minutes", RATELIMIT_SURVEY_POINT="100 per minute")
    yield app
    # The limiter is one object for every app of the test process: forget the outage.
    limiter._storage_dead = False


def test_answers_are_stored_and_still_limited_in_memory_when_redis_is_down(dead_redis, answer, caplog):
    client = dead_redis.test_client()
    client.environ_base["HTTP_USER_AGENT"] = PHONE
    with caplog.at_level(logging.INFO, logger="flask-limiter"):
        for _ in range(3):
            assert answer(client, "/s/p2motcua").status_code == 303
        assert stored() == 3
        # issue #15: over the device limit a poster answer is stored and flagged, not refused
        over = answer(client, "/s/p2motcua")
        assert over.status_code == 303
        assert stored() == 4
        db.session.expire_all()
        newest = db.session.scalars(select(Response).order_by(Response.id.desc())).first()
        assert "over_limit" in newest.trust_reason, "the device limit still holds, counted in memory"
    switches = [r for r in caplog.records if "falling back to in-memory" in r.getMessage()]
    assert len(switches) == 1, "the switch is logged once, not once per request"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_healthz_says_degraded_while_redis_is_down(dead_redis):
    with dead_redis.test_client().get("/healthz") as response:
        assert response.status_code == 200
        assert response.get_json() == {"status": "degraded", "rate_limit_storage": "unreachable",
                                       "rate_limits": "counted in memory, per process"}


def test_healthz_is_ok_with_a_live_redis(variant, redis_url, limiter_prefix):
    app = variant(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_KEY_PREFIX=limiter_prefix)
    with app.test_client().get("/healthz") as response:
        assert response.status_code == 200 and response.get_json() == {"status": "ok"}
