"""Fixtures for dossiers: the demo with an open one-time-code campaign of the one-stop
evaluation at both counters, and write keys for ward p2 and ward p1."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Unit
from survey_app.services.data import demo_dossiers
from survey_app.services.officials import apikeys
from survey_app.services.officials.units import by_path


def _point(code: str) -> Unit:
    return db.session.scalar(select(Unit).where(Unit.code == code))


@pytest.fixture
def counters(demo_app):
    p2, p1 = _point("p2motcua"), _point("p1motcua")
    campaigns = SimpleNamespace(p2=demo_dossiers.ensure_campaign(db.session, p2),
                                p1=demo_dossiers.ensure_campaign(db.session, p1))
    write_p2 = apikeys.create_key(db.session, by_path(db.session, "/vn/qt/p2/"), "Một cửa điện tử P2",
                                  scopes=("dossiers:write",)).secret
    write_p1 = apikeys.create_key(db.session, by_path(db.session, "/vn/qt/p1/"), "Một cửa điện tử P1",
                                  scopes=("dossiers:write",)).secret
    read_p2 = apikeys.create_key(db.session, by_path(db.session, "/vn/qt/p2/"), "Cổng dữ liệu").secret
    db.session.commit()
    return SimpleNamespace(p2=p2, p1=p1, campaigns=campaigns, write_p2=write_p2, write_p1=write_p1, read_p2=read_p2)


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def dossier(code: str = "000.00.27.H56-260302-0001", **extra) -> dict:
    body = {"code": code, "procedure_code": "1.001193", "procedure_name": "Đăng ký khai sinh", "sector": "Hộ tịch",
            "service_point": "p2motcua", "received_at": "2026-03-02T08:15", "due_at": "2026-03-03T17:00"}
    body.update(extra)
    return body


@pytest.fixture
def d():
    """``d.bearer(secret)`` headers, ``d.dossier(code, **fields)`` a valid body."""
    return SimpleNamespace(bearer=bearer, dossier=dossier)
