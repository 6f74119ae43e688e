"""Kiosk mode: enrolment, the cookie that proves it, the kiosk survey and its refusals,
and the kiosks command."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from helpers import hidden_fields
from survey_app.extensions import db
from survey_app.models import Kiosk, Response
from survey_app.services.officials.lookup import find_unit
from survey_app.services.qr import kiosks

BASE = "https://hailong.example.gov.vn"
NOT_ENROLLED = "Thiết bị này chưa được thiết lập làm máy khảo sát cho điểm phục vụ này."


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def enrol(code: str = "p2motcua", label: str = "Quầy 1") -> kiosks.KioskEnrolment:
    enrolment = kiosks.enrol_kiosk(db.session, find_unit(db.session, code), label)
    db.session.commit()
    return enrolment


def enrol_client(client, code: str = "p2motcua"):
    """Enrol this client's 'tablet' for a point; returns the Set-Cookie header."""
    enrolment = enrol(code)
    page = client.get(enrolment.path)
    response = client.post(enrolment.path, data=hidden_fields(page.get_data(as_text=True)))
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return response


def answer_kiosk(client, answer, code="p2motcua", **extra):
    return answer(client, f"/k/{code}", extra or None)


def test_a_tablet_is_refused_until_enrolled(client):
    response = client.get("/k/p2motcua")
    assert response.status_code == 403
    assert NOT_ENROLLED in response.get_data(as_text=True)
    assert "Kiosk not set up" in client.get("/k/p2motcua?lang=en").get_data(as_text=True)


