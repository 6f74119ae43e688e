"""Keys for rate limiting and burst flags that never expose a raw IP address or device identifier.

Two keys, both keyed daily hashes (HMAC with ``SECRET_KEY`` over the UTC day) that cannot be
reversed or linked across days:

- the **device**: (address, user agent). Fine-grained: two phones behind one office Wi-Fi
  count apart. But a client that changes its user agent at every request is a new device
  every time.
- the **address** alone. Coarse: everyone behind one NAT shares it, so its limits are set
  several times higher than the device's. A client that rotates its user agent still
  meets them.

Each limit on a citizen form is set on both keys (``RATELIMIT_*`` and ``RATELIMIT_*_ADDRESS``).

The in-process storage (the default, ``memory://``) is :class:`SweptMemoryStorage`.
:func:`no_limit_applies` lets a request that no limit could count (the survey page, any GET
of a view limited on POST only) skip Flask-Limiter's evaluation.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import datetime, timezone

from flask import current_app, request
from flask_limiter.util import get_qualified_name
from limits.storage import MemoryStorage

#: What ``RATELIMIT_STORAGE_URI=memory://`` (and no setting) becomes: :class:`SweptMemoryStorage`.
MEMORY_URI = "hailong-memory://"


class SweptMemoryStorage(MemoryStorage):
    """The ``limits`` memory storage, with its expired keys swept at most every
    :attr:`SWEEP_SECONDS` by the request that finds the sweep due, instead of by a timer thread.

    ``limits`` (5.8) starts a new ``threading.Timer`` 10 ms after any count whose timer has
    ended, and the timer walks every key it holds: a thread per POST at a quiet worker,
    and at a busy one a walk over every phone seen in the limits' windows (a day, for the
    daily limits) a hundred times a second. The counts do not depend on it: reading a key
    drops it when it has expired (``MemoryStorage.get``). The sweep only frees memory, so
    here it runs inline, at most every ``SWEEP_SECONDS``: a key outlives its window by that
    much at most. Everything else is the parent's."""

    STORAGE_SCHEME = ["hailong-memory"]
    SWEEP_SECONDS = 10.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()  # the parent starts one at once
        self._next_sweep = time.time() + self.SWEEP_SECONDS

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self.timer.cancel()

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the parent's private timer start
        now = time.time()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()


def _today() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


def daily_device_hash(remote_addr: str, user_agent: str, secret: str, day: str | None = None,
                      cookie: str = "") -> str:
    """A keyed hash of (IP, user agent, device cookie) that changes every UTC day.

    The raw values are never stored; the hash cannot be linked across days.
    """
    day = day or _today()
    message = f"{day}\x00{remote_addr}\x00{user_agent}".encode("utf-8", "replace")
    if cookie:
        message += b"\x00" + cookie.encode("ascii", "replace")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def daily_address_hash(remote_addr: str, secret: str, day: str | None = None) -> str:
    """A keyed hash of the IP alone that changes every UTC day (a different message from
    :func:`daily_device_hash`'s, so the two cannot be matched with each other)."""
    day = day or _today()
    message = f"address\x00{day}\x00{remote_addr}".encode("utf-8", "replace")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


#: The first-party random cookie of a browser (never stored: only inside the device hash).
DEVICE_COOKIE = "hl_device"


def device_cookie() -> str:
    """This browser's device cookie as sent (a short URL-safe token), or ``""``."""
    value = request.cookies.get(DEVICE_COOKIE, "")
    return value if 16 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum() else ""


def remember_device(response):
    """Give a browser without one its device cookie (HttpOnly, SameSite=Lax, Secure over HTTPS)."""
    if not device_cookie():
        response.set_cookie(DEVICE_COOKIE, secrets.token_urlsafe(18),
                            max_age=current_app.config["DEVICE_COOKIE_MAX_AGE"],
                            httponly=True, samesite="Lax", secure=request.is_secure, path="/")
    return response


def device_key() -> str:
    """The device: address, user agent and the device cookie. Two phones of one model
    behind one NAT differ by their cookies; a client that drops its cookie is a new device
    each time, but still one address (:func:`address_key`)."""
    return daily_device_hash(
        request.remote_addr or "-",
        request.headers.get("User-Agent", ""),
        current_app.config["SECRET_KEY"],
        cookie=device_cookie(),
    )


def address_key() -> str:
    return daily_address_hash(request.remote_addr or "-", current_app.config["SECRET_KEY"])


def _prefix() -> str:
    return current_app.config.get("RATELIMIT_KEY_PREFIX") or ""


def device_limit_key() -> str:
    """The limiter key of this request's device (with ``RATELIMIT_KEY_PREFIX``)."""
    return f"{_prefix()}device:{device_key()}"


def address_limit_key() -> str:
    """The limiter key of this request's address (with ``RATELIMIT_KEY_PREFIX``)."""
    return f"{_prefix()}address:{address_key()}"


def point_limit_key() -> str:
    """The limiter key of the service point in the URL (``<code>``; with ``RATELIMIT_KEY_PREFIX``)."""
    code = (request.view_args or {}).get("code") or "-"
    return f"{_prefix()}point:{str(code)[:16]}"


def no_limit_applies() -> bool:
    """Flask-Limiter's request filter (``extensions.py``): true when no limit of the app can
    count this request, so the limiter skips resolving and evaluating its limits for it.

    The app declares every limit on its view (``limiter.limit`` / ``shared_limit`` with
    ``methods=``) and none for the whole app, a blueprint or by default. So a request whose
    view has no limit for its method (the survey page: its limits are on the POST) is not
    counted whatever Flask-Limiter decides, and deciding costs it a resolution of the
    view's, the blueprint's and the default limits on every request. Worked out once per
    (endpoint, method) and kept per app; if any limit is declared another way, never true.
    """
    key = (request.endpoint, request.method)
    known = current_app.extensions.setdefault("hailong.unlimited", {})
    answer = known.get(key)
    if answer is None:
        answer = known[key] = _no_limit_declared(*key)
    return answer


def _no_limit_declared(endpoint: str | None, method: str) -> bool:
    from .extensions import limiter

    view = current_app.view_functions.get(endpoint or "")
    manager = limiter.limit_manager
    # Flask-Limiter 4.1 (pinned) keeps blueprint and meta limits without a public accessor.
    if (view is None or manager.default_limits or manager.application_limits or manager.has_hints(endpoint)
            or getattr(manager, "_blueprint_limits", True) or getattr(limiter, "_meta_limits", True)):
        return False
    return all(limit.methods is not None and method.lower() not in limit.methods
               for limit in manager.decorated_limits(get_qualified_name(view)))
