"""Printable posters: one page per service point, with the point's QR, the call to action
in Vietnamese with English below, and the short address for people who type it.

The officials' pages call :func:`build_posters_pdf` for the same download the
``flask posters`` command writes.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ...models import Unit
from ..officials.units import subtree
from .encoding import normalize_base_url, short_url, survey_url
from .printing import BLUE, GREY, draw_qr, new_pdf, text_block

__all__ = ["POSTER_SIZES", "PosterError", "build_posters_pdf", "service_points_under"]


class PosterError(ValueError):
    """Posters cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class PosterLayout:
    page: tuple[float, float]  # width, height in mm
    width: float       # mm
    height: float
    margin: float
    scale: float       # font sizes and gaps relative to A4
    qr_max: float      # the largest QR side, quiet zone included (mm)
    qr_min: float      # never smaller than this, even with a long unit name


# A QR is readable from about ten times its side: a 13 cm symbol (plus quiet zone) on
# A4 scans from well over 1 m. The A6 table tent is read from arm's length.
POSTER_SIZES = {
    "a4": PosterLayout((210, 297), 210, 297, 15, 1.0, 150, 115),
    "a6": PosterLayout((105, 148), 105, 148, 6, 0.5, 84, 62),
}

SERVICE_KIND = ("one_stop", "health", "education", "admin")


def service_points_under(session: Session, unit: Unit) -> list[Unit]:
    """The active service points in ``unit``'s subtree (the unit itself included), by path."""
    query = subtree(unit).where(Unit.is_service_point.is_(True), Unit.active.is_(True),
                                Unit.code.is_not(None)).order_by(Unit.path)
    return list(session.scalars(query))


def _texts(lang: str) -> dict[str, str]:
    with force_locale(lang):
        return {
            "brand": _("Satisfaction with public services"),
            "cta": _("Scan the QR code to tell us how satisfied you are"),
            "type": _("No camera? Type this address:"),
            "privacy": _("Anonymous · No app to install · No login"),
            "one_stop": _("Public administrative services"),
            "health": _("Health care"),
            "education": _("Education"),
            "admin": _("Public services"),
        }


def _ancestry(unit: Unit) -> str:
    """The two levels above the point, e.g. ``Phường 2 · Tỉnh Quảng Trị``."""
    names = []
    parent = unit.parent
    while parent is not None and parent.depth > 0 and len(names) < 2:
        names.append(parent.name_vi)
        parent = parent.parent
    return " · ".join(names)


def build_posters_pdf(session: Session, unit: Unit, *, base_url: str, size: str = "a4") -> bytes:
    """A PDF with one poster per active service point in ``unit``'s subtree.

    ``base_url`` is the public address the QR codes lead to (``PUBLIC_BASE_URL``, or the
    request's host on a web page); ``size`` is ``"a4"`` (wall poster) or ``"a6"`` (table
    tent). Raises :class:`PosterError` for an unknown size, a malformed base URL, or a
    unit with no service point below it.
    """
    layout = POSTER_SIZES.get(size)
    if layout is None:
        raise PosterError(f"poster size must be one of {', '.join(POSTER_SIZES)}, not {size!r}")
    try:
        base_url = normalize_base_url(base_url)
    except ValueError as exc:
        raise PosterError(str(exc)) from None
    points = service_points_under(session, unit)
    if not points:
        raise PosterError(f"{unit.path} has no active service point with a public code")
    vi, en = _texts("vi"), _texts("en")
    pdf = new_pdf(layout.page, f"Hài Lòng – {unit.name_vi}")
    for point in points:
        _poster_page(pdf, layout, point, survey_url(base_url, point.code or ""), vi, en)
    return bytes(pdf.output())


def _poster_page(pdf, layout: PosterLayout, point: Unit, url: str, vi: dict[str, str], en: dict[str, str]) -> None:
    s, m = layout.scale, layout.margin
    width = layout.width - 2 * m
    pdf.add_page()

    # Header band: the service's name, both languages.
    band = 22 * s
    pdf.set_fill_color(*BLUE)
    pdf.rect(0, 0, layout.width, band, style="F")
    text_block(pdf, m, 3.5 * s, width, "Hài Lòng", size=20 * s, bold=True, color=(255, 255, 255))
    text_block(pdf, m, 12.5 * s, width, f"{vi['brand']} · {en['brand']}", size=10 * s, color=(255, 255, 255))

    # Who is asking: the point, where it is, what service it gives.
    y = band + 7 * s
    ancestry = _ancestry(point)
    if ancestry:
        y = text_block(pdf, m, y, width, ancestry, size=12 * s, color=GREY)
    y = text_block(pdf, m, y + 1 * s, width, point.name_vi, size=24 * s, bold=True)
    if point.name_en and point.name_en != point.name_vi:
        y = text_block(pdf, m, y, width, point.name_en, size=12 * s, color=GREY)
    kind = point.kind if point.kind in SERVICE_KIND else "admin"
    y = text_block(pdf, m, y + 1 * s, width, f"{vi[kind]} · {en[kind]}", size=11 * s, color=GREY)

    # The call to action, Vietnamese first, English below.
    y = text_block(pdf, m, y + 5 * s, width, vi["cta"], size=22 * s, bold=True, color=BLUE)
    y = text_block(pdf, m, y + 1 * s, width, en["cta"], size=14 * s)

    # Footer first, so the QR takes whatever room is left between.
    footer_height = 33 * s
    bottom = layout.height - m - footer_height
    qr = max(layout.qr_min, min(layout.qr_max, bottom - y - 4 * s, width))
    draw_qr(pdf, url, (layout.width - qr) / 2, y + 2 * s, qr, level="H")

    y = max(y + 2 * s + qr, bottom) + 1 * s
    y = text_block(pdf, m, y, width, f"{vi['type']} · {en['type']}", size=11 * s, color=GREY)
    y = text_block(pdf, m, y, width, short_url(url), size=20 * s, bold=True)
    y = text_block(pdf, m, y + 2 * s, width, vi["privacy"], size=11 * s)
    text_block(pdf, m, y, width, en["privacy"], size=10 * s, color=GREY)
