"""Numbers with decimals (issue 20: XLSForm ``decimal``): a ``number`` question may declare
``decimals``; its answers are stored as value × 10^decimals and every reader divides back.
The XLSForm imports and round-trips, the page takes ``3,5`` and ``3.5``, bad answers get
named messages in Vietnamese and English, and the report, skip logic, paper import and
demo history read the values right."""
from __future__ import annotations

import io
import random
from datetime import datetime, timedelta, timezone

import openpyxl
import pytest
from flask_babel import force_locale
from pyxform.xls2xform import convert
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from helpers import campaign_target, hidden_fields
from survey_app.extensions import db
from survey_app.models import Answer, Campaign, Response, utcnow
from survey_app.services.collect import instruments, numbers, xlsform
from survey_app.services.collect.surveys import validate_answers
from survey_app.services.data import demo_history
from survey_app.services.data.paper_import import ImportFailed, import_file
from survey_app.services.reports import build as reports
from test_xlsform import SHIPPED, local_form, workbook, where

DISTANCE_ROW, TRANSPORT_ROW = 13, 14  # Excel rows of the two questions added below


def decimal_form(hl_decimals: str = "1", constraint: str = ". >= 0 and . <= 100.5",
                 relevant: str = "${distance_km} >= 2.5") -> dict[str, list[list]]:
    """The hand-made queue survey with a ``decimal`` question (how far away the citizen
    lives, in km, one decimal) and a question asked only beyond 2.5 km."""
    sheets = local_form()
    sheets["survey"][0].append("hl_decimals")
    for row in sheets["survey"][1:]:
        row.append("")
    sheets["survey"].append(["decimal", "distance_km", "Nhà Ông/Bà cách nơi làm thủ tục bao nhiêu km?",
                             "How far from the office do you live (km)?", "Ví dụ: 3,5", "For example 3.5", "yes", "",
                             constraint, hl_decimals])
    sheets["survey"].append(["text", "transport", "Ông/Bà đi bằng phương tiện gì?", "How did you travel?", "", "",
                             "no", relevant, "", ""])
    return sheets


def read(sheets) -> dict:
    return xlsform.read_workbook(workbook(sheets), "distance.xlsx")


def question(definition: dict, key: str) -> dict:
    return next(q for q in definition["questions"] if q["key"] == key)


def problems_of(sheets) -> list[xlsform.Problem]:
    with pytest.raises(xlsform.XLSFormError) as caught:
        read(sheets)
    return caught.value.problems


# ------------------------------------------------------------------ the XLSForm

def test_an_xlsform_decimal_becomes_a_number_with_decimals(app):
    distance = question(read(decimal_form()), "distance_km")
    assert {k: distance[k] for k in ("type", "decimals", "min", "max", "required")} == {
        "type": "number", "decimals": 1, "min": 0, "max": 100.5, "required": True}
    assert distance["help"] == {"vi": "Ví dụ: 3,5", "en": "For example 3.5"}
    # without hl_decimals: as many digits as the bounds show, at least one
    assert question(read(decimal_form(hl_decimals="")), "distance_km")["decimals"] == 1
    assert question(read(decimal_form("", ". >= 0 and . <= 100")), "distance_km")["decimals"] == 1
    assert question(read(decimal_form("", ". <= 99.25 and . >= 0.5")), "distance_km")[
        "decimals"] == 2
    explicit = question(read(decimal_form("3", ". >= 0 and . <= 100.5")), "distance_km")
    assert (explicit["decimals"], explicit["min"], explicit["max"]) == (3, 0, 100.5)
    # a whole bound written with a point is the same bound: 100.0 is 100
    assert question(read(decimal_form("1", ". >= 0.0 and . <= 100.0")), "distance_km")["max"] == 100
    assert isinstance(question(read(decimal_form("1", ". >= 0.0 and . <= 100.0")), "distance_km")["max"], int)


