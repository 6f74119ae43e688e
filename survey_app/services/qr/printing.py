"""Shared PDF plumbing for posters and code slips: fonts that carry Vietnamese, and QR
codes drawn as vector modules (sharp at any printer resolution).

DejaVu Sans ships with matplotlib, so nothing extra is installed and every Vietnamese
letter (precomposed, NFC) has a glyph.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF

from .encoding import dark_runs, qr_matrix

FONT = "DejaVu"
MONO = "DejaVuMono"
INK = (27, 31, 35)
BLUE = (11, 83, 148)
GREY = (87, 96, 106)


@lru_cache(maxsize=1)
def font_dir() -> Path:
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    if not (path / "DejaVuSans.ttf").is_file():  # pragma: no cover - a broken matplotlib install
        raise RuntimeError(f"DejaVu Sans not found in {path}; reinstall matplotlib")
    return path


def new_pdf(page_format: tuple[float, float], title: str) -> FPDF:
    """A portrait PDF in millimetres with DejaVu Sans (regular, bold) and DejaVu Sans Mono
    bold registered, no automatic page breaks, and UTF-8 metadata."""
    pdf = FPDF(orientation="P", unit="mm", format=page_format)
    fonts = font_dir()
    pdf.add_font(FONT, "", fonts / "DejaVuSans.ttf")
    pdf.add_font(FONT, "B", fonts / "DejaVuSans-Bold.ttf")
    pdf.add_font(MONO, "B", fonts / "DejaVuSansMono-Bold.ttf")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(nfc(title))
    pdf.set_creator("Hài Lòng")
    pdf.set_lang("vi")
    return pdf


def nfc(text: str) -> str:
    """Text as DejaVu's precomposed glyphs expect it (input may arrive in NFD)."""
    return unicodedata.normalize("NFC", text)


def draw_qr(pdf: FPDF, data: str, x: float, y: float, size: float, level: str = "Q") -> float:
    """Draw the QR for ``data`` (quiet zone included) in a ``size`` mm square at (x, y).

    Returns the module size in mm. Each run of dark modules is one filled rectangle,
    overlapping the next row by a hair so no viewer shows seams between rows.
    """
    matrix = qr_matrix(data, level)
    module = size / len(matrix)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0, 0, 0)
    for r, c, length in dark_runs(matrix):
        pdf.rect(x + c * module, y + r * module, length * module, module * 1.02, style="F")
    return module


def text_block(pdf: FPDF, x: float, y: float, width: float, text: str, *, size: float,
               bold: bool = False, color: tuple[int, int, int] = INK, align: str = "C",
               line: float = 1.25, family: str = FONT) -> float:
    """Write wrapped text in a column; returns the y just below it."""
    pdf.set_font(family, "B" if bold else "", size)
    pdf.set_text_color(*color)
    pdf.set_xy(x, y)
    height = size * 0.3528 * line  # points to millimetres, times the line spacing
    pdf.multi_cell(width, height, nfc(text), align=align, new_x="LMARGIN", new_y="NEXT")
    return pdf.get_y()
