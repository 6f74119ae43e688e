"""Logging in and out: one answer for every failure, lockout, throttling, sessions that
end on logout, password change and idleness, and the hashing parameters."""
from __future__ import annotations

import logging
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from survey_app.auth import SEEN_KEY
from survey_app.config import ConfigError, load_settings
from survey_app.extensions import db
from survey_app.models import AuditEvent, User, utcnow
from survey_app.services.data.demo import DEMO_PASSWORD
from survey_app.services.officials import accounts

WRONG = "Sai tên đăng nhập hoặc mật khẩu"


def page_without_tokens(response) -> str:
    return re.sub(r'value="[^"]*"', 'value=""', response.get_data(as_text=True))


def reload(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def test_login_leads_to_the_dashboard_in_vietnamese(client, world, login):
    with client.get("/login") as page:
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert '<html lang="vi">' in html and "Đăng nhập dành cho cán bộ" in html
        assert "<script" not in html and "style=" not in html
    with login(client, "demo-manager", DEMO_PASSWORD) as response:
        assert response.status_code == 303
        assert response.headers["Location"] == "/admin/"
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with client.get("/admin/") as dashboard:
        html = dashboard.get_data(as_text=True)
        assert dashboard.status_code == 200
        assert "Phường 2" in html and "Quản lý" in html
        assert "Phường 1" not in html
        assert dashboard.headers["Cache-Control"] == "no-store"
    assert reload(world.demo_manager).last_login_at is not None


def test_unknown_user_wrong_password_and_locked_account_look_the_same(demo_app, world, login, password):
    def attempt(username, pw):
        client = demo_app.test_client()
        with login(client, username, pw) as response:
            return response.status_code, page_without_tokens(response)

    unknown = attempt("nobody-here", "whatever password")
    wrong = attempt("p2admin", "not the password at all")
    world.p2admin.locked_until = utcnow() + timedelta(minutes=10)
    db.session.commit()
    locked = attempt("p2admin", password)  # the right password, but the account is locked
    assert unknown[0] == wrong[0] == locked[0] == 401
    assert unknown[1] == wrong[1] == locked[1]
    assert WRONG in unknown[1]


def test_five_failures_lock_the_account_for_the_window_and_are_audited(demo_app, world, login, password):
    client = demo_app.test_client()
    for _ in range(demo_app.config["LOGIN_MAX_FAILURES"]):
        with login(client, "p2admin", "a wrong password") as response:
            assert response.status_code == 401
    with login(client, "p2admin", password) as response:
        assert response.status_code == 401, "the right password is refused while locked"
    user = reload(world.p2admin)
    assert user.locked_until is not None
    assert user.locked_until - utcnow() > timedelta(minutes=demo_app.config["LOGIN_LOCK_MINUTES"] - 1)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login.locked")).one()
    assert (event.actor_name, event.unit_id, event.detail["failures"]) == ("p2admin", world.p2.id, 5)
    # the window passes: the right password works again and the counters start afresh
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with login(client, "p2admin", password) as response:
        assert response.status_code == 303
    assert reload(world.p2admin).failed_logins == 0


def test_failures_spread_over_more_than_the_window_do_not_lock(demo_app, world, login, password):
    client = demo_app.test_client()
    for _ in range(4):
        with login(client, "p2admin", "a wrong password"):
            pass
    user = reload(world.p2admin)
    user.failure_window_start = utcnow() - timedelta(minutes=16)
    db.session.commit()
    with login(client, "p2admin", "a wrong password"):
        pass
    user = reload(world.p2admin)
    assert user.locked_until is None and user.failed_logins == 1
    with login(client, "p2admin", password) as response:
        assert response.status_code == 303


def test_a_device_is_throttled_after_repeated_failures(backend, tmp_path, login):
    """Per device (Flask-Limiter, keyed by the daily device hash): failures for any
    username count; past the limit the device gets 429, even with the right password."""
    import conftest as root
    from survey_app.models import Unit

    with root.database_url(backend, tmp_path) as (url, options):
        app = root.make_app(url, options, RATELIMIT_ENABLED=True, LOGIN_DEVICE_LIMIT="3 per 15 minutes")
        with app.app_context():
            db.create_all()
            unit = Unit(slug="vn", path="/vn/", kind="admin", name_vi="Việt Nam", name_en="Viet Nam")
            db.session.add(unit)
            db.session.commit()
            accounts.create_user(db.session, username="someone", display_name="S",
                                 password="a good long password", unit=unit, role="viewer")
            client = app.test_client()
            for username in ("someone", "nobody", "someone-else"):
                with login(client, username, "a wrong password") as response:
                    assert response.status_code == 401
            with login(client, "someone", "a good long password") as response:
                assert response.status_code == 429
                assert "Có quá nhiều yêu cầu được gửi trong thời gian ngắn" in response.get_data(as_text=True)
            other_device = app.test_client()
            other_device.environ_base["HTTP_USER_AGENT"] = "another phone"
            with login(other_device, "someone", "a good long password") as response:
                assert response.status_code == 303
            db.session.remove()
            db.engine.dispose()


def test_logout_ends_the_session_even_for_a_copied_cookie(demo_app, world, as_user, csrf):
    client = as_user("p2admin")
    stolen = demo_app.test_client()
    cookie = client.get_cookie("session")
    stolen.set_cookie("session", cookie.value)
    with stolen.get("/admin/") as response:
        assert response.status_code == 200, "the copy works while the session lives"
    with client.post("/logout", data={"csrf_token": csrf(client)}) as response:
        assert response.status_code == 303 and response.headers["Location"] == "/login"
    with client.get("/admin/") as response:
        assert response.status_code == 302
    with stolen.get("/admin/") as response:
        assert response.status_code == 302, "a copy of the old cookie no longer works"
        assert response.headers["Location"].startswith("/login")


def test_logout_needs_post_and_csrf(as_user):
    client = as_user("p2admin")
    with client.get("/logout") as response:
        assert response.status_code == 405
    with client.post("/logout") as response:
        assert response.status_code == 400
    with client.get("/admin/") as response:
        assert response.status_code == 200


def test_changing_the_password_ends_the_other_sessions(demo_app, world, as_user, csrf, login, password):
    here, elsewhere = as_user("p2admin"), as_user("p2admin")
    new = "a brand new passphrase"
    data = {"csrf_token": csrf(here), "current": password, "new": new, "confirm": new}
    with here.post("/account/password", data={**data, "current": "not my password"}) as response:
        assert response.status_code == 422
        assert "Mật khẩu hiện tại không đúng." in response.get_data(as_text=True)
    with here.post("/account/password", data={**data, "new": "short", "confirm": "short"}) as response:
        assert response.status_code == 422
        assert "Mật khẩu phải có ít nhất 10 ký tự." in response.get_data(as_text=True)
    with here.post("/account/password", data=data) as response:
        assert response.status_code == 303
    with here.get("/admin/") as response:
        assert response.status_code == 200, "this session lives on"
    with elsewhere.get("/admin/") as response:
        assert response.status_code == 302, "the other session has ended"
    assert db.session.scalars(select(AuditEvent.action)).all()[-1] == "user.password_changed"
    with login(demo_app.test_client(), "p2admin", password) as response:
        assert response.status_code == 401
    with login(demo_app.test_client(), "p2admin", new) as response:
        assert response.status_code == 303


def test_an_idle_session_ends(demo_app, as_user):
    client = as_user("p2admin")
    with client.session_transaction() as session:
        session[SEEN_KEY] = int(time.time()) - demo_app.config["SESSION_IDLE_MINUTES"] * 60 - 5
    with client.get("/admin/") as response:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=/admin/")
    with client.get(response.headers["Location"]) as page:
        assert "Phiên đăng nhập đã kết thúc sau 30 phút không hoạt động" in page.get_data(as_text=True)


def test_an_active_session_stays(demo_app, as_user):
    client = as_user("p2admin")
    with client.session_transaction() as session:
        session[SEEN_KEY] = int(time.time()) - demo_app.config["SESSION_IDLE_MINUTES"] * 60 + 60
    with client.get("/admin/") as response:
        assert response.status_code == 200
    with client.session_transaction() as session:
        assert session[SEEN_KEY] >= int(time.time()) - 5, "activity moves the idle clock"


def test_a_deactivated_account_cannot_log_in_and_its_sessions_end(demo_app, world, as_user, login, password):
    client = as_user("p2admin")
    accounts.set_active(db.session, reload(world.p2admin), False)
    with client.get("/admin/") as response:
        assert response.status_code == 302
    with login(demo_app.test_client(), "p2admin", password) as response:
        assert response.status_code == 401


def test_login_returns_to_the_page_asked_for_but_never_elsewhere(demo_app, world, login, password):
    client = demo_app.test_client()
    with client.get(f"/admin/units/{world.p2.id}") as response:
        assert response.headers["Location"] == f"/login?next=/admin/units/{world.p2.id}"
    with client.get(response.headers["Location"]) as page:
        assert f'value="/admin/units/{world.p2.id}"' in page.get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    with client.post("/login", data={"csrf_token": token, "username": "p2admin", "password": password,
                                     "next": f"/admin/units/{world.p2.id}"}) as response:
        assert response.headers["Location"] == f"/admin/units/{world.p2.id}"
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        other = demo_app.test_client()
        with other.get("/login") as page:
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
        with other.post("/login", data={"csrf_token": token, "username": "p2admin", "password": password,
                                        "next": evil}) as response:
            assert response.headers["Location"] == "/admin/", evil


def test_a_login_form_without_fields_gets_messages_not_an_error(client, csrf):
    with client.post("/login", data={"csrf_token": csrf(client)}) as response:
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert "Vui lòng nhập tên đăng nhập." in html and "Vui lòng nhập mật khẩu." in html


def test_passwords_never_reach_the_logs(demo_app, world, login, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "hunter2-but-longer-xyz"
    with login(demo_app.test_client(), "p2admin", secret):
        pass
    for _ in range(5):
        with login(demo_app.test_client(), "p2admin", secret):
            pass
    assert secret not in caplog.text
    assert all(secret not in repr(e.detail) for e in db.session.scalars(select(AuditEvent)))


def test_hashes_are_scrypt_cheap_under_testing_and_strong_by_default(demo_app, world):
    assert world.p2admin.password_hash.startswith("scrypt:1024:8:1$")
    assert load_settings({})["PASSWORD_HASH_METHOD"] == "scrypt:32768:8:1"
    demo_app.config["TESTING"] = False
    try:
        assert accounts.hash_password("a strong enough password").startswith("scrypt:32768:8:1$")
    finally:
        demo_app.config["TESTING"] = True
    with pytest.raises(ConfigError):
        load_settings({"PASSWORD_HASH_METHOD": "md5"})


def test_a_login_upgrades_a_hash_made_with_old_parameters(demo_app, world, login, password):
    user = reload(world.p2admin)
    user.password_hash = accounts.generate_password_hash(password, method="pbkdf2:sha256:1000")
    db.session.commit()
    with login(demo_app.test_client(), "p2admin", password) as response:
        assert response.status_code == 303
    assert reload(world.p2admin).password_hash.startswith("scrypt:1024:8:1$")


def test_production_refuses_to_start_without_a_real_secret_key(monkeypatch):
    from survey_app import create_app

    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({"HAILONG_ENV": "production"})
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({"HAILONG_ENV": "production", "SECRET_KEY": "too-short"})
    monkeypatch.setenv("HAILONG_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        create_app()
    settings = load_settings({"HAILONG_ENV": "production", "SECRET_KEY": "k" * 32})
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_HTTPONLY"] is True and settings["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert load_settings({})["SESSION_COOKIE_SECURE"] is False
    assert load_settings({"PREFER_HTTPS": "1"})["SESSION_COOKIE_SECURE"] is True
    assert load_settings({})["SESSION_IDLE_MINUTES"] == 30
    assert load_settings({"SESSION_IDLE_MINUTES": "5"})["SESSION_IDLE_MINUTES"] == 5
