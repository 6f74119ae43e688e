"""Fixtures of the alert tests: a service point of its own (ward p2) with a quick-feedback
campaign, responses on chosen days, a rule, officials with e-mail addresses, a login."""
from __future__ import annotations

import re
import secrets
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Campaign, User
from survey_app.services.collect.instruments import latest_version
from survey_app.services.collect.surveys import SurveyTarget, submit_response
from survey_app.services.data.demo import DEMO_PASSWORD
from survey_app.services.officials import accounts
from survey_app.services.officials.scope import GrantInfo, Scope
from survey_app.services.officials.units import by_path, create_unit

PASSWORD = "an alert official's long password"
CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Point:
    """A service point with an open quick-feedback campaign; ``add(level, day)`` stores a
    response (level 4–5 satisfied, 1–3 not) at 10:00 local time on ``day``."""

    def __init__(self, unit, campaign):
        self.unit, self.campaign = unit, campaign

    def add(self, level: int, day: date, count: int = 1) -> None:
        when = datetime.combine(day, time(10), tzinfo=LOCAL).astimezone(timezone.utc)
        target = SurveyTarget(self.unit, self.campaign, self.campaign.instrument_version)
        for _ in range(count):
            submit_response(db.session, target, [("overall", level, None)], channel="qr", language="vi",
                            idempotency_key=secrets.token_hex(16), submitted_at=when)


@pytest.fixture
def admin_scope():
    return Scope(db.session, None, [GrantInfo(0, 0, "/", "admin")])


@pytest.fixture
def point(demo_app, admin_scope) -> Point:
    s = db.session
    p2 = by_path(s, "/vn/qt/p2/")
    unit = create_unit(s, p2, "quay-canh-bao", "one_stop", "Quầy thử cảnh báo", "Alert test counter", "p2canhbao")
    campaign = Campaign(name="Đánh giá nhanh – quầy thử", instrument_version=latest_version(s, "quick-feedback"),
                        access_mode="open", status="open")
    campaign.units.append(unit)
    s.add(campaign)
    s.commit()
    return Point(unit, campaign)


@pytest.fixture
def officials(demo_app):
    """p2's manager with an e-mail (demo-manager), and a manager of ward p1 with one."""
    s = db.session
    p1 = by_path(s, "/vn/qt/p1/")
    other = accounts.create_user(s, username="p1canhbao", display_name="Cán bộ Phường 1", password=PASSWORD,
                                 unit=p1, role="manager", email="p1@example.gov.vn")
    manager = s.scalar(select(User).where(User.username == "demo-manager"))
    manager.email = "quanly.p2@example.gov.vn"
    s.commit()
    return {"p2": manager, "p1": other}


@pytest.fixture
def login(demo_app):
    def make(username: str, password: str | None = None):
        client = demo_app.test_client()
        with client.get("/login") as page:
            token = csrf_from(page.get_data(as_text=True))
        password = password or (DEMO_PASSWORD if username.startswith("demo-") else PASSWORD)
        with client.post("/login", data={"csrf_token": token, "username": username, "password": password}) as r:
            assert r.status_code == 303, r.get_data(as_text=True)[:300]
        return client
    return make
