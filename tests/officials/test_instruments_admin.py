"""Survey instruments from the management pages: shared by the whole tree, so only
officials high in the tree manage them; an upload is validated whole, or nothing is saved."""
from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Instrument, InstrumentVersion
from survey_app.services.collect import instruments
from test_xlsform import local_form, workbook

SURVEYS = Path(__file__).resolve().parents[2] / "surveys"


def versions_count() -> int:
    return db.session.scalar(select(func.count(InstrumentVersion.id)))


def upload(client, csrf, name: str, content: bytes):
    return client.post("/admin/instruments/upload", data={"csrf_token": csrf(client), "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_a_province_admin_lists_previews_and_sees_versions(world, as_user):
    client = as_user("demo-admin")
    with client.get("/admin/instruments") as page:
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "sipas" in html and "Tải lên tệp phiếu khảo sát" in html
    sipas = db.session.scalar(select(Instrument).where(Instrument.key == "sipas"))
    with client.get(f"/admin/instruments/{sipas.id}") as page:
        assert "v1" in page.get_data(as_text=True)
    with client.get(f"/admin/instruments/versions/{sipas.latest.id}/preview") as page:
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "Điểm phục vụ mẫu" in html and "Xem trước" in html
        assert f'action="/admin/instruments/versions/{sipas.latest.id}/preview?lang=vi"' in html


def test_ward_officials_cannot_reach_the_shared_instruments(world, as_user):
    for username in ("p2admin", "demo-manager"):
        client = as_user(username)
        for url in ("/admin/instruments", "/admin/instruments/upload"):
            with client.get(url) as response:
                assert response.status_code == 403, (username, url)
        with client.get("/admin/") as page:
            assert "/admin/instruments" not in page.get_data(as_text=True), "no menu entry either"


def test_a_valid_upload_becomes_a_new_version_and_is_audited(world, as_user, csrf):
    client = as_user("demo-admin")
    text = (SURVEYS / "quick-feedback.toml").read_text(encoding="utf-8")
    changed = text.replace('key = "quick-feedback"', 'key = "quick-feedback"', 1) + "\n# a comment does not change the content\n"
    before = versions_count()
    with upload(client, csrf, "quick-feedback.toml", changed.encode()) as response:
        assert response.status_code == 303
    assert versions_count() == before, "an identical definition makes no new version"
    edited = text.replace("[[questions]]", "[[questions]]", 1)
    edited = edited.replace('required = true', 'required = false', 1) if 'required = true' in edited else edited + """
[[questions]]
key = "extra"
type = "yesno"
required = false
text = { vi = "Ông/Bà có quay lại không?", en = "Would you come back?" }
"""
    with upload(client, csrf, "quick-feedback.toml", edited.encode()) as response:
        assert response.status_code == 303
        location = response.headers["Location"]
    with client.get(location) as page:
        html = page.get_data(as_text=True)
        assert "quick-feedback: đã lưu phiên bản 2." in html and "upload/quick-feedback.toml" in html
    assert versions_count() == before + 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "instrument.uploaded")).one()
    assert (event.actor_name, event.unit_id, event.detail["version"]) == ("demo-admin", world.province.id, 2)


def test_an_invalid_upload_shows_every_problem_and_saves_nothing(world, as_user, csrf):
    client = as_user("demo-admin")
    before = versions_count()
    bad = b'schema = 1\nkey = "Bad Key"\nkind = "spaceship"\n'
    with upload(client, csrf, "bad.toml", bad) as response:
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "Tệp có" in html and "không có gì được lưu" in html
        assert "upload/bad.toml: key:" in html and "upload/bad.toml: kind:" in html
    with upload(client, csrf, "broken.toml", b"this is = = not toml") as response:
        assert response.status_code == 422 and "not valid TOML" in response.get_data(as_text=True)
    with upload(client, csrf, "latin1.toml", "key = 'Phường'".encode("utf-16")) as response:
        assert response.status_code == 422 and "not UTF-8" in response.get_data(as_text=True)
    with client.post("/admin/instruments/upload", data={"csrf_token": csrf(client)}) as response:
        assert response.status_code == 422 and "Vui lòng chọn một tệp." in response.get_data(as_text=True)
    assert versions_count() == before
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "instrument.uploaded")) == 0


def test_a_province_admin_uploads_an_xlsform_and_a_ward_admin_cannot(world, as_user, csrf):
    before = versions_count()
    ward = as_user("p2admin")
    with upload(ward, csrf, "queue.xlsx", workbook(local_form())) as response:
        assert response.status_code == 403
    client = as_user("demo-admin")
    with upload(client, csrf, "bad.xlsx", workbook(local_form({("survey", 11, 7): "${why} = 'x'"}))) as response:
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "upload/bad.xlsx: trang “survey”, dòng 11, cột “relevant”" in html
    assert versions_count() == before
    with upload(client, csrf, "queue.xlsx", workbook(local_form())) as response:
        assert response.status_code == 303
    item = db.session.scalar(select(Instrument).where(Instrument.key == "queue-local"))
    assert item is not None and versions_count() == before + 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "instrument.uploaded")).one()
    assert event.detail == {"key": "queue-local", "version": 1, "file": "upload/queue.xlsx"}
    # a changed workbook for the same key is a new version, as a TOML file would be
    changed = workbook(local_form({("settings", 2, 3): "Quick queue survey"}))
    with upload(client, csrf, "queue.xlsx", changed) as response:
        assert response.status_code == 303
    assert instruments.latest_version(db.session, "queue-local").number == 2
