"""Instruments from and to XLSForm, the survey world's Excel format (ODK, KoboToolbox).

:func:`read_workbook` turns an uploaded workbook (bytes) into one of our instrument
definitions, through the very validator the TOML files go through
(:func:`instruments.validate`), so an imported instrument is stored exactly as a TOML one
would be. :func:`write_workbook` writes any definition as an XLSForm that ``pyxform``
accepts and that reads back to the same definition; :func:`to_toml` writes it as one of
our files. ``surveys/README.md`` ("XLSForm") says which sheets and columns mean what.

Order of the checks on an upload: its size; the shared guard for untrusted workbooks
(``services/data/workbooks.py``: defusedxml, a bounded unpacked size); ``pyxform``'s own
structural checks (no Java, so no ODK Validate); then ours. Every problem is an
:class:`XLSFormError` naming the sheet, row and column; nothing is stored unless the whole
workbook converts.
"""
from __future__ import annotations

import io
import json
import re
import unicodedata
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from flask import current_app, has_app_context, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _

from analysis.instrument import plain

from ..data import workbooks
from . import instruments

MAX_WORKBOOK_BYTES = 1024 * 1024
MAX_UNPACKED_BYTES = 16 * 1024 * 1024
MAX_ROWS = 2000

SURVEY, CHOICES, SETTINGS, GRADES = "survey", "choices", "settings", "hl_grades"
LANG_NAMES = {"vi": "Vietnamese (vi)", "en": "English (en)"}
#: XLSForm sheets we do not support (anything else that is not ours is ignored, as pyxform does).
UNSUPPORTED_SHEETS = ("external_choices", "entities", "osm")
#: Metadata rows pyxform adds by default; we record the time of a response ourselves.
IGNORED_TYPES = ("start", "end", "today")

_LANG_COLUMN = re.compile(r"^(?P<base>[a-z_]+)::(?P<name>.*?)\s*\((?P<code>[A-Za-z-]+)\)\s*$")
_RANGE = re.compile(r"^\.\s*>=\s*(-?\d+)\s+and\s+\.\s*<=\s*(-?\d+)$")
_RANGE_REVERSED = re.compile(r"^\.\s*<=\s*(-?\d+)\s+and\s+\.\s*>=\s*(-?\d+)$")
_DECIMAL_RANGE = re.compile(r"^\.\s*>=\s*(-?\d+(?:\.\d+)?)\s+and\s+\.\s*<=\s*(-?\d+(?:\.\d+)?)$")
_DECIMAL_RANGE_REVERSED = re.compile(r"^\.\s*<=\s*(-?\d+(?:\.\d+)?)\s+and\s+\.\s*>=\s*(-?\d+(?:\.\d+)?)$")
_LENGTH = re.compile(r"^string-length\(\s*\.\s*\)\s*<=\s*(\d+)$")
_COUNT = re.compile(r"^count-selected\(\s*\.\s*\)\s*<=\s*(\d+)$")
_TRUE = ("yes", "true", "true()", "1", "x")
_FALSE = ("", "no", "false", "false()", "0")

SURVEY_COLUMNS = ("type", "name", "required", "relevant", "constraint", "appearance", "hl_type", "hl_decimals")
IGNORED_SURVEY_COLUMNS = ("constraint_message", "required_message")
CHOICES_COLUMNS = ("list_name", "name", "hl_satisfied", "hl_points", "hl_display")
SETTINGS_COLUMNS = ("form_id", "form_title", "version", "default_language", "hl_kind", "hl_source", "hl_method",
                    "hl_expectation_question", "hl_return_question", "hl_return_options", "hl_return_exclude",
                    "hl_max_total", "hl_scale_to_answered", "hl_rescale_min", "hl_rescale_max", "hl_rescale_total")
GRADES_COLUMNS = ("min", "strict")


# --------------------------------------------------------------------------- errors

@dataclass(frozen=True)
class Problem:
    """One problem of a workbook: where (``sheet``, 1-based ``row`` as Excel numbers it,
    ``column`` header; any may be ``None``) and what (``message``, translated)."""

    sheet: str | None
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.sheet and self.row and self.column:
            return _("sheet “%(sheet)s”, row %(row)d, column “%(column)s”: %(message)s",
                     sheet=self.sheet, row=self.row, column=self.column, message=self.message)
        if self.sheet and self.row:
            return _("sheet “%(sheet)s”, row %(row)d: %(message)s", sheet=self.sheet, row=self.row,
                     message=self.message)
        if self.sheet and self.column:
            return _("sheet “%(sheet)s”, column “%(column)s”: %(message)s", sheet=self.sheet,
                     column=self.column, message=self.message)
        if self.sheet:
            return _("sheet “%(sheet)s”: %(message)s", sheet=self.sheet, message=self.message)
        return self.message


class XLSFormError(ValueError):
    """A workbook that cannot become an instrument; ``problems`` lists every
    :class:`Problem` found (at least one)."""

    def __init__(self, problems: list[Problem]):
        self.texts = [str(p) for p in problems]  # in the language of the moment they were found
        super().__init__("\n".join(self.texts))
        self.problems = problems

    def lines(self, source: str) -> list[str]:
        """The problems as the loader reports them: ``<file>: <where>: <message>``."""
        return [f"{source}: {text}" for text in self.texts]


