"""Exports of a report view: raw responses as CSV and XLSX, and the report as a PDF.

Every export covers exactly the view's filters (unit subtree, survey, days, channels,
campaign, suspect responses only when included) inside the official's scope, and is
recorded in the audit log (:func:`record_export`).

Response table (CSV and the XLSX "responses" sheet)
---------------------------------------------------
One row per response, oldest first; first the response's facts, then one or two columns
per question in the survey's order:

* ``response_id``, ``submitted_at`` (Viet Nam time, ``YYYY-MM-DD HH:MM``), ``unit_code``,
  ``unit_path``, ``unit_name``, ``campaign_id``, ``campaign``, ``version`` (instrument
  version number), ``channel``, ``language``; ``trust`` and ``trust_reason`` only when
  suspect responses are included;
* a scale, single-choice or yes/no question: ``<key>`` holds the code (the level's value,
  the option key, 1/0) and ``<key>_label`` its wording; a multiple-choice question: codes
  and wordings joined by ``;``; a rating or percentage: ``<key>`` with the number; an open
  question: ``<key>`` with the text (empty when a manager has hidden it); a number:
  ``<key>`` with the number, a number with decimals written with its declared digits after
  the decimal point (``3.50``; it is stored as 350, see ``analysis.instrument.unscale``).

An unanswered question is an empty cell. The CSV is UTF-8 with a byte-order mark (so
Excel reads Vietnamese correctly), comma-separated, CRLF line ends; where Excel expects
semicolons (Vietnamese regional settings) open the XLSX instead.

The XLSX (:func:`xlsx_bytes`), for an official to paste into a report: the responses
(machine keys, for statistics software), the codebook (every column: its machine key, its
question and type in words, its codes with their wordings, and its Vietnamese header),
the summary (the same numbers as the dashboard and the JSON report, stored exactly and
shown rounded by number format; yes/no in words; dates as dates), the charts (native Excel
charts of the index and factors and of the trend, over a small table on the same sheet),
the responses again with Vietnamese headers and wordings, and, where the one-stop software
reported dossiers, a dossiers sheet (response rates, the portal's figures; aggregates only,
never a dossier code beside an answer, never counter staff). Both response sheets have a
frozen header row, an autofilter, and the time sent as a date-time cell (Viet Nam time).

Every cell of the CSV and of the XLSX is written through ``services/data/spreadsheet.py``:
a text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, a leading tab
or carriage return) starts with an apostrophe, and XLSX texts are plain string cells.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator, Sequence
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.instrument import decimals_of, plain, unscale

from ...models import Answer, Campaign, InstrumentVersion, Response, Unit, User
from ..data.spreadsheet import csv_writer, text_safe_workbook
from ..officials import audit
from ..officials.scope import Scope
from . import text as report_text
from .comments import TEXT_TYPES, hidden_answer_ids, responses_where
from .views import ReportView

__all__ = ["Column", "Counted", "response_columns", "response_rows", "csv_bytes", "xlsx_bytes", "record_export",
           "EXPORT_FORMATS"]

LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
BATCH = 500
EXPORT_FORMATS = ("csv", "xlsx", "pdf", "json")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # meta | code | label | number | text
    question: dict | None = None
    description: str = ""


def _questions(versions: Sequence[InstrumentVersion]) -> list[dict]:
    """The questions in the latest version's order, then any only older versions had."""
    seen: dict[str, dict] = {}
    for q in versions[-1].snapshot["questions"]:
        seen[q["key"]] = q
    for v in reversed(versions[:-1]):
        for q in v.snapshot["questions"]:
            seen.setdefault(q["key"], q)
    return list(seen.values())


