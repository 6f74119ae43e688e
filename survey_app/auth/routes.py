"""Thin routes: log in, log out, change one's password."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, limiter
from ..forms import ButtonForm
from ..ratelimit import address_limit_key
from ..services.officials import accounts
from . import bp, mark_seen, safe_next
from .forms import LoginForm, PasswordForm


def _device_limit() -> str:
    return current_app.config["LOGIN_DEVICE_LIMIT"]


def _address_limit() -> str:
    return current_app.config["LOGIN_ADDRESS_LIMIT"]


def _failed(response) -> bool:
    return response.status_code == 401


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_device_limit, methods=["POST"], deduct_when=_failed, scope="login-device")
@limiter.limit(_address_limit, key_func=address_limit_key, methods=["POST"], deduct_when=_failed,
               scope="login-address")
def login():
    """One message and one status for an unknown user, a wrong password and a lock."""
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
    status = 200
    if form.validate_on_submit():
        user = accounts.authenticate(db.session, form.username.data, form.password.data)
        if user is not None:
            lang = session.get("lang")
            session.clear()
            if lang:
                session["lang"] = lang
            login_user(user)
            mark_seen()
            return redirect(safe_next(form.next.data) or url_for("admin.dashboard"), code=303)
        form.password.errors = [_("Wrong username or password, or the account is temporarily locked "
                                  "after too many failed attempts. Please try again later.")]
        status = 401
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    form = ButtonForm()
    if form.validate_on_submit():
        accounts.end_sessions(db.session, current_user._get_current_object())
        logout_user()
        lang = session.get("lang")
        session.clear()
        if lang:
            session["lang"] = lang
        flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_own_password(db.session, user, form.current.data, form.new.data)
        except accounts.WrongPassword as exc:
            form.current.errors = [str(exc)]
            status = 422
        except accounts.AccountError as exc:
            form.new.errors = [str(exc)]
            status = 422
        else:
            login_user(user)  # the new session token: this session lives on, the others end
            mark_seen()
            flash(_("Your password has been changed. You were logged out everywhere else."), "success")
            return redirect(url_for("admin.dashboard"), code=303)
    elif request.method == "POST":
        status = 422
    return render_template("auth/password.html", form=form), status
