"""Campaigns from the management pages: create with a local window, open / pause / close,
live counts, and the preview that never stores anything."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import func, select

from helpers import full_answers, hidden_fields
from survey_app.extensions import db
from survey_app.models import AuditEvent, Campaign, InstrumentVersion, Response, Unit
from survey_app.services.collect.instruments import latest_version


def campaigns_count() -> int:
    return db.session.scalar(select(func.count(Campaign.id)))


def responses_count() -> int:
    return db.session.scalar(select(func.count(Response.id)))


def fresh(campaign: Campaign) -> Campaign:
    db.session.expire_all()
    return db.session.get(Campaign, campaign.id)


def new_campaign_form(world, client, csrf, **overrides) -> dict:
    version = latest_version(db.session, "quick-feedback")
    data = {"csrf_token": csrf(client), "name": "Khảo sát nhanh quý IV", "version": version.id,
            "units": [world.p2_point.id], "access_mode": "visit_token",
            "starts_at": "2030-10-01T08:00", "ends_at": "31/12/2030 17:30"}
    data.update(overrides)
    return data


def test_the_form_offers_only_the_wards_points_and_creates_a_draft_in_utc(world, as_user, csrf):
    client = as_user("demo-manager")
    with client.get(f"/admin/units/{world.p2.id}/campaigns/new") as page:
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        boxes = re.findall(r'type="checkbox" name="units" value="(\d+)"', html)
        assert len(boxes) == 3 and str(world.p2_point.id) in boxes
        assert "Phường 1" not in html
    with client.post(f"/admin/units/{world.p2.id}/campaigns/new",
                     data=new_campaign_form(world, client, csrf)) as response:
        assert response.status_code == 303
    campaign = db.session.scalars(select(Campaign).order_by(Campaign.id.desc())).first()
    assert campaign.name == "Khảo sát nhanh quý IV" and campaign.status == "draft"
    assert campaign.access_mode == "visit_token"
    assert [u.id for u in campaign.units] == [world.p2_point.id]
    # 08:00 and 17:30 in Viet Nam (UTC+7)
    assert campaign.starts_at == datetime(2030, 10, 1, 1, 0, tzinfo=timezone.utc)
    assert campaign.ends_at == datetime(2030, 12, 31, 10, 30, tzinfo=timezone.utc)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.created")).one()
    assert event.unit_id == world.p2.id and event.detail["points"] == [world.p2_point.path]
    with client.get(response.headers["Location"]) as page:
        html = page.get_data(as_text=True)
        assert "01/10/2030 08:00" in html and "31/12/2030 17:30" in html
        assert "bản nháp" in html


def test_bad_campaign_input_gets_messages_and_writes_nothing(world, as_user, csrf):
    client = as_user("demo-manager")
    url = f"/admin/units/{world.p2.id}/campaigns/new"
    before = campaigns_count()
    cases = [
        ({"units": [world.p1_point.id]}, "Vui lòng chọn trong các điểm phục vụ được hiển thị."),
        ({"units": []}, "Vui lòng chọn ít nhất một điểm phục vụ."),
        ({"units": ["abc"]}, "Vui lòng chọn trong các điểm phục vụ được hiển thị."),
        ({"version": 999999}, "Vui lòng chọn phiếu khảo sát."),
        ({"access_mode": "everyone"}, "Vui lòng chọn cách người dân vào khảo sát."),
        ({"starts_at": "ngày mai"}, "Vui lòng nhập ngày giờ theo dạng 31/12/2026 17:00."),
        ({"ends_at": "2030-09-01T08:00"}, "Thời điểm kết thúc phải sau thời điểm bắt đầu."),
        ({"starts_at": "", "ends_at": "2001-01-01T08:00"}, "Thời điểm kết thúc đã qua."),
        ({"name": "  "}, "Vui lòng điền mục này."),
        ({"version": latest_version(db.session, "sipas").id, "units": [db.session.scalar(
            select(Unit.id).where(Unit.code == "p2yte"))]}, "không phù hợp với Trạm Y tế Phường 2"),
    ]
    for overrides, message in cases:
        with client.post(url, data=new_campaign_form(world, client, csrf, **overrides)) as response:
            assert response.status_code == 422, overrides
            assert message in response.get_data(as_text=True), overrides
    assert campaigns_count() == before


def test_open_pause_close_with_their_rules_and_audit(world, as_user, csrf, client):
    manager = as_user("demo-manager")
    # a full survey: a quick one may be open beside the demo's (test_a_quick_campaign_opens_beside_the_full_one)
    with manager.post(f"/admin/units/{world.p2.id}/campaigns/new",
                      data=new_campaign_form(world, manager, csrf, access_mode="open", starts_at="", ends_at="",
                                             version=latest_version(db.session, "one-stop").id)) as response:
        url = response.headers["Location"]
    campaign = db.session.scalars(select(Campaign).order_by(Campaign.id.desc())).first()

    def press(action):
        with manager.post(f"{url}/{action}", data={"csrf_token": csrf(manager)}) as response:
            assert response.status_code == 303
        with manager.get(url) as page:
            return page.get_data(as_text=True)

    # the demo campaign is already open at the same point with the same access mode
    html = press("open")
    assert "đang có một đợt khảo sát cùng hình thức đang mở" in html
    assert fresh(campaign).status == "draft"
    press_demo = manager.post(f"/admin/campaigns/{world.p2_campaign.id}/close", data={"csrf_token": csrf(manager)})
    press_demo.close()
    assert fresh(world.p2_campaign).status == "closed"
    assert "Đợt khảo sát đã mở" in press("open")
    assert fresh(campaign).status == "open"
    with client.get("/s/p2motcua") as survey:
        assert survey.status_code == 200
    assert "Đợt khảo sát đã tạm dừng" in press("pause")
    assert fresh(campaign).status == "paused"
    with client.get("/s/p2motcua") as survey:
        assert survey.status_code == 410, "paused: no open campaign at the point"
    assert "đã ở trạng thái tạm dừng" in press("pause")
    assert "Đợt khảo sát đã đóng hẳn" in press("close")
    assert "đợt đã đóng thì không thể thay đổi" in press("open")
    assert fresh(campaign).status == "closed"
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.target == f"campaign:{campaign.id}")
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["campaign.created", "campaign.opened", "campaign.paused", "campaign.closed"]


def test_a_quick_campaign_opens_beside_the_full_one_but_not_beside_another_quick_one(world, as_user, csrf, client):
    """Issue #15: the point's kiosks answer the quick survey, its poster the full one."""
    from survey_app.services.qr import kiosks

    manager = as_user("demo-manager")
    made = []
    for name in ("Đánh giá nhanh tại quầy", "Đánh giá nhanh thứ hai"):
        with manager.post(f"/admin/units/{world.p2.id}/campaigns/new",
                          data=new_campaign_form(world, manager, csrf, name=name, access_mode="open", starts_at="",
                                                 ends_at="")) as response:
            made.append(response.headers["Location"])
    with manager.post(f"{made[0]}/open", data={"csrf_token": csrf(manager)}, follow_redirects=True) as page:
        assert "Đợt khảo sát đã mở" in page.get_data(as_text=True)
    with manager.post(f"{made[1]}/open", data={"csrf_token": csrf(manager)}, follow_redirects=True) as page:
        assert "đang có một đợt khảo sát cùng hình thức đang mở: Đánh giá nhanh tại quầy" in page.get_data(as_text=True)
    quick = db.session.scalar(select(Campaign).where(Campaign.name == "Đánh giá nhanh tại quầy"))
    assert (fresh(quick).status, fresh(world.p2_campaign).status) == ("open", "open")
    assert kiosks.kiosk_target(db.session, "p2motcua", None).campaign.id == quick.id
    with client.get("/s/p2motcua") as poster:
        assert "Ông/Bà hài lòng thế nào với dịch vụ hôm nay?" not in poster.get_data(as_text=True)


