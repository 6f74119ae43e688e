"""A service point's QR code as SVG and PNG (error correction H), for screens and for
people who make their own posters. The QR holds ``PUBLIC_BASE_URL/s/<code>``, or this
request's own address when the setting is empty."""
from __future__ import annotations

from flask import Response, current_app, request
from flask_babel import gettext as _

from ..errors import abort_with
from ..extensions import db
from ..services.officials import lookup
from ..services.qr import encoding as qr
from . import bp


def public_base_url() -> str:
    return qr.normalize_base_url(current_app.config.get("PUBLIC_BASE_URL") or request.url_root)


def _point_url(code: str) -> str:
    point = lookup.find_point(db.session, code)
    if point is None or point.code is None:
        abort_with(404, _("There is no survey at this address. Please check the code on the poster."),
                   _("Survey not found"))
    return qr.survey_url(public_base_url(), point.code)


def _image(body: bytes | str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/s/<code>/qr.svg")
def qr_svg(code: str):
    return _image(qr.qr_svg(_point_url(code), level="H"), "image/svg+xml")


@bp.get("/s/<code>/qr.png")
def qr_png(code: str):
    return _image(qr.qr_png(_point_url(code), level="H"), "image/png")
