"""The admin upload of an XLSForm with a ``decimal`` question: saved as a new version; a
later workbook that changes its decimals is refused with the reason, and nothing is saved."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import AuditEvent, InstrumentVersion
from survey_app.services.collect import instruments
from test_decimal import decimal_form
from test_xlsform import workbook


def upload(client, csrf, name: str, content: bytes):
    return client.post("/admin/instruments/upload", data={"csrf_token": csrf(client), "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_an_uploaded_decimal_keeps_its_decimals_from_version_to_version(world, as_user, csrf):
    client = as_user("demo-admin")
    with upload(client, csrf, "distance.xlsx", workbook(decimal_form())) as response:
        assert response.status_code == 303
    latest = instruments.latest_version(db.session, "queue-local")
    distance = next(q for q in latest.snapshot["questions"] if q["key"] == "distance_km")
    assert (distance["type"], distance["decimals"], distance["max"]) == ("number", 1, 100.5)
    before = db.session.scalar(select(func.count(InstrumentVersion.id)))
    with upload(client, csrf, "distance.xlsx", workbook(decimal_form("2"))) as response:
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "questions[7].decimals: 2, but 1 in version 1" in html
    db.session.expire_all()
    assert db.session.scalar(select(func.count(InstrumentVersion.id))) == before
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "instrument.uploaded")) == 1
