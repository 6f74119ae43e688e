"""Importing paper forms typed into a spreadsheet (CSV or Excel .xlsx).

A file has one row per paper form. Row 1 names the columns: ``unit`` (the service
point's public code), ``submitted_at`` (the day, or day and time, written on the form, in
Vietnam time) and then one column per question key of the campaign's instrument. A cell
holds a level number, an option key, several option keys separated by ``;`` (multiple
choice), ``1``/``0`` (yes/no) or text; an empty cell leaves the question unanswered.

A campaign with one code per respondent or visit (a household campaign) may add a
``code`` column: the code printed on the slip the form came with. Each code must be one of
the campaign's, issued for the row's unit, and unused; it is spent in the import's
transaction, so a household answers once whether online, by phone or on paper, and the
same code twice in a file, or a code already used online, is a problem of its row.

Every row is checked with the very rules of the citizen form (:func:`validate_answers`
gets the row as ``q_<key>`` fields), and the import is all or nothing: one bad row and
no row is written. Each row's idempotency key is the SHA-256 of the campaign, the row's
normalised content and the how-many-th time that same content occurs in the file, so
identical forms in one file stay separate responses while importing a file again (or a
longer version of it) adds only the rows not imported before.

Messages are in English (the importer is an officials' command-line tool), including the
citizen-form messages, which are produced under ``force_locale("en")``.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

from flask_babel import force_locale
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from ...models import (TOKEN_ACCESS_MODES, Answer, Campaign, Dossier, Response, Unit, VisitToken, answer_digest,
                       utcnow)
from ..collect.surveys import FIELD_PREFIX, validate_answers
from . import workbooks
from ..reports.rollup import LOCAL_TZ

__all__ = ["CODE_COLUMN", "DATE_COLUMN", "ImportFailed", "ImportResult", "Sheet", "UNIT_COLUMN", "idempotency_key", "import_file",
           "import_rows", "read_csv", "read_file", "read_xlsx"]

UNIT_COLUMN = "unit"
CODE_COLUMN = "code"
DATE_COLUMN = "submitted_at"
CHANNEL = "paper"
LANGUAGE = "vi"
MULTI_SEPARATOR = ";"
#: A form dated with a day only is taken to be filled in at noon, Vietnam time.
NOON = time(12, 0)
ACCEPTING_STATUSES = ("open", "paused")
_KEY_CHUNK = 500

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_VN_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_DATETIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_VN_DATETIME = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?$")
#: What no cell may hold: C0 control characters other than tab and line ends, and DEL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ImportFailed(ValueError):
    """The file cannot be imported; ``problems`` lists every problem found (nothing was written)."""

    def __init__(self, problems: Sequence[str]):
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Sheet:
    """A file read as a table.

    ``columns`` are the header's names (stripped, NFC, lower case); ``rows[i]`` is row
    ``i + 2`` of the file (the header is row 1), a dict from column name to cell text,
    with ``""`` for an empty cell. Blank rows are kept (all values empty) so that row
    numbers stay those the user sees.
    """

    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class ImportResult:
    """What an import did (or, with ``dry_run``, would do).

    ``rows_read`` counts the non-blank rows below the header; ``imported`` the responses
    written (or that would be written); ``already_present`` the rows whose response an
    earlier import of the same campaign already holds; ``blank_rows`` the empty rows
    ignored; ``response_ids`` the ids of the new responses (empty for a dry run).
    """

    source_name: str
    campaign_id: int
    rows_read: int
    imported: int
    already_present: int
    blank_rows: int
    dry_run: bool
    response_ids: tuple[int, ...] = ()


# --------------------------------------------------------------------------- readers

def _normalise_header(name: str) -> str:
    return unicodedata.normalize("NFC", name).strip().lower()


def _sheet(source_name: str, records: Iterable[list[str]]) -> Sheet:
    """Turn raw records (the header first) into a :class:`Sheet`, checking the header."""
    records = iter(records)
    header = next(records, None)
    if header is None:
        raise ImportFailed([f"{source_name}: the file is empty"])
    names = [_normalise_header(h) for h in header]
    if not any(names):
        raise ImportFailed([f"{source_name}: row 1: there is no header row; the first row must name the "
                            f"columns ({UNIT_COLUMN}, {DATE_COLUMN}, then the question keys)"])
    problems: list[str] = []
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if found := _CONTROL.search(name):
            problems.append(f"{source_name}: row 1, column {position}: the name contains a control character "
                            f"(U+{ord(found.group()):04X}); delete it and import again")
        if name and name in seen:
            problems.append(f"{source_name}: row 1, column {name}: the column appears more than once")
        seen.add(name)
    rows: list[dict[str, str]] = []
    for number, record in enumerate(records, start=2):
        cells = [c.strip() for c in record]
        for position, value in enumerate(cells, start=1):
            if value and (position > len(names) or not names[position - 1]):
                problems.append(f"{source_name}: row {number}, column {position}: "
                                f"there is a value in a column without a name in row 1")
        rows.append({name: (cells[i] if i < len(cells) else "") for i, name in enumerate(names) if name})
    if problems:
        raise ImportFailed(problems)
    return Sheet(tuple(n for n in names if n), tuple(rows))


def _sniff_delimiter(text: str) -> str:
    """``;`` or ``,``: whichever the header line uses more (Excel in a Vietnamese or
    European locale writes ``;``). The header is used because answers may contain ``;``."""
    first_line = text.split("\n", 1)[0]
    return ";" if first_line.count(";") > first_line.count(",") else ","


def read_csv(path: Path | str, source_name: str | None = None) -> Sheet:
    """Read a UTF-8 CSV file (with or without a byte order mark), ``,`` or ``;`` separated."""
    path = Path(path)
    name = source_name or path.name
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed([f"{name}: the file is not UTF-8 text (byte {exc.start + 1}); in Excel, save it "
                            f"as 'CSV UTF-8 (Comma delimited)'"]) from None
    if not text.strip():
        raise ImportFailed([f"{name}: the file is empty"])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    try:
        records = list(reader)
    except csv.Error as exc:
        raise ImportFailed([f"{name}: line {reader.line_num}: the file is not valid CSV ({exc})"]) from None
    return _sheet(name, records)


def _xlsx_text(value: Any, number_format: str | None) -> str:
    """A cell's value as the text a user would have typed."""
    from openpyxl.styles.numbers import is_datetime

    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        # Excel keeps times as fractions of a day; round away the float noise.
        value = (value + timedelta(microseconds=500_000)).replace(microsecond=0)
        kind = is_datetime(number_format or "General")
        if kind == "date" or (kind is None and value.time() == time(0, 0)):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def read_xlsx(path: Path | str, source_name: str | None = None) -> Sheet:
    """Read the first sheet of an Excel ``.xlsx`` workbook.

    Cells may hold numbers, dates or date-times (written as ``YYYY-MM-DD`` or
    ``YYYY-MM-DD HH:MM:SS`` by the cell's number format) or text.
    """
    path = Path(path)
    name = source_name or path.name
    # The shared guard for uploaded workbooks (services/data/workbooks.py): defusedxml, and
    # every way a doctored file can fail turned into one sentence.
    try:
        sheets = workbooks.read_sheets(path, lambda c: _xlsx_text(c.value, getattr(c, "number_format", None)),
                                       first_only=True)
    except workbooks.UnreadableWorkbook as exc:
        raise ImportFailed([f"{name}: not a readable Excel .xlsx workbook: {exc.why}"]) from None
    if not sheets:
        raise ImportFailed([f"{name}: the workbook has no sheet"])
    records = sheets[0][1]
    while records and not any(records[-1]):
        records.pop()
    return _sheet(name, records)