def test_a_decimal_instrument_round_trips_through_pyxform_and_toml(app):
    definition = read(decimal_form())
    data = xlsform.write_workbook(definition)
    xform = convert(data, warnings=[], file_type=".xlsx", form_name="data").xform
    assert 'type="decimal"' in xform and "100.5" in xform
    rows = list(openpyxl.load_workbook(io.BytesIO(data))["survey"].iter_rows(values_only=True))
    header = list(rows[0])
    written = next(r for r in rows if r[1] == "distance_km")
    assert written[0] == "decimal" and written[header.index("hl_decimals")] == 1
    assert written[header.index("constraint")] == ". >= 0 and . <= 100.5"
    back = xlsform.read_workbook(data, "back.xlsx")
    assert back == definition
    assert instruments.content_hash(back) == instruments.content_hash(definition)
    toml = xlsform.to_toml(back)
    assert "decimals = 1" in toml and "max = 100.5" in toml
    assert instruments.parse_bytes(toml.encode(), "distance.toml") == definition


def test_the_shipped_instruments_carry_no_decimals_so_their_hashes_stay(app):
    for path in SHIPPED:
        definition = instruments.parse_file(path)
        assert all("decimals" not in q for q in definition["questions"]), path.name


@pytest.mark.parametrize("change, cell, expected", [
    ({"hl_decimals": "5"}, (DISTANCE_ROW, "hl_decimals"), "từ 1 đến 4"),
    ({"hl_decimals": "0"}, (DISTANCE_ROW, "hl_decimals"), "từ 1 đến 4"),
    ({"hl_decimals": "một"}, (DISTANCE_ROW, "hl_decimals"), "từ 1 đến 4"),
    ({"constraint": ""}, (DISTANCE_ROW, "constraint"), "cần khoảng giá trị"),
    ({"constraint": ". > 0"}, (DISTANCE_ROW, "constraint"), "cần khoảng giá trị"),
    ({"constraint": ". >= 0 and . <= 100.55"}, (DISTANCE_ROW, "constraint"), "more digits after the point"),
    ({"constraint": ". >= 0 and . <= 20000.5"}, (DISTANCE_ROW, "constraint"), "0 <= min < max <= 10000"),
    ({"relevant": "${distance_km} = '3.5'"}, (TRANSPORT_ROW, "relevant"), "without quotes"),
    ({"relevant": "${distance_km} = 3.55"}, (TRANSPORT_ROW, "relevant"), "'3.55' is not an answer"),
    ({"relevant": "${distance_km} = 200"}, (TRANSPORT_ROW, "relevant"), "'200' is not an answer"),
])
def test_a_bad_decimal_is_named_with_its_cell(app, change, cell, expected):
    problems = problems_of(decimal_form(**change))
    assert [where(p) for p in problems] == [("survey", *cell)], problems
    assert expected in problems[0].message


def test_hl_decimals_on_another_type_is_refused(app):
    sheets = decimal_form()
    sheets["survey"][10][-1] = "1"  # the integer queue_minutes, Excel row 11
    problems = problems_of(sheets)
    assert [where(p) for p in problems] == [("survey", 11, "hl_decimals")]
    assert "decimal" in problems[0].message


# ------------------------------------------------------------------ the TOML file

TOML = """
schema = 1
key = "weights"
kind = "health"
title = {{ vi = "Cân nặng", en = "Weights" }}

[scales.s5]
levels = [{{ value = 1, vi = "Kém", en = "Poor" }}, {{ value = 2, vi = "Tốt", en = "Good" }}]
satisfied = [2]

[[questions]]
key = "overall"
type = "scale"
scale = "s5"
text = {{ vi = "Chung", en = "Overall" }}

[[questions]]
key = "weight"
type = "{qtype}"
{extra}
text = {{ vi = "Cân nặng (kg)", en = "Weight (kg)" }}

[scoring]
method = "satisfied_share"
"""


def toml_problems(qtype: str, extra: str) -> list[str]:
    with pytest.raises(instruments.InstrumentError) as caught:
        instruments.parse_bytes(TOML.format(qtype=qtype, extra=extra).encode(), "weights.toml")
    return caught.value.problems


