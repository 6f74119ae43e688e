"""The petition stages by the national portal's rules (issue #18, item 1): refuse ≤ 2, ask
for information ≤ 5 (the clock stops while waiting), resolve ≤ 15, publish ≤ 2 after the
answer, in working days of the Vietnamese calendar; reopened once by the petitioner with a
new clock. Every due day below is counted by hand on the calendar and written out, so the
code's own arithmetic is never the reference (both databases)."""
from __future__ import annotations

from datetime import date

import pytest

from helpers import fresh
from survey_app.extensions import db
from survey_app.models import PetitionEvent
from survey_app.services.officials.scope import Scope
from survey_app.services.petitions import clocks
from survey_app.services.petitions import operations as service

PORTAL = service.PetitionSettings()  # the portal's defaults: 2 / 5 / 15 / 2


def _file(place, file, when, **kw):
    return file(place.p2_point, now=when, settings=PORTAL, **kw)


def test_the_defaults_are_the_portals():
    assert (PORTAL.refuse_days, PORTAL.info_days, PORTAL.deadline_days, PORTAL.publish_days) == (2, 5, 15, 2)
    assert clocks.limits_from_config({}) == {"refuse": 2, "info": 5, "resolve": 15, "publish": 2}
    assert clocks.limits_from_config({"PETITION_DEADLINE_DAYS": 10, "PETITION_PUBLISH_DAYS": 3}) == \
        {"refuse": 2, "info": 5, "resolve": 10, "publish": 3}


def test_a_pause_across_tet_moves_the_due_day_by_the_working_days_waited(place, file, staff, h):
    manager, scope = staff
    # Received Monday 18 January 2027, 09:00 Viet Nam time. 15 working days: 19–22 Jan (4),
    # 25–29 Jan (9), 1–3 Feb (12), Tết holidays Thu 4 – Wed 10 Feb, 11–12 Feb (14), Mon 15 Feb (15).
    petition = _file(place, file, h.utc(2027, 1, 18, 2))
    assert petition.due_on == date(2027, 2, 15)
    # Asked for information on Friday 29 January (working day 9 of the round).
    service.request_info(db.session, scope, petition, "Xin cho biết số nhà cụ thể.", actor=manager,
                         now=h.utc(2027, 1, 29, 3))
    p = fresh(petition)
    assert p.status == "waiting" and p.info_requests == 1
    # While waiting the clock is paused and the petition is never overdue, even far past its day.
    assert not service.is_overdue(p, date(2027, 3, 1))
    stage = service.stage_clocks(p, date(2027, 2, 16), PORTAL)
    assert stage["resolve"].state == "paused"
    # Info stage: 5 working days from 18 Jan end on Monday 25 Jan; asked on 29 Jan: late by 4.
    assert (stage["info"].due, stage["info"].done, stage["info"].state, stage["info"].days_late) == \
        (date(2027, 1, 25), date(2027, 1, 29), "late", 4)
    # The citizen replies on Thursday 18 February. Working days in (29 Jan, 18 Feb]: 1, 2, 3 Feb,
    # (Tết 4–10 Feb not counted), 11, 12, 15, 16, 17, 18 Feb = 9. Due 15 Feb + 9 working days:
    # 16, 17, 18, 19, 22, 23, 24, 25, 26 Feb → Friday 26 February.
    paused = service.citizen_reply(db.session, fresh(petition), "Nhà số 12, tổ 5.", now=h.utc(2027, 2, 18, 3),
                                   settings=PORTAL)
    p = fresh(petition)
    assert paused == 9 and p.paused_days == 9
    assert (p.status, p.due_on, p.waiting_since) == ("received", date(2027, 2, 26), None)
    assert [e.kind for e in p.events] == ["received", "info_requested", "info_provided"]
    assert p.events[-1].note == "Nhà số 12, tổ 5." and p.events[-1].public
    assert service.is_overdue(p, date(2027, 3, 1)) and not service.is_overdue(p, date(2027, 2, 26))
    # Due soon: 25 Feb is 1 working day before the due day.
    assert service.stage_clocks(p, date(2027, 2, 25), PORTAL)["resolve"].state == "due_soon"
    assert service.stage_clocks(p, date(2027, 2, 19), PORTAL)["resolve"].state == "running"


