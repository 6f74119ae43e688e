"""The PDF of a report view, in Vietnamese, for printing and the official record.

A4 portrait: a title block (unit, survey, period, what was counted), the headline
numbers, the factors, the charts (PNG), every question's numbers, the units below, the
petitions' accountability figures, a methods paragraph, and on every page the time it
was made (Viet Nam time) and by whom. fpdf2 with DejaVu Sans embedded (shipped with
matplotlib), so every Vietnamese letter prints and the text can be copied or searched.
"""
from __future__ import annotations

import io
from datetime import datetime
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace

from ..qr.printing import BLUE, FONT, GREY, INK, font_dir, nfc
from . import text as t
from .views import ReportView

__all__ = ["build_report_pdf"]

LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
MARGIN = 15.0
WIDTH = 210.0 - 2 * MARGIN
PALE = (232, 240, 250)
LINE = (208, 215, 222)
CHART_ORDER = ("trend", "likert", "funnel", "factors_by_unit", "hour_weekday")


class _ReportPDF(FPDF):
    footer_text = ""
    header_text = ""

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*GREY)
        self.set_xy(MARGIN, 8)
        self.cell(WIDTH, 4, nfc(self.header_text), align="L")
        self.set_draw_color(*LINE)
        self.line(MARGIN, 12.5, MARGIN + WIDTH, 12.5)
        self.set_y(16)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*GREY)
        self.cell(WIDTH * 0.8, 4, nfc(self.footer_text), align="L")
        self.cell(WIDTH * 0.2, 4, _("Page %(page)s of %(pages)s", page=self.page_no(), pages="{nb}"), align="R")


def _new_pdf(title: str) -> _ReportPDF:
    pdf = _ReportPDF(orientation="P", unit="mm", format="A4")
    fonts = font_dir()
    pdf.add_font(FONT, "", fonts / "DejaVuSans.ttf")
    pdf.add_font(FONT, "B", fonts / "DejaVuSans-Bold.ttf")
    pdf.add_font(FONT, "I", fonts / "DejaVuSans-Oblique.ttf")
    pdf.add_font(FONT, "BI", fonts / "DejaVuSans-BoldOblique.ttf")
    pdf.set_margins(MARGIN, 16, MARGIN)
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_title(nfc(title))
    pdf.set_creator("Hài Lòng")
    pdf.set_lang("vi")
    return pdf


def _text(pdf: FPDF, text: str, size: float = 9.5, bold: bool = False, color=INK, gap: float = 1.5,
          align: str = "L") -> None:
    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.set_text_color(*color)
    pdf.set_x(MARGIN)
    pdf.multi_cell(WIDTH, size * 0.3528 * 1.35, nfc(text), align=align, new_x="LMARGIN", new_y="NEXT")
    if gap:
        pdf.ln(gap)


def _heading(pdf: FPDF, text: str, need: float = 30) -> None:
    """A section heading; on a new page when ``need`` mm (the heading and what must follow
    it on the same page) no longer fit."""
    if pdf.get_y() + need > pdf.h - 20:
        pdf.add_page()
    pdf.ln(2.5)
    _text(pdf, text, size=12, bold=True, color=BLUE, gap=0.5)
    pdf.set_draw_color(*BLUE)
    pdf.set_line_width(0.3)
    pdf.line(MARGIN, pdf.get_y(), MARGIN + WIDTH, pdf.get_y())
    pdf.ln(2.5)


def _table(pdf: FPDF, rows: list[list[str]], widths: tuple[float, ...], align: tuple[str, ...] | None = None,
           size: float = 8.5) -> None:
    pdf.set_font(FONT, "", size)
    pdf.set_text_color(*INK)
    pdf.set_draw_color(*LINE)
    pdf.set_line_width(0.2)
    pdf.set_fill_color(255, 255, 255)
    headings = FontFace(emphasis="BOLD", fill_color=PALE, color=INK)
    with pdf.table(col_widths=widths, width=WIDTH, text_align=align or "LEFT", headings_style=headings,
                   line_height=size * 0.3528 * 1.45, padding=(0.9, 1.2), v_align="TOP",
                   cell_fill_mode="ROWS", cell_fill_color=(247, 249, 251)) as table:
        for row in rows:
            r = table.row()
            for cell in row:
                r.cell(nfc(cell))
    pdf.ln(2)


