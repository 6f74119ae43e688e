"""The unit tree from the management pages: create, rename, move, deactivate, delete."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from survey_app.errors import AppError
from survey_app.extensions import db
from survey_app.models import AuditEvent, Response, Unit
from survey_app.services.officials import tree
from survey_app.services.officials.scope import Scope
from survey_app.services.officials.tree import CODE_ALPHABET, slugify


def units_count() -> int:
    return db.session.scalar(select(func.count(Unit.id)))


def last_event() -> AuditEvent:
    return db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()


def fresh(unit: Unit) -> Unit:
    db.session.expire_all()
    return db.session.get(Unit, unit.id)


def test_a_manager_adds_a_service_point_with_a_generated_code(world, as_user, csrf):
    client = as_user("demo-manager")
    with client.get(f"/admin/units/{world.p2.id}/new") as page:
        assert page.status_code == 200
        assert "Thêm vào Phường 2" in page.get_data(as_text=True)
    with client.post(f"/admin/units/{world.p2.id}/new", data={
        "csrf_token": csrf(client), "name_vi": "Quầy Một cửa số 2", "name_en": "", "kind": "one_stop",
        "service_point": "y", "slug": "", "code": ""}) as response:
        assert response.status_code == 303
    unit = db.session.scalar(select(Unit).where(Unit.name_vi == "Quầy Một cửa số 2"))
    assert unit.path == "/vn/qt/p2/quay-mot-cua-so-2/"
    assert unit.parent_id == world.p2.id and unit.is_service_point and unit.active
    assert len(unit.code) == 6 and set(unit.code) <= set(CODE_ALPHABET)
    assert unit.name_en == "Quầy Một cửa số 2"
    event = last_event()
    assert (event.action, event.actor_name, event.unit_id) == ("unit.created", "demo-manager", unit.id)


def test_a_chosen_code_must_be_valid_and_unique_and_nothing_is_half_written(world, as_user, csrf):
    client = as_user("demo-manager")
    before = units_count()
    base = {"csrf_token": csrf(client), "name_vi": "Điểm mới", "kind": "health", "service_point": "y"}
    with client.post(f"/admin/units/{world.p2.id}/new", data={**base, "code": "p1motcua"}) as response:
        assert response.status_code == 422
        assert "Mã p1motcua đã được một điểm phục vụ khác sử dụng." in response.get_data(as_text=True)
    with client.post(f"/admin/units/{world.p2.id}/new", data={**base, "code": "Có dấu!"}) as response:
        assert response.status_code == 422
        assert "Mã gồm 3 đến 16 chữ thường" in response.get_data(as_text=True)
    with client.post(f"/admin/units/{world.p2.id}/new", data={**base, "kind": "spaceship"}) as response:
        assert response.status_code == 422
        assert "Vui lòng chọn loại đơn vị." in response.get_data(as_text=True)
    with client.post(f"/admin/units/{world.p2.id}/new", data={**base, "name_vi": ""}) as response:
        assert response.status_code == 422
        assert "Vui lòng điền mục này." in response.get_data(as_text=True)
    assert units_count() == before
    with client.post(f"/admin/units/{world.p2.id}/new", data={**base, "code": "P2KHAM"}) as response:
        assert response.status_code == 303
    assert db.session.scalar(select(Unit).where(Unit.code == "p2kham")).name_vi == "Điểm mới"


def test_names_are_nfc_and_slugs_are_made_from_vietnamese_names(world, as_user, csrf):
    assert slugify("Phường Đông Lễ 3") == "phuong-dong-le-3"
    client = as_user("demo-manager")
    decomposed = "Tra\u0323m y te\u0302\u0301 mới"  # NFD from some keyboards
    for _ in range(2):
        with client.post(f"/admin/units/{world.p2.id}/new", data={
                "csrf_token": csrf(client), "name_vi": decomposed, "kind": "admin"}) as response:
            assert response.status_code == 303
    units = db.session.scalars(select(Unit).where(Unit.parent_id == world.p2.id, Unit.kind == "admin")
                               .order_by(Unit.id)).all()
    assert [u.name_vi for u in units] == ["Trạm y tế mới"] * 2
    assert [u.slug for u in units] == ["tram-y-te-moi", "tram-y-te-moi-2"]
    assert all(u.code is None and not u.is_service_point for u in units)


def test_rename_changes_names_and_a_new_short_name_rewrites_the_subtree(world, as_user, csrf):
    client = as_user("demo-admin")
    with client.post(f"/admin/units/{world.p2.id}/edit", data={
            "csrf_token": csrf(client), "name_vi": "Phường Hai", "name_en": "Ward Two", "slug": "phuong-2"}) as response:
        assert response.status_code == 303
    ward = fresh(world.p2)
    assert (ward.name_vi, ward.name_en, ward.path) == ("Phường Hai", "Ward Two", "/vn/qt/phuong-2/")
    assert fresh(world.p2_point).path == "/vn/qt/phuong-2/mot-cua/"
    assert fresh(world.p2_point).code == "p2motcua", "the public code does not change"
    assert last_event().detail["before"]["path"] == "/vn/qt/p2/"
    with client.post(f"/admin/units/{world.p2.id}/edit", data={
            "csrf_token": csrf(client), "name_vi": "Phường Hai", "slug": "p1"}) as response:
        assert response.status_code == 422
        assert "Đã có đơn vị khác ở đây dùng tên rút gọn p1." in response.get_data(as_text=True)


def test_a_ward_manager_cannot_change_the_short_name_of_the_ward_itself(world, as_user, csrf):
    client = as_user("demo-manager")
    with client.post(f"/admin/units/{world.p2.id}/edit", data={
            "csrf_token": csrf(client), "name_vi": "Phường 2", "slug": "p2-moi"}) as response:
        assert response.status_code == 422
    assert fresh(world.p2).path == "/vn/qt/p2/"


def test_moving_a_ward_rewrites_every_path_below_it_in_one_go(world, as_user, csrf):
    client = as_user("demo-admin")
    with client.get(f"/admin/units/{world.p2.id}/move") as page:
        html = page.get_data(as_text=True)
        options = re.findall(r'<option[^>]*value="(\d+)"', html)
        assert str(world.p1.id) in options
        assert str(world.p2_point.id) not in options, "not below itself"
        assert str(world.town.id) not in options, "not where it already is"
    with client.post(f"/admin/units/{world.p2.id}/move", data={"csrf_token": csrf(client),
                                                               "parent": world.p1.id}) as response:
        assert response.status_code == 303
    assert fresh(world.p2).path == "/vn/qt/p1/p2/"
    assert fresh(world.p2).parent_id == world.p1.id
    below = db.session.scalars(select(Unit.path).where(Unit.path.like("/vn/qt/p1/p2/%"))).all()
    assert len(below) == 4
    assert db.session.scalar(select(func.count(Unit.id)).where(Unit.path.like("/vn/qt/p2/%"))) == 0
    event = last_event()
    assert (event.action, event.detail["units"]) == ("unit.moved", 4)
    # the ward's officials keep their grant (it points at the unit, not the path)
    manager = as_user("demo-manager")
    with manager.get(f"/admin/units/{world.p2_point.id}") as response:
        assert response.status_code == 200
    with manager.get(f"/admin/units/{world.p1.id}") as response:
        assert response.status_code == 404


def test_a_unit_cannot_move_below_itself_nor_outside_the_scope(world, as_user, csrf):
    admin = as_user("demo-admin")
    with admin.post(f"/admin/units/{world.p2.id}/move", data={"csrf_token": csrf(admin),
                                                              "parent": world.p2_point.id}) as response:
        assert response.status_code == 422
        assert "Vui lòng chọn nơi chuyển đơn vị đến." in response.get_data(as_text=True)
    manager = as_user("demo-manager")
    point = world.p2_point
    with manager.post(f"/admin/units/{point.id}/move", data={"csrf_token": csrf(manager),
                                                            "parent": world.p1.id}) as response:
        assert response.status_code == 422
    assert fresh(point).path == "/vn/qt/p2/mot-cua/"
    with admin.application.test_request_context():
        scope = Scope.for_user(world.demo_admin, db.session)
        with pytest.raises(tree.TreeError):
            tree.move(db.session, scope, fresh(world.town), fresh(world.p2))
        scope = Scope.for_user(world.demo_manager, db.session)
        with pytest.raises(AppError) as refused:
            tree.move(db.session, scope, fresh(world.p2_point), fresh(world.p1))
        assert refused.value.status == 404


def test_deactivating_a_ward_stops_its_surveys_and_can_be_undone(client, world, as_user, csrf):
    with client.get("/s/p2motcua") as page:
        assert page.status_code == 200
    manager = as_user("demo-manager")
    with manager.post(f"/admin/units/{world.p2.id}/deactivate", data={"csrf_token": csrf(manager)}) as response:
        assert response.status_code == 303
    assert not fresh(world.p2).active and not fresh(world.p2_point).active
    assert fresh(world.p1_point).active
    with client.get("/s/p2motcua") as page:
        assert page.status_code == 404
    assert last_event().detail["units"] == 4
    with manager.post(f"/admin/units/{world.p2.id}/activate", data={"csrf_token": csrf(manager)}) as response:
        assert response.status_code == 303
    with client.get("/s/p2motcua") as page:
        assert page.status_code == 200


def test_a_point_without_answers_can_be_deleted_one_with_answers_cannot(world, as_user, csrf):
    manager = as_user("demo-manager")
    with manager.post(f"/admin/units/{world.p2.id}/new", data={
            "csrf_token": csrf(manager), "name_vi": "Quầy tạm", "kind": "one_stop", "service_point": "y"}) as response:
        new_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with manager.post(f"/admin/units/{new_id}/delete", data={"csrf_token": csrf(manager)}) as response:
        assert response.status_code == 303
        assert response.headers["Location"] == f"/admin/units/{world.p2.id}"
    assert db.session.get(Unit, new_id) is None
    event = last_event()
    assert (event.action, event.unit_id, event.unit_path) == ("unit.deleted", None, "/vn/qt/p2/quay-tam/")

    db.session.add(Response(campaign_id=world.p2_campaign.id, unit_id=world.p2_point.id,
                            instrument_version_id=world.p2_campaign.instrument_version_id, channel="qr",
                            language="vi", idempotency_key="one"))
    db.session.commit()
    with manager.post(f"/admin/units/{world.p2_point.id}/delete", data={"csrf_token": csrf(manager)}) as response:
        assert response.status_code == 303
    with manager.get(response.headers["Location"]) as page:
        assert "Đơn vị này đã nhận câu trả lời nên không thể xoá." in page.get_data(as_text=True)
    assert fresh(world.p2_point) is not None
    with manager.post(f"/admin/units/{world.p2.id}/delete", data={"csrf_token": csrf(manager)}) as response:
        assert response.status_code == 303
    assert fresh(world.p2) is not None, "a unit with units below it stays"


def test_the_only_point_of_a_campaign_is_not_deleted(world, as_user, csrf):
    manager = as_user("demo-manager")
    point = db.session.scalar(select(Unit).where(Unit.code == "p2yte"))
    with manager.post(f"/admin/units/{point.id}/delete", data={"csrf_token": csrf(manager)}) as response:
        assert response.status_code == 303
    with manager.get(f"/admin/units/{point.id}") as page:
        assert "là đơn vị duy nhất của đợt khảo sát" in page.get_data(as_text=True)
    assert fresh(point) is not None


def test_the_unit_page_shows_what_the_role_allows(world, as_user):
    with as_user("demo-viewer").get(f"/admin/units/{world.p2.id}") as page:
        html = page.get_data(as_text=True)
        assert "Bộ phận Một cửa Phường 2" in html
        assert "Ngừng hoạt động" not in html and "Thêm đơn vị" not in html
    with as_user("demo-manager").get(f"/admin/units/{world.p2_point.id}") as page:
        html = page.get_data(as_text=True)
        assert "Ngừng hoạt động" in html and "/s/p2motcua" in html
        assert "Tạo tài khoản tại đây" not in html


def test_a_point_still_referenced_elsewhere_is_kept_whole(world, as_user, csrf):
    """A kiosk points at the unit: the database refuses, the page explains, nothing changes."""
    from survey_app.services.qr import kiosks

    manager = as_user("demo-manager")
    with manager.post(f"/admin/units/{world.p2.id}/new", data={
            "csrf_token": csrf(manager), "name_vi": "Quầy có máy", "kind": "one_stop", "service_point": "y"}) as response:
        new_id = int(response.headers["Location"].rsplit("/", 1)[1])
    kiosks.enrol_kiosk(db.session, db.session.get(Unit, new_id), "Máy")
    db.session.commit()
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    with manager.post(f"/admin/units/{new_id}/delete", data={"csrf_token": csrf(manager)}) as response:
        assert response.status_code == 303
    with manager.get(response.headers["Location"]) as page:
        assert "Vẫn còn dữ liệu khác gắn với đơn vị này" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Unit, new_id) is not None
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events
