"""QR codes and the public addresses they hold.

A service point's poster QR holds ``PUBLIC_BASE_URL + /s/<code>``; a one-time code's QR
holds ``PUBLIC_BASE_URL + /v/<code>``. The QR matrix comes from ``qrcode``; the SVG, the
PNG and the vector drawing in PDFs (:mod:`.printing`) are all drawn from that one matrix.
"""
from __future__ import annotations

import io
from urllib.parse import urlsplit

import qrcode
import qrcode.constants
from PIL import Image

__all__ = [
    "LEVELS", "normalize_base_url", "survey_url", "token_url", "code_entry_url", "short_url",
    "qr_matrix", "qr_svg", "qr_png",
]

LEVELS = {"Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}
QUIET_ZONE = 4  # modules of white around the symbol, as ISO/IEC 18004 asks


def normalize_base_url(raw: str | None) -> str:
    """``https://host[:port][/prefix]`` without a trailing slash, or ``ValueError``."""
    value = (raw or "").strip().rstrip("/")
    if not value:
        raise ValueError("the public base URL is empty")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"{raw!r} is not a public base URL like https://hailong.example.gov.vn")
    if any(c.isspace() for c in value):
        raise ValueError(f"{raw!r} contains spaces")
    return value


def survey_url(base_url: str, code: str) -> str:
    """The address on a service point's poster."""
    return f"{base_url}/s/{code}"


def token_url(base_url: str, formatted_code: str) -> str:
    """The address behind a one-time code's QR."""
    return f"{base_url}/v/{formatted_code}"


def code_entry_url(base_url: str) -> str:
    """The page where a code is typed by hand."""
    return f"{base_url}/v"


def short_url(url: str) -> str:
    """What to print for people who type the address: no ``https://`` (browsers add it).

    A plain ``http://`` address keeps its scheme, since a browser would try https first.
    """
    return url.removeprefix("https://")


def qr_matrix(data: str, level: str = "Q", border: int = QUIET_ZONE) -> list[list[bool]]:
    """The QR symbol for ``data`` as rows of dark (True) / light modules, quiet zone included."""
    if level not in LEVELS:
        raise ValueError(f"error correction level must be one of {', '.join(LEVELS)}")
    code = qrcode.QRCode(error_correction=LEVELS[level], border=border)
    code.add_data(data)
    code.make(fit=True)
    return [list(map(bool, row)) for row in code.get_matrix()]


def dark_runs(matrix: list[list[bool]]):
    """Yield ``(row, column, length)`` for each horizontal run of dark modules."""
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                yield r, start, c - start
            else:
                c += 1


def qr_svg(data: str, level: str = "Q", module_px: int = 8) -> str:
    """A standalone SVG: one path of dark runs on a white square, crisp at any size."""
    matrix = qr_matrix(data, level)
    n = len(matrix)
    path = "".join(f"M{c} {r}h{length}v1h-{length}z" for r, c, length in dark_runs(matrix))
    size = n * module_px
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" width="{size}" height="{size}" '
        f'shape-rendering="crispEdges"><rect width="{n}" height="{n}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/></svg>'
    )


def qr_png(data: str, level: str = "Q", module_px: int = 10) -> bytes:
    """A PNG with ``module_px`` pixels per module (1-bit, small)."""
    if not 1 <= module_px <= 40:
        raise ValueError("module_px must be between 1 and 40")
    matrix = qr_matrix(data, level)
    n = len(matrix)
    image = Image.new("1", (n, n), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    image = image.resize((n * module_px, n * module_px), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
