"""One error shape: JSON for clients that want JSON, a page in the visitor's language
otherwise. A 500 rolls the session back so nothing is half-written."""
from __future__ import annotations

from typing import NoReturn

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .extensions import db


class AppError(Exception):
    """An error with a message written for the person who sees it."""

    def __init__(self, status: int, message: str, title: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.title = title


def abort_with(status: int, message: str, title: str | None = None) -> NoReturn:
    raise AppError(status, message, title)


def default_message(status: int) -> tuple[str, str]:
    messages = {
        400: (_("Bad request"), _("The request could not be understood. Please go back and try again.")),
        403: (_("Not allowed"), _("You do not have permission to see this page.")),
        404: (_("Not found"), _("We could not find this page. Please check the address or the QR code.")),
        405: (_("Not allowed"), _("This address does not accept that kind of request.")),
        410: (_("No longer available"), _("This page is no longer available.")),
        413: (_("Too large"), _("What you sent is too large. Please shorten it and try again.")),
        422: (_("Please check your answers"), _("Some answers need your attention.")),
        429: (_("Too many requests"), _("You have sent too many requests in a short time. Please wait a moment and try again.")),
        500: (_("Something went wrong"), _("Something went wrong on our side. Nothing was saved; please try again later.")),
        503: (_("Temporarily unavailable"), _("The service is temporarily unavailable. Please try again later.")),
    }
    return messages.get(status, (_("Error"), _("The request could not be completed.")))


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.path == "/healthz":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, message: str | None = None, title: str | None = None):
    default_title, default_text = default_message(status)
    title = title or default_title
    message = message or default_text
    if wants_json():
        response = jsonify({"error": {"status": status, "title": title, "message": message}})
        response.status_code = status
        return response
    return render_template("error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(AppError)
    def handle_app_error(exc: AppError):
        return error_response(exc.status, exc.message, exc.title)

    @app.errorhandler(CSRFError)
    def handle_csrf(exc: CSRFError):
        return error_response(400, _("This form has expired or was not sent from our page. Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        status = exc.code or 500
        return error_response(status)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500)