def _image_size(png: bytes, max_height: float) -> tuple[float, float]:
    """(width, height) in mm: the full text width, or less to stay under ``max_height``."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        px_w, px_h = image.size
    width = WIDTH
    height = width * px_h / px_w
    if height > max_height:
        height = max_height
        width = height * px_w / px_h
    return width, height


#: An image that does not fit the rest of the page is shrunk to fit when at least this share
#: of its height fits; only a smaller remainder sends it to a new page (so no page before the
#: last is left near-empty by a big chart).
SHRINK_TO = 0.6
BOTTOM = 18.0


def _room(pdf: FPDF) -> float:
    return pdf.h - BOTTOM - pdf.get_y()


def _image_need(png: bytes | None, max_height: float, extra: float = 15) -> float:
    """What a heading followed by this image needs on its page: the image at its smallest."""
    return _image_size(png, max_height)[1] * SHRINK_TO + extra if png else 40


def _image(pdf: FPDF, png: bytes, max_height: float = 170.0) -> None:
    width, height = _image_size(png, max_height)
    room = _room(pdf) - 3
    if height > room:
        if room >= height * SHRINK_TO:
            width, height = width * room / height, room
        else:
            pdf.add_page()
    x = MARGIN + (WIDTH - width) / 2
    pdf.image(io.BytesIO(png), x=x, y=pdf.get_y(), w=width, h=height)
    pdf.set_y(pdf.get_y() + height + 3)


# ------------------------------------------------------------------ Nghị định 30/2020/NĐ-CP

_PLACE_PREFIXES = ("Tỉnh ", "Thành phố ", "TP. ", "Xã ", "Phường ", "Đặc khu ")


def _chain(unit) -> list:
    """``unit`` and its ancestors, nearest first."""
    out, u = [], unit
    while u is not None and len(out) < 20:
        out.append(u)
        u = getattr(u, "parent", None)
    return out


def _body_name(unit) -> str:
    """A unit as the issuing body is named: an administrative unit by its People's
    Committee (UBND TỈNH QUẢNG TRỊ), any other by its own name; upper case."""
    name = nfc(unit.name_vi)
    if getattr(unit, "kind", None) == "admin":
        name = _("People's Committee of %(unit)s", unit=name)
    return name.upper()


def issuing_body(unit) -> tuple[str | None, str]:
    """(the governing body, or None for a unit right under the country; the unit itself)."""
    chain = _chain(unit)
    parent = chain[1] if len(chain) > 2 else None  # the country itself is not a governing body
    return (_body_name(parent) if parent is not None else None), _body_name(unit)


def place_name(unit) -> str:
    """Where the document is issued: the province (the unit right under the country) without
    its "Tỉnh"/"Thành phố" prefix; the unit's own name for the country itself."""
    chain = _chain(unit)
    place = nfc((chain[-2] if len(chain) >= 2 else unit).name_vi)
    for prefix in _PLACE_PREFIXES:
        if place.startswith(prefix) and len(place) > len(prefix):
            return place[len(prefix):]
    return place


def date_line(place: str, when: datetime) -> str:
    """``Quảng Trị, ngày 05 tháng 01 năm 2026``: as Nghị định 30/2020/NĐ-CP writes it, a day
    below 10 and the months January and February with a leading zero."""
    local = when.astimezone(LOCAL_ZONE)
    month = f"{local.month:02d}" if local.month < 3 else str(local.month)
    return _("%(place)s, day %(day)s month %(month)s year %(year)s", place=place, day=f"{local.day:02d}",
             month=month, year=local.year)


