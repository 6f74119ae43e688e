"""XLSForm in and out (issue 20): the five shipped instruments round-trip through a workbook
pyxform accepts; a hand-made XLSForm with groups, skip logic and two languages imports and
is answered; bad workbooks are refused naming sheet, row and column, with nothing stored."""
from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from pyxform.xls2xform import convert
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from helpers import campaign_target, hidden_fields
from survey_app.extensions import db
from survey_app.models import Answer, InstrumentVersion, Response, utcnow
from survey_app.services.collect import instruments, relevance, xlsform
from survey_app.services.collect.surveys import validate_answers

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "surveys").glob("*.toml"))
VI, EN = "label::Tiếng Việt (vi)", "label::English (en)"


def versions() -> int:
    return db.session.scalar(select(func.count(InstrumentVersion.id)))


def workbook(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEAD = ["type", "name", VI, EN, "hint::Tiếng Việt (vi)", "hint::English (en)", "required", "relevant", "constraint"]


def local_form(changes: dict | None = None) -> dict[str, list[list]]:
    """A province's own short survey, made by hand: two groups, a five-level scale, a
    multiple choice, an integer with a range, skip logic, Vietnamese and English."""
    sheets = {
        "survey": [
            list(HEAD),
            ["begin_group", "service", "Dịch vụ", "The service", "", "", "", "", ""],
            ["select_one sat5", "waited", "Thời gian chờ", "Waiting time", "", "", "yes", "", ""],
            ["select_one sat5", "staff", "Thái độ cán bộ", "Staff attitude", "", "", "yes", "", ""],
            ["end_group", "", "", "", "", "", "", "", ""],
            ["begin_group", "place", "Nơi làm thủ tục", "The office", "", "", "", "", ""],
            ["select_one sat5", "clean", "Sạch sẽ", "Clean", "", "", "yes", "", ""],
            ["select_multiple issues", "issues", "Vấn đề gặp phải", "Problems you met", "Chọn tối đa 2",
             "Up to 2", "no", "", "count-selected(.) <= 2"],
            ["end_group", "", "", "", "", "", "", "", ""],
            ["select_one yn", "queued", "Ông/Bà có phải xếp hàng không?", "Did you have to queue?", "", "", "yes",
             "", ""],
            ["integer", "queue_minutes", "Xếp hàng bao nhiêu phút?", "How many minutes did you queue?", "", "",
             "yes", "${queued} = '1'", ". >= 0 and . <= 180"],
            ["text", "why", "Vì sao chưa hài lòng?", "Why were you not satisfied?", "", "", "no",
             "${waited} <= 2 or selected(${issues}, 'noisy')", "string-length(.) <= 300"],
        ],
        "choices": [
            ["list_name", "name", VI, EN, "hl_satisfied"],
            ["sat5", 1, "Rất không hài lòng", "Very dissatisfied", ""],
            ["sat5", 2, "Không hài lòng", "Dissatisfied", ""],
            ["sat5", 3, "Bình thường", "Neutral", ""],
            ["sat5", 4, "Hài lòng", "Satisfied", "yes"],
            ["sat5", 5, "Rất hài lòng", "Very satisfied", "yes"],
            ["issues", "noisy", "Ồn ào", "Noisy", ""],
            ["issues", "crowded", "Đông người", "Crowded", ""],
            ["issues", "no_seat", "Không có chỗ ngồi", "No seats", ""],
            ["yn", 1, "Có", "Yes", ""],
            ["yn", 0, "Không", "No", ""],
        ],
        "settings": [
            ["form_id", "hl_kind", "hl_title::Tiếng Việt (vi)", "hl_title::English (en)", "hl_method"],
            ["queue-local", "one_stop", "Khảo sát nhanh về xếp hàng", "Quick survey on queues", "satisfied_share"],
        ],
    }
    for (sheet, row, column), value in (changes or {}).items():
        sheets[sheet][row - 1][column] = value
    return sheets


def problems_of(data: bytes) -> list[xlsform.Problem]:
    with pytest.raises(xlsform.XLSFormError) as caught:
        xlsform.read_workbook(data, "x.xlsx")
    return caught.value.problems


# ------------------------------------------------------------------ round trip

@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_instrument_round_trips_through_an_xlsform_pyxform_accepts(app, path):
    definition = instruments.parse_file(path)
    data = xlsform.write_workbook(definition)
    result = convert(data, warnings=[], file_type=".xlsx", form_name="data")
    assert "<h:html" in result.xform and "Vietnamese (vi)" in result.xform and "English (en)" in result.xform
    back = xlsform.read_workbook(data, path.name)
    assert back == definition
    assert instruments.content_hash(back) == instruments.content_hash(definition)
    toml = xlsform.to_toml(back)
    assert instruments.parse_bytes(toml.encode(), path.name) == definition


def test_the_hand_made_form_imports_with_its_groups_skip_logic_and_languages(app):
    definition = xlsform.read_workbook(workbook(local_form()), "queue.xlsx")
    assert (definition["key"], definition["kind"]) == ("queue-local", "one_stop")
    assert definition["title"] == {"vi": "Khảo sát nhanh về xếp hàng", "en": "Quick survey on queues"}
    assert [(f["key"], f["vi"], f["en"]) for f in definition["factors"]] == [
        ("service", "Dịch vụ", "The service"), ("place", "Nơi làm thủ tục", "The office")]
    by_key = {q["key"]: q for q in definition["questions"]}
    assert [q["key"] for q in definition["questions"]] == ["waited", "staff", "clean", "issues", "queued",
                                                           "queue_minutes", "why"]
    assert [(k, by_key[k]["type"], by_key[k]["factor"]) for k in by_key] == [
        ("waited", "scale", "service"), ("staff", "scale", "service"), ("clean", "scale", "place"),
        ("issues", "multi", None), ("queued", "yesno", None), ("queue_minutes", "number", None), ("why", "text", None)]
    assert definition["scales"]["sat5"]["satisfied"] == [4, 5]
    assert [lv["value"] for lv in definition["scales"]["sat5"]["levels"]] == [1, 2, 3, 4, 5]
    assert by_key["issues"]["max_choices"] == 2 and by_key["issues"]["required"] is False
    assert by_key["issues"]["help"] == {"vi": "Chọn tối đa 2", "en": "Up to 2"}
    assert (by_key["queue_minutes"]["min"], by_key["queue_minutes"]["max"]) == (0, 180)
    assert by_key["queue_minutes"]["relevant"] == "${queued} = '1'"
    assert by_key["why"]["max_length"] == 300
    assert "relevant" not in by_key["waited"], "no condition, no field: shipped snapshots keep their hash"
    # and it writes back to the same instrument
    assert xlsform.read_workbook(xlsform.write_workbook(definition)) == definition


# ------------------------------------------------------------------ bad workbooks

def where(problem: xlsform.Problem) -> tuple:
    return (problem.sheet, problem.row, problem.column)


def test_a_missing_sheet_is_named(app):
    sheets = local_form()
    del sheets["settings"]
    problems = problems_of(workbook(sheets))
    assert [where(p) for p in problems] == [("settings", None, None)]
    assert "settings" in problems[0].message
    sheets = local_form()
    del sheets["survey"]
    problems = problems_of(workbook(sheets))
    assert problems[0].sheet == "survey"


@pytest.mark.parametrize("bad_type, by", [("geopoint", "ours"), ("spaceship", "pyxform")])
def test_an_unknown_type_is_named_with_its_cell(app, bad_type, by):
    problems = problems_of(workbook(local_form({("survey", 3, 0): bad_type})))
    assert [where(p) for p in problems] == [("survey", 3, "type")], problems
    assert bad_type in problems[0].message
    assert ("pyxform" in problems[0].message) == (by == "pyxform")


@pytest.mark.parametrize("condition, expected", [
    ("${queued} = = '1'", "cannot be read"),
    ("${why} = 'x'", "is not a question asked before this one"),
    ("${queued} = 'maybe'", "'maybe' is not an answer of ${queued}"),
    ("${issues} = 'noisy'", "use selected"),
])
def test_a_bad_relevant_is_named_with_its_cell(app, condition, expected):
    problems = problems_of(workbook(local_form({("survey", 11, 7): condition})))
    assert [where(p) for p in problems] == [("survey", 11, "relevant")], problems
    assert expected in problems[0].message


def test_a_label_missing_a_language_is_named(app):
    problems = problems_of(workbook(local_form({("survey", 4, 3): ""})))
    assert [where(p) for p in problems] == [("survey", 4, EN)]
    assert "English (en)" in problems[0].message
    sheets = local_form()
    sheets["choices"][2][2] = None  # a level without its Vietnamese label
    assert [where(p) for p in problems_of(workbook(sheets))] == [("choices", 3, VI)]


def test_a_plain_label_column_or_another_language_is_refused(app):
    sheets = local_form()
    sheets["survey"][0][3] = "label::Français (fr)"
    problems = problems_of(workbook(sheets))
    assert ("survey", 1, "label::Français (fr)") in [where(p) for p in problems]


def test_a_duplicate_name_is_named(app):
    problems = problems_of(workbook(local_form({("survey", 4, 1): "waited"})))
    assert [where(p) for p in problems] == [("survey", 4, "name")], problems
    sheets = local_form()
    sheets["choices"][7][1] = "noisy"
    problems = problems_of(workbook(sheets))
    assert problems[0].sheet == "choices" and problems[0].row in (None, 8), problems


def test_an_unsupported_constraint_or_column_is_named(app):
    problems = problems_of(workbook(local_form({("survey", 11, 8): ". > 3"})))
    assert [where(p) for p in problems] == [("survey", 11, "constraint")]
    sheets = local_form()
    sheets["survey"][0].append("calculation")
    sheets["survey"][3].append("1 + 1")
    assert [where(p) for p in problems_of(workbook(sheets))] == [("survey", 4, "calculation")]


@pytest.mark.parametrize("marker, prolog, expected", [
    (b"&xxe;", b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "khai báo thực thể XML"),
    (b"a&#0;b", b"", "XML bị hỏng"),
])
def test_a_doctored_workbook_is_refused(app, marker, prolog, expected):
    clean = workbook(local_form({("survey", 3, 2): "MARKER"}))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(clean)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if b"MARKER" in data:
                data = prolog + data.replace(b"MARKER", marker)
            dst.writestr(item, data)
    problems = problems_of(out.getvalue())
    assert len(problems) == 1 and expected in problems[0].message, problems


def test_a_zip_bomb_and_a_huge_file_are_refused_before_parsing(app):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"0" * (xlsform.MAX_UNPACKED_BYTES + 1))
    assert "MB" in problems_of(out.getvalue())[0].message
    assert "KB" in problems_of(b"PK\x03\x04" + b"0" * xlsform.MAX_WORKBOOK_BYTES)[0].message