def test_a_toml_number_declares_its_decimals():
    definition = instruments.parse_bytes(
        TOML.format(qtype="number", extra="decimals = 2\nmin = 0.5\nmax = 150.25").encode(), "weights.toml")
    weight = question(definition, "weight")
    assert (weight["decimals"], weight["min"], weight["max"]) == (2, 0.5, 150.25)
    whole = instruments.parse_bytes(TOML.format(qtype="number", extra="decimals = 0\nmin = 0\nmax = 150").encode(),
                                    "weights.toml")
    assert "decimals" not in question(whole, "weight"), "0 is today's whole number, stored as before"


@pytest.mark.parametrize("qtype, extra, expected", [
    ("number", "decimals = 5\nmin = 0\nmax = 10", "questions[1].decimals: must be a whole number from 0 to 4"),
    ("number", "decimals = true\nmin = 0\nmax = 10", "questions[1].decimals: must be a whole number from 0 to 4"),
    ("number", "decimals = 1\nmin = 0\nmax = 10.25", "questions[1].max: 10.25 has more digits after the point"),
    ("number", "decimals = 1\nmin = '0'\nmax = 10", "questions[1].min: a number with decimals needs min and max"),
    ("number", "decimals = 1\nmin = 5.5\nmax = 5.5", "questions[1].max: min and max must hold 0 <= min < max"),
    ("number", "min = 0\nmax = 10.5", "questions[1].max: a number needs min and max, whole numbers"),
    ("percent", "decimals = 1", "questions[1].decimals: does not apply to type 'percent'"),
])
def test_a_bad_toml_decimal_is_named_with_its_field(qtype, extra, expected):
    problems = toml_problems(qtype, extra)
    assert any(expected in p for p in problems), problems


# ------------------------------------------------------------------ reading what was typed

@pytest.mark.parametrize("typed, decimals, stored", [
    ("3,5", 1, 35), ("3.5", 1, 35), (" 3,50 ", 1, 35), ("0,5", 1, 5), (",5", 1, 5), ("7", 1, 70), ("7,", 1, 70),
    ("100,5", 1, 1005), ("0", 2, 0), ("12,25", 2, 1225), ("1,0001", 4, 10001),
])
def test_a_typed_number_is_read_with_a_comma_or_a_point(typed, decimals, stored):
    assert numbers.read(typed, decimals, 0, 100.5 if decimals == 1 else 10000) == stored


@pytest.mark.parametrize("typed, reason", [
    ("3,55", "too_many_decimals"), ("0.05", "too_many_decimals"), ("ba", "not_a_number"), ("3,5 km", "not_a_number"),
    ("1.234,5", "not_a_number"), ("3,5,1", "not_a_number"), (",", "not_a_number"), ("", "not_a_number"),
    ("1e2", "not_a_number"), ("٣", "not_a_number"), ("100,6", "out_of_range"), ("-0,5", "out_of_range"),
    ("9" * 17, "not_a_number"),
])
def test_a_typed_number_that_is_no_answer_says_why(typed, reason):
    with pytest.raises(numbers.NumberRefused) as caught:
        numbers.read(typed, 1, 0, 100.5)
    assert caught.value.reason == reason


BASE = {"q_waited": "4", "q_staff": "4", "q_clean": "4", "q_queued": "0"}


def check(definition, distance: str, **more):
    return validate_answers(definition, MultiDict({**BASE, "q_distance_km": distance, **more}))


def test_the_form_stores_the_scaled_value_and_names_each_bad_answer(app):
    definition = read(decimal_form())
    with app.test_request_context("/s/x"):
        for typed in ("3,5", "3.5"):
            assert ("distance_km", 35, None) in check(definition, typed).answers
        assert ("distance_km", 1005, None) in check(definition, "100,5").answers
        bad = {
            "3,55": "Vui lòng nhập tối đa 1 chữ số sau dấu phẩy thập phân (một số từ 0 đến 100,5).",
            "ba cây số": "Vui lòng viết số bằng chữ số, dùng dấu phẩy hoặc dấu chấm trước phần thập phân, "
                         "ví dụ 50,2.",
            "100,6": "Vui lòng nhập một số từ 0 đến 100,5.",
        }
        for typed, message in bad.items():
            refused = check(definition, typed)
            assert refused.errors == {"distance_km": message} and refused.answers == []
            assert refused.values["distance_km"] == [typed], "what was typed is kept for the page"
    with app.test_request_context("/s/x"), force_locale("en"):
        assert check(definition, "3,55").errors == {
            "distance_km": "Please give at most 1 digit after the decimal point (a number from 0 to 100.5)."}
        assert check(definition, "abc").errors == {
            "distance_km": "Please write the number in digits, with a comma or a point before the decimals, "
                           "e.g. 50.2."}
        assert check(definition, "101").errors == {"distance_km": "Please give a number from 0 to 100.5."}