def test_the_campaign_page_counts_answers_live_per_point(client, world, as_user):
    with client.get("/s/p2motcua") as page:
        fields = hidden_fields(page.get_data(as_text=True))
    answers = full_answers(world.p2_campaign.instrument_version.snapshot)
    with client.post("/s/p2motcua", data={**fields, **answers}) as response:
        assert response.status_code == 303
    with as_user("demo-viewer").get(f"/admin/campaigns/{world.p2_campaign.id}") as page:
        html = page.get_data(as_text=True)
        row = re.search(r"Bộ phận Một cửa Phường 2</a></td>.*?</tr>", html, re.S).group(0)
        assert re.findall(r'<td class="count">(\d+)</td>', row) == ["1", "0"]
        assert "Tạm dừng" not in html, "a viewer gets no buttons"


def test_the_preview_is_the_citizens_page_and_stores_nothing(world, as_user, csrf):
    client = as_user("demo-viewer")
    url = f"/admin/campaigns/{world.p2_campaign.id}/preview"
    with client.get(url) as page:
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "Xem trước: đây đúng là trang người dân nhìn thấy." in html
        assert html.count("<fieldset") == len(world.p2_campaign.instrument_version.snapshot["questions"])
        assert f'action="{url}?lang=vi"' in html
        assert 'action="/s/' not in html
        assert "<script" not in html
    before = responses_count()
    answers = full_answers(world.p2_campaign.instrument_version.snapshot)
    with client.post(url + "?lang=vi", data={"csrf_token": csrf(client), **answers}) as response:
        assert response.status_code == 200
        assert "Xem trước: các câu trả lời này hợp lệ. Không có gì được lưu." in response.get_data(as_text=True)
    with client.post(url, data={"csrf_token": csrf(client)}) as response:
        assert response.status_code == 422
        assert "Vui lòng trả lời câu hỏi này." in response.get_data(as_text=True)
    assert responses_count() == before


def test_the_campaign_list_shows_only_campaigns_wholly_in_scope(world, as_user):
    with as_user("demo-manager").get("/admin/campaigns") as page:
        html = page.get_data(as_text=True)
        assert "Khảo sát SIPAS" in html and "Phường 2" in html
        assert "Phường 1" not in html and "Khảo sát nhanh toàn thị xã" not in html
    with as_user("demo-admin").get("/admin/campaigns?status=draft") as page:
        html = page.get_data(as_text=True)
        assert "Khảo sát nhanh toàn thị xã" in html and "Khảo sát SIPAS" not in html


def test_the_form_offers_only_the_surveys_that_fit_the_points(world, as_user):
    """A one-stop counter is offered the one-stop surveys and the general ones, never the school survey."""
    client = as_user("demo-manager")

    def offered(unit_id: int) -> set[str]:
        with client.get(f"/admin/units/{unit_id}/campaigns/new") as page:
            assert page.status_code == 200
            ids = re.findall(r'<option[^>]*value="(\d+)"', page.get_data(as_text=True))
        return {db.session.get(InstrumentVersion, int(i)).instrument.key for i in ids}

    assert offered(world.p2_point.id) == {"sipas", "one-stop", "quick-feedback", "papi-mirror"}
    school = db.session.scalar(select(Unit).where(Unit.code == "p2tieuhoc"))
    assert offered(school.id) == {"education-parents", "quick-feedback", "papi-mirror"}
    # The ward has a counter, a health station and a school: every survey fits one of them.
    assert offered(world.p2.id) == {"sipas", "one-stop", "quick-feedback", "papi-mirror", "health-outpatient",
                                    "education-parents"}