# ------------------------------------------------------------------ skip logic

def test_relevance_parses_and_evaluates_like_xpath():
    node = relevance.parse("(${a} = 'x' or ${b} >= 4) and selected(${m}, 'k')")
    assert relevance.references(node) == ["a", "b", "m"]
    assert relevance.evaluate(node, {"a": ["x"], "m": ["j", "k"]})
    assert not relevance.evaluate(node, {"a": ["y"], "b": ["3"], "m": ["k"]})
    assert relevance.evaluate(node, {"b": ["4"], "m": ["k"]})
    assert relevance.evaluate(relevance.parse("${a} != 'x'"), {}), "an empty answer is not 'x'"
    assert not relevance.evaluate(relevance.parse("${b} < 3"), {}), "an empty answer is no number"
    for bad in ("", "${a} =", "${a} = 'x' and", "__import__('os')", "${a} == 'x'", "(${a} = 'x'"):
        with pytest.raises(relevance.RelevanceError):
            relevance.parse(bad)


def answers_for(definition, form: dict) -> list:
    result = validate_answers(definition, MultiDict({f"q_{k}": v for k, v in form.items()}))
    assert result.ok, (result.errors, result.form_errors)
    return result.answers


def test_the_server_drops_answers_to_questions_not_asked(app):
    definition = xlsform.read_workbook(workbook(local_form()), "queue.xlsx")
    with app.test_request_context():
        server_drops_answers_to_questions_not_asked(definition)