def test_skip_logic_reads_the_number_with_its_decimals(app):
    definition = read(decimal_form())
    with app.test_request_context("/s/x"):
        kept = check(definition, "3,5", q_transport="Xe máy").answers
        assert ("transport", None, "Xe máy") in kept, "3,5 km >= 2.5: asked"
        kept = check(definition, "2,5", q_transport="Đi bộ").answers
        assert ("transport", None, "Đi bộ") in kept, "2,5 >= 2.5 holds exactly"
        dropped = check(definition, "2,4", q_transport="Đi bộ").answers
        assert "transport" not in [a[0] for a in dropped], "under 2.5 km: not asked, dropped"


# ------------------------------------------------------------------ the page and the report (both databases)

def open_distance_survey():
    definition = read(decimal_form())
    instruments.store(db.session, definition, "xlsform/distance.xlsx")
    db.session.commit()
    target = campaign_target("p2motcua", "queue-local")
    target.campaign.starts_at = utcnow() - timedelta(minutes=1)  # the newest open campaign: the one served
    db.session.commit()
    return target


def test_the_page_takes_a_comma_and_the_report_reads_the_value_back(demo_app, client):
    target = open_distance_survey()
    url = f"/s/{target.unit.code}"
    html = client.get(url).get_data(as_text=True)
    field = html.split('id="q-distance_km"', 1)[1].split("</fieldset>", 1)[0]
    assert 'inputmode="decimal"' in field and 'type="number"' not in field
    assert "Số (từ 0 đến 100,5; tối đa 1 chữ số sau dấu phẩy thập phân)" in field
    english = client.get(url + "?lang=en").get_data(as_text=True)
    assert "Number (0–100.5), up to 1 digit after the decimal comma or point" in english
    assert "Chỉ trả lời nếu câu 8 từ “2,5” trở lên." in html

    # a bad answer: the page comes back with the message and what was typed, nothing stored
    phone = demo_app.test_client()
    page = phone.get(url).get_data(as_text=True)
    refused = phone.post(url, data={**hidden_fields(page), **BASE, "q_distance_km": "3,55"})
    assert refused.status_code == 422
    again = refused.get_data(as_text=True)
    assert "Vui lòng nhập tối đa 1 chữ số sau dấu phẩy thập phân (một số từ 0 đến 100,5)." in again
    assert 'value="3,55"' in again and 'name="q_waited" value="4" checked' in again
    assert db.session.scalars(select(Response).where(Response.campaign_id == target.campaign.id)).all() == []

    for i, typed in enumerate(("3,5", "12.5", "0,5")):
        phone = demo_app.test_client()
        phone.environ_base["HTTP_USER_AGENT"] = f"phone {i}"
        page = phone.get(url).get_data(as_text=True)
        posted = phone.post(url, data={**hidden_fields(page), **BASE, "q_distance_km": typed})
        assert posted.status_code == 303, posted.get_data(as_text=True)[:1000]
    stored = db.session.scalars(select(Answer.value_int).join(Response, Response.id == Answer.response_id)
                                .where(Response.campaign_id == target.campaign.id,
                                       Answer.question_key == "distance_km").order_by(Answer.id)).all()
    assert stored == [35, 125, 5]

    today = utcnow().date()
    request = reports.ReportRequest(unit=target.unit, instrument_key="queue-local",
                                    date_from=today - timedelta(days=1), date_to=today + timedelta(days=1))
    for source in ("raw", "rollups"):
        entry = question(reports.make_report(db.session, request, source=source), "distance_km")
        assert entry["counts"] == {"0.5": 1, "3.5": 1, "12.5": 1}, source
        assert entry["n"] == 3 and entry["mean"] == pytest.approx(5.5), source
        # the t interval of 0.5, 3.5, 12.5 (sd 6.245): 5.5 ± 4.303 × 6.245 / √3
        assert entry["mean_low"] == pytest.approx(5.5 - 4.302653 * 6.244998 / 3 ** 0.5, abs=1e-4)
        assert entry["mean_high"] == pytest.approx(5.5 + 4.302653 * 6.244998 / 3 ** 0.5, abs=1e-4)