def _centred(pdf: FPDF, x: float, w: float, text: str, size: float, style: str = "", h: float | None = None) -> None:
    pdf.set_font(FONT, style, size)
    pdf.set_text_color(*INK)
    pdf.set_x(x)
    pdf.multi_cell(w, h or size * 0.3528 * 1.3, nfc(text), align="C", new_x="LEFT", new_y="NEXT")


def _rule(pdf: FPDF, x: float, w: float, length: float) -> None:
    y = pdf.get_y() + 0.6
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.25)
    pdf.line(x + (w - length) / 2, y, x + (w + length) / 2, y)


def _official_header(pdf: FPDF, unit, generated_at: datetime, date_from, date_to) -> None:
    """The first page's head: issuing body | national motto, the place and date, the title."""
    left_w, right_w = 78.0, WIDTH - 78.0
    left_x, right_x = MARGIN, MARGIN + left_w
    top = pdf.get_y()
    governing, own = issuing_body(unit)
    pdf.set_y(top)
    if governing:
        _centred(pdf, left_x, left_w, governing, 9.5)
    _centred(pdf, left_x, left_w, own, 9.5, "B")
    _rule(pdf, left_x, left_w, 22)
    pdf.set_y(pdf.get_y() + 2.5)
    _centred(pdf, left_x, left_w, _("No.:        /BC"), 9)
    left_end = pdf.get_y()
    pdf.set_y(top)
    _centred(pdf, right_x, right_w, _("SOCIALIST REPUBLIC OF VIET NAM"), 10, "B")
    motto = _("Independence - Freedom - Happiness")
    _centred(pdf, right_x, right_w, motto, 10.5, "B")
    pdf.set_font(FONT, "B", 10.5)
    _rule(pdf, right_x, right_w, pdf.get_string_width(nfc(motto)))
    pdf.set_y(pdf.get_y() + 2.5)
    pdf.set_font(FONT, "I", 9.5)
    pdf.set_x(right_x)
    pdf.cell(right_w, 5, nfc(date_line(place_name(unit), generated_at)), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(left_end, pdf.get_y()) + 6)
    _centred(pdf, MARGIN, WIDTH, _("REPORT"), 14, "B", 6.5)
    _centred(pdf, MARGIN, WIDTH, _("Results of the satisfaction survey at %(unit)s", unit=nfc(unit.name_vi)), 11.5,
             "B", 5.5)
    _centred(pdf, MARGIN, WIDTH, _("(from %(first)s to %(last)s)", first=t.day(date_from), last=t.day(date_to)),
             10, "I", 5)
    pdf.set_y(pdf.get_y() + 1)
    _rule(pdf, MARGIN, WIDTH, 40)
    pdf.set_y(pdf.get_y() + 6)


