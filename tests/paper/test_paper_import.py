"""Paper forms typed into CSV or Excel: checked like the web form, all or nothing, idempotent."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Answer, Campaign, Response, Unit
from survey_app.services.collect import instruments
from survey_app.services.data.paper_import import ImportFailed, import_file, read_csv, read_xlsx
from survey_app.services.reports import build as reports

TOWN = "/vn/qt/"
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)  # 10:00 on 20 Nov 2026 in Vietnam
START = datetime(2025, 1, 1, tzinfo=timezone.utc)

# A small instrument with every kind of question a paper form can carry.
PAPER_TOML = """
schema = 1
key = "paper-test"
kind = "one_stop"
title = { vi = "Phiếu giấy", en = "Paper form" }

[scales.likert5]
levels = [
  { value = 1, vi = "Rất kém", en = "Very poor" },
  { value = 2, vi = "Kém", en = "Poor" },
  { value = 3, vi = "Bình thường", en = "Fair" },
  { value = 4, vi = "Tốt", en = "Good" },
  { value = 5, vi = "Rất tốt", en = "Very good" },
]
satisfied = [4, 5]

[[questions]]
key = "overall"
type = "scale"
scale = "likert5"
text = { vi = "Hài lòng chung", en = "Overall" }

[[questions]]
key = "channel"
type = "single"
required = false
text = { vi = "Biết qua đâu", en = "Heard from" }
options = [{ key = "tv", vi = "Ti vi", en = "TV" }, { key = "web", vi = "Trang web", en = "Web" }]

[[questions]]
key = "needs"
type = "multi"
required = false
max_choices = 2
text = { vi = "Cần gì", en = "Needs" }
options = [
  { key = "a", vi = "A", en = "A" },
  { key = "b", vi = "B", en = "B" },
  { key = "c", vi = "C", en = "C" },
]

[[questions]]
key = "again"
type = "yesno"
required = false
text = { vi = "Quay lại?", en = "Come back?" }

[[questions]]
key = "comment"
type = "longtext"
required = false
text = { vi = "Góp ý", en = "Comment" }

