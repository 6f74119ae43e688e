"""``make run``'s rate limits are counted once, not once per gunicorn worker.

gunicorn starts with the project's ``gunicorn.conf.py`` as ``make run`` starts it (with
``RATELIMIT_TRY_REDIS``) and a per-device flood limit of 3 a minute; one phone sends 5 answers:
3 are thanked, 2 get 429. With a Redis that answers the two workers count in it, and the
answers are made to reach both workers: a connection that sends nothing keeps one sync
worker busy while the other serves (the access log names each request's worker). Without
Redis one worker process serves with threads, so its one in-memory counter sees all."""
from __future__ import annotations

import os
import re
import socket
import time

import pytest

from faults.conftest import prepare_demo, server_env
from faults.servers import Browser, Gunicorn, hidden_fields, point_campaign
from helpers import full_answers

pytestmark = pytest.mark.slow

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1
LIMIT, SENT = 3, 5
POINT = "p2motcua"


@pytest.fixture(scope="module")
def sqlite_demo(tmp_path_factory):
    """A SQLite database as ``make run`` prepares one, and the definition served at the point."""
    url = f"sqlite:///{tmp_path_factory.mktemp('limits') / 'hailong.sqlite3'}"
    prepare_demo(url)
    return url, point_campaign(url, POINT)[1]


class Hold:
    """A connection that sends nothing: a sync worker that accepts it waits on it."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port))
        time.sleep(0.5)  # accepted by a free worker

    def release(self) -> None:
        self.sock.close()
        time.sleep(0.5)  # that worker reads the end of the connection and is free again


def post_pids(log: str, marker: str) -> list[str]:
    return re.findall(rf'^<(\d+)> "POST /s/{POINT}[^"]*" \d+ {marker}$', log, re.MULTILINE)


@pytest.mark.parametrize("mode", ["redis", "no redis"])
def test_a_device_limit_of_n_allows_n_across_the_workers(sqlite_demo, tmp_path, mode):
    url, definition = sqlite_demo
    if mode == "redis":
        redis_url = os.environ.get("TEST_REDIS_URL")
        if not redis_url:
            pytest.skip("Redis half skipped: TEST_REDIS_URL is not set (.ci/run sets it)")
    else:
        redis_url = DEAD_REDIS
    secret = os.urandom(16).hex() * 2
    env = server_env(DATABASE_URL=url, SECRET_KEY=secret, RATELIMIT_TRY_REDIS=redis_url,
                     # Since issue #15 the poster's device limit flags; the flood limit is the one that refuses.
                     RATELIMIT_SURVEY_FLOOD_DEVICE=f"{LIMIT}/minute", RATELIMIT_SURVEY_POINT="1000 per minute",
                     SURVEY_MIN_FILL_SECONDS="0")
    user_agent = f"Mozilla/5.0 (Linux; Android 14; limits-{mode}-{secret[:8]}) Mobile"
    # The access log line names the worker (%(p)s) and the phone (%(a)s).
    server = Gunicorn(env, tmp_path, extra=("--access-logformat", '%(p)s "%(r)s" %(s)s %(a)s'))
    phone = Browser(server.base, user_agent)
    statuses: list[int] = []

    def answer() -> None:
        page = phone.request(f"/s/{POINT}")
        assert page.status == 200, page.body[-500:]
        reply = phone.request(f"/s/{POINT}", {**hidden_fields(page.body), **full_answers(definition)})
        statuses.append(reply.status)

    try:
        workers = server.worker_pids()
        first = Hold(server.port)           # one worker waits on it ...
        for _ in range(2):
            answer()                        # ... while the other takes these two
        second = Hold(server.port)          # now that other one waits ...
        first.release()
        for _ in range(SENT - 2):
            answer()                        # ... and the first takes the rest
        second.release()
    finally:
        server.stop()
        if mode == "redis":
            _forget_keys(redis_url, secret, user_agent)
    log, errors = server.output(), server.errors()

    assert statuses == [303] * LIMIT + [429] * (SENT - LIMIT), (statuses, errors[-2000:])
    served_by = post_pids(log, re.escape(user_agent))
    assert len(served_by) == SENT, log[-2000:]
    if mode == "redis":
        assert len(workers) == 2 and set(served_by) == {str(p) for p in workers}, (
            "the answers reached both workers, which count in one Redis", workers, served_by)
        assert "rate limits counted in redis://" in errors and "shared by 2 worker processes" in errors
    else:
        assert len(workers) == 1 and set(served_by) == {str(workers[0])}
        assert "rate limits counted in memory (no Redis answered at redis://127.0.0.1:1/0): " \
               "1 worker process with 4 threads, so one counter sees every request" in errors


def _forget_keys(redis_url: str, secret: str, user_agent: str) -> None:
    """Delete this phone's counters (its device hash is this test's own)."""
    import redis

    from survey_app.ratelimit import daily_device_hash

    device = daily_device_hash("127.0.0.1", user_agent, secret)
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"*{device}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
