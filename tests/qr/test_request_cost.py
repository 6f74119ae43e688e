"""What the survey's round trip costs, by count, not by time (issue #13): the statements and
transactions of a POST, the work a citizen's page skips, the signed values it carries.

- On PostgreSQL a POST at a quiet point is three statements (the point, the trust counts,
  one statement storing the response, its answers and any flags), all in autocommit: no
  BEGIN or COMMIT round trips. On SQLite the store is an INSERT per table.
- A citizen's page never asks Flask-Login to load a user; an official's page does.
- The session cookie, the CSRF token and the form token are signed without a deflated
  payload, and values signed the stock way (deflated or not) are still read.
- The in-process rate-limit storage counts without starting a thread and sweeps expired
  keys when a sweep is due; only a request that no limit counts skips the limiter.
"""
from __future__ import annotations

import threading
import time

from flask_wtf.csrf import validate_csrf
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event, func, select

from helpers import hidden_fields
from survey_app.extensions import db, login
from survey_app.models import Answer, Response
from survey_app.ratelimit import SweptMemoryStorage
from survey_app.services.collect import formtoken, surveys

POINT = "/s/p2motcua"
PHONE = "Mozilla/5.0 (Linux; Android 14; SM-A155F) Chrome/131.0 Mobile"


class Recorder:
    """The statements sent while ``on``, each with whether its connection was in autocommit."""

    def __init__(self, engine):
        self.engine, self.on, self.seen = engine, False, []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            # psycopg's connection says whether it is in autocommit (sqlite3 here has no such flag)
            self.seen.append((statement, getattr(conn.connection.dbapi_connection, "autocommit", None) is True))

    def during(self, action):
        self.seen, self.on = [], True
        try:
            return action()
        finally:
            self.on = False
            event.remove(self.engine, "before_cursor_execute", self._record)


def test_a_poster_post_on_postgresql_is_three_statements_in_autocommit(demo_app, client, backend, full_answers):
    client.environ_base["HTTP_USER_AGENT"] = PHONE
    answers = full_answers(surveys.resolve_open_campaign(db.session, "p2motcua").definition)
    fields = hidden_fields(client.get(POINT).get_data(as_text=True))
    recorder = Recorder(db.engine)
    sent = recorder.during(lambda: client.post(POINT + "?lang=vi", data={**fields, **answers}))
    assert sent.status_code == 303
    statements = [s for s, _autocommit in recorder.seen]
    db.session.expire_all()
    stored = db.session.scalar(select(func.count()).select_from(Answer))
    assert stored == len([k for k, v in answers.items() if v]) and stored > 0
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    if backend == "postgresql":
        assert len(statements) == 3, statements
        assert statements[-1].lstrip().startswith("WITH new_response AS")
        assert all(autocommit for _s, autocommit in recorder.seen), "no BEGIN / COMMIT around them"
    else:
        assert len(statements) == 4, statements  # the point, the counts, the response, its answers


def test_a_code_post_still_spends_and_stores_in_one_transaction(client, token_campaign, issue, full_answers):
    """A one-time code is spent and the answer stored by two statements that commit together:
    that POST does not run in autocommit."""
    from survey_app.models import VisitToken

    campaign = token_campaign()
    code, = issue(campaign)
    page = client.get(f"/v/{code}")
    assert page.status_code == 200
    recorder = Recorder(db.engine)
    sent = recorder.during(lambda: client.post(f"/v/{code}", data={
        **hidden_fields(page.get_data(as_text=True)), **full_answers(campaign.instrument_version.snapshot)}))
    assert sent.status_code == 303
    assert recorder.seen and not any(autocommit for _s, autocommit in recorder.seen)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(VisitToken).where(VisitToken.spent_at.is_not(None))) == 1
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_a_citizens_page_loads_no_user_and_an_officials_page_does(demo_app, client, monkeypatch):
    from test_db_outage import login_client

    loads = []
    real = login._load_user
    monkeypatch.setattr(login, "_load_user", lambda: loads.append(1) or real())
    for url in (POINT, "/", "/f/p2motcua", POINT + "?lang=en"):
        page = client.get(url)
        assert page.status_code == 200 and 'class="langs"' in page.get_data(as_text=True)
    assert loads == []
    official = login_client(demo_app)
    loads.clear()
    page = official.get("/admin/")
    assert page.status_code == 200 and "demo-manager" in page.get_data(as_text=True)
    assert loads, "the official is loaded for the menu"


def test_the_signed_values_are_not_deflated_and_the_stock_ones_still_read(demo_app, client):
    page = client.get(POINT)
    fields = hidden_fields(page.get_data(as_text=True))
    cookie = client.get_cookie("session")
    assert cookie is not None and not cookie.value.startswith(".")
    assert not fields["csrf_token"].startswith(".") and not fields["form_token"].startswith(".")
    secret = demo_app.config["SECRET_KEY"]
    # the same token the stock serializer makes (nothing to gain by deflating it)
    payload = URLSafeTimedSerializer(secret, salt=surveys.FORM_SALT).loads(fields["form_token"])
    assert set(payload) == {"c", "u", "v", "n"}
    with demo_app.test_request_context("/"):
        from flask import session

        session["csrf_token"] = URLSafeTimedSerializer(secret, salt="wtf-csrf-token").loads(fields["csrf_token"])
        validate_csrf(fields["csrf_token"])  # Flask-WTF accepts it (raises otherwise)
    # a form token deflated by the stock serializer (a large payload) is still read
    big = {"c": 1, "u": 2, "v": 3, "n": "a" * 32, "pad": "x" * 400}
    stock = URLSafeTimedSerializer(secret, salt="s").dumps(big)
    assert stock.startswith(".")
    assert formtoken.serializer_for(secret, "s").loads(stock) == big
    assert formtoken.serializer_for(secret, "s").dumps(big).startswith(".")  # large ones are deflated as before


def test_the_memory_storage_counts_without_a_thread_and_sweeps_when_due(monkeypatch):
    storage = SweptMemoryStorage()
    started = []
    real_timer = threading.Timer
    monkeypatch.setattr(threading, "Timer", lambda *a, **k: started.append(a) or real_timer(*a, **k))
    for i in range(50):
        assert storage.incr(f"phone-{i}", 1) == 1
    assert storage.incr("phone-0", 1) == 2
    assert started == [], "no timer thread per count"
    time.sleep(1.05)
    assert storage.get("phone-1") == 0  # an expired key reads as zero at once
    assert len(storage.expirations) == 49  # the others are still held until a sweep
    storage._next_sweep = 0  # the sweep is due
    storage.incr("late", 60)
    assert set(storage.expirations) == {"late"} and started == []


def test_only_requests_that_no_limit_counts_skip_the_limiter(demo_app):
    from survey_app.ratelimit import no_limit_applies

    def skips(endpoint: str, method: str, path: str) -> bool:
        with demo_app.test_request_context(path, method=method):
            from flask import request

            assert request.endpoint == endpoint
            return no_limit_applies()

    assert skips("public.survey", "GET", POINT)
    assert skips("public.index", "GET", "/")
    assert skips("petitions.form", "GET", "/f/p2motcua")  # its limits are on the POST
    for endpoint, method, path in (("public.submit", "POST", POINT), ("public.token_submit", "POST", "/v/ABCD"),
                                   ("public.kiosk_submit", "POST", "/k/p2motcua"),
                                   ("public.code_entry", "POST", "/v"), ("petitions.track", "GET", "/t"),
                                   ("petitions.form", "POST", "/f/p2motcua"), ("auth.login", "POST", "/login")):
        assert not skips(endpoint, method, path), (endpoint, method)
