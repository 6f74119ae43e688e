"""Every audit entry reads as a sentence, in Vietnamese: who did what, with the details in
words (statuses, roles, periods, access modes, alert kinds), never a raw key or code."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from flask_babel import force_locale

from survey_app.extensions import db
from survey_app.models import AuditEvent
from survey_app.services.officials import audit, audit_text

# Details as each action records them (grep ``audit.record(`` and ``_audit(``).
DETAILS = {
    "user.created": {"username": "nguyen.a", "role": "manager", "unit": "/vn/qt/p2/"},
    "user.deactivated": {"username": "nguyen.a"},
    "user.activated": {"username": "nguyen.a"},
    "user.password_reset": {"username": "nguyen.a"},
    "user.password_changed": {"username": "nguyen.a"},
    "user.email_changed": {"username": "nguyen.a"},
    "grant.added": {"username": "nguyen.a", "unit": "/vn/qt/p2/", "role": "viewer"},
    "grant.changed": {"username": "nguyen.a", "unit": "/vn/qt/p2/", "from": "viewer", "to": "manager"},
    "grant.revoked": {"username": "nguyen.a", "unit": "/vn/qt/p2/", "role": "admin"},
    "login.locked": {"failures": 5, "minutes": 15},
    "unit.created": {"path": "/vn/qt/p2/quay-2/", "name": "Quầy 2", "code": "p2q2", "kind": "one_stop",
                     "office": "reception"},
    "unit.renamed": {"before": {"name_vi": "Phường 2", "name_en": "Ward 2", "path": "/vn/qt/p2/"},
                     "after": {"name_vi": "Phường Hai", "name_en": "Ward Two", "path": "/vn/qt/p-hai/"}},
    "unit.moved": {"from": "/vn/qt/p2/tram-y-te/", "to": "/vn/qt/p1/tram-y-te/", "units": 1},
    "unit.deactivated": {"path": "/vn/qt/p2/", "units": 4},
    "unit.activated": {"path": "/vn/qt/p2/", "units": 4},
    "unit.deleted": {"path": "/vn/qt/p2/quay-2/", "name": "Quầy 2", "code": "p2q2"},
    "unit.succeeded": {"successor": "/vn/qt/quang-tri/", "predecessor": "/vn/qt/p2/", "effective_on": "2025-07-01",
                       "change": "merger", "share": None},
    "grants.carried": {"from": "/vn/qt/p2/", "to": "/vn/qt/quang-tri/", "grants": 3},
    "campaign.created": {"name": "SIPAS 2026", "instrument": "sipas", "version": 1, "access_mode": "visit_token",
                         "points": ["/vn/qt/p2/mot-cua/"]},
    "campaign.opened": {"name": "SIPAS 2026", "from": "draft", "to": "open"},
    "campaign.paused": {"name": "SIPAS 2026", "from": "open", "to": "paused"},
    "campaign.closed": {"name": "SIPAS 2026", "from": "paused", "to": "closed"},
    "instrument.uploaded": {"key": "sipas", "version": 2, "file": "sipas.xlsx"},
    "tokens.issued": {"campaign": "SIPAS 2026", "unit": "/vn/qt/p2/mot-cua/", "count": 50, "format": "pdf"},
    "kiosk.enrolled": {"unit": "/vn/qt/p2/mot-cua/", "name": "Máy 1"},
    "kiosk.revoked": {"unit": "/vn/qt/p2/mot-cua/", "name": "Máy 1"},
    "kiosk.campaign_chosen": {"unit": "/vn/qt/p2/mot-cua/", "name": "Máy 1", "campaign": "SIPAS 2026",
                              "campaign_id": 7},
    "export.created": {"format": "xlsx", "instrument": "sipas", "from": "2026-01-01", "to": "2026-03-31",
                       "period": "quarter", "channels": ["qr", "paper"], "include_suspect": True, "campaign": 7,
                       "rows": 120},
    "report.published": {"instrument": "sipas", "period": "2026-Q1", "from": "2026-01-01", "to": "2026-03-31",
                         "supersedes": 3, "note": "Sửa số liệu"},
    "report.unpublished": {"instrument": "sipas", "from": "2026-01-01", "to": "2026-03-31"},
    "comment.hidden": {"response": 42, "question": "comment", "reason": "Lộ thông tin cá nhân"},
    "comment.restored": {"response": 42, "question": "comment"},
    "apikey.created": {"label": "Phần mềm một cửa", "scopes": ["reports:read", "dossiers:write"]},
    "apikey.revoked": {"label": "Phần mềm một cửa"},
    "petition.assigned": {"code": "PA-1234-5678", "from": "/vn/qt/p2/", "to": "/vn/qt/p2/mot-cua/"},
    "petition.noted": {"code": "PA-1234-5678"},
    "petition.answer_saved": {"code": "PA-1234-5678"},
    "petition.answer_published": {"code": "PA-1234-5678", "late": False, "first": True},
    "petition.text_approved": {"code": "PA-1234-5678"},
    "petition.text_withheld": {"code": "PA-1234-5678"},
    "petition.closed": {"code": "PA-1234-5678"},
    "petition.reopened": {"code": "PA-1234-5678"},
    "petition.contact_viewed": {"code": "PA-1234-5678"},
    "petition.contact_deleted": {"code": "PA-1234-5678"},
    "petition.refused": {"code": "PA-1234-5678"},
    "petition.info_requested": {"code": "PA-1234-5678", "requests": 1},
    "petition.info_recorded": {"code": "PA-1234-5678", "paused_days": 9},
    "petition.published": {"code": "PA-1234-5678"},
    "petition.merged": {"code": "7K3QM-XD9FP", "into": "4HX2R-9MWQT"},
    "petition.repeat_unmarked": {"code": "7K3QM-XD9FP", "of": "4HX2R-9MWQT"},
    "dossiers.imported": {"created": 10, "updated": 2, "unchanged": 5},
    "dossiers.staff_viewed": {"from": "2026-01-01", "to": "2026-01-31"},
    "dossiers.flagged": {"responses": 3, "periods": ["2026-03"]},
    "alertrule.created": {"kind": "below", "instrument": "sipas", "threshold": "70"},
    "alertrule.deleted": {"kind": "petition_deadline", "instrument": ""},
    "alert.acknowledged": {"kind": "spike", "note": "Đã kiểm tra với quầy"},
    "retention.responses": {"months": ["2024-01"], "responses": 5200, "answers": 98000, "keep_months": 24,
                            "cutoff": "2024-03-01", "archive_dir": "/srv/hailong/archive",
                            "archives": [{"month": "2024-01", "archives": [
                                {"file": "/srv/hailong/archive/answer_p2024_01.csv.gz", "sha256": "ab" * 32,
                                 "rows": 49000},
                                {"file": "/srv/hailong/archive/response_p2024_01.csv.gz", "sha256": "cd" * 32,
                                 "rows": 2600}]}],
                            "skipped": ["2024-02"]},
    "retention.run": {"hashes_cleared": 120, "contacts_deleted": 2, "job_runs_pruned": 30, "hash_cutoff": "2026-11-30",
                      "contact_cutoff": "2025-12-02", "hash_margin_days": 1, "contact_days": 365},
}

RAW_KEY = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")  # visit_token, petition_deadline, access_mode, …
RAW_CODE = re.compile(r"\b(?:draft|open|paused|closed|quarter|month|viewer|manager|admin|below|drop|spike|"
                      r"merger|one_stop|reception|reports:read|True|False|None)\b")


def test_every_action_has_realistic_details_here():
    assert set(DETAILS) == set(audit.ACTIONS)


def event(action: str, detail: dict, actor_name: str = "nguyen.b") -> AuditEvent:
    return AuditEvent(action=action, actor_name=actor_name, actor_id=None, detail=detail,
                      at=datetime(2026, 3, 1, 2, tzinfo=timezone.utc))


@pytest.mark.parametrize("action", audit.ACTIONS)
def test_every_action_reads_as_a_vietnamese_sentence(app, action):
    with app.test_request_context("/"), force_locale("vi"):
        text = audit_text.sentence(event(action, DETAILS[action]), {"/vn/qt/p2/": "Phường 2"}, {"sipas": "SIPAS"})
        left = audit_text.left_over(event(action, DETAILS[action]))
    assert text.startswith(("nguyen.b đã ", "Tài khoản nguyen.b ")), text
    assert "→" not in text, text
    assert left == [], "the sentence says every detail"
    assert not RAW_KEY.search(text), text
    assert not RAW_CODE.search(text), text
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), "days as dd/mm/yyyy: " + text


def test_the_sentences_say_the_details_in_words(app):
    names = {"/vn/qt/p2/": "Phường 2", "/vn/qt/p2/mot-cua/": "Bộ phận Một cửa Phường 2"}
    with app.test_request_context("/"), force_locale("vi"):
        say = lambda action: audit_text.sentence(event(action, DETAILS[action]), names, {"sipas": "SIPAS"})  # noqa
        assert say("campaign.opened") == "nguyen.b đã mở đợt khảo sát «SIPAS 2026» (từ bản nháp sang đang mở)"
        assert say("export.created") == ("nguyen.b đã xuất báo cáo SIPAS dạng XLSX, từ 01/01/2026 đến 31/03/2026, "
                                         "theo quý; kênh: mã QR, phiếu giấy; có tính phiếu nghi ngờ; đợt khảo sát số 7; "
                                         "120 dòng")
        assert "Mã dùng một lần theo lượt" in say("campaign.created")
        assert say("alertrule.created") == "nguyen.b đã thêm quy tắc cảnh báo: chỉ số dưới ngưỡng, ngưỡng 70 (SIPAS)"
        assert "phản ánh sắp đến hạn trả lời" in say("alertrule.deleted")
        assert say("grant.changed") == "nguyen.b đã đổi quyền của nguyen.a tại Phường 2 từ Xem báo cáo sang Quản lý"
        assert say("comment.hidden") == "nguyen.b đã ẩn một ý kiến của phiếu số 42 – lý do: «Lộ thông tin cá nhân»"
        assert say("report.published").endswith("thay cho bản công bố số 3 – ghi chú: «Sửa số liệu»")
        assert "Th3/2026" in say("dossiers.flagged")  # the period as the charts write it
        system = audit_text.sentence(event("dossiers.imported", DETAILS["dossiers.imported"], audit.SYSTEM))
        assert system.startswith("Dòng lệnh (hệ thống) đã nhập hồ sơ: 10 mới")
        # an unknown detail reads with a label, and missing details fall back to who: what
        odd = audit_text.sentence(event("campaign.opened", {"name": "X", "extra_thing": "y"}))
        assert "extra_thing" not in odd and "extra thing: y" in odd
        bare = audit_text.sentence(event("grant.added", {"username": "demo-viewer"}))
        assert bare == "nguyen.b: cấp quyền (tên đăng nhập: demo-viewer)"


def test_the_audit_log_page_shows_sentences(world, as_user):
    audit.record(db.session, "campaign.opened", actor=world.demo_manager, unit=world.p2,
                 detail={"name": "SIPAS phường 2", "from": "draft", "to": "open"})
    audit.record(db.session, "export.created", actor=world.demo_manager, unit=world.p2,
                 detail={"format": "pdf", "instrument": "sipas", "from": "2026-01-01", "to": "2026-06-30",
                         "period": "month"})
    audit.record(db.session, "alert.acknowledged", actor=world.demo_manager, unit=world.p2,
                 detail={"kind": "drop", "note": "Đã họp với bộ phận"})
    db.session.commit()
    with as_user("p2admin").get("/admin/audit") as page:
        assert page.status_code == 200
        html = page.get_data(as_text=True)
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    who = f"{world.demo_manager.display_name} ({world.demo_manager.username})"
    assert f"{who} đã mở đợt khảo sát «SIPAS phường 2» (từ bản nháp sang đang mở)" in body
    assert f"{who} đã xuất báo cáo" in body and "dạng PDF, từ 01/01/2026 đến 30/06/2026, theo tháng" in body
    assert "giảm rõ rệt so với tháng trước" in body and "ghi chú: «Đã họp với bộ phận»" in body
    assert "→" not in body and not RAW_KEY.search(re.sub(r'data-action="[^"]*"', "", body))
    assert "period" not in body and "draft" not in body
