"""Several app servers (issue #19, item 2; docs/DEPLOY.md): two gunicorn instances on one
PostgreSQL and one Redis, and one client going back and forth between them, as behind a
load balancer with no stickiness. Everything that matters lives in the database, in Redis
or in a cookie signed with the shared ``SECRET_KEY``, so each step taken on one server is
seen by the other:

- the session and its CSRF token (log in on B with A's form; log out on B, A refuses even
  the old cookie: the session token is in the database);
- a survey form opened on A and sent to B; sent again to A, still one response (the form
  token is the idempotency key);
- a one-time code answered on A is refused on B;
- a rate limit counted across both servers (Redis): the same total count as on one;
- a kiosk enrolled on A works on B;
- the report charts: the same bytes from A and B (each process keeps its own cache, keyed
  by the rollup watermark read from the database at each request), and a new response
  changes both;
- the job workers beside them (one running the scheduled jobs, one ``--no-periodic``, as
  docs/DEPLOY.md runs them) on the same Redis queue: a response sent to B is rolled up with
  no report asked for, and a petition filed through A with consent to e-mail brings its
  receipt to a real SMTP server, each job recorded once as complete.

PostgreSQL and Redis only (``TEST_DATABASE_URL``, ``TEST_REDIS_URL``); each run has its
own schema, and its own random ``SECRET_KEY``, so its rate-limit keys in Redis (daily
keyed hashes) are never another run's; they expire with their windows.
"""
from __future__ import annotations

import html as htmllib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from alerts.smtp import smtp_server
from conftest import ROOT, database_url, make_app
from helpers import full_answers, hidden_fields
from survey_app.extensions import db

requests = pytest.importorskip("requests")

pytestmark = pytest.mark.slow

