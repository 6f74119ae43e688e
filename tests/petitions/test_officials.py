"""The officials' side: the inbox per scope, the workflow (every change a POST with CSRF,
recorded and audited), contact details only for managers of the petition's unit or above
and only behind an audited button, deletion of contact details on request."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from helpers import fresh
from survey_app.extensions import db
from survey_app.models import AuditEvent, PetitionContact, PetitionEvent
from survey_app.services.petitions import operations as service

CONTACT = service.ContactInput(consent_text="Tôi đồng ý…", consent_language="vi", name="Lê Thị Mai",
                               phone="0905 111 222", email="mai@example.vn")


def test_the_inbox_shows_only_the_officials_area(place, file, login, h):
    p2 = file(place.p2_point, text="Phản ánh ở Phường 2")
    p1 = file(place.p1_point, text="Phản ánh ở Phường 1")
    town = file(place.town, text="Phản ánh gửi thị xã")
    with login("demo-manager").get("/admin/petitions/") as page:
        html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Phản ánh ở Phường 2" in html
    assert "Phản ánh ở Phường 1" not in html and "Phản ánh gửi thị xã" not in html
    with login("p1manager").get("/admin/petitions/") as page:
        html = page.get_data(as_text=True)
    assert "Phản ánh ở Phường 1" in html and "Phản ánh ở Phường 2" not in html
    with login("demo-admin").get("/admin/petitions/") as page:   # the province sees all three
        html = page.get_data(as_text=True)
    assert all(t in html for t in ("Phường 2", "Phường 1", "thị xã"))
    client = login("demo-manager")
    for other in (p1, town):
        with client.get(f"/admin/petitions/{other.id}") as page:
            assert page.status_code == 404
    with client.get(f"/admin/petitions/{p2.id}") as page:
        assert page.status_code == 200


def test_inbox_filters(place, file, login, h):
    file(place.p2_point, text="Quá hạn rồi", category="health", now=h.utc(2026, 1, 5, 2))
    file(place.p2_health, text="Mới gửi hôm nay", category="health")
    file(place.p2_point, text="Về thủ tục", category="procedure")
    client = login("demo-viewer")

    def shown(**args):
        with client.get("/admin/petitions/", query_string=args) as page:
            assert page.status_code == 200
            html = page.get_data(as_text=True)
        return {t for t in ("Quá hạn rồi", "Mới gửi hôm nay", "Về thủ tục") if t in html}

    assert shown() == {"Quá hạn rồi", "Mới gửi hôm nay", "Về thủ tục"}
    assert shown(overdue="1") == {"Quá hạn rồi"}
    assert shown(category="health") == {"Quá hạn rồi", "Mới gửi hôm nay"}
    assert shown(unit=str(place.p2_health.id)) == {"Mới gửi hôm nay"}
    assert shown(status="answered") == set()
    assert shown(status="open") == {"Quá hạn rồi", "Mới gửi hôm nay", "Về thủ tục"}
    with client.get("/admin/petitions/", query_string={"unit": str(place.p1.id)}) as page:
        assert page.status_code == 404      # another ward's unit is not a filter one can use


def test_a_viewer_reads_but_sees_no_contact_and_changes_nothing(place, file, login, h):
    petition = file(place.p2_point, contact=CONTACT)
    client = login("demo-viewer")
    with client.get(f"/admin/petitions/{petition.id}") as page:
        html = page.get_data(as_text=True)
    assert page.status_code == 200 and petition.body in html
    assert "Lê Thị Mai" not in html and "0905" not in html and "Xem thông tin liên hệ" not in html
    assert "chỉ người quản lý của đơn vị được xem" in html
    token = h.token_of(client)
    for action in ("contact", "contact/delete", "note", "answer", "publish", "close", "assign", "text/approve"):
        with client.post(f"/admin/petitions/{petition.id}/{action}", data={"csrf_token": token, "note": "x",
                                                                           "answer": "x"}) as response:
            assert response.status_code == 403, action
    assert h.audits("petition.contact_viewed") == []
    assert h.count(PetitionEvent) == 1


def test_contact_details_are_shown_only_on_request_and_every_view_is_audited(place, file, login, h):
    petition = file(place.p2_point, contact=CONTACT)
    client = login("demo-manager")
    with client.get(f"/admin/petitions/{petition.id}") as page:
        html = page.get_data(as_text=True)
    assert "Lê Thị Mai" not in html and "0905 111 222" not in html and "Xem thông tin liên hệ" in html
    with client.get("/admin/petitions/") as page:
        assert "Lê Thị Mai" not in page.get_data(as_text=True)
    token = h.token_of(client)
    with client.post(f"/admin/petitions/{petition.id}/contact", data={"csrf_token": token}) as shown:
        html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    assert "Lê Thị Mai" in html and "0905 111 222" in html and "mai@example.vn" in html and "Tôi đồng ý…" in html
    events = h.audits("petition.contact_viewed")
    assert len(events) == 1
    assert (events[0].actor_name, events[0].unit_id) == ("demo-manager", place.p2_point.id)
    assert events[0].detail == {"code": service.format_tracking(petition.tracking_code)}
    with client.post(f"/admin/petitions/{petition.id}/contact", data={"csrf_token": token}):
        pass
    assert len(h.audits("petition.contact_viewed")) == 2
    # without the CSRF token nothing is shown and nothing recorded
    with client.post(f"/admin/petitions/{petition.id}/contact") as refused:
        assert refused.status_code == 400 and "Lê Thị Mai" not in refused.get_data(as_text=True)
    assert len(h.audits("petition.contact_viewed")) == 2


def test_contact_needs_a_manager_of_the_petitions_unit_or_above(place, file, login, h):
    petition = file(place.p2, contact=CONTACT)     # sent to the ward itself
    station = login("ytemanager")                  # a manager of a unit below the ward only
    with station.get(f"/admin/petitions/{petition.id}") as page:
        assert page.status_code == 404
    with station.post(f"/admin/petitions/{petition.id}/contact", data={"csrf_token": h.token_of(station)}) as r:
        assert r.status_code == 404
    other_ward = login("p1manager")
    with other_ward.post(f"/admin/petitions/{petition.id}/contact",
                         data={"csrf_token": h.token_of(other_ward)}) as r:
        assert r.status_code == 404
    province = login("demo-admin")                 # above the ward
    with province.post(f"/admin/petitions/{petition.id}/contact", data={"csrf_token": h.token_of(province)}) as r:
        assert r.status_code == 200 and "Lê Thị Mai" in r.get_data(as_text=True)
    assert [e.actor_name for e in h.audits("petition.contact_viewed")] == ["demo-admin"]


def test_assignment_moves_the_petition_into_the_units_scope(place, file, login, h):
    petition = file(place.p2, contact=CONTACT)
    ward = login("demo-manager")
    station = login("ytemanager")
    with station.get(f"/admin/petitions/{petition.id}") as page:
        assert page.status_code == 404
    with ward.post(f"/admin/petitions/{petition.id}/assign",
                   data={"csrf_token": h.token_of(ward), "unit": str(place.p2_health.id)}) as response:
        assert response.status_code == 303
    moved = fresh(petition)
    assert (moved.unit_id, moved.origin_unit_id, moved.status) == (place.p2_health.id, place.p2.id, "assigned")
    event = moved.events[-1]
    assert (event.kind, event.public, event.unit_name_vi, event.actor_name) == \
        ("assigned", True, "Trạm Y tế Phường 2", "demo-manager")
    audit = h.audits("petition.assigned")[0]
    assert audit.detail["from"] == "/vn/qt/p2/" and audit.detail["to"] == place.p2_health.path
    # now the station's manager has it, with its contact; the ward keeps it (it is below)
    with station.get(f"/admin/petitions/{petition.id}") as page:
        assert page.status_code == 200
    with station.post(f"/admin/petitions/{petition.id}/contact", data={"csrf_token": h.token_of(station)}) as r:
        assert "Lê Thị Mai" in r.get_data(as_text=True)
    with ward.get(f"/admin/petitions/{petition.id}") as page:
        assert page.status_code == 200
    # a unit outside one's area is refused, and so is a bogus value
    for target in (str(place.p1.id), "abc"):
        with ward.post(f"/admin/petitions/{petition.id}/assign",
                       data={"csrf_token": h.token_of(ward), "unit": target}) as response:
            assert response.status_code == 422
            assert "Vui lòng chọn một đơn vị" in response.get_data(as_text=True)
    assert fresh(petition).unit_id == place.p2_health.id


def test_the_whole_workflow_is_recorded_and_audited(place, file, login, h):
    petition = file(place.p2_point, publish_consent=True, contact=CONTACT)
    client = login("demo-manager")
    token = h.token_of(client)
    url = f"/admin/petitions/{petition.id}"

    def post(action, **data):
        with client.post(f"{url}/{action}", data={"csrf_token": token, **data}) as response:
            return response.status_code, response.get_data(as_text=True)

    assert post("note", note="Đã liên hệ tổ dân phố.")[0] == 303
    assert post("note", note="   ")[0] == 422
    assert post("close")[0] == 303                 # refused: not answered yet (a flash, no change)
    assert fresh(petition).status == "received"
    assert post("publish")[0] == 303               # refused: nothing saved yet
    assert fresh(petition).answered_at is None
    assert post("answer", answer="Đã thay bóng đèn.")[0] == 303
    assert fresh(petition).answer_text is None     # saved, not public
    assert post("publish")[0] == 303
    answered = fresh(petition)
    assert (answered.status, answered.answer_text) == ("answered", "Đã thay bóng đèn.")
    first_answer = answered.answered_at
    assert post("text/approve")[0] == 303 and fresh(petition).text_approved
    assert post("close")[0] == 303 and fresh(petition).status == "closed"
    assert post("answer", answer="Sửa")[0] == 422  # closed: reopen first
    assert post("reopen")[0] == 303 and fresh(petition).status == "received"
    assert post("answer", answer="Đã thay bóng đèn và sửa cột điện.")[0] == 303
    assert post("publish")[0] == 303
    again = fresh(petition)
    assert again.answer_text == "Đã thay bóng đèn và sửa cột điện." and again.answered_at == first_answer
    assert post("contact/delete")[0] == 303
    kept = fresh(petition)
    assert kept.contact is None and h.count(PetitionContact) == 0 and kept.body == petition.body
    with client.get(url) as page:
        html = page.get_data(as_text=True)
    assert "Lê Thị Mai" not in html and "Đã xoá thông tin liên hệ" in html and "Đã liên hệ tổ dân phố." in html
    kinds = [e.kind for e in kept.events]
    assert kinds == ["received", "note", "answer_saved", "answered", "text_approved", "closed", "reopened",
                     "answer_saved", "answered", "contact_deleted"]
    actions = [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("petition.%"))
                                                    .order_by(AuditEvent.id))]
    assert actions == ["petition.noted", "petition.answer_saved", "petition.answer_published",
                       "petition.text_approved", "petition.closed", "petition.reopened", "petition.answer_saved",
                       "petition.answer_published", "petition.contact_deleted"]
    with login("demo-admin").get("/admin/audit") as page:     # the audit log names them in Vietnamese
        html = page.get_data(as_text=True)
    assert "xoá thông tin liên hệ người phản ánh" in html and "công khai câu trả lời phản ánh" in html


def test_a_post_without_csrf_changes_nothing(place, file, login, h):
    petition = file(place.p2_point)
    client = login("demo-manager")
    with client.post(f"/admin/petitions/{petition.id}/note", data={"note": "x"}) as response:
        assert response.status_code == 400
    with client.post(f"/admin/petitions/{petition.id}/assign", data={"unit": str(place.p2_health.id)}) as response:
        assert response.status_code == 400
    assert h.count(PetitionEvent) == 1 and fresh(petition).unit_id == place.p2_point.id


def test_the_photo_is_served_only_to_officials_in_scope(place, file, login, client, h):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), (1, 2, 3)).save(buffer, format="PNG")
    photo = service.process_photo(buffer.getvalue(), max_bytes=10**6, max_side=100)
    petition = file(place.p2_point, photo=photo)
    url = f"/admin/petitions/{petition.id}/photo"
    with login("demo-viewer").get(url) as response:
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert response.headers["Cache-Control"] == "no-store" and response.data == photo.content
    with login("p1manager").get(url) as response:
        assert response.status_code == 404
    with client.get(url) as response:                         # nobody logged in
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    with login("demo-viewer").get(f"/admin/petitions/{petition.id}") as page:
        assert f'src="{url}"' in page.get_data(as_text=True)


def test_the_petition_page_shows_due_date_and_lateness(place, file, login, h):
    petition = file(place.p2_point, now=h.utc(2026, 1, 5, 2))
    assert petition.due_on == date(2026, 1, 19)
    with login("demo-viewer").get(f"/admin/petitions/{petition.id}") as page:
        html = page.get_data(as_text=True)
    assert "19/01/2026" in html and "quá hạn" in html


def test_the_nav_links_to_the_inbox(login):
    with login("demo-viewer").get("/admin/") as page:
        assert 'href="/admin/petitions/"' in page.get_data(as_text=True)


def test_figures_page(place, file, login, h):
    file(place.p2_point, now=h.utc(2026, 3, 2, 2))
    with login("demo-manager").get("/admin/petitions/figures", query_string={"from": "2026-01-01",
                                                                             "to": "2026-12-31"}) as page:
        html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Bộ phận Một cửa Phường 2" in html and "Phường 1" not in html
    with login("demo-manager").get("/admin/petitions/figures", query_string={"from": "2026-12-31",
                                                                             "to": "2026-01-01"}) as page:
        assert page.status_code == 422


@pytest.mark.parametrize("username", ["demo-manager", "demo-viewer", "demo-admin"])
def test_pages_render_for_every_role(place, file, login, username):
    petition = file(place.p2_point, contact=CONTACT, publish_consent=True)
    client = login(username)
    for url in ("/admin/petitions/", f"/admin/petitions/{petition.id}", "/admin/petitions/figures"):
        with client.get(url) as page:
            assert page.status_code == 200, url