def test_enrolment_sets_a_strict_httponly_cookie_and_stores_only_digests(client):
    enrolment = enrol()
    page = client.get(enrolment.path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Bộ phận Một cửa Phường 2" in html and "Quầy 1" in html and "Dùng máy tính bảng này làm máy khảo sát" in html
    db.session.expire_all()
    assert db.session.get(Kiosk, enrolment.kiosk.id).enrolled_at is None, "opening the link only asks"

    response = client.post(enrolment.path, data=hidden_fields(html))
    assert response.status_code == 303
    assert response.headers["Location"] == "/k/p2motcua?lang=vi"
    cookie = response.headers["Set-Cookie"]
    key = re.match(r"hl_kiosk=([^;]+);", cookie).group(1)
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert "httponly" in attributes
    assert attributes["samesite"] == "SameSite=Strict"
    assert attributes["path"] == "Path=/k/"
    assert int(attributes["max-age"].split("=")[1]) >= 365 * 24 * 3600

    db.session.expire_all()
    kiosk = db.session.get(Kiosk, enrolment.kiosk.id)
    assert kiosk.state_at(datetime.now(timezone.utc)) == "active"
    stored = [str(v) for v in db.session.execute(select(Kiosk.__table__)).one()]
    assert all(key not in v and enrolment.secret not in v for v in stored)
    assert len(kiosk.key_hash) == len(kiosk.enrol_hash) == 64


def test_kiosk_survey_is_large_closed_and_resets(client, answer, demo_app):
    enrol_client(client)
    page = client.get("/k/p2motcua")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<body class="kiosk">' in html
    assert page.headers["Cache-Control"] == "no-store"
    assert re.findall(r'<a [^>]*href="([^"]*)"', html) == [], "no way out: no link at all"
    # the only other address is the language switch, a button of the form that keeps its answers (#15)
    assert re.findall(r'formaction="([^"]*)"', html) == ["/k/p2motcua?lang=en"]
    # issue #15: idle reset 90 s by default, by JavaScript, the meta refresh only without it
    assert '<noscript><meta http-equiv="refresh" content="90;url=/k/p2motcua?lang=vi"></noscript>' in html
    assert 'action="/k/p2motcua?lang=vi"' in html
    # the survey form's progress bar (issue #15, on every form) and the offline queue, nothing else
    assert re.findall(r'<script src="([^"?]*)', html) == ["/static/progress.js", "/static/kiosk_queue.js"]

    sent = answer_kiosk(client, answer)
    assert sent.status_code == 303
    assert sent.headers["Location"] == "/k/p2motcua/thanks?lang=vi"
    thanks = client.get(sent.headers["Location"])
    body = thanks.get_data(as_text=True)
    assert thanks.status_code == 200 and "Xin cảm ơn!" in body
    reset = demo_app.config["KIOSK_RESET_SECONDS"]
    # back to the survey for the next person: by script, the timed refresh only without it (#15, axe meta-refresh)
    assert f'<noscript><meta http-equiv="refresh" content="{reset};url=/k/p2motcua?lang=vi"></noscript>' in body
    assert f'<a id="kiosk-return" href="/k/p2motcua?lang=vi" data-seconds="{reset}">Bắt đầu lại ngay</a>' in body
    assert re.search(r'<script src="/static/kiosk_return\.js\?v=[0-9a-f]{16}" defer>', body)
    stored = db.session.scalars(select(Response)).one()
    assert (stored.channel, stored.device_hash, stored.trust) == ("kiosk", None, "ok")


def test_the_next_person_starts_in_vietnamese(client, answer):
    enrol_client(client)
    client.get("/k/p2motcua?lang=en")
    sent = answer_kiosk(client, answer)
    assert sent.headers["Location"] == "/k/p2motcua/thanks?lang=en"
    body = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Thank you!" in body and 'url=/k/p2motcua?lang=vi"' in body


def test_a_busy_kiosk_is_not_a_suspicious_device(client, answer):
    enrol_client(client)
    for _ in range(4):
        assert answer_kiosk(client, answer).status_code == 303
    assert db.session.scalars(select(Response.trust)).all() == ["ok"] * 4


def test_a_kiosk_key_works_only_at_its_own_point(client, answer):
    enrol_client(client, "p2motcua")
    assert client.get("/k/p2yte").status_code == 403
    assert client.get("/k/p2motcua").status_code == 200


def test_a_revoked_kiosk_stops_at_once_and_stores_nothing(client, answer, full_answers):
    enrol_client(client)
    page = client.get("/k/p2motcua")
    fields = hidden_fields(page.get_data(as_text=True))
    kiosk = db.session.scalars(select(Kiosk)).one()
    kiosks.revoke_kiosk(db.session, kiosk.id)
    db.session.commit()
    assert client.get("/k/p2motcua").status_code == 403
    response = client.post("/k/p2motcua", data=fields)
    assert response.status_code == 403 and NOT_ENROLLED in response.get_data(as_text=True)
    assert client.get("/k/p2motcua/thanks").status_code == 403
    assert count(Response) == 0


def test_a_forged_cookie_is_refused(client):
    enrol()  # a pending kiosk exists, but this tablet never enrolled
    client.set_cookie("hl_kiosk", "forged-" + "x" * 40, path="/k/")
    assert client.get("/k/p2motcua").status_code == 403
    client.set_cookie("hl_kiosk", "y" * 500, path="/k/")
    assert client.get("/k/p2motcua").status_code == 403


def test_kiosk_of_an_unknown_or_closed_point(client, open_campaign):
    enrol_client(client)
    assert client.get("/k/khongco").status_code == 404
    open_campaign("p2motcua").status = "closed"
    db.session.commit()
    assert client.get("/k/p2motcua").status_code == 410


def _used(enrolment, client):
    page = client.get(enrolment.path)
    client.post(enrolment.path, data=hidden_fields(page.get_data(as_text=True)))


def _expired(enrolment, client):
    db.session.get(Kiosk, enrolment.kiosk.id).enrol_expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    db.session.commit()


def _revoked(enrolment, client):
    kiosks.revoke_kiosk(db.session, enrolment.kiosk.id)
    db.session.commit()


def test_an_enrolment_link_works_once(demo_app):
    for spoil in (_used, _expired, _revoked):
        enrolment = enrol()
        first = demo_app.test_client()
        fields = hidden_fields(first.get(enrolment.path).get_data(as_text=True))
        spoil(enrolment, demo_app.test_client())
        for response in (first.get(enrolment.path), first.post(enrolment.path, data=fields)):
            assert response.status_code == 410, spoil.__name__
            assert "Đường liên kết đăng ký này đã được sử dụng hoặc đã hết hạn." in response.get_data(as_text=True)
            assert "hl_kiosk" not in response.headers.get("Set-Cookie", "")
        assert first.get("/k/p2motcua").status_code == 403


def test_an_unknown_enrolment_link(client):
    for path in ("/k/enrol/not-a-secret", "/k/enrol/" + "z" * 300):
        response = client.get(path)
        assert response.status_code == 404
        assert "Đường liên kết đăng ký này không hợp lệ." in response.get_data(as_text=True)


def test_enrolling_needs_the_csrf_token(client):
    enrolment = enrol()
    assert client.post(enrolment.path, data={}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Kiosk, enrolment.kiosk.id).enrolled_at is None


# ------------------------------------------------------------------ services for the officials' pages

def test_list_and_revoke_are_scoped_to_a_subtree(demo_app):
    p2 = enrol("p2motcua")
    p1 = enrol("p1yte", "Quầy tiếp đón")
    ward2 = find_unit(db.session, "/vn/qt/p2/")
    assert [k.id for k in kiosks.list_kiosks(db.session, ward2)] == [p2.kiosk.id]
    assert {k.id for k in kiosks.list_kiosks(db.session)} == {p1.kiosk.id, p2.kiosk.id}
    with pytest.raises(kiosks.KioskError, match="is not under /vn/qt/p2/"):
        kiosks.revoke_kiosk(db.session, p1.kiosk.id, within=ward2)
    kiosks.revoke_kiosk(db.session, p2.kiosk.id, within=ward2)
    db.session.commit()
    assert kiosks.list_kiosks(db.session, ward2) == []
    assert [k.id for k in kiosks.list_kiosks(db.session, ward2, include_revoked=True)] == [p2.kiosk.id]


@pytest.mark.parametrize("ref, label, message", [
    ("/vn/qt/p2/", "", "is not an active service point"),
    ("p2motcua", "x" * 81, "at most 80 characters"),
])
def test_enrol_refusals(demo_app, ref, label, message):
    with pytest.raises(kiosks.KioskError, match=message):
        kiosks.enrol_kiosk(db.session, find_unit(db.session, ref), label)
    assert count(Kiosk) == 0


# ------------------------------------------------------------------ the command

def test_cli_enrol_list_revoke(demo_app, client):
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["kiosks", "enrol", "--unit", "p2motcua", "--label", "Quầy 1", "--base-url", BASE])
    assert result.exit_code == 0, result.output
    url = re.search(r"https://\S+", result.output).group(0)
    assert url.startswith(BASE + "/k/enrol/")
    assert "Kiosk 1 for p2motcua 'Quầy 1'" in result.output

    listed = runner.invoke(args=["kiosks", "list"])
    assert re.search(r"1\s+p2motcua\s+pending .*Quầy 1", listed.output), listed.output
    page = client.get(url.removeprefix(BASE))
    assert client.post(url.removeprefix(BASE), data=hidden_fields(page.get_data(as_text=True))).status_code == 303
    assert re.search(r"1\s+p2motcua\s+active", runner.invoke(args=["kiosks", "list", "--unit", "/vn/qt/p2/"]).output)
    assert runner.invoke(args=["kiosks", "list", "--unit", "/vn/qt/p1/"]).output.strip() == "No kiosks."

    revoked = runner.invoke(args=["kiosks", "revoke", "1"])
    assert revoked.exit_code == 0 and "Kiosk 1 (p2motcua 'Quầy 1') revoked." in revoked.output
    assert client.get("/k/p2motcua").status_code == 403
    assert runner.invoke(args=["kiosks", "list"]).output.strip() == "No kiosks."
    assert "revoked" in runner.invoke(args=["kiosks", "list", "--all"]).output


def test_cli_kiosk_refusals(demo_app):
    cases = [
        (["kiosks", "enrol", "--unit", "p2motcua"], "pass --base-url https://… or set PUBLIC_BASE_URL"),
        (["kiosks", "enrol", "--unit", "khongco", "--base-url", BASE], "no unit with the code or path 'khongco'"),
        (["kiosks", "enrol", "--unit", "/vn/qt/", "--base-url", BASE], "is not an active service point"),
        (["kiosks", "revoke", "1", "99"], "no kiosk with id 99; nothing was revoked"),
    ]
    existing = enrol()
    for args, message in cases:
        result = demo_app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 1, result.output
        assert message in result.output
    db.session.expire_all()
    assert db.session.get(Kiosk, existing.kiosk.id).revoked_at is None
    assert count(Kiosk) == 1
