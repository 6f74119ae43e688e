"""Officials' login, logout and password; sessions with an idle timeout.

``init_app`` wires Flask-Login: the session keeps ``"<user id>:<session token>"``, so a
logout or a password change (which replace the token) ends every copy of the session, and
a session idle for ``SESSION_IDLE_MINUTES`` ends at the next request.
"""
from __future__ import annotations

import time
import unicodedata
from urllib.parse import unquote, urlsplit

from flask import Blueprint, Flask, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from ..errors import error_response, wants_json
from ..extensions import db, login
from ..services.officials import accounts

bp = Blueprint("auth", __name__, template_folder="templates")


@bp.after_request
def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


SEEN_KEY = "official_seen"


def _unsafe_in_url(char: str) -> bool:
    """Controls, format characters (zero-width, bidi), whitespace and the backslash: browsers
    drop or reinterpret them, which is how ``/<TAB>/evil.example`` becomes ``//evil.example``."""
    return char == "\\" or char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a relative path on this site, else ``None`` (no open redirect).

    Accepted: one leading ``/`` not followed by another, no scheme or host, and neither as
    given nor after percent-decoding (repeated, so ``%252F`` counts as ``/``) a backslash,
    a control or format character or whitespace, nor a second leading ``/``."""
    if not target:
        return None
    decoded = target
    for _round in range(4):
        decoded, before = unquote(decoded), decoded
        if decoded == before:
            break
    for candidate in (target, decoded):
        if not candidate.startswith("/") or candidate.startswith("//") or any(map(_unsafe_in_url, candidate)):
            return None
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return None
    return target


def init_app(app: Flask) -> None:
    login.init_app(app, add_context_processor=False)  # official_context below instead
    login.session_protection = "basic"

    @login.user_loader
    def load_user(session_id: str):
        return accounts.load_session_user(db.session, session_id)

    @login.unauthorized_handler
    def unauthorized():
        if wants_json():
            return error_response(401, _("Please log in to continue."))
        flash(_("Please log in to continue."), "info")
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.login", next=safe_next(target)))

    @app.before_request
    def end_idle_session():
        if "_user_id" not in session:
            return
        now = int(time.time())
        seen = session.get(SEEN_KEY)
        idle = app.config["SESSION_IDLE_MINUTES"] * 60
        if not isinstance(seen, int) or now - seen > idle:
            logout_user()
            session.pop(SEEN_KEY, None)
            flash(_("Your session ended after %(minutes)d minutes without activity. Please log in again.",
                    minutes=app.config["SESSION_IDLE_MINUTES"]), "info")
        elif now - seen >= 30:
            session[SEEN_KEY] = now

    @app.context_processor
    def official_context():
        """``current_user`` for the templates (Flask-Login's own context processor is off),
        and the official's ``nav_scope``. A session without Flask-Login's ``_user_id`` holds
        no official: ``login_user`` sets it, ``logout_user`` removes it, and no remember
        cookie, request or header loader is used. So a citizen's page gets the anonymous user
        without Flask-Login loading one (its session-protection hash and signals, on every
        page), and an official's page loads the official as before."""
        if "_user_id" not in session:
            return {"current_user": login.anonymous_user()}
        user = current_user._get_current_object()
        if not user.is_authenticated:
            return {"current_user": user}
        from ..guard import current_scope

        return {"current_user": user, "nav_scope": current_scope()}


def mark_seen() -> None:
    session[SEEN_KEY] = int(time.time())


from . import routes  # noqa: E402,F401  (routes register themselves on bp)
