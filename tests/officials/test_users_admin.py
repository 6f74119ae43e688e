"""Accounts and grants from the management pages: an admin acts within their subtree only."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from survey_app.errors import AppError
from survey_app.extensions import db
from survey_app.models import AuditEvent, Grant, User
from survey_app.services.officials import accounts
from survey_app.services.officials.scope import Scope


def user_named(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def actions() -> list[str]:
    return db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def new_user_form(csrf, client, **overrides) -> dict:
    data = {"csrf_token": csrf(client), "username": "tran.thi.b", "display_name": "Trần Thị B",
            "role": "manager", "password": "mật khẩu đủ dài", "confirm": "mật khẩu đủ dài"}
    data.update(overrides)
    return data


def test_a_ward_admin_creates_an_account_in_the_ward_who_can_then_log_in(demo_app, world, as_user, csrf, login):
    client = as_user("p2admin")
    with client.get(f"/admin/units/{world.p2.id}/users/new") as page:
        assert "Tài khoản mới tại Phường 2" in page.get_data(as_text=True)
    with client.post(f"/admin/units/{world.p2.id}/users/new", data=new_user_form(csrf, client)) as response:
        assert response.status_code == 303
    user = user_named("tran.thi.b")
    assert user.display_name == "Trần Thị B" and user.home_unit_id == world.p2.id
    assert [(g.unit_id, g.role) for g in user.grants] == [(world.p2.id, "manager")]
    assert user.password_hash.startswith("scrypt:") and "mật khẩu" not in user.password_hash
    assert actions()[-1] == "user.created"
    with login(demo_app.test_client(), "tran.thi.b", "mật khẩu đủ dài") as response:
        assert response.status_code == 303


def test_account_form_mistakes_get_messages_and_create_nothing(world, as_user, csrf):
    client = as_user("p2admin")
    url = f"/admin/units/{world.p2.id}/users/new"
    before = db.session.scalar(select(func.count(User.id)))
    cases = [
        ({"username": "p1manager"}, "Tên đăng nhập p1manager đã có người dùng."),
        ({"username": "Trần B"}, "Tên đăng nhập dài 3 đến 64 ký tự"),
        ({"password": "ngắn", "confirm": "ngắn"}, "Mật khẩu phải có ít nhất 10 ký tự."),
        ({"confirm": "khác hẳn rồi nhé"}, "Hai mật khẩu không khớp nhau."),
        ({"role": "superuser"}, "Vui lòng chọn vai trò."),
        ({"password": "tran.thi.b-123", "confirm": "tran.thi.b-123"}, "Mật khẩu này quá dễ đoán."),
    ]
    for overrides, message in cases:
        with client.post(url, data=new_user_form(csrf, client, **overrides)) as response:
            assert response.status_code == 422, overrides
            assert message in response.get_data(as_text=True), overrides
    assert db.session.scalar(select(func.count(User.id))) == before


def test_grants_stay_within_the_admins_subtree(world, as_user, csrf):
    client = as_user("p2admin")
    viewer = world.demo_viewer
    with client.post(f"/admin/users/{viewer.id}/grants", data={"csrf_token": csrf(client),
                                                               "unit": world.p1.id, "role": "viewer"}) as response:
        assert response.status_code == 422
        assert "Vui lòng chọn một đơn vị trong phạm vi được giao." in response.get_data(as_text=True)
    with client.post(f"/admin/users/{viewer.id}/grants", data={"csrf_token": csrf(client),
                                                               "unit": world.p2.id, "role": "manager"}) as response:
        assert response.status_code == 303
    assert [(g.unit_id, g.role) for g in user_named("demo-viewer").grants] == [(world.p2.id, "manager")]
    assert actions()[-1] == "grant.changed"
    # the services check the scope too, whatever a form lets through
    with client.application.test_request_context():
        scope = Scope.for_user(user_named("p2admin"), db.session)
        with pytest.raises(AppError) as refused:
            accounts.add_grant(db.session, user_named("demo-viewer"), world.p1, "viewer", scope=scope)
        assert refused.value.status == 404
        with pytest.raises(AppError) as refused:
            accounts.add_grant(db.session, user_named("p1manager"), world.p2, "viewer", scope=scope)
        assert refused.value.status == 404, "nor can it pull in an account from the other ward"


def test_an_admin_cannot_grant_above_their_own_role():
    from survey_app.services.officials.scope import GrantInfo

    class FakeUnit:
        path = "/vn/qt/p2/"

    manager_scope = Scope(None, None, [GrantInfo(1, 1, "/vn/qt/p2/", "manager")])
    assert manager_scope.grantable_roles(FakeUnit()) == []
    admin_scope = Scope(None, None, [GrantInfo(1, 1, "/vn/qt/", "admin")])
    assert admin_scope.grantable_roles(FakeUnit()) == ["viewer", "manager", "admin"]


def test_revoking_a_grant_and_never_ones_own(world, as_user, csrf):
    client = as_user("p2admin")
    grant = user_named("demo-viewer").grants[0]
    with client.post(f"/admin/grants/{grant.id}/revoke", data={"csrf_token": csrf(client)}) as response:
        assert response.status_code == 303
    assert user_named("demo-viewer").grants == []
    assert actions()[-1] == "grant.revoked"
    own = user_named("p2admin").grants[0]
    with client.post(f"/admin/grants/{own.id}/revoke", data={"csrf_token": csrf(client)}) as response:
        assert response.status_code == 303
    with client.get(response.headers["Location"]) as page:
        assert "Không thể tự thu hồi quyền của chính mình." in page.get_data(as_text=True)
    assert len(user_named("p2admin").grants) == 1


def test_a_ward_admin_cannot_touch_a_province_officials_account(world, as_user, csrf):
    province_admin = user_named("demo-admin")
    accounts.add_grant(db.session, province_admin, world.p2, "viewer")
    client = as_user("p2admin")
    with client.get(f"/admin/users/{province_admin.id}") as page:
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "Tỉnh Quảng Trị" not in html.split("<h2>")[1], "the province grant is not listed"
        assert "còn có quyền tại 1 đơn vị ngoài phạm vi được giao" in html
        assert "Đặt mật khẩu mới" not in html
    for action in ("deactivate", "password"):
        with client.post(f"/admin/users/{province_admin.id}/{action}",
                         data={"csrf_token": csrf(client), "password": "x" * 12, "confirm": "x" * 12}) as response:
            assert response.status_code == 403, action
    assert user_named("demo-admin").active


def test_resetting_a_password_ends_sessions_and_lifts_the_lock(demo_app, world, as_user, csrf, login):
    manager = as_user("demo-manager")
    user = user_named("demo-manager")
    from survey_app.models import utcnow
    from datetime import timedelta
    user.locked_until = utcnow() + timedelta(minutes=10)
    db.session.commit()
    client = as_user("p2admin")
    new = "mật khẩu mới tinh"
    with client.post(f"/admin/users/{user.id}/password", data={"csrf_token": csrf(client), "password": new,
                                                               "confirm": new}) as response:
        assert response.status_code == 303
    assert user_named("demo-manager").locked_until is None
    with manager.get("/admin/") as response:
        assert response.status_code == 302
    with login(demo_app.test_client(), "demo-manager", new) as response:
        assert response.status_code == 303
    assert actions()[-1] == "user.password_reset"


def test_deactivating_and_reactivating_an_account(world, as_user, csrf):
    victim = as_user("demo-viewer")
    client = as_user("p2admin")
    user = user_named("demo-viewer")
    with client.post(f"/admin/users/{user.id}/deactivate", data={"csrf_token": csrf(client)}) as response:
        assert response.status_code == 303
    assert not user_named("demo-viewer").active
    with victim.get("/admin/") as response:
        assert response.status_code == 302
    with client.post(f"/admin/users/{user.id}/activate", data={"csrf_token": csrf(client)}) as response:
        assert response.status_code == 303
    assert user_named("demo-viewer").active
    assert actions()[-2:] == ["user.deactivated", "user.activated"]
    with client.post(f"/admin/users/{user_named('p2admin').id}/deactivate",
                     data={"csrf_token": csrf(client)}) as response:
        assert response.status_code == 303
    assert user_named("p2admin").active, "not one's own account"


def test_the_account_list_is_scoped(world, as_user):
    with as_user("p2admin").get("/admin/users") as page:
        html = page.get_data(as_text=True)
        assert "demo-manager" in html and "p2admin" in html
        assert "p1manager" not in html and "demo-admin" not in html
    with as_user("demo-admin").get("/admin/users") as page:
        html = page.get_data(as_text=True)
        assert all(name in html for name in ("p1manager", "p2admin", "demo-viewer"))
