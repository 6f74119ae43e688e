"""Signed form tokens: one per rendered form, shared by the survey and petition forms.

A token names what the form was rendered for (its ``binding``: campaign, unit, version…)
and carries a random nonce that becomes the submission's idempotency key, so a double
tap, a back-and-resubmit or a network retry stores one row. Its signing time (and, for a
form re-rendered after an error, the time it was first served) shows how fast it was
filled.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Mapping

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

MAX_TOKEN_LENGTH = 300


@dataclass(frozen=True)
class FormToken:
    nonce: str
    issued_at: datetime
    first_served_at: datetime | None = None

    @property
    def started_at(self) -> datetime:
        """When the person first got this form (across re-renders after errors)."""
        return self.first_served_at or self.issued_at


def issue(secret: str, salt: str, binding: Mapping[str, int], first_served: datetime | None = None) -> str:
    """A new token for a form bound to ``binding`` (short keys → ids)."""
    payload: dict[str, int | str] = {**binding, "n": secrets.token_hex(16)}
    if first_served is not None:
        payload["f"] = int(first_served.timestamp())
    return URLSafeTimedSerializer(secret, salt=salt).dumps(payload)


def read(secret: str, salt: str, token: str | None, binding: Mapping[str, int], max_age: int) -> FormToken | None:
    """The token if it is genuine, fresh and for this very form (same ``binding``); else ``None``."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        payload, issued = URLSafeTimedSerializer(secret, salt=salt).loads(token, max_age=max_age,
                                                                         return_timestamp=True)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(payload, dict) or any(payload.get(k) != v for k, v in binding.items()):
        return None
    nonce = payload.get("n")
    if not isinstance(nonce, str) or len(nonce) != 32:
        return None
    first = payload.get("f")
    first_served = None
    if isinstance(first, int) and not isinstance(first, bool) and 0 < first <= issued.timestamp():
        first_served = datetime.fromtimestamp(first, timezone.utc)
    return FormToken(nonce, issued, first_served)
