"""Response rates, the portal's figures in the report JSON and on the dashboard, staff
only for managers (audited), the CSV import, and the flag of months with more ratings
than dossiers (responses marked suspect, not deleted)."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Dossier, Response
from survey_app.services.collect.surveys import SurveyTarget, submit_response
from survey_app.services.data.demo import DEMO_PASSWORD


WINDOW = "instrument=one-stop&window=custom&from=2026-03-01&to=2026-03-31"


def _post(client, counters, d, code, **extra):
    with client.post("/api/v1/dossiers", json=d.dossier(code, **extra), headers=d.bearer(counters.write_p2)) as r:
        assert r.status_code == 201, r.get_json()
        return r.get_json()["dossier"]


def _rate(counters, dossier_code, level, month=3):
    dossier = db.session.scalar(select(Dossier).where(Dossier.code == dossier_code))
    campaign = counters.campaigns.p2
    keys = [q["key"] for q in campaign.instrument_version.snapshot["questions"] if q["type"] == "scale"]
    submit_response(db.session, SurveyTarget(counters.p2, campaign, campaign.instrument_version),
                    [(k, level, None) for k in keys], channel="link", language="vi",
                    idempotency_key=secrets.token_hex(16), submitted_at=datetime(2026, month, 20, 3, tzinfo=timezone.utc),
                    spend_token_id=dossier.token_id)


def _login(app, username):
    client = app.test_client()
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"csrf_token": token, "username": username, "password": DEMO_PASSWORD}).close()
    return client


def test_rates_and_portal_figures_on_a_worked_month(demo_app, counters, d, tmp_path):
    client = demo_app.test_client()
    # March 2026: 4 dossiers returned. A on time, rated satisfied; B late; C on time with a
    # petition; D returned a day late but it waited 2 days for the citizen: on time.
    _post(client, counters, d, "A", returned_at="2026-03-03T10:00")
    _post(client, counters, d, "B", returned_at="2026-03-05T10:00")
    _post(client, counters, d, "C", returned_at="2026-03-03T11:00", petition=True)
    _post(client, counters, d, "D", returned_at="2026-03-04T16:00", waited_minutes=2880, document_requests=1)
    _post(client, counters, d, "E")  # not returned: not counted
    _rate(counters, "A", 3)
    _rate(counters, "D", 1)  # "Không hài lòng"
    manager = _login(demo_app, "demo-manager")
    unit_id = counters.p2.parent_id
    with manager.get(f"/api/v1/reports/{unit_id}?{WINDOW.replace('window=custom&', '')}") as r:
        assert r.status_code == 200, r.get_json()
        section = r.get_json()["dossiers"]
    assert (section["returned"], section["rated"], section["response_rate"]) == (4, 2, 0.5)
    # late 1/4, complained (C petition, D not satisfied) 2/4: 100 − 25 − 50 = 25.00; on time 75.00
    assert section["portal"] == {"resolved": 4, "late": 1, "complained": 2, "on_time": 75.0, "satisfaction": 25.0}
    [point] = section["points"]
    assert point["months"] == [{"month": "2026-03", "returned": 4, "rated": 2, "response_rate": 0.5, "ratings": 2,
                                "flagged": False, "excess": False, "jump": False}]
    assert {b["name"] for b in section["by_sector"]} == {"Hộ tịch"}
    assert "staff" not in str(section) and "Quầy" not in str(section)
    assert section["codes"] == [] or all(c["issued"] >= c["used"] for c in section["codes"])
    with manager.get(f"/reports/{unit_id}?{WINDOW}&lang=en") as page:
        html = page.get_data(as_text=True)
    assert page.status_code == 200 and "portal-figures" in html and "25.00%" in html and "75.00%" in html
    assert "Our index counts the people who answered" in html
    with manager.get(f"/reports/{unit_id}?{WINDOW}&lang=vi") as page:
        assert page.status_code == 200 and "Chỉ số theo Cổng Dịch vụ công quốc gia" in page.get_data(as_text=True)
    # The printed report: the same figures, in Vietnamese.
    from helpers import pdf_text
    with manager.get(f"/reports/{unit_id}/report.pdf?{WINDOW}") as r:
        assert r.status_code == 200
        text = pdf_text(r.data, tmp_path)
    assert "Hồ sơ đã giải quyết và được đánh giá" in text and "25.00%" in text and "75.00%" in text
    # The exports: a dossiers sheet of aggregates, no dossier code, no staff.
    from openpyxl import load_workbook
    import io
    with manager.get(f"/reports/{unit_id}/export.xlsx?{WINDOW}&lang=en") as r:
        assert r.status_code == 200
        wb = load_workbook(io.BytesIO(r.data))
    sheet = wb["Dossiers"] if "Dossiers" in wb.sheetnames else wb["Hồ sơ"]
    rows = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert rows.get("Response rate", rows.get("Tỷ lệ phản hồi")) == 0.5
    values = [v for v in rows.values() if isinstance(v, (int, float))]
    assert 25 in values and 75 in values  # the portal's figures
    cells = {str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None}
    assert not {"A", "B", "C", "D"} & cells  # no dossier code


def test_staff_breakdown_is_for_managers_and_audited(demo_app, counters, d):
    client = demo_app.test_client()
    _post(client, counters, d, "A", returned_at="2026-03-03T10:00", staff="Nguyễn Văn A")
    unit_id = counters.p2.parent_id
    viewer = _login(demo_app, "demo-viewer")
    with viewer.get(f"/reports/{unit_id}/dossiers/staff?{WINDOW}") as r:
        assert r.status_code == 403
    with viewer.get(f"/reports/{unit_id}?{WINDOW}") as r:
        assert "Nguyễn Văn A" not in r.get_data(as_text=True)
    manager = _login(demo_app, "demo-manager")
    with manager.get(f"/reports/{unit_id}/dossiers/staff?{WINDOW}") as r:
        assert r.status_code == 200 and "Nguyễn Văn A" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "dossiers.staff_viewed")) == 1
    with demo_app.test_client().get("/p/p2motcua") as public:
        assert "Nguyễn Văn A" not in public.get_data(as_text=True)


def test_more_ratings_than_dossiers_is_flagged_and_marked_suspect(demo_app, counters, d):
    client = demo_app.test_client()
    _post(client, counters, d, "A", returned_at="2026-03-03T10:00")
    _rate(counters, "A", 3)
    sipas = db.session.scalar(select(Response.campaign_id).limit(1))  # any open campaign of the point
    from helpers import survey_target
    target = survey_target("p2motcua")
    keys = [q["key"] for q in target.definition["questions"] if q["type"] == "scale"]
    for i in range(3):
        submit_response(db.session, target, [(k, 4, None) for k in keys], channel="qr", language="vi",
                        idempotency_key=secrets.token_hex(16),
                        submitted_at=datetime(2026, 3, 10 + i, 3, tzinfo=timezone.utc))
    del sipas
    result = demo_app.test_cli_runner().invoke(args=["dossiers", "flag-excess", "--unit", "p2motcua",
                                                     "--from", "2026-03-01", "--to", "2026-03-31"])
    assert result.exit_code == 0, result.output
    assert "3 response(s) marked suspect" in result.output
    trusts = dict(db.session.execute(select(Response.channel, func.count()).where(Response.trust == "suspect")
                                     .group_by(Response.channel)).all())
    assert trusts == {"qr": 3}  # the dossier's own rating stays trusted; nothing deleted
    assert db.session.scalar(select(func.count()).select_from(Response)) >= 4


def test_csv_import_checks_every_row_and_is_idempotent(demo_app, counters, tmp_path):
    header = "code,procedure_code,procedure_name,sector,service_point,received_at,due_at,returned_at,status\n"
    good = header + ("HS-1,1.001193,Đăng ký khai sinh,Hộ tịch,p2motcua,2026-03-02T08:15,2026-03-03T17:00,,\n"
                     "HS-2,2.000815,Chứng thực bản sao,Chứng thực,p2motcua,2026-03-02 09:00,,2026-03-02T10:00,returned\n")
    bad = header + ("HS-1,1.001193,Đăng ký khai sinh,Hộ tịch,p2motcua,yesterday,,,\n"
                    "HS-3,1.001193,Đăng ký khai sinh,,p9,2026-03-02T08:15,,,\n")
    runner = demo_app.test_cli_runner()
    (tmp_path / "bad.csv").write_text(bad, encoding="utf-8")
    result = runner.invoke(args=["dossiers", "import", str(tmp_path / "bad.csv"), "--unit", "/vn/qt/p2/"])
    assert result.exit_code != 0
    assert "row 2, column received_at" in result.output and "row 3, column sector" in result.output
    assert "row 3, column service_point" in result.output
    assert db.session.scalar(select(func.count()).select_from(Dossier)) == 0
    (tmp_path / "good.csv").write_text(good, encoding="utf-8")
    first = runner.invoke(args=["dossiers", "import", str(tmp_path / "good.csv"), "--unit", "/vn/qt/p2/"])
    assert first.exit_code == 0, first.output
    assert "2 new" in first.output and re.search(r"HS-1,[0-9A-Z]{6},", first.output)
    again = runner.invoke(args=["dossiers", "import", str(tmp_path / "good.csv"), "--unit", "/vn/qt/p2/"])
    assert "2 unchanged" in again.output
    assert db.session.scalar(select(func.count()).select_from(Dossier)) == 2
    assert db.session.scalar(select(Dossier.source).where(Dossier.code == "HS-2")) == "csv"


def test_the_demo_loads_served_dossiers_with_late_shares(demo_app):
    from survey_app.services.data import demo_dossiers

    added = demo_dossiers.add_dossiers(db.session, months=2)
    assert added >= 100
    rows = db.session.scalars(select(Dossier).where(Dossier.returned_at.is_not(None))).all()
    late = sum(1 for r in rows if r.late) / len(rows)
    assert 0.02 <= late <= 0.25
    assert any(r.response_id for r in rows)
    assert demo_dossiers.add_dossiers(db.session, months=2) == 0  # idempotent


def test_a_response_rate_far_above_the_points_history_is_flagged(demo_app, counters, d):
    client = demo_app.test_client()
    items = []
    for month in (1, 2, 3, 4):  # Jan–Mar: 10 dossiers, 1 rated each; April: 10 dossiers, 8 rated
        for i in range(10):
            items.append(d.dossier(f"J-{month}-{i}", received_at=f"2026-0{month}-0{i % 9 + 1}T08:00",
                                   due_at=f"2026-0{month}-2{i % 9}T08:00", returned_at=f"2026-0{month}-1{i % 9}T08:00"))
    with client.post("/api/v1/dossiers/batch", json={"dossiers": items}, headers=d.bearer(counters.write_p2)) as r:
        assert r.status_code == 201
    for month in (1, 2, 3):
        _rate(counters, f"J-{month}-0", 3, month)
    for i in range(8):
        _rate(counters, f"J-4-{i}", 3, 4)
    from survey_app.services.dossiers import figures
    section = figures.dossier_section(db.session, counters.p2, datetime(2026, 4, 1).date(), datetime(2026, 4, 30).date())
    [april] = section["points"][0]["months"]
    assert april["jump"] is True and april["excess"] is False and april["response_rate"] == 0.8
    assert [f["reason"] for f in section["flags"]] == ["jump"]
    # A month like the others is not flagged.
    march = figures.dossier_section(db.session, counters.p2, datetime(2026, 3, 1).date(), datetime(2026, 3, 31).date())
    assert march["flags"] == []
    assert figures.flag_excess(db.session, counters.p2, datetime(2026, 4, 1).date(), datetime(2026, 4, 30).date()) == 8
    assert db.session.scalar(select(func.count()).select_from(Response).where(
        Response.trust_reason == figures.JUMP_REASON)) == 8


def test_codes_issued_against_used_without_dossiers(demo_app, counters):
    from datetime import timedelta

    from survey_app.services.dossiers import figures
    from survey_app.services.qr import tokens

    issued = tokens.issue_tokens(db.session, counters.campaigns.p1, counters.p1, 5)
    db.session.commit()
    token = db.session.scalar(select(tokens.VisitToken).where(
        tokens.VisitToken.code_hash == tokens.code_hash(tokens.normalize_code(issued[0]))))
    token.spent_at = datetime.now(timezone.utc)
    db.session.commit()
    from survey_app.services.reports.rollup import LOCAL_TZ

    today = datetime.now(LOCAL_TZ).date()  # the reports' days are Vietnam's
    section = figures.dossier_section(db.session, counters.p1.parent, today - timedelta(days=1), today)
    assert section["returned"] == 0 and section["portal"]["satisfaction"] is None
    assert [(c["issued"], c["used"], c["use_rate"]) for c in section["codes"]] == [(5, 1, 0.2)]
    manager = _login(demo_app, "demo-admin")
    window = f"instrument=one-stop&window=custom&from={today - timedelta(days=1)}&to={today}&lang=en"
    with manager.get(f"/reports/{counters.p1.parent_id}?{window}") as page:
        html = page.get_data(as_text=True)
    assert "One-time codes issued in the period, and used" in html and "portal-figures" not in html