def server_drops_answers_to_questions_not_asked(definition):
    base = {"waited": "5", "staff": "4", "clean": "4"}
    # no queue: the minutes (sent by a page without script) are dropped, and not required
    got = answers_for(definition, {**base, "queued": "0", "queue_minutes": "30", "why": "ồn"})
    assert [a[0] for a in got] == ["waited", "staff", "clean", "queued"]
    # a queue: the minutes are required, then kept
    result = validate_answers(definition, MultiDict({**{f"q_{k}": v for k, v in base.items()}, "q_queued": "1"}))
    assert result.errors == {"queue_minutes": "Vui lòng trả lời câu hỏi này."}
    got = answers_for(definition, {**base, "queued": "1", "queue_minutes": "30"})
    assert ("queue_minutes", 30, None) in got
    # a value the question could not take is ignored too when it was not asked
    got = answers_for(definition, {**base, "queued": "0", "queue_minutes": "9999"})
    assert "queue_minutes" not in [a[0] for a in got]
    # "why" is asked when waiting was rated low, or "noisy" was chosen
    got = answers_for(definition, {**base, "waited": "2", "queued": "0", "why": "Chờ lâu"})
    assert ("why", None, "Chờ lâu") in got
    got = answers_for(definition, {**base, "issues": ["crowded", "noisy"], "queued": "0", "why": "Ồn"})
    assert ("why", None, "Ồn") in got