def _language():
    """Messages in the visitor's language on a page; in the default one (Vietnamese) in a
    command, which has no request to choose from."""
    if has_request_context() or not has_app_context():
        return nullcontext()
    return force_locale(current_app.config["BABEL_DEFAULT_LOCALE"])


# --------------------------------------------------------------------------- reading

@dataclass
class _Sheet:
    title: str
    headers: dict[str, str]              # normalised header → header as written
    rows: list[tuple[int, dict[str, str]]]  # (Excel row number, normalised header → text)

    def column(self, key: str) -> str:
        return self.headers.get(key, key)


def _text(cell: Any) -> str:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFC", str(value).replace("\u00a0", " ")).strip()


def _normalise_header(header: str) -> str:
    m = _LANG_COLUMN.match(header)
    if m:
        return f"{m.group('base').lower()}::{m.group('code').lower()}"
    return header.strip().lower()


def _sheet(title: str, records: list[list[str]], problems: list[Problem]) -> _Sheet:
    header_row = records[0] if records else []
    headers: dict[str, str] = {}
    index: list[str | None] = []
    for written in header_row:
        if not written:
            index.append(None)
            continue
        key = _normalise_header(written)
        if key in headers:
            problems.append(Problem(title, 1, written, _("this column appears twice")))
            index.append(None)
            continue
        headers[key] = written
        index.append(key)
    rows = []
    for number, record in enumerate(records[1:], start=2):
        values = {k: v for k, v in zip(index, record) if k and v}
        stray = [header_row[i] or "" for i, v in enumerate(record) if v and (i >= len(index) or index[i] is None)]
        if stray:
            problems.append(Problem(title, number, None, _("a value stands in a column without a heading")))
        if values:
            rows.append((number, values))
    if len(rows) > MAX_ROWS:
        problems.append(Problem(title, None, None, _("more than %(limit)d rows", limit=MAX_ROWS)))
    return _Sheet(title, headers, rows)


