"""The audit log page: filters, scoped to the viewer's subtree."""
from __future__ import annotations

from datetime import datetime, timezone

from survey_app.extensions import db
from survey_app.services.officials import audit


def seed(world):
    when = lambda d, h: datetime(2026, 3, d, h, tzinfo=timezone.utc)  # noqa: E731
    audit.record(db.session, "campaign.opened", actor=world.demo_manager, unit=world.p2, at=when(1, 2),
                 detail={"name": "SIPAS phường 2"})
    audit.record(db.session, "campaign.closed", actor=world.demo_manager, unit=world.p2, at=when(5, 2),
                 detail={"name": "SIPAS đóng"})
    audit.record(db.session, "grant.added", actor=world.p2admin, unit=world.p2_point, at=when(3, 2),
                 detail={"username": "demo-viewer"})
    audit.record(db.session, "campaign.opened", actor=world.p1manager, unit=world.p1, at=when(2, 2),
                 detail={"name": "SIPAS phường một"})
    db.session.commit()


def rows(html: str) -> int:
    return html.split("<tbody>")[1].split("</tbody>")[0].count("<tr>")


def test_the_log_shows_the_subtree_only_with_filters(world, as_user):
    seed(world)
    client = as_user("p2admin")
    with client.get("/admin/audit") as page:
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "SIPAS phường 2" in html and "SIPAS đóng" in html and "cấp quyền" in html
        assert "SIPAS phường một" not in html and "p1manager" not in html
        assert "01/03/2026 09:00" in html, "shown in Viet Nam time"
    with client.get("/admin/audit?action=campaign.opened") as page:
        html = page.get_data(as_text=True)
        assert "SIPAS phường 2" in html and "SIPAS đóng" not in html
    with client.get("/admin/audit?user=P2ADMIN") as page:
        html = page.get_data(as_text=True)
        assert "cấp quyền" in html and "SIPAS" not in html
    with client.get("/admin/audit?since=2026-03-02T00:00&until=04/03/2026 23:59") as page:
        html = page.get_data(as_text=True)
        assert rows(html) >= 1 and "cấp quyền" in html and "SIPAS" not in html
    with client.get("/admin/audit?since=yesterday") as page:
        assert page.status_code == 422
        assert "Vui lòng nhập ngày giờ theo dạng" in page.get_data(as_text=True)
    with client.get("/admin/audit?action=drop.tables") as page:
        assert page.status_code == 422
    with as_user("demo-admin").get("/admin/audit?action=campaign.opened") as page:
        html = page.get_data(as_text=True)
        assert "SIPAS phường một" in html and "SIPAS phường 2" in html


def test_the_log_pages_through_long_histories(world, as_user):
    for i in range(60):
        audit.record(db.session, "unit.renamed", actor=world.p2admin, unit=world.p2, detail={"name_vi": f"Tên {i}"})
    db.session.commit()
    client = as_user("p2admin")
    with client.get("/admin/audit?action=unit.renamed") as page:
        html = page.get_data(as_text=True)
        assert rows(html) == 50 and "page=2" in html
    with client.get("/admin/audit?action=unit.renamed&page=2") as page:
        assert rows(page.get_data(as_text=True)) == 10
    with client.get("/admin/audit?page=abc") as page:
        assert page.status_code == 200


def test_unknown_audit_actions_are_refused():
    import pytest

    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(db.session, "coffee.made")