def response_columns(versions: Sequence[InstrumentVersion], include_trust: bool) -> list[Column]:
    meta = [
        ("response_id", _("Number of the response")),
        ("submitted_at", _("Time it was sent, Viet Nam time (YYYY-MM-DD HH:MM)")),
        ("unit_code", _("Code of the service point")),
        ("unit_path", _("Path of the unit in the administrative tree")),
        ("unit_name", _("Name of the unit")),
        ("campaign_id", _("Number of the campaign")),
        ("campaign", _("Name of the campaign")),
        ("version", _("Version of the survey answered")),
        ("channel", _("How it was sent: qr, kiosk, link, paper or api")),
        ("language", _("Language of the form: vi or en")),
        ("residence", _("Path of the commune the citizen said they live in (empty when not asked or skipped)")),
    ]
    if include_trust:
        meta += [("trust", _("ok, or suspect (e.g. a burst from one device)")),
                 ("trust_reason", _("Why the response was flagged suspect"))]
    columns = [Column(name, "meta", None, text) for name, text in meta]
    for q in _questions(versions):
        qtype = q["type"]
        if qtype in ("scale", "single", "yesno", "multi"):
            columns.append(Column(q["key"], "code", q, _("code")))
            columns.append(Column(q["key"] + "_label", "label", q, _("wording of the code")))
        elif qtype in TEXT_TYPES:
            columns.append(Column(q["key"], "text", q, _("text (empty if hidden by a manager)")))
        elif decimals_of(q):
            d = decimals_of(q)
            columns.append(Column(q["key"], "number", q, ngettext(
                "number, %(low)s to %(high)s, with up to %(num)d digit after the decimal point",
                "number, %(low)s to %(high)s, with up to %(num)d digits after the decimal point", d,
                low=plain(q["min"]), high=plain(q["max"]))))
        else:
            columns.append(Column(q["key"], "number", q, _("number")))
    return columns


def _labels(version: dict, lang: str) -> dict[str, dict[str, str]]:
    """question key → {code → wording} for one version."""
    out: dict[str, dict[str, str]] = {}
    for q in version["questions"]:
        if q["type"] == "scale":
            out[q["key"]] = {str(lv["value"]): lv.get(lang) or lv["vi"] for lv in version["scales"][q["scale"]]["levels"]}
        elif q["type"] in ("single", "multi"):
            out[q["key"]] = {o["key"]: o.get(lang) or o["vi"] for o in q["options"]}
        elif q["type"] == "yesno":
            with force_locale(lang):
                out[q["key"]] = {"1": _("Yes"), "0": _("No")}
    return out


