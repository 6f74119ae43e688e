"""Fixtures for the reports: a small SIPAS history in both wards, logged-in clients
per role, and helpers. Everything builds on ``demo_app`` (SQLite and PostgreSQL).

Officials: ``demo-manager`` and ``demo-viewer`` (ward p2), ``demo-admin`` (province) come
with the demo; ``p1manager`` (manager, ward p1) is added here.

``sipas`` adds responses from January to June 2026 (Viet Nam time), so every test reads
the window ``2026-01-01``–``2026-06-30`` (``WINDOW``) whatever day the suite runs.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Campaign, Unit, User
from survey_app.services.collect.instruments import latest_version
from survey_app.services.collect.surveys import SurveyTarget, submit_response
from survey_app.services.data.demo import DEMO_PASSWORD
from survey_app.services.officials import accounts
from survey_app.services.officials.units import by_path

PASSWORD = "a reports official's long password"
CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
WINDOW = {"instrument": "sipas", "window": "custom", "from": "2026-01-01", "to": "2026-06-30"}


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@dataclass
class Place:
    town: "Unit"
    p1: "Unit"
    p2: "Unit"
    p1_point: "Unit"
    p2_point: "Unit"
    p2_health: "Unit"
    p2_school: "Unit"


@pytest.fixture
def place(demo_app) -> Place:
    s = db.session
    p1 = by_path(s, "/vn/qt/p1/")
    accounts.create_user(s, username="p1manager", display_name="P1 MANAGER", password=PASSWORD, unit=p1,
                         role="manager")
    s.commit()
    code = lambda c: s.scalar(select(Unit).where(Unit.code == c))  # noqa: E731
    return Place(town=by_path(s, "/vn/qt/"), p1=p1, p2=by_path(s, "/vn/qt/p2/"),
                 p1_point=code("p1motcua"), p2_point=code("p2motcua"), p2_health=code("p2yte"),
                 p2_school=code("p2tieuhoc"))


@pytest.fixture
def login(demo_app, place):
    """``login("demo-manager")`` → a test client logged in as that account."""
    def make(username: str):
        client = demo_app.test_client()
        with client.get("/login") as page:
            token = csrf_from(page.get_data(as_text=True))
        password = DEMO_PASSWORD if username.startswith("demo-") else PASSWORD
        with client.post("/login", data={"csrf_token": token, "username": username, "password": password}) as r:
            assert r.status_code == 303, r.get_data(as_text=True)[:300]
        return client
    return make


def campaign_of(unit: Unit, key: str) -> Campaign:
    """The unit's campaign of instrument ``key`` (made, open, if the demo has none)."""
    version = latest_version(db.session, key)
    campaign = db.session.scalar(select(Campaign).where(Campaign.units.contains(unit),
                                                        Campaign.instrument_version_id == version.id))
    if campaign is None:
        campaign = Campaign(name=f"Thử nghiệm {key} – {unit.name_vi}", instrument_version=version,
                            access_mode="open", status="open")
        campaign.units.append(unit)
        db.session.add(campaign)
        db.session.commit()
    return campaign


def submit(unit: Unit, answers, when: datetime, *, key: str = "sipas", channel: str = "qr",
           trust: str = "ok") -> int:
    campaign = campaign_of(unit, key)
    return submit_response(db.session, SurveyTarget(unit, campaign, campaign.instrument_version), answers,
                           channel=channel, language="vi", idempotency_key=secrets.token_hex(16), trust=trust,
                           submitted_at=when).response_id


def sipas_keys() -> list[str]:
    snapshot = latest_version(db.session, "sipas").snapshot
    return [q["key"] for q in snapshot["questions"] if q["type"] == "scale"]


@dataclass
class History:
    """What ``sipas`` stored: response ids by kind, and the comments' texts."""

    ok: list[int] = field(default_factory=list)
    suspect: list[int] = field(default_factory=list)
    paper: list[int] = field(default_factory=list)
    p1: list[int] = field(default_factory=list)
    comments: dict[int, str] = field(default_factory=dict)  # response id → text


COMMENTS = [
    "Cán bộ rất nhiệt tình, cảm ơn!",
    "Phải chờ lâu quá, cần thêm ghế ngồi.",
    "ĐỀ NGHỊ niêm yết phí rõ ràng hơn.",
    "Thủ tục nhanh gọn.",
    "Nhà vệ sinh bẩn, đề nghị sửa.",
]


@pytest.fixture
def sipas(place) -> History:
    """SIPAS responses, January–June 2026: ward p2's counter (trusted, a few by paper, two
    suspect, five with comments) and ward p1's counter."""
    keys = sipas_keys()
    history = History()
    for month in range(1, 7):
        for i in range(5):
            levels = [min(5, max(1, 3 + (i + month + j) % 3)) for j in range(len(keys))]
            answers = [(k, lv, None) for k, lv in zip(keys, levels)]
            comment = COMMENTS[i] if month == 3 else None
            if comment:
                answers.append(("comment", None, comment))
            channel = "paper" if i == 4 else "qr"
            rid = submit(place.p2_point, answers, datetime(2026, month, 3 + 2 * i, 2, 30, tzinfo=timezone.utc),
                         channel=channel)
            history.ok.append(rid)
            if channel == "paper":
                history.paper.append(rid)
            if comment:
                history.comments[rid] = comment
        for i in range(3):
            levels = [1 + (i + j + month) % 4 for j in range(len(keys))]
            history.p1.append(submit(place.p1_point, [(k, lv, None) for k, lv in zip(keys, levels)],
                                     datetime(2026, month, 10 + i, 3, tzinfo=timezone.utc)))
    for day in (14, 15):
        history.suspect.append(submit(place.p2_point, [(k, 1, None) for k in keys] + [("comment", None, "spam spam")],
                                      datetime(2026, 4, day, 1, tzinfo=timezone.utc), trust="suspect"))
    return history


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def audits(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def official(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def token_of(client, url: str = "/account/password") -> str:
    with client.get(url) as page:
        assert page.status_code == 200, (url, page.status_code)
        return csrf_from(page.get_data(as_text=True))


def qs(**params) -> str:
    from urllib.parse import urlencode

    return urlencode({**WINDOW, **params}, doseq=True)


@pytest.fixture
def h():
    """Helpers: ``h.count(Model)``, ``h.audits(action)``, ``h.official(name)``, ``h.token_of(client)``,
    ``h.qs(**params)`` (the test window plus params), ``h.submit(unit, answers, when, …)``,
    ``h.campaign_of(unit, instrument key)``."""
    return SimpleNamespace(count=count, audits=audits, official=official, token_of=token_of, qs=qs,
                           submit=submit, csrf_from=csrf_from, sipas_keys=sipas_keys, WINDOW=WINDOW,
                           campaign_of=campaign_of)
