"""Officials' accounts: passwords, logins with lockout, sessions, grants.

Passwords are hashed with werkzeug's scrypt (``PASSWORD_HASH_METHOD``; a cheaper
``PASSWORD_HASH_METHOD_TESTING`` under ``TESTING``) and never logged. A login fails with
one message whether the user is unknown, the password wrong or the account locked; an
unknown user costs the same hashing time as a known one.

Operations that change data commit their change and its audit event together, or raise
:class:`AccountError` (a message for the person) before writing anything.
"""
from __future__ import annotations

import hmac
import re
import unicodedata
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ...models import ROLE_RANK, Grant, Unit, User, utcnow
from ...models.user import new_session_token
from . import audit
from .scope import Scope, forbidden, not_found

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 200

_dummy_hashes: dict[str, str] = {}


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message is for the person."""


class WrongPassword(AccountError):
    """The current password given to change it was wrong."""


# ---------------------------------------------------------------------- passwords

def hash_method() -> str:
    config = current_app.config
    return config["PASSWORD_HASH_METHOD_TESTING"] if config.get("TESTING") else config["PASSWORD_HASH_METHOD"]


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=hash_method())


def _dummy_hash() -> str:
    method = hash_method()
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash(new_session_token(), method=method)
    return _dummy_hashes[method]


def normalise_username(raw: str) -> str:
    return unicodedata.normalize("NFC", raw or "").strip().lower()


def check_username(username: str) -> str:
    username = normalise_username(username)
    if not USERNAME_RE.match(username):
        raise AccountError(_("A username has 3 to 64 characters: lowercase letters (no accents), digits, '.', '-' or '_', starting with a letter or digit."))
    return username


def check_new_password(password: str, username: str = "") -> str:
    """The password if it is acceptable; else :class:`AccountError` saying why."""
    password = unicodedata.normalize("NFC", password or "")
    if len(password) < MIN_PASSWORD:
        raise AccountError(_("The password must have at least %(num)d characters.", num=MIN_PASSWORD))
    if len(password) > MAX_PASSWORD:
        raise AccountError(_("The password must have at most %(num)d characters.", num=MAX_PASSWORD))
    if len(set(password)) < 4 or (username and username.lower() in password.lower()):
        raise AccountError(_("This password is too easy to guess. Please choose another."))
    return password


# ---------------------------------------------------------------------- login

def authenticate(session: Session, username: str, password: str, now: datetime | None = None) -> User | None:
    """The user when the password is right and the account active and not locked; else
    ``None`` — the same answer, and the same hashing cost, in every failing case.

    Each wrong password counts against the account: ``LOGIN_MAX_FAILURES`` failures within
    ``LOGIN_LOCK_MINUTES`` lock it for that long (audited as ``login.locked``).
    """
    now = now or utcnow()
    password = unicodedata.normalize("NFC", password or "")[:MAX_PASSWORD]
    user = session.scalar(select(User).where(User.username == normalise_username(username)[:64]))
    if user is None or (user.locked_until is not None and user.locked_until > now):
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password):
        _count_failure(session, user, now)
        return None
    if not user.active:
        return None
    user.failed_logins = 0
    user.failure_window_start = None
    user.locked_until = None
    user.last_login_at = now
    if not user.password_hash.startswith(hash_method() + "$"):
        user.password_hash = hash_password(password)  # parameters changed: upgrade the hash
    session.commit()
    return user


def _count_failure(session: Session, user: User, now: datetime) -> None:
    config = current_app.config
    window = timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
    if user.failure_window_start is None or now - user.failure_window_start >= window:
        user.failure_window_start = now
        user.failed_logins = 1
    else:
        user.failed_logins = User.failed_logins + 1  # an UPDATE … SET n = n + 1: no lost counts
    session.flush()
    session.refresh(user)
    if user.failed_logins >= config["LOGIN_MAX_FAILURES"]:
        user.locked_until = now + window
        user.failed_logins = 0
        user.failure_window_start = None
        audit.record(session, "login.locked", actor_name=user.username, unit=user.home_unit,
                     target=f"user:{user.username}",
                     detail={"failures": config["LOGIN_MAX_FAILURES"], "minutes": config["LOGIN_LOCK_MINUTES"]})
    session.commit()


def load_session_user(session: Session, session_id: str) -> User | None:
    """The user behind a session's id (``"<id>:<session token>"``), if still valid."""
    user_id, sep, token = (session_id or "").partition(":")
    if not sep or not user_id.isascii() or not user_id.isdigit() or not 0 < int(user_id) < 2**31:
        return None
    user = session.get(User, int(user_id))
    if user is None or not user.active or not hmac.compare_digest(user.session_token, token):
        return None
    return user


def end_sessions(session: Session, user: User) -> None:
    """Invalidate every session of ``user`` (logout, password change, deactivation)."""
    user.session_token = new_session_token()
    session.commit()


# ---------------------------------------------------------------------- accounts