def test_a_posted_form_stores_no_answer_to_a_skipped_question(demo_app, client):
    definition = xlsform.read_workbook(workbook(local_form()), "queue.xlsx")
    instruments.store(db.session, definition, "xlsform/queue.xlsx")
    db.session.commit()
    target = campaign_target("p2motcua", "queue-local")
    target.campaign.starts_at = utcnow() - timedelta(minutes=1)  # the newest open campaign there: the one served
    db.session.commit()
    url = f"/s/{target.unit.code}"
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert "Khảo sát nhanh về xếp hàng" in html
    assert 'data-relevant="' in html and "relevant.js" in html
    assert "Chỉ trả lời nếu câu 5 là “Có”." in html  # the note for a page without script
    fields = hidden_fields(html)
    posted = client.post(url, data={**fields, "q_waited": "4", "q_staff": "5", "q_clean": "4", "q_queued": "0",
                                    "q_queue_minutes": "25", "q_why": "không áp dụng"})
    assert posted.status_code == 303, posted.get_data(as_text=True)[:2000]
    response = db.session.scalars(select(Response).where(Response.campaign_id == target.campaign.id)).one()
    keys = db.session.scalars(select(Answer.question_key).where(Answer.response_id == response.id)
                              .order_by(Answer.id)).all()
    assert keys == ["waited", "staff", "clean", "queued"]


def test_a_number_question_is_asked_without_a_percent_sign_and_reported_as_a_mean(demo_app, client):
    from survey_app.services.reports import build as reports

    definition = xlsform.read_workbook(workbook(local_form()), "queue.xlsx")
    instruments.store(db.session, definition, "xlsform/queue.xlsx")
    db.session.commit()
    target = campaign_target("p2motcua", "queue-local")
    target.campaign.starts_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    url = f"/s/{target.unit.code}"
    for minutes in ("20", "40", "60"):
        phone = demo_app.test_client()
        phone.environ_base["HTTP_USER_AGENT"] = f"phone queued {minutes}"
        html = phone.get(url).get_data(as_text=True)
        field = html.split('id="q-queue_minutes"', 1)[1].split("</fieldset>", 1)[0]
        assert "Số (từ 0 đến 180)" in field and "%" not in field
        posted = phone.post(url, data={**hidden_fields(html), "q_waited": "4", "q_staff": "5", "q_clean": "4",
                                       "q_queued": "1", "q_queue_minutes": minutes})
        assert posted.status_code == 303
    today = utcnow().date()
    report = reports.make_report(db.session, reports.ReportRequest(
        unit=target.unit, instrument_key="queue-local", date_from=today - timedelta(days=1),
        date_to=today + timedelta(days=1)))
    entry = next(q for q in report["questions"] if q["key"] == "queue_minutes")
    assert entry["n"] == 3 and entry["mean"] == 40
    assert entry["counts"] == {"20": 1, "40": 1, "60": 1}