def test_a_second_request_for_information_counts_as_late(place, file, staff, h):
    manager, scope = staff
    petition = _file(place, file, h.utc(2026, 3, 2, 2))           # Monday 2 March 2026
    service.request_info(db.session, scope, petition, "Ảnh chụp rõ hơn?", actor=manager, now=h.utc(2026, 3, 3, 2))
    service.citizen_reply(db.session, fresh(petition), "Đã gửi lại.", now=h.utc(2026, 3, 4, 2), settings=PORTAL)
    first = service.stage_clocks(fresh(petition), date(2026, 3, 4), PORTAL)["info"]
    assert (first.due, first.done, first.state) == (date(2026, 3, 9), date(2026, 3, 3), "on_time")
    service.request_info(db.session, scope, fresh(petition), "Thêm địa chỉ.", actor=manager, now=h.utc(2026, 3, 5, 2))
    second = service.stage_clocks(fresh(petition), date(2026, 3, 5), PORTAL)["info"]
    assert (second.done, second.state) == (date(2026, 3, 3), "late")   # the first request's day, now late
    # The two waits: (3 Mar, 4 Mar] = 1 working day, then still waiting.
    assert fresh(petition).paused_days == 1


def test_refused_within_two_working_days(place, file, staff, h):
    manager, scope = staff
    on_time = _file(place, file, h.utc(2026, 3, 6, 2))             # Friday 6 March
    late = _file(place, file, h.utc(2026, 3, 6, 2))
    with pytest.raises(service.PetitionError) as blank:
        service.refuse(db.session, scope, on_time, "   ", actor=manager)
    assert blank.value.field == "reason"
    db.session.rollback()
    service.refuse(db.session, scope, fresh(on_time), "Thuộc thẩm quyền Công an tỉnh.", actor=manager,
                   now=h.utc(2026, 3, 10, 2))                       # Tuesday 10 March: day 2
    service.refuse(db.session, scope, fresh(late), "Thuộc thẩm quyền Sở Xây dựng.", actor=manager,
                   now=h.utc(2026, 3, 11, 2))                       # day 3
    a, b = (service.stage_clocks(fresh(p), date(2026, 3, 12), PORTAL) for p in (on_time, late))
    assert list(a) == ["refuse"] and (a["refuse"].due, a["refuse"].state) == (date(2026, 3, 10), "on_time")
    assert (b["refuse"].state, b["refuse"].days_late) == ("late", 1)
    view = service.public_status(fresh(on_time), date(2026, 3, 12))
    assert view.status == "refused" and view.refusal_reason == "Thuộc thẩm quyền Công an tỉnh."
    assert not service.is_overdue(fresh(on_time), date(2026, 12, 1))
    with pytest.raises(service.PetitionError):
        service.request_info(db.session, scope, fresh(on_time), "?", actor=manager)
    assert [a.detail["code"] for a in h.audits("petition.refused")] == \
        [service.format_tracking(p.tracking_code) for p in (on_time, late)]


