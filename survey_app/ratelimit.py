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
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone

from flask import current_app, request


def _today() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


def daily_device_hash(remote_addr: str, user_agent: str, secret: str, day: str | None = None) -> str:
    """A keyed hash of (IP, user agent) that changes every UTC day.

    The raw values are never stored; the hash cannot be linked across days.
    """
    day = day or _today()
    message = f"{day}\x00{remote_addr}\x00{user_agent}".encode("utf-8", "replace")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def daily_address_hash(remote_addr: str, secret: str, day: str | None = None) -> str:
    """A keyed hash of the IP alone that changes every UTC day (a different message from
    :func:`daily_device_hash`'s, so the two cannot be matched with each other)."""
    day = day or _today()
    message = f"address\x00{day}\x00{remote_addr}".encode("utf-8", "replace")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def device_key() -> str:
    return daily_device_hash(
        request.remote_addr or "-",
        request.headers.get("User-Agent", ""),
        current_app.config["SECRET_KEY"],
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