def response_rows(session: Session, scope: Scope, view: ReportView, lang: str = "vi") -> Iterator[dict[str, Any]]:
    """The view's responses, oldest first, as {column name → value} (see the module doc)."""
    versions = view.versions
    by_version = {v.id: v for v in versions}
    labels = {v.id: _labels(v.snapshot, lang) for v in versions}
    types = {v.id: {q["key"]: q["type"] for q in v.snapshot["questions"]} for v in versions}
    # a number with decimals is stored as value × 10^decimals: written back as the value
    places = {v.id: {q["key"]: decimals_of(q) for q in v.snapshot["questions"] if decimals_of(q)} for v in versions}
    include_trust = view.filters.include_suspect
    open_keys = {q["key"] for v in versions for q in v.snapshot["questions"] if q["type"] in TEXT_TYPES}
    query = (
        select(Response.id, Response.submitted_at, Response.instrument_version_id, Response.channel,
               Response.language, Response.trust, Response.trust_reason, Response.campaign_id,
               Response.residence_unit_id, Unit.code,
               Unit.path, Unit.name_vi, Unit.name_en, Campaign.name)
        .join(Unit, Unit.id == Response.unit_id)
        .join(Campaign, Campaign.id == Response.campaign_id)
        .where(*responses_where(scope, view.unit, view.filters, versions))
        .order_by(Response.submitted_at, Response.id)
    )
    last_id: tuple | None = None
    while True:
        batch_query = query
        if last_id is not None:
            batch_query = query.where((Response.submitted_at > last_id[0]) |
                                      ((Response.submitted_at == last_id[0]) & (Response.id > last_id[1])))
        batch = session.execute(batch_query.limit(BATCH)).all()
        if not batch:
            return
        last_id = (batch[-1].submitted_at, batch[-1].id)
        ids = [r.id for r in batch]
        answers: dict[int, list[tuple[str, int | None, str | None, int]]] = {i: [] for i in ids}
        for a in session.execute(select(Answer.response_id, Answer.question_key, Answer.value_int,
                                        Answer.value_text, Answer.id)
                                 .where(Answer.response_id.in_(ids)).order_by(Answer.id)).all():
            answers[a.response_id].append((a.question_key, a.value_int, a.value_text, a.id))
        homes = {r.residence_unit_id for r in batch if r.residence_unit_id is not None}
        home_paths = dict(session.execute(select(Unit.id, Unit.path).where(Unit.id.in_(homes))).all()) if homes else {}
        hidden = hidden_answer_ids(session, [a[3] for rid, rows in answers.items() for a in rows
                                             if a[2] is not None and a[0] in open_keys])
        for r in batch:
            row: dict[str, Any] = {
                "response_id": r.id,
                "submitted_at": r.submitted_at.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M"),
                "unit_code": r.code or "", "unit_path": r.path,
                "unit_name": (r.name_en if lang == "en" and r.name_en else r.name_vi),
                "campaign_id": r.campaign_id, "campaign": r.name,
                "version": by_version[r.instrument_version_id].number, "channel": r.channel, "language": r.language,
                "residence": home_paths.get(r.residence_unit_id, ""),
            }
            if include_trust:
                row["trust"], row["trust_reason"] = r.trust, r.trust_reason or ""
            kinds = types[r.instrument_version_id]
            decimals = places[r.instrument_version_id]
            wording = labels[r.instrument_version_id]
            multi: dict[str, list[str]] = {}
            for key, vint, vtext, answer_id in answers[r.id]:
                qtype = kinds.get(key)
                if qtype is None:
                    continue
                code = str(vint) if vint is not None else (vtext or "")
                if qtype == "multi":
                    multi.setdefault(key, []).append(code)
                elif qtype in TEXT_TYPES:
                    row[key] = "" if answer_id in hidden else (vtext or "")
                elif qtype in ("scale", "single", "yesno"):
                    row[key] = vint if vint is not None else vtext
                    row[key + "_label"] = wording.get(key, {}).get(code, "")
                elif key in decimals and vint is not None:
                    row[key] = unscale(vint, decimals[key])
                else:
                    row[key] = vint
            for key, codes in multi.items():
                row[key] = ";".join(codes)
                row[key + "_label"] = "; ".join(wording.get(key, {}).get(c, c) for c in codes)
            yield row


class Counted:
    """An iterator that counts what passed through it (rows exported, for the audit)."""

    def __init__(self, rows: Iterator[dict[str, Any]]):
        self._rows = rows
        self.count = 0

    def __iter__(self) -> "Counted":
        return self

    def __next__(self) -> dict[str, Any]:
        row = next(self._rows)
        self.count += 1
        return row