def test_answer_then_publish_within_two_working_days_then_reopened_once(place, file, staff, h):
    manager, scope = staff
    petition = _file(place, file, h.utc(2026, 3, 2, 2))            # Monday 2 March 2026: due Monday 23 March
    assert petition.due_on == date(2026, 3, 23)
    service.save_answer(db.session, scope, petition, "Đã sửa đèn.", actor=manager, now=h.utc(2026, 3, 12, 2))
    with pytest.raises(service.PetitionError):   # publishing needs an answer given first
        service.make_public(db.session, scope, fresh(petition), actor=manager)
    db.session.rollback()
    service.send_answer(db.session, scope, fresh(petition), actor=manager, now=h.utc(2026, 3, 12, 3))  # Thursday
    p = fresh(petition)
    assert p.status == "answered"
    pending = service.stage_clocks(p, date(2026, 3, 17), PORTAL)
    # Publish within 2 working days of Thursday 12 March: Monday 16 March; on the 17th it is overdue.
    assert (pending["resolve"].state, pending["publish"].due, pending["publish"].state) == \
        ("on_time", date(2026, 3, 16), "overdue")
    service.make_public(db.session, scope, p, actor=manager, now=h.utc(2026, 3, 16, 9))
    p = fresh(petition)
    assert p.status == "published" and service.stage_clocks(p, date(2026, 3, 17), PORTAL)["publish"].state == "on_time"
    assert service.public_status(p, date(2026, 3, 17)).published
    # The petitioner says it did not resolve the matter (Wednesday 1 April): reopened with
    # 15 working days from then — 2, 3, 6–10, 13–17, 20, 21, 22 April → Wednesday 22 April.
    # (No holiday in that stretch: Hùng Kings' day 2026 is 26 April, a Sunday.)
    assert service.public_status(p, date(2026, 4, 1)).can_say_not_resolved
    service.not_resolved(db.session, p, now=h.utc(2026, 4, 1, 2), settings=PORTAL)
    p = fresh(petition)
    assert (p.status, p.reopen_count, p.due_on, p.answered_at, p.published_at) == \
        ("received", 1, date(2026, 4, 22), None, None)
    assert p.answer_text == "Đã sửa đèn."            # the given answer stays readable
    assert [e.kind for e in p.events if e.public][-1] == "not_resolved"
    assert service.stage_clocks(p, date(2026, 4, 2), PORTAL)["resolve"].start == date(2026, 4, 1)
    # Answered again, published again; it cannot be reopened a second time.
    service.save_answer(db.session, scope, p, "Đã thay cả cột đèn.", actor=manager, now=h.utc(2026, 4, 10, 2))
    service.send_answer(db.session, scope, fresh(petition), actor=manager, now=h.utc(2026, 4, 10, 3))
    service.make_public(db.session, scope, fresh(petition), actor=manager, now=h.utc(2026, 4, 10, 4))
    p = fresh(petition)
    assert p.status == "published" and not service.public_status(p, date(2026, 4, 11)).can_say_not_resolved
    with pytest.raises(service.PetitionError) as twice:
        service.not_resolved(db.session, p, settings=PORTAL)
    assert "một lần" in twice.value.message or "once" in twice.value.message


def test_an_unanswered_petition_cannot_be_reopened_by_the_citizen(place, file, h, in_request):
    petition = _file(place, file, h.utc(2026, 3, 2, 2))
    with pytest.raises(service.PetitionError):
        service.not_resolved(db.session, petition, settings=PORTAL)
    db.session.rollback()
    with pytest.raises(service.PetitionError):
        service.citizen_reply(db.session, fresh(petition), "Không ai hỏi.", settings=PORTAL)
    db.session.rollback()
    assert [e.kind for e in fresh(petition).events] == ["received"]


def test_staff_can_record_a_reply_given_by_phone(place, file, staff, h):
    manager, scope = staff
    petition = _file(place, file, h.utc(2026, 3, 2, 2))            # due 23 March
    service.assign(db.session, scope, petition, place.p2_health, actor=manager, now=h.utc(2026, 3, 2, 3))
    admin = h.official("demo-admin")
    admin_scope = Scope.for_user(admin)
    service.request_info(db.session, admin_scope, fresh(petition), "Số điện thoại?", actor=admin,
                         now=h.utc(2026, 3, 3, 2))
    # Recorded on Friday 6 March: (3 Mar, 6 Mar] = 3 working days → due 26 March.
    service.resume(db.session, admin_scope, fresh(petition), "Gọi điện ngày 6/3.", actor=admin,
                   now=h.utc(2026, 3, 6, 2), settings=PORTAL)
    p = fresh(petition)
    assert (p.status, p.paused_days, p.due_on) == ("assigned", 3, date(2026, 3, 26))
    assert [a.detail.get("paused_days") for a in h.audits("petition.info_recorded")] == [3]


