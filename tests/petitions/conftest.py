"""Fixtures for the petitions: officials per role and unit, a login helper, the
citizen's form round trip. Everything builds on ``demo_app`` (SQLite and PostgreSQL).

Officials: ``demo-manager`` (manager, ward p2), ``demo-viewer`` (viewer, ward p2),
``demo-admin`` (admin, province) come with the demo; ``p1manager`` (manager, ward p1) and
``ytemanager`` (manager of the p2 health station only) are added here.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from helpers import hidden_fields
from survey_app.extensions import db
from survey_app.models import AuditEvent, Petition, Unit, User
from survey_app.services.data.demo import DEMO_PASSWORD
from survey_app.services.officials import accounts
from survey_app.services.officials.scope import Scope
from survey_app.services.officials.units import by_path
from survey_app.services.petitions import operations as service

PASSWORD = "a petition official's long password"
CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
@dataclass
class Place:
    province: Unit
    town: Unit
    p1: Unit
    p2: Unit
    p1_point: Unit
    p2_point: Unit
    p2_health: Unit


@pytest.fixture
def place(demo_app) -> Place:
    s = db.session
    p1, p2 = by_path(s, "/vn/qt/p1/"), by_path(s, "/vn/qt/p2/")
    accounts.create_user(s, username="p1manager", display_name="P1 MANAGER", password=PASSWORD, unit=p1,
                         role="manager")
    health = s.scalar(select(Unit).where(Unit.code == "p2yte"))
    accounts.create_user(s, username="ytemanager", display_name="YTE MANAGER", password=PASSWORD, unit=health,
                         role="manager")
    s.commit()
    return Place(province=by_path(s, "/vn/qt/"), town=by_path(s, "/vn/qt/"), p1=p1, p2=p2,
                 p1_point=s.scalar(select(Unit).where(Unit.code == "p1motcua")),
                 p2_point=s.scalar(select(Unit).where(Unit.code == "p2motcua")), p2_health=health)


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


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


def token_of(client, url: str = "/admin/petitions/") -> str:
    with client.get(url) as page:
        assert page.status_code == 200, (url, page.status_code)
        return csrf_from(page.get_data(as_text=True))


@pytest.fixture
def in_request(demo_app):
    """The services' messages are translated: they need a request (Vietnamese, the default)."""
    with demo_app.test_request_context():
        yield


@pytest.fixture
def staff(h, in_request):
    """``(manager, scope)``: Phường 2's manager, for calling the workflow services directly."""
    manager = official("demo-manager")
    return manager, Scope.for_user(manager)


@pytest.fixture
def file():
    """``file(unit, text=…, category=…, **kw)``: a petition through the service, with a
    10-working-day resolve limit unless ``settings`` says otherwise (the figures these tests
    check by hand were worked out for 10; the portal's default of 15 is tested on its own)."""
    def make(unit: Unit, text: str = "Đèn đường ở tổ 5 bị hỏng đã hai tuần.", category: str = "infrastructure",
             **kwargs) -> Petition:
        kwargs.setdefault("settings", service.PetitionSettings(deadline_days=10))
        return service.file_petition(db.session, unit, category=category, text=text, **kwargs).petition
    return make


def form_page(client, ref: str) -> dict[str, str]:
    """Open the form at ``/f/<ref>`` and return the hidden fields a browser sends back."""
    with client.get(f"/f/{ref}") as page:
        assert page.status_code == 200
        return hidden_fields(page.get_data(as_text=True))


@pytest.fixture
def send():
    """``send(client, "p2motcua", data, photo=bytes)``: fill and post the citizen's form."""
    def post(client, ref: str, data: dict, photo: bytes | None = None, filename: str = "anh.jpg",
             hidden: dict | None = None):
        fields = {**(hidden if hidden is not None else form_page(client, ref)), **data}
        if photo is not None:
            fields["photo"] = (io.BytesIO(photo), filename)
        return client.post(f"/f/{ref}", data=fields, content_type="multipart/form-data")
    return post


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def audits(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def official(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


@pytest.fixture
def h():
    """Small helpers: ``h.count(Model)``, ``h.audits(action)``, ``h.utc(…)``, ``h.official(name)``,
    ``h.token_of(client)``, ``h.form_page(client, ref)``, ``h.csrf_from(html)``."""
    return SimpleNamespace(count=count, audits=audits, utc=utc, official=official, token_of=token_of,
                           form_page=form_page, csrf_from=csrf_from)


@pytest.fixture
def decode():
    """The text of the QR code drawn by an SVG from ``services.qr.qr_svg``, read by a real
    decoder (ZXing) from a raster drawn of its path."""
    import zxingcpp
    from PIL import Image, ImageDraw

    def read(svg: str) -> str:
        size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
        scale = 8
        image = Image.new("L", (size * scale, size * scale), 255)
        draw = ImageDraw.Draw(image)
        for c, r, length in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", svg):
            c, r, length = int(c), int(r), int(length)
            draw.rectangle([c * scale, r * scale, (c + length) * scale - 1, (r + 1) * scale - 1], fill=0)
        found = [b for b in zxingcpp.read_barcodes(image) if b.valid and b.format == zxingcpp.BarcodeFormat.QRCode]
        assert len(found) == 1
        return found[0].text
    return read
