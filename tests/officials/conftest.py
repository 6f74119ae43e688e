"""Fixtures for the officials' pages: accounts per role, a login helper, CSRF tokens.

The demo (``demo_app``) already has ``demo-admin`` (province /vn/qt/), ``demo-manager``
and ``demo-viewer`` (ward p2). These fixtures add a ward-p2 admin, ward-p1 officials and
a province-wide campaign spanning both wards.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Campaign, Grant, Kiosk, Unit, User
from survey_app.services.collect.instruments import latest_version
from survey_app.services.data.demo import DEMO_PASSWORD
from survey_app.services.officials import accounts
from survey_app.services.officials.units import by_path
from survey_app.services.qr import kiosks

PASSWORD = "an ward official's long password"
CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def do_login(client, username: str, password: str = PASSWORD, follow: bool = False):
    """Log in through the form, as a browser does; returns the POST's response."""
    with client.get("/login") as page:
        token = csrf_from(page.get_data(as_text=True))
    return client.post("/login", data={"csrf_token": token, "username": username, "password": password},
                       follow_redirects=follow)


def csrf_token(client) -> str:
    """A valid CSRF token for ``client``'s session (logged in or not)."""
    with client.get("/account/password") as page:
        if page.status_code == 200:
            return csrf_from(page.get_data(as_text=True))
    with client.get("/login") as page:
        return csrf_from(page.get_data(as_text=True))


@dataclass
class World:
    vn: Unit
    province: Unit
    town: Unit
    p1: Unit
    p2: Unit
    p1_point: Unit
    p2_point: Unit
    p1_campaign: Campaign
    p2_campaign: Campaign
    wide_campaign: Campaign
    p1_kiosk: Kiosk
    p2_kiosk: Kiosk
    p2admin: User
    p1manager: User
    p1admin: User
    demo_admin: User
    demo_manager: User
    demo_viewer: User

    def grant_of(self, user: User) -> Grant:
        return user.grants[0]


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


@pytest.fixture
def world(demo_app) -> World:
    s = db.session
    p1, p2 = by_path(s, "/vn/qt/p1/"), by_path(s, "/vn/qt/p2/")
    p1_point = s.scalar(select(Unit).where(Unit.code == "p1motcua"))
    p2_point = s.scalar(select(Unit).where(Unit.code == "p2motcua"))
    for username, unit, role in [("p2admin", p2, "admin"), ("p1manager", p1, "manager"), ("p1admin", p1, "admin")]:
        accounts.create_user(s, username=username, display_name=username.upper(), password=PASSWORD,
                             unit=unit, role=role)
    version = latest_version(s, "quick-feedback")
    wide = Campaign(name="Khảo sát nhanh toàn thị xã", instrument_version=version, access_mode="visit_token",
                    status="draft", starts_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    wide.units.extend([p1_point, p2_point])
    s.add(wide)
    s.commit()
    p1_kiosk = kiosks.enrol_kiosk(s, p1_point, "Máy tính bảng P1").kiosk
    p2_kiosk = kiosks.enrol_kiosk(s, p2_point, "Máy tính bảng P2").kiosk
    s.commit()
    # A petition at each ward's counter and one at the town, so the route walk tries the
    # petition pages with another ward's petitions.
    from survey_app.services.petitions import operations as petitions
    for unit in (p1_point, p2_point, by_path(s, "/vn/qt/")):
        petitions.file_petition(s, unit, category="procedure", text=f"Góp ý thử nghiệm ({unit.slug})")

    def campaign_of(point: Unit) -> Campaign:
        return s.scalar(select(Campaign).where(Campaign.units.contains(point), Campaign.access_mode == "open"))

    return World(
        vn=by_path(s, "/vn/"), province=by_path(s, "/vn/qt/"), town=by_path(s, "/vn/qt/"),
        p1=p1, p2=p2, p1_point=p1_point, p2_point=p2_point,
        p1_campaign=campaign_of(p1_point), p2_campaign=campaign_of(p2_point), wide_campaign=wide,
        p1_kiosk=p1_kiosk, p2_kiosk=p2_kiosk,
        p2admin=_user("p2admin"), p1manager=_user("p1manager"), p1admin=_user("p1admin"),
        demo_admin=_user("demo-admin"), demo_manager=_user("demo-manager"), demo_viewer=_user("demo-viewer"),
    )


@pytest.fixture
def as_user(demo_app, world):
    """``as_user("p2admin")`` → a client logged in as that account."""
    def make(username: str):
        client = demo_app.test_client()
        password = DEMO_PASSWORD if username.startswith("demo-") else PASSWORD
        with do_login(client, username, password) as response:
            assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return client
    return make


@pytest.fixture
def login():
    """``login(client, username, password)``: log in through the form; returns the response."""
    return do_login


@pytest.fixture
def csrf():
    """``csrf(client)``: a valid CSRF token for the client's session."""
    return csrf_token


@pytest.fixture
def password() -> str:
    """The password of the accounts the ``world`` fixture adds (p2admin, p1manager, p1admin)."""
    return PASSWORD
