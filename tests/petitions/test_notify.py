"""Keeping the petitioner informed: an e-mail through a real SMTP server (aiosmtpd) at each
public step, only with consent to be contacted by e-mail, at most once per step, retried
when the server is down, and stopped by the one link every e-mail carries."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import select

from alerts.smtp import free_port, smtp_server
from survey_app.extensions import db
from survey_app.jobs import get_jobs
from survey_app.models import JobRun, PetitionEvent, PetitionNotice, User, utcnow
from survey_app.services.officials.scope import Scope
from survey_app.services.petitions import operations as service

BASE = "https://hailong.example.gov.vn"
CONSENT = "Tôi đồng ý để cơ quan liên hệ với tôi về phản ánh này."


def contact(email: str | None = "dan@example.vn", phone: str | None = None) -> service.ContactInput:
    return service.ContactInput(consent_text=CONSENT, consent_language="vi", name="Trần Thị Dân", phone=phone,
                                email=email)


@pytest.fixture
def mailer(variant):
    """``mailer(port)`` → the queue (immediate) of an app sending through 127.0.0.1:port."""
    def make(port: int, retries: int = 0):
        app = variant(HUEY_IMMEDIATE=True, MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_FROM="phananh@example.gov.vn",
                      PUBLIC_BASE_URL=BASE, MAIL_RETRIES=retries, MAIL_RETRY_DELAY=3600, MAIL_TIMEOUT=5)
        return get_jobs(app)
    return make


def manager():
    user = db.session.scalar(select(User).where(User.username == "demo-manager"))
    return user, Scope.for_user(user, db.session)


def test_each_public_step_is_mailed_once_and_the_link_stops_them(demo_app, place, file, mailer, client):
    with smtp_server() as (inbox, port):
        jobs = mailer(port)  # its app context from here on: one session for the test and the jobs
        petition = file(place.p2_point, contact=contact())
        code = service.format_tracking(petition.tracking_code)
        jobs.petition_notices()
        jobs.petition_notices()  # a second sweep finds nothing new
        assert len(inbox.messages) == 1
        sender, to, msg = inbox.messages[0]
        assert to == ["dan@example.vn"] and sender == "phananh@example.gov.vn"
        assert msg["Subject"] == f"Đã tiếp nhận phản ánh {code}"
        body = msg.get_content()
        assert f"{BASE}/t/{code}?lang=vi" in body and "Chúng tôi đã nhận phản ánh của Ông/Bà" in body
        unsubscribe = re.search(rf"{re.escape(BASE)}(/u/[^\s?]+)\?lang=vi", body).group(1)
        assert str(msg["List-Unsubscribe"]).strip() == f"<{BASE}{unsubscribe}?lang=vi>"  # (folded: a leading space)
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        user, scope = manager()
        service.save_answer(db.session, scope, petition, "Đã thay bóng đèn ở tổ 5 ngày 01/12.", actor=user)
        service.send_answer(db.session, scope, petition, actor=user)
        jobs.petition_notices()
        assert len(inbox.messages) == 2
        answered = inbox.messages[1][2]
        assert answered["Subject"] == f"Phản ánh {code} đã có trả lời"
        assert "Đã thay bóng đèn ở tổ 5 ngày 01/12." in answered.get_content()

        # The link: a GET changes nothing (mail scanners open links), the button stops the e-mails.
        with client.get(unsubscribe + "?lang=vi") as page:
            assert page.status_code == 200 and "Ngừng nhận thư" in page.get_data(as_text=True)
        db.session.expire_all()
        assert petition.contact.unsubscribed_at is None
        with client.post(unsubscribe + "?lang=vi") as done:  # no form token: the signed link is the credential
            assert done.status_code == 200
            assert f"sẽ không nhận thêm thư nào về phản ánh {code}" in done.get_data(as_text=True)
        db.session.expire_all()
        assert petition.contact.unsubscribed_at is not None
        service.close(db.session, scope, petition, actor=user)
        jobs.petition_notices()
        assert len(inbox.messages) == 2  # closed, but they asked for no more
    notices = db.session.scalars(select(PetitionNotice).where(PetitionNotice.petition_id == petition.id)).all()
    assert sorted(n.status for n in notices) == ["sent", "sent"]


def test_no_mail_without_an_address_or_for_old_steps(demo_app, place, file, mailer):
    port = free_port()
    jobs = mailer(port)
    file(place.p2_point, contact=contact(email=None, phone="0905123456"))  # consent, but by phone only
    file(place.p2_point)  # no contact at all
    old = file(place.p2_point, contact=contact(email="cu@example.vn"))
    for event in db.session.scalars(select(PetitionEvent).where(PetitionEvent.petition_id == old.id)):
        event.at = utcnow() - timedelta(days=3)  # filed before the worker was running: history, not news
    old.contact.consent_at = utcnow() - timedelta(days=3)
    db.session.commit()
    with smtp_server(port) as (inbox, _port):
        jobs.petition_notices()
    assert inbox.messages == []
    assert db.session.scalars(select(PetitionNotice)).all() == []


def test_a_server_down_is_retried_and_the_mail_goes_once(demo_app, place, file, mailer):
    down = free_port()  # nothing listens there
    jobs = mailer(down, retries=3)
    petition = file(place.p2_point, contact=contact(), language="en")
    jobs.petition_notices()
    db.session.expire_all()
    [notice] = db.session.scalars(select(PetitionNotice)).all()
    assert notice.status == "pending" and notice.attempts == 1 and "ConnectionRefusedError" in notice.error
    assert jobs.huey.scheduled_count() == 1  # the retry waits in the schedule
    runs = {r.task: r.status for r in db.session.scalars(select(JobRun))}
    assert runs["send_petition_notice"] == "retrying"

    with smtp_server() as (inbox, port):
        current_app.config["MAIL_PORT"] = port  # the server is back (the same app: one session, one pool)
        assert jobs.send_petition_notice.call_local(notice.id) == "sent"  # what the retry does
        assert jobs.send_petition_notice.call_local(notice.id) == "already sent"
    [(_sender, _to, msg)] = inbox.messages
    assert msg["Subject"] == f"Petition {service.format_tracking(petition.tracking_code)} received"  # its language
    db.session.expire_all()
    assert db.session.get(PetitionNotice, notice.id).attempts == 2


def test_a_forged_link_is_refused(demo_app, client):
    with client.get("/u/MTIz.forged?lang=vi") as page:
        assert page.status_code == 404
        assert "Liên kết ngừng nhận thư này không hợp lệ" in page.get_data(as_text=True)
    with client.post("/u/MTIz.forged") as page:
        assert page.status_code == 404