def read_file(path: Path | str, source_name: str | None = None) -> Sheet:
    """Read a ``.csv`` or ``.xlsx`` file by its extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path, source_name)
    if suffix == ".xlsx":
        return read_xlsx(path, source_name)
    raise ImportFailed([f"{source_name or path.name}: give a .csv or .xlsx file"])


# --------------------------------------------------------------------------- dates

@dataclass(frozen=True)
class _When:
    """A form's date: ``local`` is the naive Vietnam time written (noon for a day alone)."""

    local: datetime
    day_only: bool

    @property
    def canonical(self) -> str:
        return self.local.date().isoformat() if self.day_only else self.local.isoformat()


def _parse_when(raw: str) -> _When | None:
    for pattern, order, day_only in ((_ISO_DATE, "ymd", True), (_VN_DATE, "dmy", True),
                                     (_ISO_DATETIME, "ymd", False), (_VN_DATETIME, "dmy", False)):
        match = pattern.match(raw)
        if match is None:
            continue
        parts = [int(p) if p is not None else 0 for p in match.groups()]
        y, m, d = (parts[0], parts[1], parts[2]) if order == "ymd" else (parts[2], parts[1], parts[0])
        hh, mm, ss = (12, 0, 0) if day_only else (parts[3], parts[4], parts[5])
        try:
            return _When(datetime(y, m, d, hh, mm, ss), day_only)
        except ValueError:
            return None
    return None