POINT = "p2motcua"
DEVICE_LIMIT = 3     # RATELIMIT_SURVEY_DEVICE: over it, a poster answer is flagged "over_limit"
LOGIN_LIMIT = 3      # LOGIN_DEVICE_LIMIT: failed logins, then 429
CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')  # a WTForms field, or by hand
ACTION_RE = re.compile(r'<form method="post" action="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    a: str
    b: str
    app: object          # an app of this process on the same schema, to read the database
    logs: list[Path]
    inbox: object        # what the workers' e-mail reached (a real SMTP server)

    def tail(self) -> str:
        return "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-2000:] for p in self.logs)


def _wait_until_up(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90  # a loaded machine: the app import takes seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"gunicorn on {base} exited: " + log.read_text(errors="replace")[-3000:])
        try:
            health = requests.get(base + "/healthz", timeout=5)
            if health.status_code == 200:
                assert health.json() == {"status": "ok"}, health.text  # Redis reachable: limits shared
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"gunicorn on {base} did not answer: " + log.read_text(errors="replace")[-3000:])


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    try:
        os.killpg(server.pid, signal.SIGTERM)  # the master and its workers
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if not (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql"):
        pytest.skip("several app servers need PostgreSQL: TEST_DATABASE_URL is not set (.ci/run sets it)")
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("several app servers need Redis for the shared rate limits: TEST_REDIS_URL is not set")
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    if not os.path.exists(gunicorn):
        pytest.skip("gunicorn is not installed next to this Python")
    tmp = tmp_path_factory.mktemp("multi")
    with database_url("postgresql", tmp) as (url, options), smtp_server() as (inbox, smtp_port):
        app = make_app(url, options)
        with app.app_context():
            from survey_app.services.collect import instruments
            from survey_app.services.data import demo

            db.create_all()
            instruments.load_directory(db.session, ROOT / "surveys")
            demo.load_demo(db.session)
            db.session.remove()
        schema = options["connect_args"]["options"].removeprefix("-csearch_path=")
        base_url = os.environ["TEST_DATABASE_URL"]
        shared = base_url + ("&" if "?" in base_url else "?") + "options=" + quote(f"-csearch_path={schema}")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("RATELIMIT_", "HUEY_", "DB_", "SURVEY_", "LOGIN_", "KIOSK_"))
               and k not in ("PUBLIC_BASE_URL", "TRUSTED_PROXIES", "HAILONG_ENV", "FLASK_ENV", "WEB_CONCURRENCY",
                             "GUNICORN_CMD_ARGS")}
        env.update({
            "SECRET_KEY": secrets.token_hex(32),  # the same for both servers, new for each run
            "DATABASE_URL": shared,
            "RATELIMIT_STORAGE_URI": redis_url,
            "HUEY_REDIS_URL": redis_url,
            "HUEY_NAME": f"hailong-test-{secrets.token_hex(4)}",  # this run's queue, no other run's tasks
            "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_port), "MAIL_FROM": "hailong@example.gov.vn",
            "PUBLIC_BASE_URL": "https://hailong.example.gov.vn",
            "SURVEYS_DIR": str(ROOT / "surveys"),
            "SURVEY_MIN_FILL_SECONDS": "0",
            "RATELIMIT_SURVEY_DEVICE": f"{DEVICE_LIMIT} per 10 minutes",
            "LOGIN_DEVICE_LIMIT": f"{LOGIN_LIMIT} per 15 minutes",
            # what this test sends from one address must not look like a burst or a flood
            "SURVEY_BURST_DEVICE": "1000", "SURVEY_BURST_ADDRESS": "1000", "SURVEY_IDENTICAL_MIN": "1000",
            # a small pool, as docs/DEPLOY.md counts them
            "DB_POOL_SIZE": "2", "DB_MAX_OVERFLOW": "2", "DB_STATEMENT_TIMEOUT_MS": "30000",
            "PYTHONUNBUFFERED": "1",  # the workers' logs as they go
        })
        servers, logs, bases = [], [], []
        try:
            for name in ("a", "b"):
                port = _free_port()
                log = tmp / f"gunicorn-{name}.log"
                logs.append(log)
                with open(log, "wb") as out:
                    servers.append(subprocess.Popen(
                        [gunicorn, "-c", "gunicorn.conf.py", "wsgi:app", "-b", f"127.0.0.1:{port}", "-w", "2"],
                        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True))
                bases.append(f"http://127.0.0.1:{port}")
            # the job hosts: one runs the scheduled jobs, the other only queued ones
            for name, extra in (("worker-1", []), ("worker-2", ["--no-periodic"])):
                log = tmp / f"{name}.log"
                logs.append(log)
                with open(log, "wb") as out:
                    servers.append(subprocess.Popen(
                        [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", "--workers", "2", *extra],
                        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True))
            for base, server, log in zip(bases, servers, logs):
                _wait_until_up(base, server, log)
            with app.app_context():
                yield Cluster(bases[0], bases[1], app, logs, inbox)
                db.session.remove()
                db.engine.dispose()
        finally:
            for server in servers:
                _stop(server)


def browser(name: str) -> requests.Session:
    """One client (a cookie jar, a user agent); the servers share 127.0.0.1, so its cookies
    go to both, as to one host behind a load balancer."""
    session = requests.Session()
    session.headers["User-Agent"] = f"Mozilla/5.0 (multi-instance test; {name}; {secrets.token_hex(4)})"
    return session


def csrf(page: requests.Response) -> str:
    assert page.status_code == 200, (page.status_code, page.text[:300])
    return CSRF_RE.search(page.text).group(1)


def open_form(client: requests.Session, url: str) -> tuple[str, dict[str, str]]:
    """A survey page: the address its form posts to (path), and its hidden fields."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code, page.text[:300])
    return htmllib.unescape(ACTION_RE.search(page.text).group(1)), hidden_fields(page.text)


def definition(code: str = POINT):
    from survey_app.models import Campaign, Unit

    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    return db.session.scalar(select(Campaign).where(Campaign.units.contains(unit), Campaign.access_mode == "open")
                             .order_by(Campaign.id)).instrument_version.snapshot


def responses(**where) -> int:
    from survey_app.models import Response

    db.session.expire_all()
    query = select(func.count()).select_from(Response)
    for key, value in where.items():
        query = query.where(getattr(Response, key) == value)
    return db.session.scalar(query)


def latest_responses(n: int):
    from survey_app.models import Response

    db.session.expire_all()
    return list(reversed(db.session.scalars(select(Response).order_by(Response.id.desc()).limit(n)).all()))


def login(client: requests.Session, cluster: Cluster, first: str, then: str) -> requests.Response:
    from survey_app.services.data.demo import DEMO_PASSWORD

    token = csrf(client.get(first + "/login"))
    return client.post(then + "/login", data={"csrf_token": token, "username": "demo-manager",
                                              "password": DEMO_PASSWORD}, allow_redirects=False)


# ------------------------------------------------------------------ session and CSRF

def test_a_session_and_its_csrf_token_work_on_both_and_logout_ends_it_on_both(cluster):
    a, b = cluster.a, cluster.b
    official = browser("official")
    sent = login(official, cluster, a, b)  # the form from A, sent to B
    assert sent.status_code == 303, (sent.status_code, sent.text[:300], cluster.tail())
    assert sent.headers["Location"].endswith("/admin/")
    for base in (a, b, a):
        page = official.get(base + "/admin/", allow_redirects=False)
        assert page.status_code == 200 and "Cán bộ quản lý Phường 2 (demo)" in page.text, (base, page.status_code)
    kept = requests.utils.dict_from_cookiejar(official.cookies)

    # a token of A's page is good on B, a made-up one on neither
    token = csrf(official.get(a + "/admin/"))
    forged = official.post(b + "/logout", data={"csrf_token": token[:-4] + "AAAA"}, allow_redirects=False)
    assert forged.status_code == 400
    assert official.get(a + "/admin/", allow_redirects=False).status_code == 200, "still logged in"
    out = official.post(b + "/logout", data={"csrf_token": token}, allow_redirects=False)
    assert out.status_code == 303 and out.headers["Location"].endswith("/login")
    for base in (a, b):
        page = official.get(base + "/admin/", allow_redirects=False)
        assert page.status_code == 302 and "/login" in page.headers["Location"], (base, page.status_code)
    # the cookie from before the logout is refused by A too: the session token is the database's
    replay = browser("replay")
    requests.utils.add_dict_to_cookiejar(replay.cookies, kept)
    page = replay.get(a + "/admin/", allow_redirects=False)
    assert page.status_code == 302 and "/login" in page.headers["Location"]


# ------------------------------------------------------------------ survey form

def test_a_form_from_a_is_taken_by_b_and_a_replay_on_a_stores_nothing_more(cluster):
    a, b = cluster.a, cluster.b
    citizen = browser("citizen")
    before = responses()
    action, fields = open_form(citizen, f"{a}/s/{POINT}")
    data = {**fields, **full_answers(definition())}
    sent = citizen.post(b + action, data=data, allow_redirects=False)
    assert sent.status_code == 303, (sent.status_code, sent.text[:500], cluster.tail())
    assert sent.headers["Location"].startswith(f"/s/{POINT}/thanks")
    thanks = citizen.get(a + sent.headers["Location"])
    assert thanks.status_code == 200 and "Xin cảm ơn!" in thanks.text
    again = citizen.post(a + action, data=data, allow_redirects=False)  # a retry that went to the other server
    assert again.status_code == 303 and again.headers["Location"] == sent.headers["Location"]
    assert responses() == before + 1


# ------------------------------------------------------------------ one-time code

def test_a_code_answered_on_a_is_refused_on_b(cluster):
    from survey_app.models import Campaign, Unit
    from survey_app.services.qr import tokens

    unit = db.session.scalar(select(Unit).where(Unit.code == "p2tieuhoc"))
    first = db.session.scalar(select(Campaign).where(Campaign.units.contains(unit)).order_by(Campaign.id))
    campaign = Campaign(name="Phiếu có mã (hai máy chủ)", instrument_version=first.instrument_version,
                        access_mode="visit_token", status="open")
    campaign.units.append(unit)
    db.session.add(campaign)
    db.session.commit()
    [code] = tokens.issue_tokens(db.session, campaign, unit, 1)
    db.session.commit()
    answers = full_answers(first.instrument_version.snapshot)

    a, b = cluster.a, cluster.b
    citizen = browser("code")
    action_a, fields_a = open_form(citizen, f"{a}/v/{code}")
    action_b, fields_b = open_form(citizen, f"{b}/v/{code}")  # a second tab, served by B
    sent = citizen.post(a + action_a, data={**fields_a, **answers}, allow_redirects=False)
    assert sent.status_code == 303, (sent.status_code, sent.text[:500])
    refused = citizen.post(b + action_b, data={**fields_b, **answers}, allow_redirects=False)
    assert refused.status_code == 410
    assert "Mã này đã được sử dụng — cảm ơn Ông/Bà đã góp ý." in refused.text
    reopened = citizen.get(f"{b}/v/{code}?lang=en")
    assert reopened.status_code == 410 and "Code already used" in reopened.text
    assert responses(campaign_id=campaign.id) == 1


# ------------------------------------------------------------------ rate limits

def test_a_login_limit_is_counted_once_across_both_servers(cluster):
    a, b = cluster.a, cluster.b
    guesser = browser("guesser")
    statuses = []
    for i in range(LOGIN_LIMIT + 2):
        base = (a, b)[i % 2]
        token = csrf(guesser.get(base + "/login"))
        sent = guesser.post(base + "/login", data={"csrf_token": token, "username": "no-such-official",
                                                   "password": "wrong"}, allow_redirects=False)
        statuses.append(sent.status_code)
    # as on one server: LOGIN_LIMIT failures, then refused (four processes counting apart
    # in memory would let up to four times as many through)
    assert statuses == [401] * LOGIN_LIMIT + [429, 429], statuses


def test_the_survey_device_limit_is_counted_once_across_both_servers(cluster):
    a, b = cluster.a, cluster.b
    phone = browser("phone")
    answers = full_answers(definition())
    for i in range(DEVICE_LIMIT + 1):
        base = (a, b)[i % 2]
        action, fields = open_form(phone, f"{base}/s/{POINT}")
        sent = phone.post((b, a)[i % 2] + action, data={**fields, **answers}, allow_redirects=False)
        assert sent.status_code == 303, (i, sent.status_code, sent.text[:300])
    stored = latest_responses(DEVICE_LIMIT + 1)
    assert [r.trust for r in stored] == ["ok"] * DEVICE_LIMIT + ["suspect"], [(r.trust, r.trust_reason) for r in stored]
    assert "over_limit" in stored[-1].trust_reason


# ------------------------------------------------------------------ kiosk

def test_a_kiosk_enrolled_on_a_works_on_b(cluster):
    from survey_app.services.officials.lookup import find_unit
    from survey_app.services.qr import kiosks

    enrolment = kiosks.enrol_kiosk(db.session, find_unit(db.session, POINT), "Quầy hai máy chủ")
    db.session.commit()
    a, b = cluster.a, cluster.b
    tablet = browser("tablet")
    refused = tablet.get(f"{b}/k/{POINT}", allow_redirects=False)
    assert refused.status_code == 403
    page = tablet.get(a + enrolment.path)
    done = tablet.post(a + enrolment.path, data=hidden_fields(page.text), allow_redirects=False)
    assert done.status_code == 303 and "hl_kiosk=" in done.headers["Set-Cookie"], (done.status_code, done.text[:300])
    before = responses(channel="kiosk")
    action, fields = open_form(tablet, f"{b}/k/{POINT}")
    sent = tablet.post(b + action, data={**fields, **full_answers(definition())}, allow_redirects=False)
    assert sent.status_code == 303 and sent.headers["Location"].startswith(f"/k/{POINT}/thanks")
    assert responses(channel="kiosk") == before + 1


# ------------------------------------------------------------------ report charts

def test_both_serve_the_same_charts_and_both_see_a_new_response(cluster):
    from survey_app.services.officials.lookup import find_unit

    a, b = cluster.a, cluster.b
    citizen = browser("before-charts")
    action, fields = open_form(citizen, f"{a}/s/{POINT}")
    assert citizen.post(b + action, data={**fields, **full_answers(definition())},
                        allow_redirects=False).status_code == 303
    official = browser("reader")
    assert login(official, cluster, a, b).status_code == 303
    ward = find_unit(db.session, POINT).parent_id
    charts = [f"/reports/{ward}/charts/{name}.svg?instrument=sipas&window=12m&lang=vi" for name in ("likert", "trend")]

    def served(base: str) -> list[bytes]:
        out = []
        for chart in charts:
            response = official.get(base + chart)
            assert response.status_code == 200 and response.headers["Content-Type"].startswith("image/svg+xml"), (
                base + chart, response.status_code, response.text[:300])
            out.append(response.content)
        return out

    first_a, first_b = served(a), served(b)
    assert first_a == first_b == served(a), "equal figures are equal bytes, whichever server drew them"

    # a new, different answer (the lowest level everywhere) sent to B: the next chart of
    # A and of B includes it (the watermark moved; no process serves its old drawing)
    low = {}
    for q in definition()["questions"]:
        if q["type"] == "scale":
            low["q_" + q["key"]] = str(definition()["scales"][q["scale"]]["levels"][0]["value"])
    other = browser("after-charts")
    action, fields = open_form(other, f"{b}/s/{POINT}")
    assert other.post(b + action, data={**fields, **full_answers(definition()), **low},
                      allow_redirects=False).status_code == 303
    then_a, then_b = served(a), served(b)
    assert then_a == then_b
    assert then_a[0] != first_a[0], "the likert chart counts the new answer"


# ------------------------------------------------------------------ job workers

def _wait_for(what: str, check, cluster: Cluster, seconds: float = 150):
    """The scheduled jobs run at each minute: wait for ``check()`` to be true."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        value = check()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"{what} did not happen in {seconds} s\n" + cluster.tail())


def test_the_workers_roll_up_a_response_and_mail_a_receipt_through_the_shared_queue(cluster):
    from survey_app.models import JobRun, Petition, PetitionNotice, Response

    a, b = cluster.a, cluster.b
    for server in ("worker-1", "worker-2"):
        log = next(p for p in cluster.logs if p.name == f"{server}.log").read_text(errors="replace")
        assert "job worker on Redis: 2 thread(s)" in log, log[-2000:]
    assert "scheduled jobs on" in next(p for p in cluster.logs if p.name == "worker-1.log").read_text()

    # a response sent to B, and no report asked for: the scheduled catch-up rolls it up
    citizen = browser("rolled-up")
    action, fields = open_form(citizen, f"{a}/s/{POINT}")
    assert citizen.post(b + action, data={**fields, **full_answers(definition())},
                        allow_redirects=False).status_code == 303
    [latest] = latest_responses(1)
    assert not latest.rolled_up

    # a petition filed with the form from A sent to B, with consent to be contacted by e-mail
    petitioner = browser("petitioner")
    page = petitioner.get(f"{a}/f/{POINT}")
    assert page.status_code == 200, page.text[:300]
    filed = petitioner.post(f"{b}/f/{POINT}", data={
        **hidden_fields(page.text), "category": "procedure", "text": "Quầy một cửa đông, cần thêm ghế chờ.",
        "contact_consent": "y", "name": "Trần Thị Dân", "email": "dan.multi@example.vn"},
        files={"photo": ("", b"", "application/octet-stream")}, allow_redirects=False)
    assert filed.status_code == 303 and "/t/" in filed.headers["Location"], (filed.status_code, filed.text[:500])
    petition = db.session.scalar(select(Petition).order_by(Petition.id.desc()).limit(1))

    _wait_for("the catch-up", lambda: db.session.get(Response, latest.id).rolled_up, cluster)
    [(_sender, to, msg)] = _wait_for("the receipt e-mail", lambda: cluster.inbox.messages, cluster)
    assert to == ["dan.multi@example.vn"]
    tracking = filed.headers["Location"].split("/t/")[1].split("?")[0]
    assert f"https://hailong.example.gov.vn/t/{tracking}" in msg.get_content()
    notice = _wait_for("the notice marked sent", lambda: db.session.scalar(
        select(PetitionNotice).where(PetitionNotice.petition_id == petition.id, PetitionNotice.status == "sent")),
        cluster)
    assert notice.attempts == 1
    time.sleep(2)  # a second worker taking the same task would have sent by now
    assert len(cluster.inbox.messages) == 1, "one receipt, though two workers share the queue"
    runs = db.session.scalars(select(JobRun).where(JobRun.task.in_(["rollup_catch_up", "send_petition_notice"]))).all()
    assert {r.task for r in runs if r.status == "complete"} == {"rollup_catch_up", "send_petition_notice"}
    assert not [r for r in runs if r.status not in ("complete", "running")], [(r.task, r.status, r.error) for r in runs]
    assert sum(1 for r in runs if r.task == "send_petition_notice") == 1
