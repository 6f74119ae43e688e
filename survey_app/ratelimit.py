"""Keys for rate limiting that never expose a raw IP address or device identifier."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone

from flask import current_app, request


def daily_device_hash(remote_addr: str, user_agent: str, secret: str, day: str | None = None) -> str:
    """A keyed hash of (IP, user agent) that changes every UTC day.

    The raw values are never stored; the hash cannot be linked across days.
    """
    day = day or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    message = f"{day}\x00{remote_addr}\x00{user_agent}".encode("utf-8", "replace")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def device_key() -> str:
    return daily_device_hash(
        request.remote_addr or "-",
        request.headers.get("User-Agent", ""),
        current_app.config["SECRET_KEY"],
    )