def _signature(pdf: FPDF, signer: str) -> None:
    """The end of the document: the recipients on the left, the signature on the right."""
    height = 48.0
    if _room(pdf) < height:
        pdf.add_page()
    pdf.ln(6)
    top = pdf.get_y()
    left_w, right_w = 80.0, 80.0
    right_x = MARGIN + WIDTH - right_w
    pdf.set_xy(MARGIN, top)
    pdf.set_font(FONT, "BI", 9)
    pdf.set_text_color(*INK)
    pdf.cell(left_w, 4.5, nfc(_("Recipients:")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 8)
    for line in (_("- As above;"), _("- Filed: Records.")):
        pdf.set_x(MARGIN)
        pdf.cell(left_w, 4, nfc(line), new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(top)
    _centred(pdf, right_x, right_w, _("PREPARED BY"), 10, "B", 5)
    _centred(pdf, right_x, right_w, _("(Signature, full name)"), 9, "I", 4.5)
    pdf.set_y(pdf.get_y() + 24)
    _centred(pdf, right_x, right_w, signer, 10, "B", 5)


def _scope_line(view: ReportView) -> str:
    f = view.filters
    channels = ", ".join(t.channel_label(c) for c in f.channels) if f.channels else _("all channels")
    suspect = _("suspect responses included") if f.include_suspect else _("suspect responses left out")
    campaign = _("campaign no. %(id)s", id=f.campaign_id) if f.campaign_id else _("all campaigns")
    return f"{channels} · {suspect} · {campaign}"


def _headline(pdf: FPDF, report: Mapping[str, Any]) -> None:
    index = report["index"]
    unit = index.get("unit")
    y0 = pdf.get_y()
    height = 34.0
    pdf.set_fill_color(*PALE)
    pdf.rect(MARGIN, y0, WIDTH, height, style="F")
    pdf.set_xy(MARGIN + 4, y0 + 3)
    pdf.set_font(FONT, "", 8.5)
    pdf.set_text_color(*GREY)
    pdf.cell(60, 4, nfc(t.index_name(report["instrument"]["method"])))
    pdf.set_xy(MARGIN + 4, y0 + 8)
    pdf.set_font(FONT, "B", 26)
    pdf.set_text_color(*BLUE)
    big = t.value(index.get("value"), unit)
    if unit == "points" and index.get("max"):
        big += f" / {index['max']}"
    pdf.cell(60, 12, nfc(big))
    pdf.set_xy(MARGIN + 4, y0 + 21)
    pdf.set_font(FONT, "", 8.5)
    pdf.set_text_color(*INK)
    n_text = _("n = %(n)s responses", n=t.count(index.get("n")))
    if index.get("low_n"):
        n_text += " · " + _("low n")
    pdf.multi_cell(62, 4, nfc(_("%(level)s interval %(interval)s", level="95%",
                                interval=t.interval(index.get("low"), index.get("high"), unit)) + "\n" + n_text),
                   align="L")
    lines = [
        (_("Change from the previous period"), t.change_sentence(report.get("change"))),
        (_("Trend"), t.trend_sentence(report.get("trend_test"), unit)),
    ]
    if unit == "points" and index.get("grade"):
        lines.insert(0, (_("Grade"), index["grade"].get("vi", "")))
    y = y0 + 3
    for label, text in lines:
        pdf.set_xy(MARGIN + 72, y)
        pdf.set_font(FONT, "B", 8.5)
        pdf.set_text_color(*GREY)
        pdf.cell(WIDTH - 76, 4, nfc(label))
        pdf.set_xy(MARGIN + 72, y + 4.2)
        pdf.set_font(FONT, "", 9)
        pdf.set_text_color(*INK)
        pdf.multi_cell(WIDTH - 76, 4.2, nfc(text), align="L")
        y = pdf.get_y() + 1.5
    pdf.set_y(max(y0 + height, y) + 4)


def build_report_pdf(view: ReportView, charts: Mapping[str, bytes], *, generated_at: datetime, generated_by: str,
                     accountability: Mapping[str, Any] | None = None, signer: str | None = None) -> bytes:
    """The PDF of ``view`` with its ``charts`` (name → PNG), in Vietnamese, laid out as an
    administrative document (Nghị định 30/2020/NĐ-CP): issuing body and national motto, place
    and date, title, and at the end the recipients and the signature of ``signer`` (the
    official's full name; ``generated_by`` when not given)."""
    with force_locale("vi"):
        return _build(view, charts, generated_at, generated_by, accountability, signer or generated_by)


def close_fonts(pdf: FPDF) -> None:
    """Close the font files fpdf2 opened (it closes only the fonts a document used, when it
    writes it): a font left open would be closed, with a ResourceWarning, by the garbage
    collector."""
    for font in pdf.fonts.values():
        closer = getattr(font, "close", None)
        if closer is not None:
            closer()


def _build(view: ReportView, charts: Mapping[str, bytes], generated_at: datetime, generated_by: str,
           accountability: Mapping[str, Any] | None, signer: str) -> bytes:
    report, definition, unit, f = view.report, view.definition, view.unit, view.filters
    title = definition["title"]["vi"]
    period = f"{t.day(f.date_from)} – {t.day(f.date_to)}"
    heading = _("Satisfaction report")
    pdf = _new_pdf(f"{heading} – {unit.name_vi} – {period}")
    pdf.header_text = f"{heading} · {unit.name_vi} · {period}"
    when = generated_at.astimezone(LOCAL_ZONE).strftime("%d/%m/%Y %H:%M")
    pdf.footer_text = _("Made on %(when)s (Viet Nam time) by %(who)s · Hài Lòng", when=when, who=generated_by)
    pdf.add_page()

    _official_header(pdf, unit, generated_at, f.date_from, f.date_to)
    code_word = _("code")
    _text(pdf, unit.path + (f" · {code_word} {unit.code}" if unit.code else ""), size=8.5, color=GREY, gap=2)
    rows = [
        [_("Survey"), title],
        [_("Period"), period + " · " + (_("trend by month") if f.period == "month" else _("trend by quarter"))],
        [_("Counted"), _scope_line(view)],
        [_("Responses"), t.count(report["responses"])],
        [_("Survey versions"), ", ".join(str(v) for v in report["instrument"]["versions"])],
    ]
    behind = t.backlog_sentence(view.backlog)
    if behind:
        rows.append([_("Not counted yet"), behind])
    pdf.set_font(FONT, "", 9)
    for label, value in rows:
        pdf.set_x(MARGIN)
        pdf.set_font(FONT, "B", 9)
        pdf.set_text_color(*GREY)
        pdf.cell(38, 5, nfc(label))
        pdf.set_font(FONT, "", 9)
        pdf.set_text_color(*INK)
        pdf.multi_cell(WIDTH - 38, 5, nfc(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    # Headline
    _headline(pdf, report)
    unit_kind = report["index"].get("unit")

    # Ministry of Health measures
    if report.get("moh"):
        moh = report["moh"]
        _heading(pdf, _("Ministry of Health measures"))
        rows = [[_("Measure"), _("Value"), _("%(level)s interval", level="95%"), "n"]]
        for key, _long, label, kind in t.moh_measures():
            m = moh.get(key)
            if m:
                rows.append([label, t.value(m["value"], kind, 1 if kind else 2),
                             t.interval(m["low"], m["high"], kind, 1 if kind else 2), t.count(m["n"])])
        _table(pdf, rows, (100, 25, 35, 20), ("LEFT", "RIGHT", "RIGHT", "RIGHT"))

    # Factors
    if report["factors"]:
        _heading(pdf, _("Factors"))
        rows = [[_("Factor"), _("Index"), _("%(level)s interval", level="95%"), "n"]]
        for fct in report["factors"]:
            rows.append([fct["name"]["vi"], t.value(fct["index"], unit_kind if unit_kind == "share" else None, 1 if
                                                    unit_kind == "share" else 2),
                         t.interval(fct["low"], fct["high"], unit_kind), t.count(fct["n"])])
        _table(pdf, rows, (100, 25, 35, 20), ("LEFT", "RIGHT", "RIGHT", "RIGHT"))

    # Trend
    if report["trend"]:
        _heading(pdf, _("Trend"), need=_image_need(charts.get("trend"), 80, 20))
        _text(pdf, _("Trend: %(sentence)s.", sentence=t.trend_sentence(report.get("trend_test"), unit_kind)), size=9)
        if "trend" in charts:
            _image(pdf, charts["trend"], max_height=80)
        rows = [[_("Month or quarter"), "n", _("Index"), _("%(level)s interval", level="95%"), ""]]
        for p in report["trend"]:
            rows.append([t.period_label(p["period"]), t.count(p["n"]), t.value(p["index"], unit_kind),
                         t.interval(p["low"], p["high"], unit_kind),
                         ", ".join(x for x in (_("partial") if p.get("partial") else "",
                                               _("low n") if p["low_n"] and p["n"] else "") if x)])
        _table(pdf, rows, (30, 20, 30, 50, 50), ("LEFT", "RIGHT", "RIGHT", "RIGHT", "LEFT"), size=8)

    # Questions
    _heading(pdf, _("Every question"), need=_image_need(charts.get("likert"), 200))
    if "likert" in charts:
        _image(pdf, charts["likert"], max_height=200)
    rows = [["#", _("Question"), "n", _("Mean (%(level)s interval)", level="95%"), _("Satisfied (%(level)s interval)", level="95%")]]
    for i, q in enumerate(report["questions"], start=1):
        if q["type"] in ("single", "multi"):
            counts = "; ".join(f"{k}: {v}" for k, v in q["counts"].items())
            mean, satisfied = counts, ""
        else:
            mean = (f"{t.number(q['mean'], 2)} ({t.interval(q['mean_low'], q['mean_high'], None, 2)})"
                    if q["mean"] is not None else "—")
            satisfied = (f"{t.percent(q['satisfied'])} ({t.interval(q['satisfied_low'], q['satisfied_high'])})"
                         if q["satisfied"] is not None else "—")
        n = t.count(q["n"]) + (" " + _("(low n)") if q.get("low_n") else "")
        rows.append([str(i), q["text"]["vi"], n, mean, satisfied])
    _table(pdf, rows, (8, 82, 18, 36, 36), ("RIGHT", "LEFT", "RIGHT", "RIGHT", "RIGHT"), size=7.5)

    # Units below
    if report["units"]:
        _heading(pdf, _("Units below"), need=60)
        rows = [[_("Rank"), _("Unit"), "n", _("Index (%(level)s interval)", level="95%"), _("Shrunken"), _("Funnel")]]
        ordered = sorted(report["units"], key=lambda u: (u["rank"] is None, u["rank"] or 0, u["name"]["vi"]))
        digits = 1 if unit_kind == "share" else 2
        for u in ordered:
            index = (f"{t.value(u['index'], unit_kind, digits)} ({t.interval(u['low'], u['high'], unit_kind, digits)})"
                     if u["index"] is not None else "—")
            rank = "—"
            if u["rank"]:
                rank = str(u["rank"]) + (f" ({u['rank_low']}–{u['rank_high']})" if u["rank_low"] != u["rank_high"]
                                         else "")
            rows.append([rank, u["name"]["vi"],
                         t.count(u["n"]) + (" " + _("(low n)") if u["low_n"] and u["n"] else ""), index,
                         t.value(u["shrunk"], unit_kind, digits), t.funnel_label(u["funnel"])])
        _table(pdf, rows, (18, 54, 20, 42, 18, 28), ("RIGHT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "LEFT"), size=8)
        cmp = report.get("comparison")
        if cmp:
            if not cmp["detectable"]:
                _text(pdf, _("No difference between these units can be told apart from chance (heterogeneity test, %(p)s), so they are not ranked.", p=t.p_value(cmp["p"])), size=8.5)
            _text(pdf, _("Do the units differ more than chance? Heterogeneity test: Q = %(q)s (df = %(dof)s), %(p)s.", q=t.number(cmp["q"], 1), dof=cmp["dof"], p=t.p_value(cmp["p"])),
                  size=8.5, color=GREY)
        for name in ("funnel", "factors_by_unit"):
            if name in charts and sum(1 for u in report["units"] if u["n"]) >= 2:
                _image(pdf, charts[name], max_height=110)

    if "hour_weekday" in charts and unit.is_service_point:
        _heading(pdf, _("Time of day and weekday"), need=70)
        _text(pdf, _("Satisfied share by local hour and weekday; grey cells had no responses."), size=8.5, color=GREY)
        _image(pdf, charts["hour_weekday"], max_height=80)

    # Petitions
    if accountability:
        _heading(pdf, _("Petitions: accountability"), need=50)
        rows = [[_("Unit"), _("Received"), _("Answered"), _("On time"), _("Share on time (%(level)s interval)", level="95%"),
                 _("Median working days"), _("Overdue")]]

        def fig_row(name: str, fig: Mapping[str, Any]) -> list[str]:
            on_time = fig.get("on_time")
            share = (f"{t.percent(on_time['share'], 0)} ({t.interval(on_time['low'], on_time['high'], 'share', 0)}, "
                     f"n = {on_time['n']})" if on_time else "—")
            return [name, t.count(fig["received"]), t.count(fig["answered"]), t.count(fig["answered_on_time"]),
                    share, t.number(fig["median_working_days"], 1), t.count(fig["overdue_open"])]

        for child in accountability.get("units", []):
            rows.append(fig_row(child["unit"]["name"]["vi"], child["figures"]))
        rows.append(fig_row(accountability["unit"]["name"]["vi"], accountability["figures"]))
        _table(pdf, rows, (48, 18, 18, 18, 40, 20, 18), ("LEFT",) + ("RIGHT",) * 6, size=7.5)

    # Dossiers from the one-stop software: response rates and the portal's figures
    dz = report.get("dossiers")
    if dz and dz["returned"]:
        _heading(pdf, _("Dossiers served and rated"), need=60)
        _text(pdf, _("%(returned)s dossiers returned in the period, %(rated)s of them rated through their own "
                     "evaluation code: a response rate of %(rate)s.", returned=t.count(dz["returned"]),
                     rated=t.count(dz["rated"]), rate=t.value(dz["response_rate"], "share", 1)), size=8.5)
        portal = dz["portal"]

        def two(value) -> str:
            return _("N/A") if value is None else f"{value:.2f}%"

        _table(pdf, [[_("The national portal’s figures (Decision 766/QĐ-TTg)"), ""],
                     [_("Dossier satisfaction (portal formula)"), two(portal["satisfaction"])],
                     [_("Returned on time, waiting for the citizen left out (portal formula)"), two(portal["on_time"])],
                     [_("Our satisfaction index (this survey, above)"),
                      t.value(report["index"].get("value"), unit_kind)]],
               (140, 40), ("LEFT", "RIGHT"), size=8)
        _text(pdf, _("The portal’s figures count dossiers: 100%% minus the share of the %(n)s dossiers returned late "
                     "and the share with a petition or a “not satisfied” rating; a dossier nobody rated counts as "
                     "satisfied unless it was late. Our index counts the people who answered, with its interval. "
                     "They answer different questions, so they can differ.", n=t.count(portal["resolved"])),
              size=8, color=GREY)
        for title, groups in ((_("By procedure"), dz["by_procedure"]), (_("By sector"), dz["by_sector"])):
            rows = [[title, _("Dossiers returned"), _("Late"), _("Rated"), _("Response rate"),
                     _("Satisfied (of those rated)")]]
            rows += [[b["name"], t.count(b["returned"]), t.count(b["late"]), t.count(b["rated"]),
                      t.value(b["response_rate"], "share", 1), t.value(b["satisfied_share"], "share", 1)]
                     for b in groups]
            _table(pdf, rows, (70, 22, 18, 18, 24, 28), ("LEFT",) + ("RIGHT",) * 5, size=7.5)

    # Methods
    _heading(pdf, _("How the numbers were computed"), need=50)
    for paragraph in t.methods_paragraphs(report["instrument"]["method"]):
        _text(pdf, paragraph, size=8.5, gap=1.5)
    alphas = [r for r in report.get("reliability", []) if r.get("alpha") is not None]
    if alphas:
        names = {fct["key"]: fct["name"]["vi"] for fct in report["factors"]}
        _text(pdf, _("Reliability (Cronbach’s alpha) of each factor: %(list)s. Around 0.7 or more means the "
                     "factor’s criteria measure one thing together.",
                     list="; ".join(f"{names.get(r['factor'], r['factor'])} {t.number(r['alpha'], 2)} "
                                    f"(n = {t.count(r['n'])})" for r in alphas)), size=8.5)
    _signature(pdf, signer)
    try:
        return bytes(pdf.output())
    finally:
        close_fonts(pdf)