def _aware(local: datetime) -> datetime:
    return local.replace(tzinfo=LOCAL_TZ).astimezone(timezone.utc)


def _show(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def _check_when(raw: str, campaign: Campaign, now: datetime) -> tuple[datetime | None, _When | None, str | None]:
    """(stored UTC moment, parsed date, error message)."""
    if not raw:
        return None, None, "the date is missing"
    when = _parse_when(raw)
    if when is None:
        return None, None, (f"{raw!r} is not a date like 2026-03-05 or 05/03/2026, "
                            f"or a date and time like 2026-03-05 14:30")
    starts, ends = campaign.starts_at, campaign.ends_at
    if when.day_only:
        day_start = _aware(datetime.combine(when.local.date(), time(0, 0)))
        day_end = _aware(datetime.combine(when.local.date() + timedelta(days=1), time(0, 0)))
        if when.local.date() > now.astimezone(LOCAL_TZ).date():
            return None, None, f"{raw} is in the future"
        if starts is not None and day_end <= starts:
            return None, None, f"{raw} is before campaign {campaign.id} started ({_show(starts)}, Vietnam time)"
        if ends is not None and day_start >= ends:
            return None, None, f"{raw} is after campaign {campaign.id} ended ({_show(ends)}, Vietnam time)"
        # Noon, kept inside the campaign's window and never later than now (same local day).
        moment = _aware(when.local)
        if starts is not None:
            moment = max(moment, starts)
        if ends is not None:
            moment = min(moment, ends - timedelta(seconds=1))
        return min(moment, now), when, None
    moment = _aware(when.local)
    if moment > now:
        return None, None, f"{raw} is in the future"
    if starts is not None and moment < starts:
        return None, None, f"{raw} is before campaign {campaign.id} started ({_show(starts)}, Vietnam time)"
    if ends is not None and moment >= ends:
        return None, None, f"{raw} is after campaign {campaign.id} ended ({_show(ends)}, Vietnam time)"
    return moment, when, None


# --------------------------------------------------------------------------- import

@dataclass(frozen=True)
class _Row:
    unit_id: int
    submitted_at: datetime
    answers: tuple[tuple[str, int | None, str | None], ...]
    content: str
    token_id: int | None = None
    code: str | None = None
    row_number: int = 0


def _content(unit_code: str, when: _When, answers: Sequence[tuple[str, int | None, str | None]],
             code: str | None = None) -> str:
    """The row's normalised content: what the form says, independent of how it was typed
    (05/03/2026 or 2026-03-05, ' 5' or 5, column order); with its slip's code, if any."""
    content: dict[str, Any] = {"unit": unit_code, "when": when.canonical, "answers": sorted(answers, key=repr)}
    if code is not None:
        content["code"] = code
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def idempotency_key(campaign_id: int, content: str, occurrence: int) -> str:
    """SHA-256 (hex) of the campaign, the row's normalised content and its occurrence number."""
    payload = json.dumps([campaign_id, content, occurrence], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _check_columns(columns: Sequence[str], definition: dict[str, Any], campaign: Campaign,
                   source_name: str) -> list[str]:
    problems = []
    questions = {q["key"]: q for q in definition["questions"]}
    for required in (UNIT_COLUMN, DATE_COLUMN):
        if required not in columns:
            problems.append(f"{source_name}: row 1: the column {required!r} is missing "
                            f"(the columns are {UNIT_COLUMN}, {DATE_COLUMN}, then the question keys)")
    if CODE_COLUMN in columns and campaign.access_mode not in TOKEN_ACCESS_MODES:
        problems.append(f"{source_name}: row 1, column {CODE_COLUMN}: campaign {campaign.id} is open to anyone and "
                        f"takes no codes; delete the column")
    for name in columns:
        if name not in (UNIT_COLUMN, DATE_COLUMN, CODE_COLUMN) and name not in questions:
            problems.append(f"{source_name}: row 1, column {name}: unknown column; the survey of campaign "
                            f"{campaign.id} ({definition['key']}) has no question {name!r}")
    missing = [key for key, q in questions.items() if q["required"] and key not in columns]
    if len(missing) == 1:
        problems.append(f"{source_name}: row 1: there is no column for the required question {missing[0]!r}")
    elif missing:
        problems.append(f"{source_name}: row 1: there are no columns for the required questions "
                        f"{', '.join(missing)}")
    return problems


def _fields(columns: Sequence[str], row: dict[str, str], types: dict[str, str]) -> MultiDict:
    """The row as the citizen form would have sent it: ``q_<key>`` fields (``types`` maps
    question keys to their types; a multiple-choice cell becomes one field per choice)."""
    fields: list[tuple[str, str]] = []
    for name in columns:
        if name in (UNIT_COLUMN, DATE_COLUMN, CODE_COLUMN):
            continue
        value = row.get(name, "").strip()
        if not value:
            continue
        if types[name] == "multi":
            fields.extend((FIELD_PREFIX + name, part.strip()) for part in value.split(MULTI_SEPARATOR)
                          if part.strip())
        else:
            fields.append((FIELD_PREFIX + name, value))
    return MultiDict(fields)


class _CodeRace(Exception):
    def __init__(self, item: _Row):
        super().__init__(item.code)
        self.item = item


def _check_code(session: Session, raw: str, campaign: Campaign, unit: Unit | None, moment: datetime | None,
                seen: dict[str, int], number: int) -> tuple[int | None, str | None, str | None]:
    """(token id, formatted code, problem) of a row's slip code; whether it is already
    spent is checked later, only for rows not imported before."""
    from ..qr import tokens

    code = tokens.normalize_code(raw)
    if not raw.strip():
        return None, None, "the code of the household's slip is missing"
    if code is None:
        return None, None, f"{raw[:30]!r} is not a code like K7QM-3XDA-9F2P-HW8T"
    shown = tokens.format_code(code)
    if code in seen:
        return None, shown, f"the code {shown} is also on row {seen[code]}"
    seen[code] = number
    token = session.scalar(select(VisitToken).where(VisitToken.code_hash == tokens.code_hash(code)))
    if token is None or token.campaign_id != campaign.id:
        return None, shown, f"the code {shown} is not a code of campaign {campaign.id}"
    if unit is not None and token.unit_id != unit.id:
        return None, shown, f"the code {shown} was issued for another service point"
    if token.expires_at is not None and moment is not None and moment >= token.expires_at:
        return None, shown, f"the code {shown} had expired on the day written on the form"
    return token.id, shown, None


def _spent(session: Session, token_id: int) -> bool:
    return session.scalar(select(VisitToken.spent_at).where(VisitToken.id == token_id)) is not None


def _spend(session: Session, token_id: int, now: datetime) -> bool:
    """Spend a code as the online form does (one conditional UPDATE, the day only)."""
    day = datetime.combine(now.astimezone(timezone.utc).date(), time(), tzinfo=timezone.utc)
    result = session.execute(update(VisitToken).where(VisitToken.id == token_id, VisitToken.spent_at.is_(None))
                             .values(spent_at=day).execution_options(synchronize_session=False))
    return result.rowcount == 1


def import_rows(session: Session, campaign: Campaign, rows: Iterable[dict[str, str]], source_name: str,
                dry_run: bool = False, *, columns: Sequence[str] | None = None,
                now: datetime | None = None) -> ImportResult:
    """Validate every row and store them all as ``paper`` responses of ``campaign``, or none.

    ``rows`` are dicts from column name to cell text; the first is row 2 of the file (the
    header is row 1), and a row whose cells are all empty is skipped. ``columns`` are the
    header's names (default: the keys of the rows). Rows already imported into this
    campaign are skipped. With ``dry_run`` everything is checked and counted but nothing
    is written. The import is one transaction, committed at the end.

    Raises :class:`ImportFailed` listing every problem as ``<source>: row <n>, column
    <name>: <message>``; nothing is written then.
    """
    now = now or utcnow()
    rows = list(rows)
    if columns is None:
        columns = list(dict.fromkeys(name for row in rows for name in row))
    columns = [_normalise_header(c) for c in columns]
    if campaign.status not in ACCEPTING_STATUSES:
        state = "a draft" if campaign.status == "draft" else campaign.status
        raise ImportFailed([f"{source_name}: campaign {campaign.id} is {state} and accepts no responses"])
    definition = campaign.instrument_version.snapshot
    problems = _check_columns(columns, definition, campaign, source_name)
    if problems:
        raise ImportFailed(problems)

    types = {q["key"]: q["type"] for q in definition["questions"]}
    campaign_units = {u.code: u for u in campaign.units if u.code}
    other_units: dict[str, bool] = {}
    valid: list[_Row] = []
    blank = 0
    seen_codes: dict[str, int] = {}
    with force_locale("en"):
        for number, raw_row in enumerate(rows, start=2):
            row = {_normalise_header(k): (v or "").strip() for k, v in raw_row.items()}
            if not any(row.values()):
                blank += 1
                continue
            where = f"{source_name}: row {number}"
            row_problems: list[str] = []
            controls = [f"{where}, column {name}: the cell contains a control character "
                        f"(U+{ord(found.group()):04X}); delete it and import again"
                        for name, value in row.items() if (found := _CONTROL.search(value))]
            if controls:  # nothing of this row reaches the database (PostgreSQL refuses NUL)
                problems.extend(controls)
                continue

            code = row.get(UNIT_COLUMN, "").lower()
            unit: Unit | None = campaign_units.get(code)
            if not code:
                row_problems.append(f"{where}, column {UNIT_COLUMN}: the service point code is missing")
            elif unit is None:
                if code not in other_units:
                    other_units[code] = session.scalar(select(Unit.id).where(Unit.code == code)) is not None
                if other_units[code]:
                    listed = ", ".join(sorted(campaign_units)[:10]) + (", …" if len(campaign_units) > 10 else "")
                    row_problems.append(f"{where}, column {UNIT_COLUMN}: service point {code!r} is not part of "
                                        f"campaign {campaign.id} (its service points: {listed})")
                else:
                    row_problems.append(f"{where}, column {UNIT_COLUMN}: no service point has the code {code!r}")

            moment, when, date_problem = _check_when(row.get(DATE_COLUMN, ""), campaign, now)
            if date_problem:
                row_problems.append(f"{where}, column {DATE_COLUMN}: {date_problem}")

            checked = validate_answers(definition, _fields(columns, row, types))
            for message in checked.form_errors:
                row_problems.append(f"{where}: {message}")
            for q in definition["questions"]:
                if q["key"] in checked.errors:
                    row_problems.append(f"{where}, column {q['key']}: {checked.errors[q['key']]}")

            token_id, slip = None, None
            if CODE_COLUMN in columns:
                token_id, slip, problem = _check_code(session, row.get(CODE_COLUMN, ""), campaign, unit, moment,
                                                      seen_codes, number)
                if problem:
                    row_problems.append(f"{where}, column {CODE_COLUMN}: {problem}")
            if row_problems or unit is None or moment is None or when is None:
                problems.extend(row_problems)
                continue
            valid.append(_Row(unit.id, moment, tuple(checked.answers), _content(code, when, checked.answers, slip),
                              token_id, slip, number))

    if problems:
        raise ImportFailed(problems)
    if not valid:
        raise ImportFailed([f"{source_name}: there are no rows below the header; nothing to import"])

    occurrences: Counter[str] = Counter()
    keyed: list[tuple[str, _Row]] = []
    for item in valid:
        occurrences[item.content] += 1
        keyed.append((idempotency_key(campaign.id, item.content, occurrences[item.content]), item))

    present: set[str] = set()
    all_keys = [k for k, _ in keyed]
    for start in range(0, len(all_keys), _KEY_CHUNK):
        present.update(session.scalars(
            select(Response.idempotency_key).where(Response.campaign_id == campaign.id,
                                                   Response.idempotency_key.in_(all_keys[start:start + _KEY_CHUNK]))
        ))
    new = [(k, item) for k, item in keyed if k not in present]
    used = [f"{source_name}: row {item.row_number}, column {CODE_COLUMN}: the code {item.code} was already used"
            for _key, item in new if item.token_id is not None and _spent(session, item.token_id)]
    if used:
        raise ImportFailed(used)
    result = dict(source_name=source_name, campaign_id=campaign.id, rows_read=len(valid), imported=len(new),
                  already_present=len(keyed) - len(new), blank_rows=blank, dry_run=dry_run)
    if dry_run:
        session.rollback()
        return ImportResult(**result)

    try:
        responses = [
            Response(campaign_id=campaign.id, unit_id=item.unit_id, instrument_version_id=campaign.instrument_version_id,
                     channel=CHANNEL, language=LANGUAGE, submitted_at=item.submitted_at, trust="ok",
                     idempotency_key=key, answer_digest=answer_digest(item.answers))
            for key, item in new
        ]
        session.add_all(responses)
        session.flush()
        for _key, item in new:
            if item.token_id is not None and not _spend(session, item.token_id, now):
                raise _CodeRace(item)
        response_ids = tuple(response.id for response in responses)
        for rid, (_key, item) in zip(response_ids, new):
            if item.token_id is not None:  # a dossier's evaluation code: the rating is the dossier's
                session.execute(update(Dossier).where(Dossier.token_id == item.token_id,
                                                      Dossier.response_id.is_(None))
                                .values(response_id=rid).execution_options(synchronize_session=False))
        answers = [dict(response_id=rid, submitted_at=item.submitted_at, question_key=k, value_int=vi, value_text=vt)
                   for rid, (_key, item) in zip(response_ids, new) for k, vi, vt in item.answers]
        if answers:
            session.execute(insert(Answer), answers)
        session.commit()
    except _CodeRace as race:
        session.rollback()
        raise ImportFailed([f"{source_name}: row {race.item.row_number}, column {CODE_COLUMN}: the code "
                            f"{race.item.code} was used while importing; nothing was imported"]) from None
    except IntegrityError:
        session.rollback()
        raise ImportFailed([f"{source_name}: another import of the same rows into campaign {campaign.id} "
                            f"ran at the same time; nothing was imported, run the import again"]) from None
    except BaseException:
        session.rollback()
        raise
    return ImportResult(**result, response_ids=response_ids)


def import_file(session: Session, campaign: Campaign, path: Path | str, dry_run: bool = False,
                now: datetime | None = None) -> ImportResult:
    """Read a ``.csv`` or ``.xlsx`` file and :func:`import_rows` it."""
    path = Path(path)
    sheet = read_file(path)
    return import_rows(session, campaign, sheet.rows, path.name, dry_run, columns=sheet.columns, now=now)