def _open(data: bytes) -> dict[str, _Sheet]:
    if len(data) > MAX_WORKBOOK_BYTES:
        raise XLSFormError([Problem(None, None, None, _("The file is larger than %(size)d KB.",
                                                           size=MAX_WORKBOOK_BYTES // 1024))])
    try:
        raw_sheets = workbooks.read_sheets(data, _text, max_unpacked=MAX_UNPACKED_BYTES)
    except workbooks.UnreadableWorkbook as exc:
        why = {
            "entities": _("it declares XML entities (a DOCTYPE), which are refused"),
            "broken": _("its XML is broken or holds a character a workbook cannot, such as NUL"),
            "too_big": _("it unpacks to more than %(size)d MB", size=MAX_UNPACKED_BYTES // (1024 * 1024)),
        }.get(exc.kind, exc.why)
        raise XLSFormError([Problem(None, None, None, _("This is not a readable Excel .xlsx workbook: %(why)s.",
                                                           why=why))]) from None
    problems: list[Problem] = []
    sheets: dict[str, _Sheet] = {}
    for title, records in raw_sheets:
        while records and not any(records[-1]):
            records.pop()
        key = title.strip().lower()
        if key in UNSUPPORTED_SHEETS and len(records) > 1:
            problems.append(Problem(title, None, None, _("this XLSForm sheet is not supported")))
        if key in (SURVEY, CHOICES, SETTINGS, GRADES):
            sheets[key] = _sheet(title, records, problems)
    if problems:
        raise XLSFormError(problems)
    return sheets


def _pyxform_check(data: bytes, sheets: dict[str, _Sheet]) -> Problem | None:
    """pyxform's verdict on the workbook: ``None`` when it builds an XForm from it."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    try:
        convert(data, warnings=[], file_type=".xlsx", form_name="data")
    except PyXFormError as exc:
        message = str(exc).strip()
        context = getattr(exc, "context", None) or {}
        row = context.get("row")
        sheet = context.get("sheet")
        column = context.get("column")
        if row is None:
            m = re.search(r"\[row : (\d+)\]", message)
            row = int(m.group(1)) if m else None
        if sheet is None:
            m = re.search(r"On the '(\w+)' sheet", message)
            sheet = m.group(1) if m else None
        if column is None:
            m = re.search(r"the '([\w:() -]+)' value", message)
            column = m.group(1) if m else None
        m = re.match(r"Unknown question type '(.*)'", message)
        if m and row is None and SURVEY in sheets:
            for number, values in sheets[SURVEY].rows:
                if values.get("type") == m.group(1):
                    sheet, row, column = sheets[SURVEY].title, number, sheets[SURVEY].column("type")
                    break
        message = re.sub(r"^\[row : \d+\]\s*", "", message)
        return Problem(sheet, row, column, _("pyxform refuses the form: %(message)s", message=message))
    except Exception as exc:  # pyxform on an untrusted file: any failure is a refusal, never a 500
        detail = f"{type(exc).__name__}: {exc}"[:300]
        return Problem(None, None, None, _("pyxform could not read the form: %(message)s", message=detail))
    return None


def _flag(value: str) -> bool | None:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    return None


def _number(value: str) -> int | float | None:
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return None


class _Converter:
    """Builds the raw instrument (as a TOML file would give it) and remembers which cell
    each field came from, so the validator's field paths can be named as cells."""

    def __init__(self, sheets: dict[str, _Sheet]):
        self.sheets = sheets
        self.problems: list[Problem] = []
        self.cells: dict[str, tuple[str, int | None, str | None]] = {}

    def fail(self, sheet: _Sheet, row: int | None, key: str | None, message: str) -> None:
        self.problems.append(Problem(sheet.title, row, sheet.column(key) if key else None, message))

    def mark(self, path: str, sheet: _Sheet, row: int | None, key: str | None) -> None:
        self.cells[path] = (sheet.title, row, sheet.column(key) if key else None)

    def columns(self, sheet: _Sheet, plain: Iterable[str], languages: Iterable[str]) -> None:
        """Refuse every column we do not read that holds a value, and other languages."""
        allowed = set(plain) | set(IGNORED_SURVEY_COLUMNS)
        for key in list(sheet.headers):
            first = next((number for number, values in sheet.rows if key in values), None)
            if first is None:
                continue  # an empty column says nothing
            base, sep, code = key.partition("::")
            if base in languages and (not sep or code not in LANG_NAMES):
                vi, en = (f"{base}::{LANG_NAMES[c]}" for c in ("vi", "en"))
                self.fail(sheet, 1, key, _("give the text in two columns, “%(vi)s” and “%(en)s”", vi=vi, en=en))
            elif base not in languages and base not in allowed:
                self.fail(sheet, first, key, _("this column is not supported"))

    def bilingual(self, sheet: _Sheet, row: int, values: Mapping[str, str], base: str, path: str,
                  required: bool = True) -> dict[str, str] | None:
        vi, en = values.get(f"{base}::vi", ""), values.get(f"{base}::en", "")
        self.mark(path, sheet, row, f"{base}::vi")
        self.mark(f"{path}.vi", sheet, row, f"{base}::vi")
        self.mark(f"{path}.en", sheet, row, f"{base}::en")
        if not vi and not en and not required:
            return None
        for code, text in (("vi", vi), ("en", en)):
            if not text:
                key = f"{base}::{code}"
                if key not in sheet.headers:
                    sheet.headers[key] = f"{base}::{LANG_NAMES[code]}"
                self.fail(sheet, row, key, _("the text in %(language)s is missing", language=LANG_NAMES[code]))
        return {"vi": vi, "en": en}

    # ---------------------------------------------------------------- choices
    def choice_lists(self) -> dict[str, list[tuple[int, dict[str, str]]]]:
        sheet = self.sheets.get(CHOICES)
        lists: dict[str, list[tuple[int, dict[str, str]]]] = {}
        if sheet is None:
            return lists
        self.columns(sheet, CHOICES_COLUMNS, ("label",))
        for number, values in sheet.rows:
            name = values.get("list_name", "")
            if not name:
                self.fail(sheet, number, "list_name", _("the list name is missing"))
                continue
            if not values.get("name"):
                self.fail(sheet, number, "name", _("the choice's name is missing"))
                continue
            items = lists.setdefault(name, [])
            if any(v["name"] == values["name"] for _n, v in items):
                self.fail(sheet, number, "name", _("“%(name)s” appears twice in the list “%(list)s”",
                                                   name=values["name"], list=name))
                continue
            items.append((number, values))
        return lists

    def scale(self, name: str, items: list[tuple[int, dict[str, str]]]) -> dict[str, Any]:
        sheet = self.sheets[CHOICES]
        first = items[0][0]
        path = f"scales.{name}"
        self.mark(path, sheet, first, "list_name")
        self.mark(f"{path}.levels", sheet, first, "name")
        self.mark(f"{path}.satisfied", sheet, first, "hl_satisfied")
        self.mark(f"{path}.points", sheet, first, "hl_points")
        self.mark(f"{path}.display", sheet, first, "hl_display")
        levels, satisfied, points, displays = [], [], {}, set()
        for i, (number, values) in enumerate(items):
            lpath = f"{path}.levels[{i}]"
            self.mark(lpath, sheet, number, "name")
            self.mark(f"{lpath}.value", sheet, number, "name")
            try:
                value = int(values["name"])
            except ValueError:
                self.fail(sheet, number, "name", _("a level of the scale “%(list)s” must be a whole number",
                                                   list=name))
                continue
            labels = self.bilingual(sheet, number, values, "label", lpath)
            levels.append({"value": value, **(labels or {})})
            flag = _flag(values.get("hl_satisfied", ""))
            if flag is None:
                self.fail(sheet, number, "hl_satisfied", _("write yes or leave it empty"))
            elif flag:
                satisfied.append(value)
            if values.get("hl_points"):
                self.mark(f"{path}.points.{value}", sheet, number, "hl_points")
                pts = _number(values["hl_points"])
                if not isinstance(pts, int):
                    self.fail(sheet, number, "hl_points", _("points must be a whole number"))
                else:
                    points[str(value)] = pts
            if values.get("hl_display"):
                displays.add(values["hl_display"])
        out: dict[str, Any] = {"levels": levels, "satisfied": satisfied}
        if points:
            out["points"] = points
        if len(displays) > 1:
            self.fail(sheet, first, "hl_display", _("the rows of one scale give different displays"))
        elif displays:
            out["display"] = displays.pop()
        return out

    # ---------------------------------------------------------------- survey
    def survey(self, lists: dict[str, list[tuple[int, dict[str, str]]]], scale_lists: set[str]):
        sheet = self.sheets[SURVEY]
        self.columns(sheet, SURVEY_COLUMNS, ("label", "hint"))
        for code in ("vi", "en"):
            if f"label::{code}" not in sheet.headers:
                needed = f"label::{LANG_NAMES[code]}"
                self.fail(sheet, 1, None, _("the sheet needs the column “%(column)s”", column=needed))
        self.cells["questions"] = (sheet.title, None, None)
        questions: list[dict[str, Any]] = []
        factors: list[dict[str, Any]] = []
        group: tuple[str, int] | None = None
        for number, values in sheet.rows:
            qtype = re.sub(r"\s+", " ", values.get("type", "").strip().lower())
            qtype = {"begin group": "begin_group", "end group": "end_group"}.get(qtype, qtype)
            if not qtype:
                self.fail(sheet, number, "type", _("the type is missing"))
                continue
            if qtype in IGNORED_TYPES:
                continue
            if qtype in ("begin_repeat", "begin repeat", "end_repeat", "end repeat"):
                self.fail(sheet, number, "type", _("repeats are not supported"))
                continue
            if qtype == "begin_group":
                if group is not None:
                    self.fail(sheet, number, "type", _("a group inside a group is not supported"))
                    continue
                for key in ("relevant", "required", "constraint", "appearance", "hl_type", "hl_decimals"):
                    if values.get(key):
                        self.fail(sheet, number, key, _("not supported on a group"))
                i = len(factors)
                self.mark(f"factors[{i}]", sheet, number, "type")
                self.mark(f"factors[{i}].key", sheet, number, "name")
                labels = self.bilingual(sheet, number, values, "label", f"factors[{i}]")
                factors.append({"key": values.get("name", ""), **(labels or {})})
                group = (values.get("name", ""), number)
                continue
            if qtype == "end_group":
                if group is None:
                    self.fail(sheet, number, "type", _("end_group without a begin_group"))
                group = None
                continue
            i = len(questions)
            path = f"questions[{i}]"
            for sub, key in (("", "type"), (".key", "name"), (".type", "type"), (".scale", "type"),
                             (".options", "type"), (".factor", "type"), (".required", "required"),
                             (".relevant", "relevant"), (".max_choices", "constraint"), (".min", "constraint"),
                             (".max", "constraint"), (".max_length", "constraint"), (".decimals", "hl_decimals")):
                self.mark(path + sub, sheet, number, key)
            q: dict[str, Any] = {"key": values.get("name", "")}
            if not q["key"]:
                self.fail(sheet, number, "name", _("the name is missing"))
            kind = self.question_type(sheet, number, values, qtype, lists, scale_lists, q, i)
            if kind is None:
                continue
            required = _flag(values.get("required", ""))
            if required is None:
                self.fail(sheet, number, "required", _("write yes or no"))
            q["required"] = bool(required)
            q["text"] = self.bilingual(sheet, number, values, "label", f"{path}.text")
            help_ = self.bilingual(sheet, number, values, "hint", f"{path}.help", required=False)
            if help_:
                q["help"] = help_
            if values.get("relevant"):
                q["relevant"] = values["relevant"]
            if group is not None and q["type"] == "scale":
                q["factor"] = group[0]
            questions.append(q)
        if group is not None:
            self.fail(sheet, group[1], "type", _("this group has no end_group"))
        return questions, factors

    def question_type(self, sheet: _Sheet, number: int, values: Mapping[str, str], qtype: str,
                      lists: Mapping[str, list], scale_lists: set[str], q: dict[str, Any], index: int) -> str | None:
        parts = qtype.split(" ")
        constraint = re.sub(r"\s+", " ", values.get("constraint", "").strip())
        appearance = values.get("appearance", "").strip().lower()
        hl_type = values.get("hl_type", "").strip().lower()
        if hl_type and not (hl_type in ("rating", "percent") and parts[0] == "integer"):
            self.fail(sheet, number, "hl_type", _("only “rating” or “percent”, on an integer question, is understood here"))
            return None
        if values.get("hl_decimals") and qtype != "decimal":
            self.fail(sheet, number, "hl_decimals", _("only a decimal question has decimals"))
            return None
        if parts[0] in ("select_one", "select_multiple"):
            if len(parts) != 2:
                self.fail(sheet, number, "type", _("write “%(type)s” and the name of one choice list",
                                                   type=parts[0]))
                return None
            list_name = values["type"].split()[1]
            if list_name not in lists:
                self.fail(sheet, number, "type", _("the choice list “%(list)s” is not on the choices sheet",
                                                   list=list_name))
                return None
            if appearance and appearance != "likert":
                self.fail(sheet, number, "appearance", _("this appearance is not supported"))
            items = lists[list_name]
            names = {v["name"] for _n, v in items}
            if parts[0] == "select_one" and list_name in scale_lists:
                q.update(type="scale", scale=list_name)
                if constraint:
                    self.fail(sheet, number, "constraint", _("a scale question takes no constraint"))
                return "scale"
            if parts[0] == "select_one" and names == {"0", "1"}:
                q["type"] = "yesno"
                if constraint:
                    self.fail(sheet, number, "constraint", _("a yes/no question takes no constraint"))
                return "yesno"
            options = []
            for j, (row, v) in enumerate(items):
                opath = f"questions[{index}].options[{j}]"
                self.mark(opath, self.sheets[CHOICES], row, "name")
                self.mark(f"{opath}.key", self.sheets[CHOICES], row, "name")
                labels = self.bilingual(self.sheets[CHOICES], row, v, "label", opath)
                options.append({"key": v["name"], **(labels or {})})
            q.update(type="single" if parts[0] == "select_one" else "multi", options=options)
            if constraint:
                m = _COUNT.match(constraint)
                if parts[0] == "select_multiple" and m:
                    q["max_choices"] = int(m.group(1))
                else:
                    self.fail(sheet, number, "constraint", _("not understood; a multiple choice may say "
                                                             "“count-selected(.) <= N”"))
            return q["type"]
        if appearance and not (parts[0] == "text" and appearance == "multiline"):
            self.fail(sheet, number, "appearance", _("this appearance is not supported"))
        if qtype == "text":
            q["type"] = "longtext" if appearance == "multiline" else "text"
            if constraint:
                m = _LENGTH.match(constraint)
                if m:
                    q["max_length"] = int(m.group(1))
                else:
                    self.fail(sheet, number, "constraint", _("not understood; a text may say “string-length(.) <= N”"))
            return q["type"]
        if qtype == "integer":
            m = _RANGE.match(constraint)
            lo_hi = (int(m.group(1)), int(m.group(2))) if m else None
            if lo_hi is None:
                m = _RANGE_REVERSED.match(constraint)
                lo_hi = (int(m.group(2)), int(m.group(1))) if m else None
            if hl_type == "rating":
                q["type"] = "rating"
                if constraint and lo_hi != (0, 10):
                    self.fail(sheet, number, "constraint", _("a rating is from 0 to 10: “. >= 0 and . <= 10”"))
                return "rating"
            if lo_hi is None:
                self.fail(sheet, number, "constraint", _("an integer needs its range, e.g. “. >= 0 and . <= 100”"))
                return None
            qtype = "percent" if hl_type == "percent" else "number"
            q.update(type=qtype, min=lo_hi[0], max=lo_hi[1])
            return qtype
        if qtype == "decimal":
            m = _DECIMAL_RANGE.match(constraint)
            bounds = (m.group(1), m.group(2)) if m else None
            if bounds is None:
                m = _DECIMAL_RANGE_REVERSED.match(constraint)
                bounds = (m.group(2), m.group(1)) if m else None
            if bounds is None:
                self.fail(sheet, number, "constraint", _("a decimal needs its range, e.g. “. >= 0 and . <= 100.5”"))
                return None
            # Digits after the point: hl_decimals, else those the bounds show, at least 1.
            shown = max(len(b.partition(".")[2]) for b in bounds)
            decimals: Any = max(1, shown)
            if values.get("hl_decimals"):
                decimals = _number(values["hl_decimals"])
                if not isinstance(decimals, int) or not 1 <= decimals <= instruments.MAX_DECIMALS:
                    self.fail(sheet, number, "hl_decimals", _("write how many digits may follow the decimal point, "
                                                              "from 1 to %(most)d", most=instruments.MAX_DECIMALS))
                    return None
            q.update(type="number", decimals=decimals, min=_number(bounds[0]), max=_number(bounds[1]))
            return "number"
        self.fail(sheet, number, "type", _("the type “%(type)s” is not supported", type=values.get("type", "")))
        return None

    # ---------------------------------------------------------------- settings
    def settings(self) -> dict[str, Any]:
        sheet = self.sheets.get(SETTINGS)
        if sheet is None:
            self.problems.append(Problem(SETTINGS, None, None, _("the workbook has no “settings” sheet")))
            return {}
        self.columns(sheet, SETTINGS_COLUMNS, ("hl_title", "hl_intro"))
        if not sheet.rows:
            self.fail(sheet, 2, "form_id", _("the settings row is missing"))
            return {}
        if len(sheet.rows) > 1:
            self.fail(sheet, sheet.rows[1][0], None, _("the settings sheet has one row under its headings"))
        row, values = sheet.rows[0]
        for path, key in (("key", "form_id"), ("kind", "hl_kind"), ("source", "hl_source"), ("scoring", "hl_method"),
                          ("scoring.method", "hl_method"), ("scoring.max_total", "hl_max_total"),
                          ("scoring.scale_to_answered", "hl_scale_to_answered"),
                          ("scoring.expectation_question", "hl_expectation_question"),
                          ("scoring.return_question", "hl_return_question"),
                          ("scoring.return_options", "hl_return_options"),
                          ("scoring.return_exclude", "hl_return_exclude"),
                          ("scoring.rescale", "hl_rescale_min"), ("scoring.rescale.min", "hl_rescale_min"),
                          ("scoring.rescale.max", "hl_rescale_max"), ("scoring.rescale.total", "hl_rescale_total")):
            self.mark(path, sheet, row, key)
        raw: dict[str, Any] = {"schema": instruments.SCHEMA_VERSION, "key": values.get("form_id")}
        if not values.get("form_id"):
            self.fail(sheet, row, "form_id", _("the form_id (the survey's key) is missing"))
        if not values.get("hl_kind"):
            self.fail(sheet, row, "hl_kind", _("the kind of service (admin, one_stop, health or education) is missing"))
        raw["kind"] = values.get("hl_kind")
        raw["title"] = self.bilingual(sheet, row, values, "hl_title", "title")
        intro = self.bilingual(sheet, row, values, "hl_intro", "intro", required=False)
        if intro:
            raw["intro"] = intro
        if values.get("hl_source"):
            raw["source"] = values["hl_source"]
        scoring: dict[str, Any] = {"method": values.get("hl_method") or "satisfied_share"}
        for key in ("expectation_question", "return_question"):
            if values.get(f"hl_{key}"):
                scoring[key] = values[f"hl_{key}"]
        for key in ("return_options", "return_exclude"):
            if values.get(f"hl_{key}"):
                scoring[key] = re.split(r"[\s,]+", values[f"hl_{key}"].strip())
        if values.get("hl_max_total"):
            total = _number(values["hl_max_total"])
            scoring["max_total"] = total if isinstance(total, int) else values["hl_max_total"]
        if values.get("hl_scale_to_answered"):
            flag = _flag(values["hl_scale_to_answered"])
            if flag is None:
                self.fail(sheet, row, "hl_scale_to_answered", _("write yes or no"))
            scoring["scale_to_answered"] = bool(flag)
        if any(values.get(f"hl_rescale_{key}") for key in ("min", "max", "total")):
            rescale: dict[str, Any] = {}
            for key in ("min", "max"):
                number = _number(values.get(f"hl_rescale_{key}", ""))
                rescale[key] = number if number is not None else values.get(f"hl_rescale_{key}")
            if values.get("hl_rescale_total"):
                rescale["total"] = values["hl_rescale_total"].strip()
            scoring["rescale"] = rescale
        grades = self.grades()
        if grades is not None:
            scoring["grades"] = grades
        raw["scoring"] = scoring
        return raw

    def grades(self) -> list[dict[str, Any]] | None:
        sheet = self.sheets.get(GRADES)
        if sheet is None:
            return None
        self.columns(sheet, GRADES_COLUMNS, ("label",))
        self.cells["scoring.grades"] = (sheet.title, None, None)
        out = []
        for i, (number, values) in enumerate(sheet.rows):
            path = f"scoring.grades[{i}]"
            self.mark(path, sheet, number, "min")
            self.mark(f"{path}.min", sheet, number, "min")
            self.mark(f"{path}.strict", sheet, number, "strict")
            minimum = _number(values.get("min", ""))
            if minimum is None:
                self.fail(sheet, number, "min", _("the lowest total of the band must be a number"))
            strict = _flag(values.get("strict", ""))
            if strict is None:
                self.fail(sheet, number, "strict", _("write yes or no"))
            labels = self.bilingual(sheet, number, values, "label", path)
            grade: dict[str, Any] = {"min": minimum, **(labels or {})}
            if strict:
                grade["strict"] = True
            out.append(grade)
        return out

    # ---------------------------------------------------------------- all
    def convert(self) -> dict[str, Any]:
        if SURVEY not in self.sheets:
            raise XLSFormError([Problem(SURVEY, None, None, _("the workbook has no “survey” sheet"))])
        lists = self.choice_lists()
        scale_lists = {name for name, items in lists.items()
                       if any(_flag(v.get("hl_satisfied", "")) is not False for _n, v in items)}
        scales = {name: self.scale(name, lists[name]) for name in lists if name in scale_lists}
        questions, factors = self.survey(lists, scale_lists)
        raw = self.settings()
        raw.update(scales=scales, factors=factors, questions=questions)
        return raw

    def where(self, path: str) -> tuple[str | None, int | None, str | None]:
        while path:
            if path in self.cells:
                return self.cells[path]
            shorter = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", path)
            if shorter == path:
                break
            path = shorter
        return (None, None, None)


def read_workbook(data: bytes, source: str = "upload.xlsx") -> dict[str, Any]:
    """Convert an XLSForm workbook into a validated instrument definition.

    Raises :class:`XLSFormError` naming every problem's sheet, row and column.
    """
    with _language():
        return _read_workbook(data, source)


def _read_workbook(data: bytes, source: str) -> dict[str, Any]:
    sheets = _open(data)
    converter = _Converter(sheets)
    verdict = _pyxform_check(data, sheets)
    try:
        raw = converter.convert()
        ours = converter.problems
    except XLSFormError as exc:
        ours = exc.problems
    if verdict is not None:
        # pyxform decides; when it names no row and we found something, ours names the cell.
        raise XLSFormError(ours if ours and verdict.row is None else [verdict])
    if ours:
        raise XLSFormError(ours)
    try:
        return instruments.validate(raw, source)
    except instruments.InstrumentError as exc:
        problems = []
        for path, message in exc.details:
            sheet, row, column = converter.where(path)
            problems.append(Problem(sheet, row, column, f"{path}: {message}" if path else message))
        raise XLSFormError(problems) from None


# --------------------------------------------------------------------------- writing

def _label_headers(base: str) -> list[str]:
    return [f"{base}::{LANG_NAMES['vi']}", f"{base}::{LANG_NAMES['en']}"]


def _free_name(wanted: str, taken: set[str]) -> str:
    name, n = wanted, 2
    while name in taken:
        name, n = f"{wanted}_{n}", n + 1
    taken.add(name)
    return name


def _groups_in_order(definition: Mapping[str, Any]) -> list[str]:
    order: list[str] = []
    for q in definition["questions"]:
        f = q.get("factor")
        if f and f not in order:
            order.append(f)
    return order


def write_workbook(definition: Mapping[str, Any]) -> bytes:
    """An XLSForm workbook (``.xlsx`` bytes) of a validated definition.

    A factor becomes a group around its questions; a question outside any factor between
    two questions of the same factor stays inside the group (it belongs to no factor,
    as before). Raises ``ValueError`` when the factors cannot be written as groups (a
    factor's questions apart from each other, or factors out of question order).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    used = _groups_in_order(definition)
    declared = [f["key"] for f in definition.get("factors", [])]
    if used != declared:
        raise ValueError("the factors must be declared in question order, each with at least one question, "
                         "to be written as XLSForm groups")
    factors = {f["key"]: f for f in definition.get("factors", [])}
    taken = set(definition["scales"])
    list_of: dict[str, str] = {}
    yesno_list = None

    survey = [["type", "name", *_label_headers("label"), *_label_headers("hint"), "required", "relevant",
               "constraint", "appearance", "hl_type", "hl_decimals"]]
    blank = [""] * (len(survey[0]) - 1)
    choices = [["list_name", "name", *_label_headers("label"), "hl_satisfied", "hl_points", "hl_display"]]
    for name, scale in definition["scales"].items():
        for lv in scale["levels"]:
            points = (scale.get("points") or {}).get(str(lv["value"]))
            choices.append([name, str(lv["value"]), lv["vi"], lv["en"],
                            "yes" if lv["value"] in scale["satisfied"] else "",
                            points if points is not None else "",
                            scale["display"] if scale.get("display", "list") != "list" else ""])

    questions = definition["questions"]
    open_group: str | None = None
    closed: set[str] = set()
    for i, q in enumerate(questions):
        factor = q.get("factor")
        if open_group is not None and factor != open_group:
            upcoming = next((x.get("factor") for x in questions[i:] if x.get("factor")), None)
            if factor is not None or q["type"] == "scale" or upcoming != open_group:
                survey.append(["end_group", *blank])
                closed.add(open_group)
                open_group = None
        if factor is not None and open_group is None:
            if factor in closed:
                raise ValueError(f"the questions of factor {factor!r} are not next to each other")
            f = factors[factor]
            survey.append(["begin_group", factor, f["vi"], f["en"], *blank[3:]])
            open_group = factor
        qtype, constraint, appearance, hl_type, decimals = q["type"], "", "", "", ""
        if qtype == "scale":
            xtype = f"select_one {q['scale']}"
        elif qtype in ("single", "multi"):
            list_name = list_of[q["key"]] = _free_name(q["key"], taken)
            for o in q["options"]:
                choices.append([list_name, o["key"], o["vi"], o["en"], "", "", ""])
            xtype = f"{'select_one' if qtype == 'single' else 'select_multiple'} {list_name}"
            if qtype == "multi" and q.get("max_choices"):
                constraint = f"count-selected(.) <= {q['max_choices']}"
        elif qtype == "yesno":
            if yesno_list is None:
                yesno_list = _free_name("yesno", taken)
                choices.append([yesno_list, "1", "Có", "Yes", "", "", ""])
                choices.append([yesno_list, "0", "Không", "No", "", "", ""])
            xtype = f"select_one {yesno_list}"
        elif qtype == "number" and q.get("decimals"):
            xtype, decimals = "decimal", q["decimals"]
            constraint = f". >= {plain(q['min'])} and . <= {plain(q['max'])}"
        elif qtype in ("rating", "percent", "number"):
            xtype = "integer"
            constraint = f". >= {q['min']} and . <= {q['max']}"
            hl_type = qtype if qtype in ("rating", "percent") else ""
        else:
            xtype = "text"
            constraint = f"string-length(.) <= {q['max_length']}"
            appearance = "multiline" if qtype == "longtext" else ""
        help_ = q.get("help") or {}
        survey.append([xtype, q["key"], q["text"]["vi"], q["text"]["en"], help_.get("vi", ""), help_.get("en", ""),
                       "yes" if q["required"] else "no", q.get("relevant", ""), constraint, appearance, hl_type,
                       decimals])
    if open_group is not None:
        survey.append(["end_group", *blank])

    intro = definition.get("intro") or {}
    scoring = dict(definition["scoring"])
    settings_head = ["form_id", "form_title", "hl_kind", *_label_headers("hl_title"), *_label_headers("hl_intro"),
                     "hl_source", "hl_method"]
    settings_row = [definition["key"], definition["title"]["vi"], definition["kind"], definition["title"]["vi"],
                    definition["title"]["en"], intro.get("vi", ""), intro.get("en", ""),
                    definition.get("source") or "", scoring.pop("method")]
    grades = scoring.pop("grades", None)
    for key in ("expectation_question", "return_question", "return_options", "return_exclude", "max_total",
                "scale_to_answered"):
        if key in scoring:
            value = scoring.pop(key)
            if isinstance(value, list):
                value = " ".join(value)
            elif isinstance(value, bool):
                value = "yes" if value else "no"
            settings_head.append(f"hl_{key}")
            settings_row.append(value)
    rescale = scoring.pop("rescale", None)
    if rescale is not None:
        for key in ("min", "max", "total"):
            settings_head.append(f"hl_rescale_{key}")
            settings_row.append(rescale[key])
    if scoring:
        raise ValueError(f"scoring fields XLSForm cannot carry: {sorted(scoring)}")

    book = Workbook(write_only=True)

    def sheet(title: str, rows: list[list[Any]]) -> None:
        ws = book.create_sheet(title)
        for row in rows:
            cells = []
            for value in row:
                if isinstance(value, str):
                    # A string cell is never a formula; no apostrophe, which would change
                    # the instrument's text when the workbook is read back.
                    cell = WriteOnlyCell(ws, value=value)
                    cell.data_type = "s"
                    cells.append(cell)
                else:
                    cells.append(value)
            ws.append(cells)

    sheet(SURVEY, survey)
    sheet(CHOICES, choices)
    sheet(SETTINGS, [settings_head, settings_row])
    if grades:
        sheet(GRADES, [["min", "strict", *_label_headers("label")]]
              + [[g["min"], "yes" if g.get("strict") else "no", g["vi"], g["en"]] for g in grades])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- TOML

def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) and not key.isdigit() else json.dumps(key, ensure_ascii=False)


def to_toml(definition: Mapping[str, Any]) -> str:
    """The definition as one of our ``surveys/*.toml`` files (schema 1)."""
    lines = [f"schema = {instruments.SCHEMA_VERSION}"]
    for key in ("key", "kind", "title", "intro", "source"):
        if definition.get(key) is not None:
            lines.append(f"{key} = {_toml_value(definition[key])}")
    for name, scale in definition["scales"].items():
        lines += ["", f"[scales.{name}]", "levels = ["]
        lines += [f"  {_toml_value(lv)}," for lv in scale["levels"]]
        lines += ["]", f"satisfied = {_toml_value(scale['satisfied'])}"]
        if scale.get("points"):
            lines.append(f"points = {_toml_value(scale['points'])}")
        if scale.get("display", "list") != "list":
            lines.append(f"display = {_toml_value(scale['display'])}")
    for f in definition.get("factors", []):
        lines += ["", "[[factors]]"] + [f"{k} = {_toml_value(f[k])}" for k in ("key", "vi", "en")]
    for q in definition["questions"]:
        lines += ["", "[[questions]]"]
        for key in ("key", "type", "scale", "factor", "required", "relevant", "text", "help", "max_choices",
                    "max_length"):
            if q.get(key) is not None:
                lines.append(f"{key} = {_toml_value(q[key])}")
        if q.get("decimals"):
            lines.append(f"decimals = {q['decimals']}")
        if q["type"] in ("percent", "number"):
            lines += [f"min = {q['min']!r}", f"max = {q['max']!r}"]
        if q.get("options"):
            lines.append("options = [")
            lines += [f"  {_toml_value(o)}," for o in q["options"]]
            lines.append("]")
    scoring = dict(definition["scoring"])
    grades = scoring.pop("grades", None)
    lines += ["", "[scoring]"] + [f"{k} = {_toml_value(v)}" for k, v in scoring.items()]
    if grades is not None:
        lines.append("grades = [")
        lines += [f"  {_toml_value({k: v for k, v in g.items() if k != 'strict' or v})}," for g in grades]
        lines.append("]")
    return "\n".join(lines) + "\n"