EMAIL_RE = re.compile(r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def check_email(raw: str | None) -> str | None:
    """An official's e-mail address (where alerts go), lowercased; empty → None."""
    value = unicodedata.normalize("NFC", raw or "").strip()
    if not value:
        return None
    if len(value) > 254 or not EMAIL_RE.match(value):
        raise AccountError(_("Please write an e-mail address like ten.ho@example.gov.vn."))
    return value.lower()


def set_email(session: Session, user: User, raw: str | None, *, actor: User | None = None,
              scope: Scope | None = None) -> None:
    """Change the account's e-mail address (admins who manage the account), audited."""
    if scope is not None and not scope.can_manage_user(user):
        raise AccountError(_("This account is managed by a unit above yours."))
    email = check_email(raw)
    if email == user.email:
        return
    user.email = email
    audit.record(session, "user.email_changed", actor=actor, unit=user.home_unit, target=f"user:{user.username}",
                 detail={"username": user.username})
    session.commit()


def create_user(session: Session, *, username: str, display_name: str, password: str, unit: Unit, role: str,
                actor: User | None = None, scope: Scope | None = None, email: str | None = None) -> User:
    """Create an account with its first grant (``role`` on ``unit``), which is also its home.

    With a ``scope`` (a web request) the actor must be an admin of ``unit`` and may not
    grant above their own role; without one (the command line) no check applies.
    """
    username = check_username(username)
    display_name = unicodedata.normalize("NFC", display_name or "").strip()[:200] or username
    password = check_new_password(password, username)
    email = check_email(email)
    _check_grantable(scope, unit, role)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(_("The username %(name)s is already taken.", name=username))
    user = User(username=username, display_name=display_name, password_hash=hash_password(password),
                home_unit=unit, active=True, email=email)
    user.grants.append(Grant(unit=unit, role=role, created_by=actor))
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise AccountError(_("The username %(name)s is already taken.", name=username)) from None
    audit.record(session, "user.created", actor=actor, unit=unit, target=f"user:{username}",
                 detail={"username": username, "role": role, "unit": unit.path})
    session.commit()
    return user


def _check_grantable(scope: Scope | None, unit: Unit, role: str) -> None:
    if role not in ROLE_RANK:
        raise AccountError(_("Please choose a role."))
    if scope is None:
        return
    scope.require(unit, "admin")
    if role not in scope.grantable_roles(unit):
        forbidden()


def add_grant(session: Session, user: User, unit: Unit, role: str, *, actor: User | None = None,
              scope: Scope | None = None) -> Grant:
    """Give ``user`` ``role`` on ``unit``; an existing grant on that unit changes role."""
    _check_grantable(scope, unit, role)
    if scope is not None and not scope.can_see_user(user):
        not_found()
    grant = session.scalar(select(Grant).where(Grant.user_id == user.id, Grant.unit_id == unit.id))
    if grant is not None:
        if grant.role == role:
            raise AccountError(_("%(user)s already has this role here.", user=user.username))
        if scope is not None and ROLE_RANK[grant.role] > scope.rank_at(unit.path):
            forbidden()
        old = grant.role
        grant.role = role
        audit.record(session, "grant.changed", actor=actor, unit=unit, target=f"user:{user.username}",
                     detail={"username": user.username, "unit": unit.path, "from": old, "to": role})
    else:
        grant = Grant(user=user, unit=unit, role=role, created_by=actor)
        session.add(grant)
        audit.record(session, "grant.added", actor=actor, unit=unit, target=f"user:{user.username}",
                     detail={"username": user.username, "unit": unit.path, "role": role})
    session.commit()
    return grant


def revoke_grant(session: Session, grant: Grant, *, actor: User | None = None, scope: Scope | None = None) -> None:
    user, unit = grant.user, grant.unit
    if scope is not None:
        scope.require(unit, "admin")
        if ROLE_RANK[grant.role] > scope.rank_at(unit.path):
            forbidden()
        if actor is not None and user.id == actor.id:
            raise AccountError(_("You cannot remove your own access. Ask another administrator."))
    detail = {"username": user.username, "unit": unit.path, "role": grant.role}
    user.grants.remove(grant)
    session.delete(grant)
    audit.record(session, "grant.revoked", actor=actor, unit=unit, target=f"user:{user.username}", detail=detail)
    session.commit()


def set_active(session: Session, user: User, active: bool, *, actor: User | None = None,
               scope: Scope | None = None) -> None:
    if scope is not None and not scope.can_manage_user(user):
        forbidden()
    if actor is not None and user.id == actor.id and not active:
        raise AccountError(_("You cannot deactivate your own account."))
    if user.active == active:
        return
    user.active = active
    user.session_token = new_session_token()
    audit.record(session, "user.activated" if active else "user.deactivated", actor=actor, unit=user.home_unit,
                 target=f"user:{user.username}", detail={"username": user.username})
    session.commit()


def set_password(session: Session, user: User, password: str, *, actor: User | None = None,
                 scope: Scope | None = None) -> None:
    """An administrator (or the command line) sets a new password; the lock is lifted and
    every session of the user ends."""
    if scope is not None and not scope.can_manage_user(user):
        forbidden()
    password = check_new_password(password, user.username)
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()
    user.locked_until = None
    user.failed_logins = 0
    user.failure_window_start = None
    audit.record(session, "user.password_reset", actor=actor, unit=user.home_unit,
                 target=f"user:{user.username}", detail={"username": user.username})
    session.commit()


def change_own_password(session: Session, user: User, current: str, new: str) -> None:
    """The user changes their password; their other sessions end (the caller logs the
    current one in again with the new session token)."""
    if not check_password_hash(user.password_hash, unicodedata.normalize("NFC", current or "")[:MAX_PASSWORD]):
        raise WrongPassword(_("Your current password is not correct."))
    new = check_new_password(new, user.username)
    user.password_hash = hash_password(new)
    user.session_token = new_session_token()
    audit.record(session, "user.password_changed", actor=user, unit=user.home_unit,
                 target=f"user:{user.username}", detail={"username": user.username})
    session.commit()
