"""The QR feature's buttons on the management pages: posters, one-time codes, kiosks."""
from __future__ import annotations

import csv
import io
import re

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Kiosk, VisitToken
from survey_app.services.collect.instruments import latest_version
from survey_app.services.officials import campaigns
from survey_app.services.officials.scope import Scope


def token_campaign(world, demo_app):
    with demo_app.test_request_context():
        scope = Scope.for_user(world.demo_manager, db.session)
        campaign = campaigns.create_campaign(
            db.session, scope, name="Phiếu hẹn Một cửa", version=latest_version(db.session, "sipas"),
            units=[world.p2_point], access_mode="visit_token", starts_at=None, ends_at=None)
        campaigns.change_status(db.session, scope, campaign, "open")
    return campaign


def tokens() -> int:
    return db.session.scalar(select(func.count(VisitToken.id)))


def test_a_manager_issues_one_time_codes_as_csv_or_slips(demo_app, world, as_user, csrf, client):
    campaign = token_campaign(world, demo_app)
    manager = as_user("demo-manager")
    with manager.get(f"/admin/campaigns/{campaign.id}") as page:
        assert "Cấp mã" in page.get_data(as_text=True)
    url = f"/admin/campaigns/{campaign.id}/units/{world.p2_point.id}/codes"
    with manager.post(url, data={"csrf_token": csrf(manager), "count": "3", "format": "csv"}) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/csv")
        assert response.headers["Cache-Control"] == "no-store"
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 3 and tokens() == 3
    with client.get(f"/v/{rows[0]['code']}") as survey:
        assert survey.status_code == 200, "a fresh code opens the survey"
    with manager.post(url, data={"csrf_token": csrf(manager), "count": "2", "format": "pdf"}) as response:
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert tokens() == 5
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "tokens.issued")
                               .order_by(AuditEvent.id)).all()[-1]
    assert event.detail["count"] == 2 and event.unit_id == world.p2_point.id
    assert not any(row["code"] in repr(event.detail) for row in rows), "codes are never logged"


def test_bad_code_requests_are_refused_and_issue_nothing(demo_app, world, as_user, csrf):
    campaign = token_campaign(world, demo_app)
    manager = as_user("demo-manager")
    url = f"/admin/campaigns/{campaign.id}/units/{world.p2_point.id}/codes"
    for data, message in [({"count": "0"}, "Vui lòng yêu cầu từ 1 đến 5000 mã."),
                          ({"count": "lots"}, "Vui lòng yêu cầu từ 1 đến 5000 mã."),
                          ({"count": "99999"}, "Vui lòng yêu cầu từ 1 đến 5000 mã."),
                          ({"count": "2", "format": "docx"}, "Vui lòng chọn phiếu in (PDF) hoặc danh sách (CSV).")]:
        with manager.post(url, data={"csrf_token": csrf(manager), **data}) as response:
            assert response.status_code == 422, data
            assert message in response.get_data(as_text=True), data
    with manager.post(f"/admin/campaigns/{world.p2_campaign.id}/units/{world.p2_point.id}/codes",
                      data={"csrf_token": csrf(manager), "count": "2"}) as response:
        assert response.status_code == 422, "an open (poster) campaign takes no codes"
    other_point = db.session.scalar(select(type(world.p2_point)).where(type(world.p2_point).code == "p2yte"))
    with manager.post(f"/admin/campaigns/{campaign.id}/units/{other_point.id}/codes",
                      data={"csrf_token": csrf(manager), "count": "2"}) as response:
        assert response.status_code == 404, "not a point of that campaign"
    assert tokens() == 0


def test_a_manager_sets_up_and_revokes_a_kiosk(demo_app, world, as_user, csrf, client):
    manager = as_user("demo-manager")
    with manager.get(f"/admin/units/{world.p2_point.id}") as page:
        html = page.get_data(as_text=True)
        assert "Máy tính bảng P2" in html and "Thiết lập máy kiosk" in html
    with manager.post(f"/admin/units/{world.p2_point.id}/kiosks",
                      data={"csrf_token": csrf(manager), "label": "Quầy số 1"}) as response:
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        link = re.search(r'<code class="link">([^<]+)</code>', html).group(1)
        assert '<img src="data:image/svg+xml;base64,' in html
    kiosk = db.session.scalars(select(Kiosk).where(Kiosk.label == "Quầy số 1")).one()
    with client.get(link.replace("http://localhost", "")) as enrol:
        assert enrol.status_code == 200, "the link opens the set-up page on the tablet"
    with manager.post(f"/admin/kiosks/{kiosk.id}/revoke", data={"csrf_token": csrf(manager)}) as response:
        assert response.status_code == 303
    db.session.refresh(kiosk)
    assert kiosk.revoked_at is not None
    with client.get(link.replace("http://localhost", "")) as enrol:
        assert enrol.status_code == 410
    done = db.session.scalars(select(AuditEvent.action).where(AuditEvent.target == f"kiosk:{kiosk.id}")
                              .order_by(AuditEvent.id)).all()
    assert done == ["kiosk.enrolled", "kiosk.revoked"]


def test_kiosks_only_for_active_service_points_and_not_for_viewers(world, as_user, csrf):
    manager = as_user("demo-manager")
    with manager.post(f"/admin/units/{world.p2.id}/kiosks", data={"csrf_token": csrf(manager)}) as response:
        assert response.status_code == 422
    with manager.post(f"/admin/units/{world.p2_point.id}/kiosks",
                      data={"csrf_token": csrf(manager), "label": "x" * 81}) as response:
        assert response.status_code == 422
    with as_user("demo-viewer").get(f"/admin/units/{world.p2_point.id}") as page:
        assert "Máy tính bảng P2" not in page.get_data(as_text=True)


