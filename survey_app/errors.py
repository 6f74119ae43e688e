"""One error shape: JSON for clients that want JSON, a page in the visitor's language
otherwise. A 500 rolls the session back so nothing is half-written.

A database outage (the connection refused, dropped or timed out) is not a bug: it answers
503 with ``Retry-After`` (``DB_RETRY_AFTER_SECONDS``) and the page "temporarily
unavailable", which promises nothing about what was saved (a retried form is stored once:
the form token is its idempotency key). The log gets one line per outage burst
(:class:`OutageLog`), not a traceback per request.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import NoReturn, Sequence

from flask import Flask, g, jsonify, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from .extensions import db, login
from .i18n import current_language
from .services.collect import surveys

#: What the database raises when it cannot be reached: connection refused or dropped,
#: server restarting, pool exhausted. (SQLite's "database is locked" is one too.)
OUTAGE_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)


@dataclass(frozen=True)
class NextStep:
    """A link an error page offers: where the person can go from here."""

    label: str
    url: str


class AppError(Exception):
    """An error with a message written for the person who sees it, and optionally the next
    steps to offer (links; without them the page offers the home page)."""

    def __init__(self, status: int, message: str, title: str | None = None,
                 links: Sequence[NextStep] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.title = title
        self.links = list(links) if links else None


def abort_with(status: int, message: str, title: str | None = None,
               links: Sequence[NextStep] | None = None) -> NoReturn:
    raise AppError(status, message, title, links)


def home_step() -> NextStep:
    """The landing page (find a place, type a code, follow a petition)."""
    return NextStep(_("Go to the home page"), url_for("public.index", lang=current_language()))


def default_links() -> list[NextStep]:
    """What every error page offers unless told otherwise: an official's overview when
    logged in, and the home page."""
    steps = []
    try:
        if current_user.is_authenticated:
            steps.append(NextStep(_("Back to the overview"), url_for("admin.dashboard")))
    except Exception:  # noqa: BLE001  (the account cannot be read, e.g. the database is down: no menu link)
        pass
    steps.append(home_step())
    return steps


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


def error_response(status: int, message: str | None = None, title: str | None = None,
                   problems: list[dict] | None = None, links: Sequence[NextStep] | None = None):
    """The error in the one shape; ``problems`` (JSON only) names each problem of the input,
    ``{"field", "message"[, "index"]}``, under ``error.problems``. The page (never the JSON)
    offers ``links`` as the next steps, the home page by default (:func:`default_links`);
    it never shows the status code, which stays the response's."""
    default_title, default_text = default_message(status)
    title = title or default_title
    message = message or default_text
    if wants_json():
        body = {"status": status, "title": title, "message": message}
        if problems is not None:
            body["problems"] = problems
        response = jsonify({"error": body})
        response.status_code = status
        return response
    return render_template("error.html", title=title, message=message,
                           links=list(links) if links else default_links()), status


class OutageLog:
    """One log line per burst of database errors, however many requests fail.

    A burst ends after ``quiet`` seconds without such an error; the next error starts a new
    one (its line says how many errors the last burst had). A long outage is reminded every
    ``remind`` seconds. The state is per process (each gunicorn worker logs its own line)."""

    def __init__(self, quiet: float = 30.0, remind: float = 300.0):
        self.quiet, self.remind = quiet, remind
        self._lock = threading.Lock()
        self._last_error = self._last_line = float("-inf")
        self._count = 0

    def record(self, logger, exc: BaseException, where: str) -> None:
        cause = getattr(exc, "orig", None) or exc
        text = (str(cause).strip().splitlines() or [""])[0][:200]
        with self._lock:
            now = time.monotonic()
            new_burst = now - self._last_error > self.quiet
            if new_burst:
                before = f"; the previous burst had {self._count} errors" if self._count else ""
                line = (f"database unavailable: {type(cause).__name__}: {text} (first on {where}); answering 503, "
                        f"the rest of this burst is not logged{before}")
                self._count = 0
            elif now - self._last_line > self.remind:
                line = f"database still unavailable: {self._count + 1} errors so far in this burst (now on {where})"
            else:
                line = None
            self._count += 1
            self._last_error = now
            if line:
                self._last_line = now
        if line:
            logger.error(line)


def outage_log(app: Flask) -> OutageLog:
    return app.extensions.setdefault("hailong.outage_log", OutageLog())


def _rollback_quietly() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  (the connection is gone; the session is discarded anyway)
        pass


def init_app(app: Flask) -> None:
    def handle_outage(exc: Exception):
        _rollback_quietly()
        outage_log(app).record(app.logger, exc, f"{request.method} {request.path}")
        surveys.forget_kept_reads()  # no survey page from a kept read while the database is down
        # The page must not need the database: no official is loaded to draw the menu.
        g._login_user = login.anonymous_user()
        response = make_response(error_response(503))
        response.headers["Retry-After"] = str(app.config["DB_RETRY_AFTER_SECONDS"])
        return response

    for error in OUTAGE_ERRORS:
        app.register_error_handler(error, handle_outage)

    @app.errorhandler(AppError)
    def handle_app_error(exc: AppError):
        return error_response(exc.status, exc.message, exc.title, links=exc.links)

    @app.errorhandler(CSRFError)
    def handle_csrf(exc: CSRFError):
        return error_response(400, _("This form has expired or was not sent from our page. Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        if exc.response is not None:  # a page made for this refusal (limits._poster_point_breach)
            return exc.response
        status = exc.code or 500
        return error_response(status)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        _rollback_quietly()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500)
