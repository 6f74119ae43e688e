"""The PAPI mirror end to end, on SQLite and PostgreSQL: the shipped instrument loads, a
household campaign runs with printed code slips (answered online and on paper, each code
spent once), the dimension report shows the eight dimensions with the change since the
round before (numbers checked by hand), and the province's published scores entered by an
official sit beside them — with the form's bad input refused with messages, and the grant's
scope enforced."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from helpers import hidden_fields
from survey_app.extensions import db
from survey_app.models import Campaign, PapiPublished, Response, VisitToken
from survey_app.services.collect.instruments import latest_version
from survey_app.services.data import paper_import
from survey_app.services.reports.rollup import LOCAL_TZ

from .conftest import csrf_from

BASE = "https://hailong.example.gov.vn"
CODE_RE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def household_campaign(point, name: str, days_ago: int) -> Campaign:
    version = latest_version(db.session, "papi-mirror")
    campaign = Campaign(name=name, instrument_version=version, access_mode="respondent_token", status="open",
                        starts_at=datetime.now(timezone.utc) - timedelta(days=days_ago))
    campaign.units.append(point)
    db.session.add(campaign)
    db.session.commit()
    return campaign


def answers_for(favourable: bool) -> dict[str, str]:
    """Every question answered, all favourably (the top level) or none (level 1)."""
    definition = latest_version(db.session, "papi-mirror").snapshot
    out = {}
    for q in definition["questions"]:
        levels = [lv["value"] for lv in definition["scales"][q["scale"]]["levels"]]
        out[q["key"]] = str(levels[-1] if favourable else levels[0])
    return out


def issue_slips(app, campaign, tmp_path, n: int) -> list[str]:
    """The codes of ``n`` slips, issued with the ``tokens issue`` command: a PDF of slips
    to cut out, and the same kind of codes as CSV (read back here)."""
    runner = app.test_cli_runner()
    pdf = tmp_path / f"slips-{campaign.id}.pdf"
    result = runner.invoke(args=["tokens", "issue", "--campaign", str(campaign.id), "--unit", "p2motcua", "-n", "2",
                                 "--out", str(pdf), "--base-url", BASE])
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF")
    csv_file = tmp_path / f"codes-{campaign.id}.csv"
    result = runner.invoke(args=["tokens", "issue", "--campaign", str(campaign.id), "--unit", "p2motcua", "-n",
                                 str(n), "--format", "csv", "--out", str(csv_file), "--base-url", BASE])
    assert result.exit_code == 0, result.output
    lines = csv_file.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "code,url,expires_at"
    codes = [line.split(",")[0] for line in lines[1:]]
    assert all(CODE_RE.fullmatch(c) for c in codes)
    assert len(codes) == n
    return codes


def answer_online(client, code: str, favourable: bool):
    page = client.get(f"/v/{code}")
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    fields = hidden_fields(page.get_data(as_text=True))
    data = {**fields, **{f"q_{k}": v for k, v in answers_for(favourable).items()}}
    return client.post(f"/v/{code}", data=data), fields, data


def paper_rows(codes_and_answers) -> list[dict[str, str]]:
    today = datetime.now(LOCAL_TZ).date().isoformat()
    return [{"unit": "p2motcua", "submitted_at": today, "code": code, **answers_for(fav)} for code, fav in codes_and_answers]


def run_round(app, client, campaign, tmp_path, favourable: list[bool]) -> list[str]:
    """Households answer: the first four online with their slip's code, the rest on paper
    (the code typed in its column). Returns the codes."""
    codes = issue_slips(app, campaign, tmp_path, len(favourable))
    for code, fav in list(zip(codes, favourable))[:4]:
        sent, _fields, _data = answer_online(client, code, fav)
        assert sent.status_code == 303
    rows = paper_rows(list(zip(codes, favourable))[4:])
    result = paper_import.import_rows(db.session, campaign, rows, "phieu-giay.csv")
    assert result.imported == len(rows)
    return codes


@pytest.fixture
def two_rounds(demo_app, place, tmp_path):
    """Round 1 (closed): 3 of 6 households favourable everywhere; round 2: 5 of 6."""
    client = demo_app.test_client()
    first = household_campaign(place.p2_point, "Gương PAPI vòng 1", days_ago=20)
    run_round(demo_app, client, first, tmp_path, [True, False, True, False, True, False])
    first.status = "closed"
    db.session.commit()
    second = household_campaign(place.p2_point, "Gương PAPI vòng 2", days_ago=5)
    codes = run_round(demo_app, client, second, tmp_path, [True, True, False, True, True, True])
    return first, second, codes, client


def test_the_instrument_loads_with_its_range(demo_app):
    version = latest_version(db.session, "papi-mirror")
    assert version is not None
    snapshot = version.snapshot
    assert snapshot["scoring"]["rescale"] == {"min": 1, "max": 10, "total": "sum"}
    assert [f["key"] for f in snapshot["factors"]] == ["participation", "transparency", "accountability",
                                                       "corruption", "procedures", "services", "environment",
                                                       "egovernance"]
    assert 16 <= len(snapshot["questions"]) <= 24


def test_a_household_campaign_runs_end_to_end_with_slips(demo_app, place, two_rounds, tmp_path):
    first, second, codes, client = two_rounds
    # codes issued for every household (and 2 spare slips per round), answered, each spent once
    assert count(VisitToken, VisitToken.campaign_id == second.id) == 6 + 2
    assert count(VisitToken, VisitToken.campaign_id == second.id, VisitToken.spent_at.is_not(None)) == 6
    assert count(Response, Response.campaign_id == second.id) == 6
    channels = dict(db.session.execute(select(Response.channel, func.count()).where(Response.campaign_id == second.id)
                                       .group_by(Response.channel)).all())
    assert channels == {"link": 4, "paper": 2}

    # the same slip again, online: refused with a message, nothing stored
    again, _fields, _data = answer_online_refused(client, codes[0])
    assert again.status_code == 410 and "Mã này đã được sử dụng — cảm ơn Ông/Bà đã góp ý." in again.get_data(as_text=True)
    # a code already used online, on a paper form: the whole file is refused
    with pytest.raises(paper_import.ImportFailed) as caught:
        paper_import.import_rows(db.session, second, paper_rows([(codes[1], True)]), "muon.csv")
    assert any("already used" in p for p in caught.value.problems)
    # the same code twice in one file, and a code of the other round
    spare = issue_slips(demo_app, second, tmp_path, 1)[0]
    with pytest.raises(paper_import.ImportFailed) as caught:
        paper_import.import_rows(db.session, second, paper_rows([(spare, True), (spare, False)]), "doi.csv")
    assert any("is also on row 2" in p for p in caught.value.problems)
    assert count(Response, Response.campaign_id == second.id) == 6
    assert count(VisitToken, VisitToken.campaign_id == second.id, VisitToken.spent_at.is_not(None)) == 6
    # importing the same file again adds nothing and spends nothing
    rows = paper_rows([(codes[4], True), (codes[5], True)])
    assert paper_import.import_rows(db.session, second, rows, "phieu-giay.csv").already_present == 2


def answer_online_refused(client, code):
    page = client.get(f"/v/{code}")
    assert page.status_code == 410
    return client.post(f"/v/{code}", data={f"q_{k}": v for k, v in answers_for(True).items()}), None, None


def _cells(html: str, key: str) -> list[str]:
    row = re.search(rf'<tr data-dimension="{key}">(.*?)</tr>', html, re.S).group(1)
    return [re.sub(r"<[^>]+>", " ", c).split() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_the_dimension_report_shows_scores_and_the_change_checked_by_hand(place, two_rounds, login):
    client = login("demo-manager")
    page = client.get(f"/reports/{place.p2.id}/papi")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Gương PAPI vòng 2" in html and "So với vòng trước: Gương PAPI vòng 1 (6 hộ)." in html
    # round 2: 5 of 6 households favourable on every question → 1 + 9 × 5/6 = 8.5 per
    # dimension; round 1: 3 of 6 → 5.5; so +3.00 each, and the total 68 (8 × 8.5), +24.
    for key in ("participation", "corruption", "egovernance"):
        cells = _cells(html, key)
        assert cells[0][-1] == "8,50"
        assert cells[2][:3] == ["6", "ít", "phiếu"]  # 6 households: marked low n
        assert cells[3][0] == "+3,00"
    foot = re.search(r"<tfoot>(.*?)</tfoot>", html, re.S).group(1)
    assert "Tổng (tổng tám nội dung, 8–80)" in foot and "68,00" in foot and "+24,00" in foot
    assert "Chưa nhập điểm PAPI đã công bố của tỉnh." in html
    assert "không phải điểm PAPI chính thức" in html.replace("\n", " ")

    # the earlier round, asked for by its campaign: no round before it
    first = two_rounds[0]
    earlier = client.get(f"/reports/{place.p2.id}/papi?round={first.id}").get_data(as_text=True)
    assert _cells(earlier, "services")[0][-1] == "5,50" and "Chưa có vòng trước để so sánh." in earlier
    # the dashboard of the survey links to the mirror
    dashboard = client.get(f"/reports/{place.p2.id}?instrument=papi-mirror&window=12m").get_data(as_text=True)
    assert f'href="/reports/{place.p2.id}/papi?instrument=papi-mirror"' in dashboard


@pytest.mark.parametrize("query", ["round=abc", "round=999999", "instrument=sipas", "instrument=nope"])
def test_bad_filters_are_a_400_with_a_sentence(place, two_rounds, login, query):
    client = login("demo-viewer")
    page = client.get(f"/reports/{place.p2.id}/papi?{query}")
    assert page.status_code == 400
    assert 'class="err" role="alert"' in page.get_data(as_text=True)


def test_an_official_enters_published_scores_and_the_ward_sees_them(demo_app, place, two_rounds, login):
    admin = login("demo-admin")  # the province's administrator
    province = place.town  # the province: no town level since 1 July 2025
    form = admin.get(f"/reports/{province.id}/papi/published")
    assert form.status_code == 200
    data = {"csrf_token": csrf_from(form.get_data(as_text=True)), "year": "2024",
            "source": "Báo cáo PAPI 2024 (CECODES, VFF-CRT, UNDP), tr. 120",
            "participation": "5,43", "transparency": "5.61", "accountability": "4,9", "corruption": "7",
            "procedures": "7,25", "services": "7,5", "environment": "4,12", "egovernance": "1,5"}
    saved = admin.post(f"/reports/{province.id}/papi/published", data=data)
    assert saved.status_code == 303
    row = db.session.scalars(select(PapiPublished)).one()
    assert (row.unit_id, row.year, row.participation, row.transparency) == (province.id, 2024, 5.43, 5.61)
    assert row.entered_by_name == "demo-admin"

    manager = login("demo-manager")  # ward p2: sees the province's scores, not the province's name
    html = manager.get(f"/reports/{place.p2.id}/papi").get_data(as_text=True)
    assert "Tỉnh, PAPI 2024" in html
    assert "Báo cáo PAPI 2024 (CECODES, VFF-CRT, UNDP), tr. 120 (năm 2024)" in html
    assert "Tỉnh Quảng Trị" not in html
    participation = _cells(html, "participation")
    assert participation[4] == ["5,43"]
    # where the published score lies against the mirror's interval (6 households: wide)
    for key, published in (("participation", 5.43), ("egovernance", 1.5)):
        cells = _cells(html, key)
        low, high = (float(x.replace(",", ".")) for x in cells[1][0].split("–"))
        words = " ".join(cells[5])
        assert words.startswith("cao hơn" if low > published else "thấp hơn" if high < published else "chưa khác rõ")
    assert "cao hơn" in " ".join(_cells(html, "egovernance")[5])  # 8.50, interval above 1.5
    foot = re.search(r"<tfoot>(.*?)</tfoot>", html, re.S).group(1)
    assert "43,31" in foot  # 5.43 + 5.61 + 4.9 + 7 + 7.25 + 7.5 + 4.12 + 1.5


@pytest.mark.parametrize(("field", "value", "message"), [
    ("participation", "11", "Điểm mỗi nội dung của PAPI là từ 1 đến 10."),
    ("participation", "0,5", "Điểm mỗi nội dung của PAPI là từ 1 đến 10."),
    ("transparency", "năm", "“năm” không phải là số như 5,43"),
    ("transparency", "5,123456", "không phải là số như 5,43"),
    ("corruption", "", "Xin nhập điểm đã công bố, một số từ 1 đến 10."),
    ("year", "1999", "Năm phải là một năm có PAPI"),
    ("year", "20x4", "Năm phải là một năm có PAPI"),
    ("source", "  ", "Xin ghi nguồn của điểm"),
    ("source", "x" * 301, "Nguồn chỉ được dài tối đa 300 ký tự."),
])
def test_bad_input_on_the_form_is_shown_again_with_messages_and_nothing_is_written(place, login, field, value,
                                                                                   message):
    client = login("demo-manager")
    form = client.get(f"/reports/{place.p2.id}/papi/published")
    data = {"csrf_token": csrf_from(form.get_data(as_text=True)), "year": "2024", "source": "Báo cáo PAPI 2024",
            **{d: "5" for d in ("participation", "transparency", "accountability", "corruption", "procedures",
                                "services", "environment", "egovernance")}}
    data[field] = value
    sent = client.post(f"/reports/{place.p2.id}/papi/published", data=data)
    assert sent.status_code == 400
    body = sent.get_data(as_text=True)
    assert "Chưa lưu gì. Xin sửa lại:" in body and message in body
    assert 'aria-invalid="true"' in body
    assert count(PapiPublished) == 0
    # without a valid CSRF token: a 400 too, nothing written
    assert client.post(f"/reports/{place.p2.id}/papi/published", data={**data, "csrf_token": "x"}).status_code == 400
    assert count(PapiPublished) == 0


def test_the_grant_decides_who_sees_and_who_enters(place, login):
    viewer = login("demo-viewer")
    assert viewer.get(f"/reports/{place.p2.id}/papi").status_code == 200
    assert viewer.get(f"/reports/{place.p2.id}/papi/published").status_code == 403
    other = login("p1manager")  # a manager of the other ward
    assert other.get(f"/reports/{place.p2.id}/papi").status_code == 404
    form = other.get(f"/reports/{place.p1.id}/papi/published")
    assert form.status_code == 200
    token = csrf_from(form.get_data(as_text=True))
    data = {"csrf_token": token, "year": "2024", "source": "PAPI 2024",
            **{d: "5" for d in ("participation", "transparency", "accountability", "corruption", "procedures",
                                "services", "environment", "egovernance")}}
    assert other.post(f"/reports/{place.p2.id}/papi/published", data=data).status_code == 404
    assert other.post(f"/reports/{place.town.id}/papi/published", data=data).status_code == 404
    assert count(PapiPublished) == 0
    assert other.post(f"/reports/{place.p1.id}/papi/published", data=data).status_code == 303
    assert count(PapiPublished) == 1