# ------------------------------------------------------------------ paper forms and demo history

def test_a_paper_form_with_a_decimal_is_imported_and_a_bad_one_is_named(demo_app, tmp_path):
    target = open_distance_survey()
    campaign = db.session.get(Campaign, target.campaign.id)
    campaign.starts_at = datetime(2025, 1, 1, tzinfo=timezone.utc)
    db.session.commit()
    head = "unit;submitted_at;waited;staff;clean;queued;queue_minutes;distance_km;transport"
    path = tmp_path / "paper.csv"
    path.write_text(f"{head}\r\np2motcua;2026-03-05;4;4;5;0;;3,5;Xe buýt\r\np2motcua;2026-03-06;4;4;5;0;;0.5;\r\n",
                    encoding="utf-8")
    now = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)
    result = import_file(db.session, campaign, path, now=now)
    assert result.imported == 2
    stored = db.session.execute(select(Answer.question_key, Answer.value_int, Answer.value_text)
                                .where(Answer.response_id.in_(result.response_ids),
                                       Answer.question_key.in_(["distance_km", "transport"]))
                                .order_by(Answer.id)).all()
    assert [tuple(r) for r in stored] == [("distance_km", 35, None), ("transport", None, "Xe buýt"),
                                          ("distance_km", 5, None)]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{head}\r\np2motcua;2026-03-07;4;4;5;0;;4,25;\r\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        import_file(db.session, campaign, bad, now=now)
    assert any("row 2" in p and "distance_km" in p and "at most 1 digit after the decimal point" in p
               for p in caught.value.problems), caught.value.problems


#: When the demo history's answers were given (they carry their response's time since the partitions).
WHEN = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)


def test_demo_history_draws_decimal_answers_inside_the_scaled_range(app):
    definition = read(decimal_form())
    rng = random.Random(7)
    values = [a.value_int for _ in range(200)
              for a in demo_history._answers(rng, definition, 1, 0.0, WHEN) if a.question_key == "distance_km"]
    assert len(values) == 200 and all(0 <= v <= 1005 for v in values)
    assert max(values) > 100, "drawn on the scaled range (tenths of a km), not on 0–100"


def test_a_new_version_may_not_change_the_decimals_of_a_question(demo_app, tmp_path):
    """35 stored under one decimal (3,5 km) and 35 stored as a whole number (35 km) are not
    the same answer, and reports add a question up over versions: the new version is
    refused, naming the question, before anything is written."""
    from sqlalchemy import func

    from survey_app.models import InstrumentVersion

    open_distance_survey()
    count = lambda: db.session.scalar(select(func.count(InstrumentVersion.id)))  # noqa: E731
    before = count()
    two = read(decimal_form("2"))
    with pytest.raises(instruments.InstrumentError) as caught:
        instruments.store(db.session, two, "xlsform/two.xlsx")
    assert caught.value.problems == [
        "xlsform/two.xlsx: questions[7].decimals: 2, but 1 in version 1; answers are stored as value × 10^decimals, "
        "so give the question a new key to change its decimals"]
    db.session.rollback()
    form = tmp_path / "two.xlsx"
    form.write_bytes(workbook(decimal_form("2")))
    result = demo_app.test_cli_runner().invoke(args=["instruments", "import-xlsform", str(form)])
    assert result.exit_code == 1 and "questions[7].decimals" in result.output and "nothing was loaded" in result.output
    assert count() == before
    # another change to the same question (its label) is a new version as usual
    sheets = decimal_form()
    sheets["survey"][DISTANCE_ROW - 1][3] = "Distance from home to the office (km)?"
    assert instruments.store(db.session, read(sheets), "xlsform/label.xlsx").created
    db.session.commit()
    assert count() == before + 1
