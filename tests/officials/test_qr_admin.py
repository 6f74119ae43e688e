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