def test_the_inbox_counts_overdue_and_due_soon_but_never_a_waiting_petition(place, file, staff, h):
    manager, scope = staff
    overdue = _file(place, file, h.utc(2026, 3, 2, 2))             # due 23 March
    soon = _file(place, file, h.utc(2026, 3, 20, 2))               # Friday 20 March: due Friday 10 April
    waiting = _file(place, file, h.utc(2026, 3, 2, 2))
    service.request_info(db.session, scope, waiting, "Thêm ảnh.", actor=manager, now=h.utc(2026, 3, 2, 3))
    assert fresh(soon).due_on == date(2026, 4, 10)
    today = date(2026, 4, 8)   # Wednesday: 10 April is 2 working days on (9, 10)
    mine = {overdue.id, soon.id, waiting.id}

    def ids(f):
        return [p.id for p in db.session.scalars(service.inbox_query(scope, f, today, PORTAL)) if p.id in mine]
    assert ids(service.InboxFilter(overdue=True)) == [overdue.id]
    assert ids(service.InboxFilter(due_soon=True)) == [soon.id]
    assert set(ids(service.InboxFilter(status="open"))) == mine
    assert ids(service.InboxFilter(status="waiting")) == [waiting.id]
    # The header counts: the same, for whatever else the area holds.
    others_overdue = len([p for p in db.session.scalars(service.inbox_query(scope, service.InboxFilter(overdue=True),
                                                                            today, PORTAL)) if p.id not in mine])
    assert service.count_overdue(db.session, scope, today) == 1 + others_overdue
    others_soon = len([p for p in db.session.scalars(service.inbox_query(scope, service.InboxFilter(due_soon=True),
                                                                         today, PORTAL)) if p.id not in mine])
    assert service.count_due_soon(db.session, scope, today, PORTAL) == 1 + others_soon


def test_the_officials_pages_run_the_stages(place, file, login, h):
    petition = _file(place, file, h.utc(2026, 3, 2, 2))
    client = login("demo-manager")
    token = h.token_of(client, f"/admin/petitions/{petition.id}")
    with client.post(f"/admin/petitions/{petition.id}/ask", data={"csrf_token": token, "question": ""}) as empty:
        assert empty.status_code == 422 and "Xin ghi nội dung đề nghị" in empty.get_data(as_text=True)
    with client.post(f"/admin/petitions/{petition.id}/ask",
                     data={"csrf_token": token, "question": "Xin cho biết vị trí cột đèn."}) as done:
        assert done.status_code == 303
    with client.get(f"/admin/petitions/{petition.id}") as page:
        html = page.get_data(as_text=True)
    assert "chờ người dân bổ sung thông tin" in html and "tạm dừng: chờ người dân" in html
    with client.post(f"/admin/petitions/{petition.id}/refuse",
                     data={"csrf_token": token, "reason": "Không thuộc thẩm quyền."}) as refused:
        assert refused.status_code == 303          # refused: the petition is waiting, not running
    assert fresh(petition).status == "waiting"
    with client.post(f"/admin/petitions/{petition.id}/resume",
                     data={"csrf_token": token, "note": "Cột số 14."}) as resumed:
        assert resumed.status_code == 303
    with client.post(f"/admin/petitions/{petition.id}/public", data={"csrf_token": token}) as early:
        assert early.status_code == 303            # refused with a message: nothing answered yet
    p = fresh(petition)
    assert (p.status, p.published_at) == ("received", None)
    assert db.session.query(PetitionEvent).filter_by(petition_id=p.id, kind="info_provided").count() == 1