def test_shipped_pages_carry_no_script(client):
    html = client.get("/s/p2motcua").get_data(as_text=True)
    assert "relevant.js" not in html and "data-relevant" not in html


# ------------------------------------------------------------------ the CLI and the admin upload

def test_the_cli_imports_and_exports(demo_app, tmp_path):
    runner = demo_app.test_cli_runner()
    out = tmp_path / "sipas.xlsx"
    result = runner.invoke(args=["instruments", "export-xlsform", "sipas", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "sipas: v1 written to" in result.output
    before = versions()
    result = runner.invoke(args=["instruments", "import-xlsform", str(out)])
    assert result.exit_code == 0 and "sipas: v1 (unchanged)" in result.output, result.output
    assert versions() == before
    form = tmp_path / "queue.xlsx"
    form.write_bytes(workbook(local_form()))
    toml = tmp_path / "queue.toml"
    result = runner.invoke(args=["instruments", "import-xlsform", str(form), "--toml", str(toml)])
    assert result.exit_code == 0 and "queue-local: v1 (new version)" in result.output, result.output
    assert versions() == before + 1
    assert instruments.parse_file(toml) == instruments.latest_version(db.session, "queue-local").snapshot
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook(local_form({("survey", 4, 3): ""})))
    result = runner.invoke(args=["instruments", "import-xlsform", str(bad)])
    assert result.exit_code == 1
    assert "bad.xlsx: trang “survey”, dòng 4, cột “label::English (en)”" in result.output
    assert "nothing was loaded" in result.output and versions() == before + 1
    result = runner.invoke(args=["instruments", "export-xlsform", "nope"])
    assert result.exit_code == 1 and "no such instrument" in result.output


def test_an_integer_is_a_plain_number_and_hl_type_percent_keeps_the_percent_sign(app):
    """An XLSForm ``integer`` (minutes queued) is a ``number``, answered as a whole number in
    its range and shown without "%"; ``hl_type = percent`` gives a ``percent`` question."""
    plain = xlsform.read_workbook(workbook(local_form()), "queue.xlsx")
    minutes = next(q for q in plain["questions"] if q["key"] == "queue_minutes")
    assert (minutes["type"], minutes["min"], minutes["max"]) == ("number", 0, 180)

    sheets = local_form()
    sheets["survey"][0].append("hl_type")
    for row in sheets["survey"][1:]:
        row.append("percent" if row[1] == "queue_minutes" else "")
    as_percent = xlsform.read_workbook(workbook(sheets), "queue.xlsx")
    assert next(q for q in as_percent["questions"] if q["key"] == "queue_minutes")["type"] == "percent"

    base = {"q_waited": "4", "q_staff": "4", "q_clean": "4", "q_queued": "1"}
    with app.test_request_context():
        ok = validate_answers(plain, MultiDict({**base, "q_queue_minutes": "180"}))
        assert ok.ok and ("queue_minutes", 180, None) in ok.answers
        for bad in ("181", "-1", "2.5", "mười"):
            refused = validate_answers(plain, MultiDict({**base, "q_queue_minutes": bad}))
            assert not refused.ok and "queue_minutes" in refused.errors, bad
    assert xlsform.read_workbook(xlsform.write_workbook(plain), "back.xlsx") == plain
