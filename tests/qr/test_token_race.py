"""Two submissions race with the same one-time code: the database lets exactly one through.

Each request runs in a thread of its own, with its own session and connection. A barrier
holds both at the very UPDATE that spends the code, so they really collide there (both
have already read the code as unspent). Runs on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import threading

from sqlalchemy import event, func, select

from helpers import hidden_fields
from survey_app.extensions import db
from survey_app.models import Answer, Response, VisitToken


def race(app, posts):
    """Run each ``(client, url, data)`` POST in its own thread, all released together at
    the code-spending UPDATE; returns the status codes in order."""
    barrier = threading.Barrier(len(posts), timeout=20)

    def hold_at_the_spend(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE VISIT_TOKEN"):
            barrier.wait()

    results: list = [None] * len(posts)

    def worker(index, client, url, data):
        try:
            results[index] = client.post(url, data=data).status_code
        except Exception as exc:  # surfaced by the assertion below
            results[index] = repr(exc)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", hold_at_the_spend)
    try:
        threads = [threading.Thread(target=worker, args=(i, *post)) for i, post in enumerate(posts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        event.remove(engine, "before_cursor_execute", hold_at_the_spend)
    return results


def _form(client, url):
    page = client.get(url)
    assert page.status_code == 200
    return hidden_fields(page.get_data(as_text=True))


def test_two_people_racing_with_one_code_store_one_response(demo_app, token_campaign, issue, full_answers):
    campaign = token_campaign()
    code, = issue(campaign)
    answers = full_answers(campaign.instrument_version.snapshot)
    alice, bob = demo_app.test_client(), demo_app.test_client()
    posts = [(c, f"/v/{code}", {**_form(c, f"/v/{code}"), **answers}) for c in (alice, bob)]

    statuses = race(demo_app, posts)

    assert sorted(statuses) == [303, 410], statuses
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    assert db.session.scalar(select(func.count()).select_from(Answer)) == len(answers)
    assert db.session.scalar(select(VisitToken.spent_at)) is not None


def test_a_retried_form_racing_itself_stores_one_and_thanks_both(demo_app, token_campaign, issue, full_answers):
    campaign = token_campaign()
    code, = issue(campaign)
    client = demo_app.test_client()
    data = {**_form(client, f"/v/{code}"), **full_answers(campaign.instrument_version.snapshot)}

    statuses = race(demo_app, [(client, f"/v/{code}", data), (client, f"/v/{code}", data)])

    assert statuses == [303, 303], statuses
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
