"""What a submission costs does not grow with the traffic at the point.

The abuse checks count alike responses up to their threshold and flag the earlier members
of a burst with one UPDATE per signal, so a POST makes the same statements with 20 or 200
identical answers from one phone in the window (the stuffing case). Statement counts only,
no timing. And the shortcuts behind a cheap survey page (the questions' markup kept per
version and language, the point's objects kept while its rows do not change) never show a
stale or foreign page."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import event, insert, select
from werkzeug.datastructures import MultiDict

from helpers import full_answers, hidden_fields
from survey_app.extensions import db
from survey_app.models import Answer, Response, Unit, answer_digest
from survey_app.ratelimit import daily_device_hash
from survey_app.services.collect.surveys import validate_answers

PHONE = "Mozilla/5.0 (Linux; Android 14; SM-A155F) Chrome/131.0 Mobile"
POINT = "/s/p2motcua"
# Per POST at most: the point and its campaigns, the alike counts, the baseline, a
# further count at a busy point, the response, its answers, two flagging UPDATEs.
MAX_STATEMENTS = 10


class Statements:
    """Counts the SQL statements sent to the database while ``on``."""

    def __init__(self, engine):
        self.engine, self.on, self.seen = engine, False, []
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            self.seen.append(statement)

    def during(self, action):
        self.seen, self.on = [], True
        try:
            result = action()
        finally:
            self.on = False
        return result, list(self.seen)

    def remove(self):
        event.remove(self.engine, "before_cursor_execute", self._count)


def _point():
    unit = db.session.scalar(select(Unit).where(Unit.code == "p2motcua"))
    from survey_app.models import Campaign

    campaign = db.session.scalar(select(Campaign).where(Campaign.units.contains(unit), Campaign.access_mode == "open"))
    return unit, campaign


def _add_identical(n: int, form: dict[str, str], device_hash: str) -> None:
    """``n`` responses in the last minutes with these answers from this device, written
    straight into the tables (with their answers, as the service stores them)."""
    unit, campaign = _point()
    answers = validate_answers(campaign.instrument_version.snapshot, MultiDict(form)).answers
    digest = answer_digest(answers)
    now = datetime.now(timezone.utc)
    for i in range(n):
        when = now - timedelta(seconds=60 + i % 300)
        response_id = db.session.execute(insert(Response).returning(Response.id), [{
            "campaign_id": campaign.id, "unit_id": unit.id, "instrument_version_id": campaign.instrument_version_id,
            "channel": "qr", "language": "vi", "submitted_at": when,
            "trust": "ok", "idempotency_key": secrets.token_hex(16), "device_hash": device_hash,
            "answer_digest": digest}]).scalar_one()
        db.session.execute(insert(Answer), [{"response_id": response_id, "submitted_at": when, "question_key": k, "value_int": vi,
                                             "value_text": vt} for k, vi, vt in answers])
    db.session.commit()


def test_a_submission_makes_the_same_statements_however_long_the_run(demo_app, client):
    client.environ_base["HTTP_USER_AGENT"] = PHONE
    _unit, campaign = _point()
    form = full_answers(campaign.instrument_version.snapshot)
    client.get(POINT)  # issue #15: the device key has the browser's device cookie too
    device_hash = daily_device_hash("127.0.0.1", PHONE, demo_app.config["SECRET_KEY"],
                                    cookie=client.get_cookie("hl_device").value)
    statements = Statements(db.engine)
    counts = {}
    try:
        for earlier, add in ((0, 0), (20, 19), (200, 179)):  # each measured POST adds one more
            _add_identical(add, form, device_hash)
            fields = hidden_fields(client.get(POINT).get_data(as_text=True))
            sent, seen = statements.during(lambda: client.post(POINT + "?lang=vi", data={**fields, **form}))
            assert sent.status_code == 303
            counts[earlier] = len(seen)
    finally:
        statements.remove()

    assert counts[20] == counts[200], counts
    assert counts[0] <= counts[20] <= MAX_STATEMENTS, counts
    # and the run was flagged whole: the 200 earlier ones by the set-based UPDATEs
    db.session.expire_all()
    rows = db.session.execute(select(Response.trust, Response.trust_reason)).all()
    assert len(rows) == 201
    assert set(rows) == {("suspect", "device_burst,identical_run")}


def test_a_warm_survey_page_is_one_statement_and_none_while_its_read_is_reused(demo_app, client, variant):
    client.get(POINT)
    statements = Statements(db.engine)
    try:
        page, seen = statements.during(lambda: client.get(POINT))
        assert page.status_code == 200
    finally:
        statements.remove()
    assert seen == []  # within SURVEY_PAGE_REUSE_SECONDS (5 s by default) of the first read
    fresh = variant(SURVEY_PAGE_REUSE_SECONDS=0).test_client()
    fresh.get(POINT)
    statements = Statements(db.engine)  # the variant's engine
    try:
        page, seen = statements.during(lambda: fresh.get(POINT))
    finally:
        statements.remove()
    assert page.status_code == 200
    assert len(seen) == 1, seen


def test_an_officials_edit_is_seen_at_once_and_an_answer_is_always_checked_afresh(demo_app, client, monkeypatch):
    from survey_app.services.collect import surveys

    _unit, campaign = _point()
    fields = hidden_fields(client.get(POINT).get_data(as_text=True))  # the read is kept now
    form = full_answers(campaign.instrument_version.snapshot)
    # this process: an official closes the campaign (through the ORM, as the admin pages do)
    campaign.status = "closed"
    db.session.commit()
    assert client.get(POINT).status_code == 410
    campaign.status = "open"
    db.session.commit()
    assert client.get(POINT).status_code == 200

    # another process closes it (a statement this process's session never flushed): the
    # page may be served from the kept read for a few seconds, but no answer is taken
    with db.engine.begin() as conn:
        conn.execute(surveys.update(surveys.Campaign).where(surveys.Campaign.id == campaign.id)
                     .values(status="closed"))
    assert client.get(POINT).status_code == 200
    before = db.session.scalar(select(surveys.func.count()).select_from(Response))
    assert client.post(POINT + "?lang=vi", data={**fields, **form}).status_code == 410
    assert db.session.scalar(select(surveys.func.count()).select_from(Response)) == before
    # and once the reuse window has passed, the page says so too
    later = surveys.monotonic() + 6
    monkeypatch.setattr(surveys, "monotonic", lambda: later)
    assert client.get(POINT).status_code == 410


def test_a_kept_read_still_ends_the_campaign_on_time(demo_app, client):
    from survey_app.services.collect import surveys

    _unit, campaign = _point()
    ends = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=1)
    campaign.ends_at = ends
    db.session.commit()
    assert client.get(POINT).status_code == 200  # read and kept, with its end
    code = POINT.rsplit("/", 1)[1]
    assert surveys.resolve_open_campaign(db.session, code, reuse_for=60, now=ends - timedelta(seconds=1))
    try:
        surveys.resolve_open_campaign(db.session, code, reuse_for=60, now=ends)
    except surveys.SurveyUnavailable as exc:
        assert exc.reason == "closed"
    else:
        raise AssertionError("a campaign past its end was answered from the kept read")


def test_the_kept_questions_are_per_language_and_a_fixed_form_keeps_its_answers(client):
    vi = client.get(POINT).get_data(as_text=True)
    en = client.get(POINT + "?lang=en").get_data(as_text=True)
    again = client.get(POINT + "?lang=vi").get_data(as_text=True)
    assert "Gửi câu trả lời" in vi and "Gửi câu trả lời" in again and "Send my answers" not in again
    assert "Send my answers" in en and "Gửi câu trả lời" not in en
    # per request: a fresh CSRF token is the same per session, the form token never repeats
    assert hidden_fields(vi)["form_token"] != hidden_fields(again)["form_token"]

    _unit, campaign = _point()
    form = full_answers(campaign.instrument_version.snapshot)
    form.pop("q_tc1")
    problem = client.post(POINT + "?lang=vi", data={**hidden_fields(again), **form})
    assert problem.status_code == 422
    html = problem.get_data(as_text=True)
    assert 'class="bad"' in html and 'value="5" checked' in html  # the answers given are still there
    assert 'class="bad"' not in client.get(POINT).get_data(as_text=True)  # and the kept markup is untouched


def test_a_renamed_point_shows_its_new_name_at_once(client):
    unit, _campaign = _point()
    old, new = unit.name_vi, "Trung tâm Phục vụ hành chính công phường (tên mới)"
    assert old in client.get(POINT).get_data(as_text=True)  # the point's objects are kept now
    unit.name_vi = new
    db.session.commit()
    page = client.get(POINT).get_data(as_text=True)
    assert new in page and old not in page
