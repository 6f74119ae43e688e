"""``flask users …`` and the demo accounts of ``flask demo load``."""
from __future__ import annotations

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import AuditEvent, User
from survey_app.services.data.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from survey_app.services.officials import accounts


def user(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def test_create_reads_the_password_from_stdin_never_from_an_argument(demo_app):
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--username", "Le.Van.C", "--unit", "/vn/qt/p1",
                                 "--role", "admin", "--name", "Lê Văn C", "--password-stdin"],
                           input="một mật khẩu dài\n")
    assert result.exit_code == 0, result.output
    assert "created le.van.c: admin on /vn/qt/p1/" in result.output
    created = user("le.van.c")
    assert created.display_name == "Lê Văn C"
    with demo_app.test_request_context():
        assert accounts.authenticate(db.session, "le.van.c", "một mật khẩu dài") is not None
    assert "một mật khẩu dài" not in result.output
    result = runner.invoke(args=["users", "create", "--username", "x.y.z", "--unit", "p1motcua", "--role", "viewer",
                                 "--password", "on-the-command-line"])
    assert result.exit_code == 2 and "No such option" in result.output


def test_create_prompts_twice_when_interactive(demo_app):
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--username", "pham.d", "--unit", "p2yte", "--role", "viewer"],
                           input="mật khẩu thứ nhất\nmật khẩu thứ hai\nmật khẩu thứ nhất\nmật khẩu thứ nhất\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert user("pham.d").grants[0].unit.code == "p2yte"


def test_bad_input_is_refused_with_a_message_and_nothing_is_written(demo_app):
    runner = demo_app.test_cli_runner()
    before = db.session.scalar(select(func.count(User.id)))
    cases = [
        (["--username", "ok.name", "--unit", "/nowhere/", "--role", "viewer"], "no unit with path or code"),
        (["--username", "Tên có dấu", "--unit", "p2yte", "--role", "viewer"], "A username has 3 to 64 characters"),
        (["--username", "demo-admin", "--unit", "p2yte", "--role", "viewer"], "already taken"),
        (["--username", "ok.name", "--unit", "p2yte", "--role", "boss"], "Invalid value for '--role'"),
    ]
    for args, message in cases:
        result = runner.invoke(args=["users", "create", *args, "--password-stdin"], input="một mật khẩu dài\n")
        assert result.exit_code != 0 and message in result.output, (args, result.output)
    result = runner.invoke(args=["users", "create", "--username", "ok.name", "--unit", "p2yte", "--role", "viewer",
                                 "--password-stdin"], input="short\n")
    assert result.exit_code == 1 and "at least 10 characters" in result.output
    assert db.session.scalar(select(func.count(User.id))) == before


def test_grant_revoke_list_and_set_password(demo_app):
    runner = demo_app.test_cli_runner()
    assert runner.invoke(args=["users", "grant", "--username", "demo-viewer", "--unit", "/vn/qt/p1/",
                               "--role", "manager"]).exit_code == 0
    assert sorted((g.unit.path, g.role) for g in user("demo-viewer").grants) == [
        ("/vn/qt/p1/", "manager"), ("/vn/qt/p2/", "viewer")]
    listing = runner.invoke(args=["users", "list"]).output
    assert "demo-viewer: viewer@/vn/qt/p2/, manager@/vn/qt/p1/" in listing
    assert runner.invoke(args=["users", "revoke", "--username", "demo-viewer", "--unit", "/vn/qt/p1/"]).exit_code == 0
    assert [g.unit.path for g in user("demo-viewer").grants] == ["/vn/qt/p2/"]
    again = runner.invoke(args=["users", "revoke", "--username", "demo-viewer", "--unit", "/vn/qt/p1/"])
    assert again.exit_code == 1 and "has no grant" in again.output
    result = runner.invoke(args=["users", "set-password", "--username", "demo-viewer", "--password-stdin"],
                           input="đổi sang mật khẩu mới\n")
    assert result.exit_code == 0
    with demo_app.test_request_context():
        assert accounts.authenticate(db.session, "demo-viewer", "đổi sang mật khẩu mới") is not None
    done = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert done[-3:] == ["grant.added", "grant.revoked", "user.password_reset"]
    assert db.session.scalars(select(AuditEvent.actor_name).order_by(AuditEvent.id)).all()[-1] == "system"


def test_demo_load_makes_one_account_per_role_once_and_prints_them(demo_app):
    runner = demo_app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["demo", "load", "--no-history"])
        assert result.exit_code == 0, result.output
        assert f"password {DEMO_PASSWORD}" in result.output
        for username, _name, path, role in DEMO_ACCOUNTS:
            assert username in result.output and path in result.output
    assert db.session.scalar(select(func.count(User.id)).where(User.username.like("demo-%"))) == 4
    roles = {u.username: (u.grants[0].role, u.grants[0].unit.path) for u in
             db.session.scalars(select(User).where(User.username.like("demo-%")))}
    assert roles == {"demo-admin": ("admin", "/vn/qt/"), "demo-manager": ("manager", "/vn/qt/p2/"),
                     "demo-viewer": ("viewer", "/vn/qt/p2/"), "demo-phuong": ("manager", "/vn/qt/quang-tri/")}
