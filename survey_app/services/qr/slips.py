"""Cut-out slips of one-time codes: ten per A4 page (2 × 5, cut along the dashed lines),
each with its QR, the code to type and short instructions in Vietnamese."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _

from ...models import Campaign, Unit
from .encoding import code_entry_url, normalize_base_url, short_url, token_url
from .printing import GREY, MONO, draw_qr, new_pdf, nfc, text_block

__all__ = ["SLIPS_PER_PAGE", "build_slips_pdf", "valid_through"]

PAGE_W, PAGE_H = 210.0, 297.0
COLUMNS, ROWS = 2, 5
SLIPS_PER_PAGE = COLUMNS * ROWS
SLIP_W, SLIP_H = PAGE_W / COLUMNS, PAGE_H / ROWS
PAD = 5.0      # keeps everything inside a printer's unprintable margin
QR_SIDE = 40.0


def valid_through(expires_at: datetime | None, zone: str = "Asia/Ho_Chi_Minh") -> str | None:
    """The last local day a code works, ``dd/mm/yyyy`` (``expires_at`` is exclusive)."""
    if expires_at is None:
        return None
    return (expires_at - timedelta(microseconds=1)).astimezone(ZoneInfo(zone)).strftime("%d/%m/%Y")


def _clip(text: str, limit: int) -> str:
    text = nfc(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def build_slips_pdf(codes: list[str], campaign: Campaign, unit: Unit, *, base_url: str,
                    expires_at: datetime | None = None, zone: str = "Asia/Ho_Chi_Minh") -> bytes:
    """A PDF of cut-out slips for ``codes`` (as :func:`tokens.issue_tokens` returns them)."""
    base_url = normalize_base_url(base_url)
    through = valid_through(expires_at, zone)
    with force_locale("vi"):
        heading = _("Satisfaction survey")
        how = _("Scan the QR code with your phone, or open %(url)s and type the code:",
                url=short_url(code_entry_url(base_url)))
        once = _("Each code can be used only once. Your answers are anonymous.")
        until = _("Valid through %(date)s.", date=through) if through else ""
    pdf = new_pdf((PAGE_W, PAGE_H), f"{heading} – {unit.name_vi}")
    for index, code in enumerate(codes):
        slot = index % SLIPS_PER_PAGE
        if slot == 0:
            pdf.add_page()
            _cut_lines(pdf)
        x = (slot % COLUMNS) * SLIP_W
        y = (slot // COLUMNS) * SLIP_H
        draw_qr(pdf, token_url(base_url, code), x + PAD - 1, y + (SLIP_H - QR_SIDE) / 2, QR_SIDE, level="Q")
        tx, tw = x + PAD + QR_SIDE + 1, SLIP_W - QR_SIDE - 2 * PAD - 1
        ty = text_block(pdf, tx, y + PAD, tw, _clip(unit.name_vi, 70), size=8.5, bold=True, align="L", line=1.15)
        ty = text_block(pdf, tx, ty, tw, _clip(f"{heading} · {campaign.name}", 90), size=6.5, color=GREY,
                        align="L", line=1.15)
        ty = text_block(pdf, tx, ty + 1.2, tw, how, size=7, align="L", line=1.2)
        ty = text_block(pdf, tx, ty + 0.8, tw, code, size=11, bold=True, align="L", family=MONO, line=1.3)
        text_block(pdf, tx, ty + 0.5, tw, f"{once} {until}".strip(), size=6.3, color=GREY, align="L", line=1.2)
    return bytes(pdf.output())


def _cut_lines(pdf) -> None:
    pdf.set_draw_color(150, 150, 150)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=2, gap=1.5)
    for column in range(1, COLUMNS):
        pdf.line(column * SLIP_W, 0, column * SLIP_W, PAGE_H)
    for row in range(1, ROWS):
        pdf.line(0, row * SLIP_H, PAGE_W, row * SLIP_H)
    pdf.set_dash_pattern()