[scoring]
method = "satisfied_share"
"""


# ------------------------------------------------------------------ helpers

@pytest.fixture
def sipas(demo_app):
    """The demo SIPAS campaign of p2motcua, opened on 1 Jan 2025 so fixed 2026 dates fit."""
    unit = db.session.scalar(select(Unit).where(Unit.code == "p2motcua"))
    campaign = db.session.scalar(select(Campaign).where(Campaign.units.contains(unit)))
    campaign.starts_at = START
    db.session.commit()
    return campaign


@pytest.fixture
def paper(demo_app, tmp_path):
    """A campaign of the paper-test instrument at both one-stop counters."""
    folder = tmp_path / "instruments"
    folder.mkdir()
    (folder / "paper-test.toml").write_text(PAPER_TOML, encoding="utf-8")
    instruments.load_directory(db.session, folder)
    units = db.session.scalars(select(Unit).where(Unit.code.in_(["p2motcua", "p1motcua"]))).all()
    campaign = Campaign(name="Phiếu giấy", instrument_version=instruments.latest_version(db.session, "paper-test"),
                        access_mode="open", status="open", starts_at=START, units=list(units))
    db.session.add(campaign)
    db.session.commit()
    return campaign


def sipas_keys(campaign: Campaign) -> list[str]:
    return [q["key"] for q in campaign.instrument_version.snapshot["questions"] if q["type"] == "scale"]


def sipas_row(campaign: Campaign, unit="p2motcua", when="2026-03-05", level="5", **over) -> dict[str, str]:
    row = {"unit": unit, "submitted_at": when, **{k: level for k in sipas_keys(campaign)}}
    row.update(over)
    return row


def write_csv(path: Path, rows: list[dict[str, str]], delimiter=",", bom=False, columns=None) -> Path:
    columns = columns or list(rows[0])
    lines = [delimiter.join(columns)] + [delimiter.join(r.get(c, "") for c in columns) for r in rows]
    path.write_text(("\ufeff" if bom else "") + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def stored(campaign: Campaign) -> int:
    return db.session.scalar(select(func.count()).select_from(Response).where(Response.campaign_id == campaign.id))


def problems_of(campaign: Campaign, path: Path) -> list[str]:
    with pytest.raises(ImportFailed) as caught:
        import_file(db.session, campaign, path, now=NOW)
    assert stored(campaign) == 0  # all or nothing
    return caught.value.problems


# ------------------------------------------------------------------ reading files

def test_csv_with_bom_and_semicolons(sipas, tmp_path):
    rows = [sipas_row(sipas, when="05/03/2026", level="4"), sipas_row(sipas, unit="P2MOTCUA ", when="2026-03-06 14:30")]
    path = write_csv(tmp_path / "slips.csv", rows, delimiter=";", bom=True)
    sheet = read_csv(path)
    assert sheet.columns[:3] == ("unit", "submitted_at", "tc1")  # the BOM is not part of the first name
    result = import_file(db.session, sipas, path, now=NOW)
    assert (result.rows_read, result.imported, result.already_present, result.dry_run) == (2, 2, 0, False)
    responses = db.session.scalars(select(Response).order_by(Response.id)).all()
    # Vietnam time (UTC+7) in the file, UTC in the database; a day alone is noon.
    assert [r.submitted_at for r in responses] == [datetime(2026, 3, 5, 5, 0, tzinfo=timezone.utc),
                                                   datetime(2026, 3, 6, 7, 30, tzinfo=timezone.utc)]
    assert {(r.channel, r.language, r.trust) for r in responses} == {("paper", "vi", "ok")}
    assert all(len(r.idempotency_key) == 64 for r in responses)
    answers = db.session.scalars(select(Answer).where(Answer.response_id == responses[0].id)).all()
    assert len(answers) == 19 and {a.value_int for a in answers} == {4}


def test_comma_file_whose_answers_contain_semicolons(paper, tmp_path):
    path = tmp_path / "multi.csv"
    path.write_text("unit,submitted_at,overall,needs\np2motcua,2026-04-01,5,a;c\n", encoding="utf-8")
    assert read_csv(path).rows[0]["needs"] == "a;c"
    import_file(db.session, paper, path, now=NOW)
    assert db.session.scalars(select(Answer.value_text).where(Answer.question_key == "needs")
                              .order_by(Answer.value_text)).all() == ["a", "c"]


def test_xlsx_with_real_date_cells(sipas, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    keys = sipas_keys(sipas)
    sheet.append(["unit", "submitted_at", *keys, "comment"])
    sheet.append(["p2motcua", date(2026, 2, 10), *[5] * len(keys), "Cán bộ nhiệt tình"])
    sheet.append([])  # a blank row is skipped, and row numbers stay as Excel shows them
    sheet.append(["p2motcua", datetime(2026, 2, 11, 8, 15), *[3.0] * len(keys), None])
    sheet.append(["p2motcua", datetime(2026, 2, 12, 0, 0), *[4] * (len(keys) - 1), 9, None])
    sheet["B5"].number_format = "dd/mm/yyyy"
    path = tmp_path / "slips.xlsx"
    workbook.save(path)
    workbook.close()
    assert read_xlsx(path).rows[0]["submitted_at"] == "2026-02-10"
    assert read_xlsx(path).rows[2]["submitted_at"] == "2026-02-11 08:15:00"
    problems = problems_of(sipas, path)
    assert problems == [f"slips.xlsx: row 5, column {keys[-1]}: Please choose one of the answers shown."]
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    sheet.cell(row=5, column=2 + len(keys)).value = 4
    workbook.save(path)
    workbook.close()
    result = import_file(db.session, sipas, path, now=NOW)
    assert (result.rows_read, result.imported, result.blank_rows) == (3, 3, 1)
    times = db.session.scalars(select(Response.submitted_at).order_by(Response.id)).all()
    assert times == [datetime(2026, 2, 10, 5, 0, tzinfo=timezone.utc),   # date cell: noon local
                     datetime(2026, 2, 11, 1, 15, tzinfo=timezone.utc),  # 08:15 local
                     datetime(2026, 2, 12, 5, 0, tzinfo=timezone.utc)]   # date-formatted datetime: noon
    comment = db.session.scalar(select(Answer.value_text).where(Answer.question_key == "comment"))
    assert comment == "Cán bộ nhiệt tình"


# ------------------------------------------------------------------ every error, with its row and column

@pytest.mark.parametrize("change, expected", [
    ({"unit": "nowhere"}, "row 3, column unit: no service point has the code 'nowhere'"),
    ({"unit": "p1yte"}, "row 3, column unit: service point 'p1yte' is not part of campaign"),
    ({"unit": ""}, "row 3, column unit: the service point code is missing"),
    ({"submitted_at": "31/02/2026"}, "row 3, column submitted_at: '31/02/2026' is not a date like 2026-03-05"),
    ({"submitted_at": "March 5"}, "row 3, column submitted_at: 'March 5' is not a date"),
    ({"submitted_at": ""}, "row 3, column submitted_at: the date is missing"),
    ({"submitted_at": "2026-11-21"}, "row 3, column submitted_at: 2026-11-21 is in the future"),
    ({"submitted_at": "2026-11-20 10:30"}, "row 3, column submitted_at: 2026-11-20 10:30 is in the future"),
    ({"submitted_at": "2024-12-31"}, "row 3, column submitted_at: 2024-12-31 is before campaign"),
    ({"tc3": "6"}, "row 3, column tc3: Please choose one of the answers shown."),
    ({"tc3": "4.5"}, "row 3, column tc3: Please choose one of the answers shown."),
    ({"tc3": ""}, "row 3, column tc3: Please answer this question."),
])
def test_each_bad_cell_is_named_and_nothing_is_imported(sipas, tmp_path, change, expected):
    rows = [sipas_row(sipas), sipas_row(sipas, **change), sipas_row(sipas, level="3")]
    problems = problems_of(sipas, write_csv(tmp_path / "slips.csv", rows))
    assert len(problems) == 1
    assert problems[0].startswith("slips.csv: " + expected)


def test_today_is_accepted_and_never_stored_in_the_future(sipas, tmp_path):
    path = write_csv(tmp_path / "today.csv", [sipas_row(sipas, when="20/11/2026")])
    import_file(db.session, sipas, path, now=NOW)  # noon local is still ahead at 10:00 local
    assert db.session.scalar(select(Response.submitted_at)) == NOW


def test_option_and_choice_errors(paper, tmp_path):
    path = tmp_path / "slips.csv"
    path.write_text("unit,submitted_at,overall,channel,needs,again\n"
                    "p2motcua,2026-04-01,5,radio,a,1\n"
                    "p2motcua,2026-04-01,5,tv,a;x,0\n"
                    "p2motcua,2026-04-01,5,tv,a;b;c,yes\n", encoding="utf-8")
    assert problems_of(paper, path) == [
        "slips.csv: row 2, column channel: Please choose one of the answers shown.",
        "slips.csv: row 3, column needs: Please choose among the answers shown.",
        "slips.csv: row 4, column needs: Please choose at most 2 answers.",
        "slips.csv: row 4, column again: Please choose yes or no.",
    ]


def test_header_errors(paper, tmp_path):
    path = tmp_path / "slips.csv"
    path.write_text("unit,submitted_at,overall,colour\np2motcua,2026-04-01,5,red\n", encoding="utf-8")
    assert problems_of(paper, path) == [
        f"slips.csv: row 1, column colour: unknown column; the survey of campaign {paper.id} (paper-test) "
        f"has no question 'colour'"]
    path.write_text("unit,needs\np2motcua,a\n", encoding="utf-8")
    assert problems_of(paper, path) == [
        "slips.csv: row 1: the column 'submitted_at' is missing (the columns are unit, submitted_at, then the "
        "question keys)",
        "slips.csv: row 1: there is no column for the required question 'overall'"]
    path.write_text("unit,submitted_at,overall,overall\n", encoding="utf-8")
    assert problems_of(paper, path) == ["slips.csv: row 1, column overall: the column appears more than once"]
    path.write_text("unit,submitted_at,overall\np2motcua,2026-04-01,5,extra\n", encoding="utf-8")
    assert problems_of(paper, path) == [
        "slips.csv: row 2, column 4: there is a value in a column without a name in row 1"]


@pytest.mark.parametrize("content, expected", [
    ("", "slips.csv: the file is empty"),
    ("\ufeff\r\n", "slips.csv: the file is empty"),
    (";;\np2motcua;2026-04-01;5\n", "slips.csv: row 1: there is no header row"),
    ("unit;submitted_at;overall\n", "slips.csv: there are no rows below the header; nothing to import"),
    ("unit;submitted_at;overall\n;;\n", "slips.csv: there are no rows below the header; nothing to import"),
])
def test_empty_file_or_no_header(paper, tmp_path, content, expected):
    path = tmp_path / "slips.csv"
    path.write_text(content, encoding="utf-8")
    problems = problems_of(paper, path)
    assert len(problems) == 1 and problems[0].startswith(expected)


def test_not_utf8_and_not_a_workbook(paper, tmp_path):
    latin = tmp_path / "slips.csv"
    latin.write_bytes(b"unit,submitted_at,overall,comment\np2motcua,2026-04-01,5,T\xf4t\n")  # Latin-1, not UTF-8
    assert "is not UTF-8 text" in problems_of(paper, latin)[0]
    fake = tmp_path / "slips.xlsx"
    fake.write_text("unit,submitted_at\n", encoding="utf-8")
    assert problems_of(paper, fake)[0].startswith("slips.xlsx: not a readable Excel .xlsx workbook")
    odd = tmp_path / "slips.txt"
    odd.write_text("unit\n", encoding="utf-8")
    assert problems_of(paper, odd) == ["slips.txt: give a .csv or .xlsx file"]


def test_all_or_nothing_reports_every_bad_row(sipas, tmp_path):
    rows = [sipas_row(sipas) for _ in range(20)]
    rows[6]["tc3"] = "7"
    rows[11]["unit"] = "p1motcua"
    rows[11]["submitted_at"] = "2026-13-01"
    problems = problems_of(sipas, write_csv(tmp_path / "slips.csv", rows))
    assert problems[0] == "slips.csv: row 8, column tc3: Please choose one of the answers shown."
    assert problems[1].startswith("slips.csv: row 13, column unit: service point 'p1motcua' is not part of")
    assert problems[2].startswith("slips.csv: row 13, column submitted_at: '2026-13-01' is not a date")
    assert len(problems) == 3


def test_closed_campaign_accepts_nothing(sipas, tmp_path):
    sipas.status = "closed"
    db.session.commit()
    problems = problems_of(sipas, write_csv(tmp_path / "slips.csv", [sipas_row(sipas)]))
    assert problems == [f"slips.csv: campaign {sipas.id} is closed and accepts no responses"]


# ------------------------------------------------------------------ idempotency

def test_reimport_imports_nothing_and_an_extended_file_only_the_new_rows(sipas, tmp_path):
    first = [sipas_row(sipas, when=f"2026-03-{d:02d}") for d in range(1, 6)]
    path = write_csv(tmp_path / "slips.csv", first)
    assert import_file(db.session, sipas, path, now=NOW).imported == 5
    again = import_file(db.session, sipas, path, now=NOW)
    assert (again.rows_read, again.imported, again.already_present) == (5, 0, 5)
    # the same forms typed another way (Vietnamese dates, semicolons, padded cells) are the same forms
    retyped = [dict(r, submitted_at=f"{int(r['submitted_at'][-2:])}/3/2026", tc1=" 5 ") for r in first]
    assert import_file(db.session, sipas, write_csv(tmp_path / "retyped.csv", retyped, ";"), now=NOW).imported == 0
    extended = first + [sipas_row(sipas, when="2026-03-06"), sipas_row(sipas, when="2026-03-01")]
    result = import_file(db.session, sipas, write_csv(path, extended), now=NOW)
    assert (result.rows_read, result.imported, result.already_present) == (7, 2, 5)
    assert stored(sipas) == 7


def test_identical_forms_are_separate_responses(sipas, tmp_path):
    path = write_csv(tmp_path / "slips.csv", [sipas_row(sipas)] * 3)
    result = import_file(db.session, sipas, path, now=NOW)
    assert result.imported == 3 and len(set(result.response_ids)) == 3
    keys = db.session.scalars(select(Response.idempotency_key)).all()
    assert len(set(keys)) == 3
    assert import_file(db.session, sipas, path, now=NOW).imported == 0
    assert import_file(db.session, sipas, write_csv(path, [sipas_row(sipas)] * 4), now=NOW).imported == 1
    assert stored(sipas) == 4


def test_dry_run_writes_nothing(sipas, tmp_path):
    path = write_csv(tmp_path / "slips.csv", [sipas_row(sipas), sipas_row(sipas, level="2")])
    result = import_file(db.session, sipas, path, dry_run=True, now=NOW)
    assert (result.rows_read, result.imported, result.already_present, result.dry_run) == (2, 2, 0, True)
    assert stored(sipas) == 0 and result.response_ids == ()
    import_file(db.session, sipas, path, now=NOW)
    assert import_file(db.session, sipas, path, dry_run=True, now=NOW).already_present == 2


# ------------------------------------------------------------------ what the import stores, and reports

def test_every_question_type(paper, tmp_path):
    path = tmp_path / "slips.csv"
    path.write_text("Unit,Submitted_at,Overall,channel,needs,again,comment\n"
                    "p2motcua,2026-04-01 09:00,4,web,b;a,1,  Tốt  \n"
                    "p1motcua,2026-04-02,2,,,0,\n", encoding="utf-8")
    import_file(db.session, paper, path, now=NOW)
    rows = db.session.execute(select(Answer.response_id, Answer.question_key, Answer.value_int, Answer.value_text)
                              .order_by(Answer.response_id, Answer.id)).all()
    first, second = sorted({r.response_id for r in rows})
    assert [tuple(r[1:]) for r in rows if r.response_id == first] == [
        ("overall", 4, None), ("channel", None, "web"), ("needs", None, "a"), ("needs", None, "b"),
        ("again", 1, None), ("comment", None, "Tốt")]
    assert [tuple(r[1:]) for r in rows if r.response_id == second] == [("overall", 2, None), ("again", 0, None)]


def test_imported_forms_appear_in_reports(sipas, tmp_path):
    rows = ([sipas_row(sipas, when="2026-03-05", level="5")] * 3 + [sipas_row(sipas, when="2026-04-05", level="2")]
            + [sipas_row(sipas, when="2026-04-06", level="4", tc1="1")])
    import_file(db.session, sipas, write_csv(tmp_path / "slips.csv", rows), now=NOW)
    req = reports.ReportRequest(unit=reports.find_unit(db.session, TOWN), instrument_key="sipas",
                                date_from=date(2026, 1, 1), date_to=date(2026, 11, 30), channels=("paper",))
    report = reports.make_report(db.session, req)  # catches the rollups up first
    assert report["responses"] == 5
    tc1 = next(q for q in report["questions"] if q["key"] == "tc1")
    assert tc1["counts"] == {"1": 1, "2": 1, "3": 0, "4": 0, "5": 3}
    tc2 = next(q for q in report["questions"] if q["key"] == "tc2")
    assert tc2["counts"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 3}
    # every month of the window keeps its place; the forms fill March and April
    assert [t["period"] for t in report["trend"]] == [f"2026-{m:02d}" for m in range(1, 12)]
    assert [(t["period"], t["n"]) for t in report["trend"] if t["n"]] == [("2026-03", 3), ("2026-04", 2)]
    assert report == reports.make_report(db.session, req, source="raw")
    qr_only = reports.make_report(db.session, replace(req, channels=("qr",)))
    assert qr_only["responses"] == 0


# ------------------------------------------------------------------ the command

def test_cli_import_dry_run_and_errors(demo_app, sipas, tmp_path):
    runner = demo_app.test_cli_runner()
    path = write_csv(tmp_path / "slips.csv", [sipas_row(sipas, when="2026-03-05"), sipas_row(sipas, when="2026-03-05")])
    args = ["responses", "import", "--campaign", str(sipas.id), str(path)]
    dry = runner.invoke(args=args + ["--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.strip() == ("slips.csv: 2 row(s) read; would import 2, 0 already present (skipped); "
                                  "dry run: no changes written")
    assert stored(sipas) == 0
    done = runner.invoke(args=args)
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "slips.csv: 2 row(s) read; imported 2, 0 already present (skipped)"
    again = runner.invoke(args=args)
    assert again.output.strip() == "slips.csv: 2 row(s) read; imported 0, 2 already present (skipped)"

    bad = write_csv(tmp_path / "bad.csv", [sipas_row(sipas, tc3="9") for _ in range(60)])
    failed = runner.invoke(args=["responses", "import", "--campaign", str(sipas.id), str(bad)])
    assert failed.exit_code == 1
    lines = failed.stderr.strip().splitlines()
    assert lines[0] == "bad.csv: row 2, column tc3: Please choose one of the answers shown."
    assert len(lines) == 52 and lines[50] == "… and 10 more"
    assert lines[51] == "Error: 60 problem(s) in bad.csv; nothing was imported"
    assert stored(sipas) == 2
    missing = runner.invoke(args=["responses", "import", "--campaign", "999999", str(path)])
    assert missing.exit_code == 1 and "no campaign 999999" in missing.stderr


def test_missing_required_columns_are_named_once(sipas, tmp_path):
    path = tmp_path / "slips.csv"
    path.write_text("unit;submitted_at;tc1;tc2\np2motcua;2026-04-01;5;5\n", encoding="utf-8")
    assert problems_of(sipas, path) == [
        "slips.csv: row 1: there are no columns for the required questions tc3, tc4, tt1, tt2, tt3, tt4, cc1, "
        "cc2, cc3, cc4, cc5, kq1, kq2, kq3, gy1, gy2, gy3"]


# ------------------------------------------------------------------ hostile files

@pytest.mark.parametrize("column", ["unit", "submitted_at", "tc1", "comment"])
@pytest.mark.parametrize("control", ["\x00", "\x01", "\x1b", "\x7f"])
def test_a_control_character_in_a_cell_is_named_and_nothing_is_imported(sipas, tmp_path, column, control):
    rows = [sipas_row(sipas), sipas_row(sipas, comment="Tốt")]
    rows[1][column] = "p2mot" + control + "cua" if column == "unit" else rows[1].get(column, "") + control
    rows[1].setdefault("comment", "")
    rows[0]["comment"] = ""
    problems = problems_of(sipas, write_csv(tmp_path / "slips.csv", rows, columns=list(rows[1])))
    assert problems == [f"slips.csv: row 3, column {column}: the cell contains a control character "
                        f"(U+{ord(control):04X}); delete it and import again"]


def test_a_control_character_in_the_header_is_named(sipas, tmp_path):
    rows = [sipas_row(sipas)]
    columns = list(rows[0]) + ["comm\x00ent"]
    problems = problems_of(sipas, write_csv(tmp_path / "slips.csv", rows, columns=columns))
    assert problems == [f"slips.csv: row 1, column {len(columns)}: the name contains a control character "
                        f"(U+0000); delete it and import again"]


def test_tabs_and_line_breaks_in_a_comment_are_kept(sipas, tmp_path):
    path = tmp_path / "slips.csv"
    row = sipas_row(sipas)
    header = ",".join(list(row) + ["comment"])
    path.write_text(header + "\r\n" + ",".join(row.values()) + ',"Dòng một\r\n\tdòng hai"\r\n', encoding="utf-8")
    result = import_file(db.session, sipas, path, now=NOW)
    assert result.imported == 1
    text = db.session.scalar(select(Answer.value_text).where(Answer.question_key == "comment"))
    assert "Dòng một" in text and "dòng hai" in text


def _doctored_xlsx(path: Path, replace_marker: bytes, prolog: bytes = b"") -> Path:
    """A real workbook whose sheet XML is then edited by hand, as an attacker would."""
    import io
    import zipfile

    book = openpyxl.Workbook()
    book.active.append(["unit", "submitted_at", "comment"])
    book.active.append(["p2motcua", "2026-03-05", "MARKER"])
    clean = io.BytesIO()
    book.save(clean)
    with zipfile.ZipFile(clean) as src, zipfile.ZipFile(path, "w") as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if b"MARKER" in data:
                data = prolog + data.replace(b"MARKER", replace_marker)
            out.writestr(item, data)
    return path


@pytest.mark.parametrize("marker, prolog, expected", [
    (b"a&#0;b", b"", "its XML is broken or holds a character a workbook cannot, such as NUL"),
    (b"a\x00b", b"", "its XML is broken or holds a character a workbook cannot, such as NUL"),
    (b"a&#27;b", b"", "its XML is broken or holds a character a workbook cannot, such as NUL"),
    (b"&xxe;", b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "it declares XML entities"),
    (b"&b;", b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
     "it declares XML entities"),
])
def test_a_doctored_workbook_is_refused_with_a_message(sipas, tmp_path, marker, prolog, expected):
    problems = problems_of(sipas, _doctored_xlsx(tmp_path / "slips.xlsx", marker, prolog))
    assert len(problems) == 1
    assert problems[0].startswith("slips.xlsx: not a readable Excel .xlsx workbook: " + expected), problems