def test_the_petitioner_replies_and_reopens_at_the_tracking_page(client, place, file, staff, h):
    manager, scope = staff
    petition = _file(place, file, h.utc(2026, 3, 2, 2))
    code = service.format_tracking(petition.tracking_code)
    service.request_info(db.session, scope, petition, "Xin cho biết số nhà.", actor=manager)
    with client.get(f"/t/{code}") as page:
        html = page.get_data(as_text=True)
    assert "Xin cho biết số nhà." in html and "Đơn vị đề nghị Ông/Bà bổ sung thông tin" in html
    token = h.csrf_from(html)
    with client.post(f"/t/{code}/reply", data={"csrf_token": token, "reply": "  "}) as empty:
        assert empty.status_code == 422
    assert fresh(petition).status == "waiting"
    with client.post(f"/t/{code}/reply", data={"csrf_token": token, "reply": "Số 12."}) as sent:
        assert sent.status_code == 303
    assert fresh(petition).status == "received"
    with client.post(f"/t/{code}/reply", data={"csrf_token": token, "reply": "Lần nữa."}) as again:
        assert again.status_code == 409 and "không chờ Ông/Bà bổ sung" in again.get_data(as_text=True)
    with client.post(f"/t/{code}/not-resolved", data={"csrf_token": token}) as early:
        assert early.status_code == 409
    service.save_answer(db.session, scope, fresh(petition), "Đã xử lý.", actor=manager)
    service.send_answer(db.session, scope, fresh(petition), actor=manager)
    with client.post(f"/t/{code}/not-resolved", data={"csrf_token": token}) as reopened:
        assert reopened.status_code == 303
    p = fresh(petition)
    assert (p.status, p.reopen_count) == ("received", 1)
    with client.post("/t/AAAAA-AAAAA/reply", data={"csrf_token": token, "reply": "x"}) as unknown:
        assert unknown.status_code == 404


def test_the_public_page_shows_the_answer_only_once_published(client, place, file, staff, h):
    manager, scope = staff
    petition = _file(place, file, h.utc(2026, 3, 2, 2), publish_consent=True)
    with client.get(f"/a/{petition.id}") as page:
        html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Phản ánh số" in html and petition.tracking_code not in html
    assert petition.body not in html                         # allowed, not approved
    service.set_text_public(db.session, scope, fresh(petition), True, actor=manager)
    service.save_answer(db.session, scope, fresh(petition), "Đã thay bóng đèn mới.", actor=manager)
    service.send_answer(db.session, scope, fresh(petition), actor=manager)
    with client.get(f"/a/{petition.id}") as page:
        html = page.get_data(as_text=True)
    assert petition.body in html and "Đã thay bóng đèn mới." not in html   # answered, not yet published
    service.make_public(db.session, scope, fresh(petition), actor=manager)
    with client.get(f"/a/{petition.id}") as page:
        assert "Đã thay bóng đèn mới." in page.get_data(as_text=True)
    suspect = _file(place, file, h.utc(2026, 3, 2, 2), trust="suspect", trust_reason="honeypot")
    for missing in (suspect.id, 999999, 2**40):
        with client.get(f"/a/{missing}") as page:
            assert page.status_code == 404


def test_our_figures_count_a_waiting_petition_overdue_only_if_it_already_was(place, file, staff, h):
    manager, scope = staff
    # Both received Monday 2 March 2026 (due Monday 23 March).
    in_time = _file(place, file, h.utc(2026, 3, 2, 2))
    late = _file(place, file, h.utc(2026, 3, 2, 2))
    service.request_info(db.session, scope, in_time, "Thêm ảnh?", actor=manager, now=h.utc(2026, 3, 20, 2))  # day 14
    service.request_info(db.session, scope, late, "Thêm ảnh?", actor=manager, now=h.utc(2026, 3, 25, 2))     # past due
    # On Wednesday 1 April: the first has waited (20 Mar, 1 Apr] = 8 working days → due 2 April,
    # not overdue; the second waited (25 Mar, 1 Apr] = 5 → due 30 March: overdue, as it was
    # when it was asked.
    result = service.accountability(db.session, place.p2_point, date(2026, 3, 2), date(2026, 3, 2),
                                    as_of=date(2026, 4, 1), settings=PORTAL, children=False)
    figures = result["figures"]
    assert (figures["received"], figures["open"], figures["overdue_open"]) == (2, 2, 1)