def test_a_poster_for_a_point_and_for_a_whole_ward(world, as_user):
    manager = as_user("demo-manager")
    with manager.get(f"/admin/units/{world.p2_point.id}/poster.pdf") as response:
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
        assert 'filename="hailong-poster-p2motcua-a4.pdf"' in response.headers["Content-Disposition"]
    with manager.get(f"/admin/units/{world.p2.id}/poster.pdf?size=a6") as response:
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
    with manager.get(f"/admin/units/{world.p2.id}/poster.pdf?size=a0") as response:
        assert response.status_code == 400
    with as_user("demo-viewer").get(f"/admin/units/{world.p2.id}/poster.pdf") as response:
        assert response.status_code == 403


# ------------------------------------------------------------------ the campaign a kiosk shows (issue #15)

CHOOSE_REFUSED = ("Không thể chọn đợt khảo sát này cho máy kiosk: vui lòng chọn một đợt khảo sát qua áp phích "
                  "đang mở hoặc sắp mở tại điểm phục vụ này.")


def _one_stop_campaign(world, **fields):
    from survey_app.models import Campaign

    campaign = Campaign(name=fields.pop("name", "Đánh giá Một cửa tại quầy"),
                        instrument_version=latest_version(db.session, "one-stop"),
                        access_mode="open", status=fields.pop("status", "open"), **fields)
    campaign.units.append(world.p2_point)
    db.session.add(campaign)
    db.session.commit()
    return campaign


def test_a_manager_picks_and_clears_the_campaign_of_a_kiosk(demo_app, world, as_user, csrf):
    from survey_app.services.qr import kiosks

    chosen = _one_stop_campaign(world)
    manager = as_user("demo-manager")
    with manager.get(f"/admin/units/{world.p2_point.id}") as page:
        assert f'href="/admin/kiosks/{world.p2_kiosk.id}"' in page.get_data(as_text=True)
    with manager.get(f"/admin/kiosks/{world.p2_kiosk.id}") as page:
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        options = re.findall(r'<option value="(\d*)"', html)
        assert options == ["", str(chosen.id), str(world.p2_campaign.id)], "open poster campaigns here, newest first"
        assert world.p1_campaign.name not in html and world.wide_campaign.name not in html
        assert "Phiếu đánh giá nhanh của điểm phục vụ (tự động)" in html
    url = f"/admin/kiosks/{world.p2_kiosk.id}/campaign"
    with manager.post(url, data={"csrf_token": csrf(manager), "campaign_id": str(chosen.id)},
                      follow_redirects=True) as response:
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "Từ nay máy kiosk hiển thị đợt khảo sát Đánh giá Một cửa tại quầy trong thời gian đợt này mở." in html
        assert f'<option value="{chosen.id}" selected>' in html
    db.session.expire_all()
    kiosk = db.session.get(Kiosk, world.p2_kiosk.id)
    assert kiosk.campaign_id == chosen.id
    assert kiosks.kiosk_target(db.session, "p2motcua", kiosk).campaign.id == chosen.id
    with manager.post(url, data={"csrf_token": csrf(manager), "campaign_id": ""}) as response:
        assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Kiosk, world.p2_kiosk.id).campaign_id is None
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "kiosk.campaign_chosen")
                                .order_by(AuditEvent.id)).all()
    assert [(e.actor_name, e.unit_id, e.target, e.detail["campaign_id"]) for e in events] == [
        ("demo-manager", world.p2_point.id, f"kiosk:{world.p2_kiosk.id}", chosen.id),
        ("demo-manager", world.p2_point.id, f"kiosk:{world.p2_kiosk.id}", None)]
    with as_user("demo-admin").get("/admin/audit") as page:
        assert "chọn đợt khảo sát cho máy kiosk" in page.get_data(as_text=True)


def test_a_campaign_out_of_scope_or_not_for_kiosks_is_refused(demo_app, world, as_user, csrf):
    from survey_app.models import Campaign, Unit

    health = db.session.scalar(select(Campaign).join(Campaign.units).where(Unit.code == "p2yte"))
    closed = _one_stop_campaign(world, name="Đợt đã đóng", status="closed")
    manager = as_user("demo-manager")
    url = f"/admin/kiosks/{world.p2_kiosk.id}/campaign"
    for value, message in [(str(world.p1_campaign.id), CHOOSE_REFUSED),  # the other ward's
                           (str(world.wide_campaign.id), CHOOSE_REFUSED),  # codes, not a poster
                           (str(health.id), CHOOSE_REFUSED),  # in the ward, not at this point
                           (str(closed.id), CHOOSE_REFUSED),
                           ("999999", CHOOSE_REFUSED),
                           ("abc", "Vui lòng chọn một đợt khảo sát trong danh sách."),
                           ("-1", "Vui lòng chọn một đợt khảo sát trong danh sách."),
                           ("9" * 40, "Vui lòng chọn một đợt khảo sát trong danh sách.")]:
        with manager.post(url, data={"csrf_token": csrf(manager), "campaign_id": value}) as response:
            html = response.get_data(as_text=True)
            assert response.status_code == 422, value
            assert message in html, value
            assert '<html lang="vi">' in html
    with manager.post(url, data={"campaign_id": str(world.p2_campaign.id)}) as response:
        assert response.status_code == 400, "no CSRF token"
    other_ward = as_user("p1manager")
    with other_ward.post(url, data={"csrf_token": csrf(other_ward), "campaign_id": ""}) as response:
        assert response.status_code == 404, "another ward's kiosk"
    with as_user("demo-viewer").get(f"/admin/kiosks/{world.p2_kiosk.id}") as response:
        assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Kiosk, world.p2_kiosk.id).campaign_id is None
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "kiosk.campaign_chosen")) == 0
