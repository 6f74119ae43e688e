"""Kinds of office of the 2025 service points, and the optional commune a citizen lives in."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from helpers import full_answers, hidden_fields
from survey_app.extensions import db
from survey_app.models import Campaign, Response, Unit
from survey_app.services.officials import tree
from survey_app.services.officials.scope import Scope, GrantInfo
from survey_app.services.officials.units import by_path

CENTRE = "/s/pqtttpv"


def definition_for(code: str):
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    return db.session.scalar(select(Campaign).where(Campaign.units.contains(unit))).instrument_version.snapshot


def open_form(client, url):
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return html, hidden_fields(html)


def test_the_demo_ward_has_a_centre_a_reception_point_and_a_health_station(demo_app):
    ward = by_path(db.session, "/vn/qt/quang-tri/")
    points = {u.code: (u.kind, u.office) for u in db.session.scalars(
        select(Unit).where(Unit.path.like("/vn/qt/quang-tri/%"), Unit.is_service_point.is_(True)))}
    assert points == {"pqtttpv": ("one_stop", "centre"), "pqtdtn1": ("one_stop", "reception"),
                      "pqtyte": ("health", "station")}
    assert (ward.official_code, ward.division) == ("19360", "ward")
    assert by_path(db.session, "/vn/qt/quang-tri/ttpvhcc/diem-tiep-nhan-1/").parent.code == "pqtttpv"


def test_a_one_stop_form_asks_once_where_the_citizen_lives_and_a_health_form_does_not(client):
    html, _ = open_form(client, CENTRE)
    assert html.count('name="residence"') == 1
    assert "Ông/Bà hiện sinh sống tại xã, phường nào?" in html and "(không bắt buộc, có thể bỏ qua)" in html
    options = [o for o in html.split('<option value="')[1:]]
    names = [o.split(">", 1)[1].split("<", 1)[0] for o in options]
    # the active communes of the province; the former wards still active in the demo are listed too
    assert names[0] == "Tôi không muốn trả lời" and "Phường Quảng Trị" in names and "Xã Hải Lệ" not in names
    html, _ = open_form(client, "/s/pqtyte")
    assert 'name="residence"' not in html


def test_the_commune_is_stored_when_given_and_nothing_when_skipped(client):
    answers = full_answers(definition_for("pqtttpv"))
    ward = by_path(db.session, "/vn/qt/quang-tri/")
    p1 = by_path(db.session, "/vn/qt/p1/")
    _, fields = open_form(client, CENTRE)
    assert client.post(CENTRE, data={**fields, **answers, "residence": str(p1.id)}).status_code == 303
    _, fields = open_form(client, CENTRE)
    assert client.post(CENTRE, data={**fields, **answers, "residence": ""}).status_code == 303
    stored = db.session.execute(select(Response.unit_id, Response.residence_unit_id).order_by(Response.id)).all()
    centre = db.session.scalar(select(Unit.id).where(Unit.code == "pqtttpv"))
    assert stored == [(centre, p1.id), (centre, None)]
    assert ward.id != p1.id


@pytest.mark.parametrize("value", ["999999", "abc", "-1"])
def test_a_commune_not_offered_is_refused_with_a_message_and_nothing_stored(client, value):
    answers = full_answers(definition_for("pqtttpv"))
    hai_le = by_path(db.session, "/vn/qt/hai-le/")  # inactive: not offered
    for bad in (value, str(hai_le.id)):
        _, fields = open_form(client, CENTRE)
        page = client.post(CENTRE, data={**fields, **answers, "residence": bad})
        assert page.status_code == 422
        assert "Ông/Bà vui lòng chọn xã, phường trong danh sách, hoặc để trống." in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Response.id))) == 0


def manager_scope(unit: Unit) -> Scope:
    return Scope(db.session, None, [GrantInfo(1, unit.id, unit.path, "manager")])


def test_a_service_point_gets_a_kind_of_office_that_fits_its_kind(demo_app):
    with demo_app.test_request_context():
        check_offices()


def check_offices():
    ward = by_path(db.session, "/vn/qt/quang-tri/")
    scope = manager_scope(ward)
    school = tree.create_child(db.session, scope, ward, name_vi="Trường Tiểu học Quảng Trị", name_en="",
                               kind="education", service_point=True, office="school")
    assert (school.office, school.kind, school.is_service_point) == ("school", "education", True)
    with pytest.raises(tree.TreeError, match="không phù hợp với loại đơn vị"):
        tree.create_child(db.session, scope, ward, name_vi="Sai", name_en="", kind="health", service_point=True,
                          office="centre")
    with pytest.raises(tree.TreeError, match="Chỉ điểm phục vụ mới có loại cơ quan"):
        tree.create_child(db.session, scope, ward, name_vi="Sai", name_en="", kind="one_stop", service_point=False,
                          office="reception")
    with pytest.raises(tree.TreeError, match="Vui lòng chọn loại cơ quan"):
        tree.create_child(db.session, scope, ward, name_vi="Sai", name_en="", kind="one_stop", service_point=True,
                          office="counter")


def test_the_admin_page_creates_a_reception_point(client, login):
    login(client, "demo-phuong")
    ward = by_path(db.session, "/vn/qt/quang-tri/")
    centre = db.session.scalar(select(Unit).where(Unit.code == "pqtttpv"))
    page = client.get(f"/admin/units/{centre.id}/new")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Trung tâm Phục vụ hành chính công" in html and "Điểm tiếp nhận" in html
    fields = hidden_fields(html)
    made = client.post(f"/admin/units/{centre.id}/new", data={
        **fields, "name_vi": "Điểm tiếp nhận số 2", "kind": "one_stop", "service_point": "y",
        "office": "reception"})
    assert made.status_code == 303, made.get_data(as_text=True)
    point = db.session.scalar(select(Unit).where(Unit.name_vi == "Điểm tiếp nhận số 2"))
    assert point.office == "reception" and point.parent_id == centre.id and point.path.startswith(ward.path)
    unit_page = client.get(f"/admin/units/{point.id}").get_data(as_text=True)
    assert "Điểm tiếp nhận (một cửa)" in unit_page
    bad = client.post(f"/admin/units/{centre.id}/new", data={
        **fields, "name_vi": "Sai", "kind": "health", "service_point": "y", "office": "reception"})
    assert bad.status_code == 422