def csv_bytes(columns: Sequence[Column], rows: Iterator[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte-order mark, comma-separated, one header row of column names."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv_writer(buffer, lineterminator="\r\n")
    writer.writerow([c.name for c in columns])
    names = [c.name for c in columns]
    for row in rows:
        writer.writerow(["" if row.get(n) is None else row.get(n) for n in names])
    return buffer.getvalue().encode("utf-8")


# ------------------------------------------------------------------ XLSX

def type_label(qtype: str) -> str:
    """A question type in words (the codebook's "Type" column)."""
    return {
        "scale": _("scale"), "single": _("single choice"), "multi": _("multiple choice"), "yesno": _("yes or no"),
        "rating": _("rating"), "percent": _("percentage"), "number": _("number"), "text": _("short text"),
        "longtext": _("long text"),
    }.get(qtype, qtype)


def _meta_headers() -> dict[str, str]:
    """The Vietnamese header of each response column that is not a question."""
    return {
        "response_id": _("Response no."), "submitted_at": _("Time sent"), "unit_code": _("Service point code"),
        "unit_path": _("Unit path"), "unit_name": _("Unit"), "campaign_id": _("Campaign no."),
        "campaign": _("Campaign"), "version": _("Survey version"), "channel": _("Channel"),
        "language": _("Form language"), "residence": _("Place of residence"), "trust": _("Trust"),
        "trust_reason": _("Why suspect"),
    }


def readable_headers(columns: Sequence[Column]) -> dict[str, str]:
    """column name → its header on the sheet with Vietnamese headers: the question's number
    and the start of its wording (``Câu 3. Thái độ của công chức…``); "(mã)" on a code column."""
    meta = _meta_headers()
    numbers: dict[str, int] = {}
    out: dict[str, str] = {}
    for c in columns:
        if c.question is None:
            out[c.name] = meta.get(c.name, c.name.replace("_", " "))
            continue
        q = c.question
        n = numbers.setdefault(q["key"], len(numbers) + 1)
        wording = " ".join((q["text"].get("vi") or q["key"]).split())
        short = wording if len(wording) <= 48 else wording[:47].rstrip() + "…"
        head = _("Q%(n)s. %(text)s", n=n, text=short)
        out[c.name] = _("%(header)s (code)", header=head) if c.kind == "code" else head
    return out


def _codes_text(q: dict, definition: dict, lang: str) -> str:
    if q["type"] == "scale":
        return "; ".join(f"{lv['value']} = {lv.get(lang) or lv['vi']}" for lv in definition["scales"][q["scale"]]["levels"])
    if q["type"] in ("single", "multi"):
        return "; ".join(f"{o['key']} = {o.get(lang) or o['vi']}" for o in q["options"])
    if q["type"] == "yesno":
        yes, no = _("Yes"), _("No")
        return f"1 = {yes}; 0 = {no}"
    if q["type"] in ("rating", "percent", "number"):
        return f"{q.get('min', 0)}–{q.get('max', 10 if q['type'] == 'rating' else 100)}"
    return ""


DATE_FORMAT = "dd/mm/yyyy"
TIME_FORMAT = "dd/mm/yyyy hh:mm"


def _local_time(text: str) -> datetime | None:
    """The ``submitted_at`` text of a response row back as a (naive, Viet Nam time) datetime."""
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return None


def xlsx_bytes(view: ReportView, columns: Sequence[Column], rows: Iterator[dict[str, Any]], *, lang: str,
               generated_at: datetime, generated_by: str, accountability: dict[str, Any] | None = None) -> bytes:
    """A workbook an official can paste from (see the module doc):

    1. the responses, one column per machine key (for statistics software);
    2. the codebook: each column's machine key, its question, type and codes, and its header
       on sheet 5;
    3. the summary: the report's own numbers (stored exactly, shown rounded by number format);
    4. the charts: native Excel charts of the headline and factors, and of the trend, over a
       small table on the same sheet;
    5. the responses again with Vietnamese headers and wordings, as a reader would paste them;
    (6. the dossiers, where the one-stop software reported some).

    The response sheets have a frozen header row, an autofilter and real date-time cells.
    """
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    report, definition = view.report, view.definition
    wb = text_safe_workbook()
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDE7F3")
    written: dict[int, int] = {}  # id(sheet) → rows appended so far (charts refer to them)
    yes, no = _("Yes"), _("No")

    def add(ws, values):
        ws.append(values)
        written[id(ws)] = written.get(id(ws), 0) + 1
        return written[id(ws)]

    def head(ws, values):
        cells = []
        for v in values:
            cell = WriteOnlyCell(ws, value=v)
            cell.font = bold
            cell.fill = head_fill
            cells.append(cell)
        return add(ws, cells)

    def share_cell(ws, v, fmt="0.0%"):
        cell = WriteOnlyCell(ws, value=v)
        if v is not None:
            cell.number_format = fmt
        return cell

    def fmt_cell(ws, v, fmt):
        return share_cell(ws, v, fmt) if isinstance(v, (int, float)) and not isinstance(v, bool) else v

    def flag(v) -> str:
        return yes if v else no

    # 1. responses (machine keys) and 5. the same with Vietnamese headers, written side by side
    ws = wb.create_sheet(_("Responses")[:31])
    codebook_sheet = wb.create_sheet(_("Codebook")[:31])
    sm = wb.create_sheet(_("Summary")[:31])
    charts_sheet = wb.create_sheet(_("Charts")[:31])
    readable = wb.create_sheet(_("Responses, Vietnamese headers")[:31])
    headers = readable_headers(columns)
    for sheet in (ws, readable):
        sheet.freeze_panes = "B2"
        for i, c in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = 40 if c.kind == "text" else (
                24 if c.kind in ("label", "meta") and c.name not in ("response_id", "campaign_id", "version")
                else (17 if c.name == "submitted_at" else 10))
    head(ws, [c.name for c in columns])
    head(readable, [headers[c.name] for c in columns])
    names = [c.name for c in columns]
    n_rows = 0

    def when_cell(sheet, text):
        moment = _local_time(text)
        if moment is None:
            return text
        cell = WriteOnlyCell(sheet, value=moment)
        cell.number_format = TIME_FORMAT
        return cell

    trust_words = {"ok": _("trusted"), "suspect": _("suspect")}
    for row in rows:
        n_rows += 1
        values = [row.get(n) for n in names]
        values[names.index("submitted_at")] = when_cell(ws, row.get("submitted_at"))
        ws.append(values)
        shown = [row.get(n) for n in names]
        shown[names.index("submitted_at")] = when_cell(readable, row.get("submitted_at"))
        shown[names.index("channel")] = report_text.channel_label(row.get("channel") or "")
        if "trust" in names:
            shown[names.index("trust")] = trust_words.get(row.get("trust"), row.get("trust"))
        readable.append(shown)
    last = get_column_letter(len(columns))
    for sheet in (ws, readable):
        sheet.auto_filter.ref = f"A1:{last}{n_rows + 1}"

    # 2. codebook
    cb = codebook_sheet
    for letter, width in zip("ABCDEFGH", (18, 10, 14, 60, 60, 22, 60, 40)):
        cb.column_dimensions[letter].width = width
    cb.freeze_panes = "A2"
    head(cb, [_("Column"), _("Question"), _("Type"), _("Question (Vietnamese)"), _("Question (English)"),
              _("Factor"), _("Codes, or what the column holds"),
              _("Header on the sheet “%(sheet)s”", sheet=_("Responses, Vietnamese headers")[:31])])
    factors = {f["key"]: f for f in definition.get("factors", [])}
    wrap = Alignment(wrap_text=True, vertical="top")
    for c in columns:
        q = c.question
        if q is None:
            cb.append([c.name, "", _("response"), c.description, "", "", "", headers[c.name]])
            continue
        factor = factors.get(q.get("factor") or "")
        what = _codes_text(q, definition, lang) if c.kind == "code" else c.description
        cells = [c.name, q["key"], type_label(q["type"]), q["text"].get("vi", ""), q["text"].get("en", ""),
                 factor.get(lang) or factor.get("vi") if factor else "", what, headers[c.name]]
        out = []
        for v in cells:
            cell = WriteOnlyCell(cb, value=v)
            cell.alignment = wrap
            out.append(cell)
        cb.append(out)

    # 3. summary
    for letter, width in zip("ABCDEFGHIJKLM", (34, 60, 12, 10, 10, 10, 10, 10, 10, 10, 8, 40, 10)):
        sm.column_dimensions[letter].width = width
    index = report["index"]
    f = view.filters

    def dated(v, fmt=DATE_FORMAT):
        cell = WriteOnlyCell(sm, value=v)
        cell.number_format = fmt
        return cell

    title = definition["title"].get(lang) or definition["title"]["vi"]
    meta = [
        (_("Unit"), view.unit.name(lang)), (_("Path"), view.unit.path), (_("Survey"), title),
        (_("Versions included"), ", ".join(str(v) for v in report["instrument"]["versions"])),
        (_("First day"), dated(f.date_from)), (_("Last day"), dated(f.date_to)),
        (_("Trend by"), _("month") if f.period == "month" else _("quarter")),
        (_("Channels"), ", ".join(report_text.channel_label(c) for c in f.channels) if f.channels else _("all")),
        (_("Suspect responses"), _("included") if f.include_suspect else _("left out")),
        (_("Campaign"), str(f.campaign_id) if f.campaign_id else _("all")),
        (_("Generated"), dated(generated_at.astimezone(LOCAL_ZONE).replace(tzinfo=None), TIME_FORMAT)),
        (_("Time zone"), "Asia/Ho_Chi_Minh"),
        (_("Generated by"), generated_by),
        (_("Responses"), report["responses"]),
    ]
    behind = report_text.backlog_sentence(view.backlog)
    if behind:
        meta.append((_("Not counted yet"), behind))
    head(sm, [_("Report"), ""])
    for k, v in meta:
        add(sm, [k, v])
    unit_kind = index.get("unit")
    fmt = "0.0%" if unit_kind == "share" else "0.00"
    add(sm, [])
    head(sm, [report_text.index_name(report["instrument"]["method"]), _("value"), _("%(level)s low", level="95%"),
              _("%(level)s high", level="95%"), "n", _("low n")])
    add(sm, [_("Index"), share_cell(sm, index.get("value"), fmt), share_cell(sm, index.get("low"), fmt),
             share_cell(sm, index.get("high"), fmt), index.get("n"), flag(index.get("low_n"))])
    change = report.get("change")
    if change:
        add(sm, [])
        head(sm, [_("Change from the previous period"), _("value")])
        before = report_text.period_label(change["from"]) if change.get("from") else ""
        add(sm, [_("periods"), f"{before} – {report_text.period_label(change['to'])}" if before
                 else report_text.period_label(change["to"])])
        if change.get("enough"):
            cfmt = "0.0%" if change.get("unit") == "share" else "0.00"
            add(sm, [_("difference"), share_cell(sm, change["difference"], cfmt)])
            add(sm, [_("%(level)s low", level="95%"), share_cell(sm, change["low"], cfmt)])
            add(sm, [_("%(level)s high", level="95%"), share_cell(sm, change["high"], cfmt)])
            add(sm, ["p", fmt_cell(sm, change["p"], "0.000")])
        else:
            add(sm, [_("difference"), report_text.change_sentence(change)])
    if report.get("moh"):
        moh = report["moh"]
        add(sm, [])
        head(sm, [_("Ministry of Health measures"), _("value"), _("%(level)s low", level="95%"),
                  _("%(level)s high", level="95%"), "n"])
        for key, _long, label, kind in report_text.moh_measures():
            mfmt = "0.0%" if kind == "share" else ("0.0" if key == "expectation" else "0.00")
            m = moh.get(key)
            if m:
                add(sm, [label, share_cell(sm, m["value"], mfmt), share_cell(sm, m["low"], mfmt),
                         share_cell(sm, m["high"], mfmt), m["n"]])
    add(sm, [])
    head(sm, [_("Factor"), _("key"), _("index"), _("%(level)s low", level="95%"), _("%(level)s high", level="95%"), "n"])
    for fct in report["factors"]:
        add(sm, [fct["name"].get(lang) or fct["name"]["vi"], fct["key"], share_cell(sm, fct["index"], fmt),
                 share_cell(sm, fct["low"], fmt), share_cell(sm, fct["high"], fmt), fct["n"]])
    add(sm, [])
    head(sm, [_("Question"), _("text"), _("type"), "n", _("mean"), _("mean, %(level)s low", level="95%"), _("mean, %(level)s high", level="95%"),
              _("satisfied"), _("satisfied, %(level)s low", level="95%"), _("satisfied, %(level)s high", level="95%"), _("low n"), _("answers per code")])
    for q in report["questions"]:
        add(sm, [q["key"], q["text"].get(lang) or q["text"]["vi"], type_label(q["type"]), q["n"],
                 fmt_cell(sm, q["mean"], "0.00"), fmt_cell(sm, q["mean_low"], "0.00"),
                 fmt_cell(sm, q["mean_high"], "0.00"), share_cell(sm, q["satisfied"]),
                 share_cell(sm, q["satisfied_low"]), share_cell(sm, q["satisfied_high"]), flag(q.get("low_n")),
                 "; ".join(f"{k}: {v}" for k, v in q["counts"].items())])
    if report["units"]:
        add(sm, [])
        head(sm, [_("Unit below"), _("path"), "n", _("index"), _("%(level)s low", level="95%"), _("%(level)s high", level="95%"),
                  _("shrunken index"), _("rank"), _("rank from"), _("rank to"), _("funnel"), _("low n")])
        for u in report["units"]:
            add(sm, [u["name"].get(lang) or u["name"]["vi"], u["unit"], u["n"], share_cell(sm, u["index"], fmt),
                     share_cell(sm, u["low"], fmt), share_cell(sm, u["high"], fmt), share_cell(sm, u["shrunk"], fmt),
                     u["rank"], u["rank_low"], u["rank_high"],
                     report_text.funnel_label(u["funnel"]) if u["funnel"] else "", flag(u["low_n"])])
        if report.get("comparison"):
            cmp = report["comparison"]
            add(sm, [_("Units differ more than chance"), flag(cmp["detectable"]), "Q", fmt_cell(sm, cmp["q"], "0.0"),
                     "df", cmp["dof"], "p", fmt_cell(sm, cmp["p"], "0.000")])
    add(sm, [])
    head(sm, [_("Trend period"), "n", _("index"), _("%(level)s low", level="95%"), _("%(level)s high", level="95%"), _("low n"),
              _("partial")])
    for t in report["trend"]:
        add(sm, [report_text.period_label(t["period"]), t["n"], share_cell(sm, t["index"], fmt),
                 share_cell(sm, t["low"], fmt), share_cell(sm, t["high"], fmt), flag(t["low_n"]),
                 flag(t.get("partial"))])
    if accountability:
        fig = accountability["figures"]
        add(sm, [])
        head(sm, [_("Petitions received in the period"), _("value")])
        for name, v in ((_("Received"), fig["received"]), (_("Answered"), fig["answered"]),
                        (_("Answered on time"), fig["answered_on_time"]), (_("Still open"), fig["open"]),
                        (_("Overdue"), fig["overdue_open"]),
                        (_("Median working days"), fmt_cell(sm, fig["median_working_days"], "0.0"))):
            add(sm, [name, v])

    # 4. charts
    _chart_sheet(charts_sheet, report, lang, unit_kind, fmt, head, add, share_cell)
    if report.get("dossiers"):
        _dossier_sheet(wb, report["dossiers"], head, share_cell)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _chart_sheet(cs, report: dict[str, Any], lang: str, unit_kind: str | None, fmt: str, head, add,
                 share_cell) -> None:
    """Native Excel charts over a small table on the same sheet: the index and each factor
    (bars, with the interval in the table beside), and the index by month or quarter (a
    line). They are Excel's own charts, so they paste into a report and keep their numbers."""
    from openpyxl.chart import BarChart, LineChart, Reference

    for letter, width in zip("ABCD", (44, 12, 12, 12)):
        cs.column_dimensions[letter].width = width
    index = report["index"]
    head(cs, [_("Index and factors"), _("index"), _("%(level)s low", level="95%"), _("%(level)s high", level="95%")])
    first = add(cs, [_("Overall index"), share_cell(cs, index.get("value"), fmt), share_cell(cs, index.get("low"), fmt),
                     share_cell(cs, index.get("high"), fmt)])
    for fct in report["factors"]:
        last = add(cs, [fct["name"].get(lang) or fct["name"]["vi"], share_cell(cs, fct["index"], fmt),
                        share_cell(cs, fct["low"], fmt), share_cell(cs, fct["high"], fmt)])
    last = first + len(report["factors"])
    axis_format = "0%" if unit_kind == "share" else "0.0"

    bars = BarChart()
    bars.type = "bar"  # horizontal: the factors' names are long
    bars.title = _("Satisfaction index and factors")
    bars.style = 2
    bars.legend = None
    bars.y_axis.number_format = axis_format
    bars.y_axis.majorGridlines = None
    if unit_kind == "share":
        bars.y_axis.scaling.min, bars.y_axis.scaling.max = 0, 1
    bars.x_axis.scaling.orientation = "maxMin"  # the overall index on top, as in the table
    bars.x_axis.delete = bars.y_axis.delete = False
    bars.add_data(Reference(cs, min_col=2, min_row=first - 1, max_row=last), titles_from_data=True)
    bars.set_categories(Reference(cs, min_col=1, min_row=first, max_row=last))
    bars.height, bars.width = max(6.0, 1.2 * (last - first + 1) + 3), 18.0
    bars.dataLabels = None
    cs.add_chart(bars, "F2")

    trend = [t for t in report["trend"]]
    if not trend:
        return
    add(cs, [])
    top = head(cs, [_("Month or quarter"), _("index"), _("%(level)s low", level="95%"),
                    _("%(level)s high", level="95%")])
    for t in trend:
        end = add(cs, [report_text.period_label(t["period"]), share_cell(cs, t["index"], fmt),
                       share_cell(cs, t["low"], fmt), share_cell(cs, t["high"], fmt)])
    line = LineChart()
    line.title = _("Index by month") if "Q" not in trend[0]["period"] else _("Index by quarter")
    line.style = 2
    line.y_axis.number_format = axis_format
    line.x_axis.delete = line.y_axis.delete = False
    line.add_data(Reference(cs, min_col=2, max_col=4, min_row=top, max_row=end), titles_from_data=True)
    line.set_categories(Reference(cs, min_col=1, min_row=top + 1, max_row=end))
    for series in line.series[1:]:
        series.graphicalProperties.line.dashStyle = "dash"
        series.graphicalProperties.line.width = 12700
    line.height, line.width = 8.0, 18.0
    cs.add_chart(line, f"F{max(int(bars.height * 2) + 6, 20)}")


def _dossier_sheet(wb, dz: dict[str, Any], head, share_cell) -> None:
    """4. dossiers (only where the one-stop software reported some): aggregates only, never
    a dossier code beside an answer and never counter staff."""
    ds = wb.create_sheet(_("Dossiers")[:31])
    for letter, width in zip("ABCDEFG", (40, 12, 14, 10, 12, 14, 12)):
        ds.column_dimensions[letter].width = width
    head(ds, [_("Dossiers served and rated"), _("value")])
    ds.append([_("Dossiers returned"), dz["returned"]])
    ds.append([_("Rated"), dz["rated"]])
    ds.append([_("Response rate"), share_cell(ds, dz["response_rate"])])
    portal = dz["portal"]
    ds.append([_("Dossier satisfaction (portal formula)"),
               portal["satisfaction"] if portal["satisfaction"] is not None else _("N/A")])
    ds.append([_("Returned on time, waiting for the citizen left out (portal formula)"),
               portal["on_time"] if portal["on_time"] is not None else _("N/A")])
    ds.append([])
    head(ds, [_("Service point"), _("Month"), _("Dossiers returned"), _("Rated"), _("Response rate"),
              _("All ratings at the point"), _("flagged")])
    for point in dz["points"]:
        for m in point["months"]:
            ds.append([point["name"], m["month"], m["returned"], m["rated"], share_cell(ds, m["response_rate"]),
                       m["ratings"], bool(m["flagged"])])
    for title, rows in ((_("By procedure"), dz["by_procedure"]), (_("By sector"), dz["by_sector"])):
        ds.append([])
        head(ds, [title, _("Dossiers returned"), _("Late"), _("Rated"), _("Response rate"),
                  _("Satisfied (of those rated)")])
        for b in rows:
            ds.append([b["name"], b["returned"], b["late"], b["rated"], share_cell(ds, b["response_rate"]),
                       share_cell(ds, b["satisfied_share"])])
    if dz["codes"]:
        ds.append([])
        head(ds, [_("One-time codes issued in the period, and used"), _("Issued"), _("Used"), _("Share used")])
        for c in dz["codes"]:
            ds.append([c["name"], c["issued"], c["used"], share_cell(ds, c["use_rate"])])


# ------------------------------------------------------------------ audit

def record_export(session: Session, view: ReportView, fmt: str, *, actor: User | None = None,
                  actor_name: str | None = None, rows: int | None = None) -> None:
    """Audit one export (or API read) of ``view``; the caller commits."""
    f = view.filters
    detail: dict[str, Any] = {"format": fmt, "instrument": f.instrument, "from": f.date_from.isoformat(),
                              "to": f.date_to.isoformat(), "period": f.period}
    if f.channels:
        detail["channels"] = list(f.channels)
    if f.include_suspect:
        detail["include_suspect"] = True
    if f.campaign_id is not None:
        detail["campaign"] = f.campaign_id
    if rows is not None:
        detail["rows"] = rows
    audit.record(session, "export.created", actor=actor, actor_name=actor_name, unit=view.unit,
                 target=f"report:{fmt}", detail=detail)
