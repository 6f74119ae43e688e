"""``/p/<unit>``: published results, in Vietnamese or English (``?lang=en``).

``<unit>`` is a service point's code (``/p/p2motcua``) or a unit's path without its outer
slashes (``/p/vn/qt/p2``), as on the petition form. ``?publication=<id>`` picks one
of the unit's releases (default: the latest period). A release shows the figures frozen
when it was published; withdrawn releases, comments and suspect responses are never
shown; every count under 10 is withheld, with whatever else would let it be worked out.
"""
from __future__ import annotations

import re

from flask import Response, render_template, request
from flask_babel import gettext as _

from ..errors import abort_with
from ..extensions import db
from ..i18n import current_language
from ..models import Publication, Unit
from ..services.officials import lookup
from ..services.petitions import verdicts
from ..services.petitions.labels import CATEGORY_LABELS
from ..services.reports import publication
from ..services.reports import text as report_text
from ..services.reports.views import chart_cache
from . import bp


_WORD_NUMBER = re.compile(r"(?<=\S) (?=[\d(])")


def keep_with_number(text: str) -> str:
    """``text`` with each space before a number made non-breaking, so that an interval
    ("khoảng 33,0% đến 49,4%") wraps only between its halves on a narrow screen, never one
    word a line."""
    return _WORD_NUMBER.sub("\u00a0", text)


@bp.context_processor
def results_context():
    return {**report_text.helpers(), "keep_with_number": keep_with_number, "category_labels": CATEGORY_LABELS}


def _unit(ref: str) -> Unit:
    unit = lookup.find_unit(db.session, ref)
    if unit is None or not unit.active:
        abort_with(404, _("There is no unit at this address."), _("Unit not found"))
    return unit


def _ref(unit: Unit) -> str:
    return unit.code or unit.path.strip("/")


def _chosen(unit: Unit, pubs: list[Publication]) -> Publication | None:
    raw = request.args.get("publication", "")
    if not raw:
        return pubs[0] if pubs else None
    chosen = next((p for p in pubs if raw.isascii() and raw.isdigit() and p.id == int(raw)), None)
    if chosen is None:
        abort_with(404, _("These results are not published (or no longer)."), _("Not published"))
    return chosen


@bp.get("/p/<path:ref>")
def unit_results(ref: str):
    unit = _unit(ref)
    pubs = publication.publications_of(db.session, unit)
    pub = _chosen(unit, pubs)
    # The published answers with their verdict counts (small counts withheld): live, not frozen.
    answers = verdicts.published_answers(db.session, unit)
    if pub is None:
        return render_template("public_results/results.html", unit=unit, pub=None, pubs=[], ref=_ref(unit),
                               answers=answers)
    result = publication.public_results(pub)
    trend_chart = any(not p["withheld"] and p["index"] is not None for p in result.results["trend"])
    return render_template("public_results/results.html", unit=unit, pub=pub, pubs=pubs, ref=_ref(unit),
                           res=result.results, title=result.title, figures=result.accountability,
                           trend_chart=trend_chart, units_below=_below(unit), answers=answers)


def _below(unit: Unit) -> dict[str, str]:
    """path → ref of the units below that have results of their own."""
    from sqlalchemy import select

    rows = db.session.execute(select(Unit.path, Unit.code).join(Publication, Publication.unit_id == Unit.id)
                              .where(Unit.parent_id == unit.id, Publication.unpublished_at.is_(None),
                                     Publication.figures.is_not(None))).all()
    return {path: code or path.strip("/") for path, code in rows}


@bp.get("/p/<path:ref>/trend.svg")
def trend(ref: str):
    """The published trend (withheld periods left as gaps)."""
    from analysis.charts import to_svg, trend_chart

    unit = _unit(ref)
    pub = _chosen(unit, publication.publications_of(db.session, unit))
    if pub is None:
        abort_with(404, _("These results are not published (or no longer)."), _("Not published"))
    lang = current_language()
    key = f"public-trend:{pub.id}:{lang}"  # a release never changes

    def draw() -> dict[str, bytes]:
        res = publication.public_results(pub).results
        points = res["trend"]
        if not any(p["index"] is not None for p in points):
            return {}
        nan = float("nan")
        values = [nan if p["index"] is None else p["index"] for p in points]
        low = [nan if p["low"] is None else p["low"] for p in points]
        high = [nan if p["high"] is None else p["high"] for p in points]
        axes = trend_chart([p["period"] for p in points], values, low, high,
                           percent=(res["index"] or {}).get("unit") == "share", lang=lang)
        return {"trend": to_svg(axes)}

    bundle = chart_cache().get_or_make(key, draw)
    if "trend" not in bundle:
        abort_with(404, _("There is no trend to draw for these results."))
    response = Response(bundle["trend"], mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response

