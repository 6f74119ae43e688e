"""Signed form tokens: one per rendered form, shared by the survey and petition forms.

A token names what the form was rendered for (its ``binding``: campaign, unit, version…)
and carries a random nonce that becomes the submission's idempotency key, so a double
tap, a back-and-resubmit or a network retry stores one row. Its signing time (and, for a
form re-rendered after an error, the time it was first served) shows how fast it was
filled.

Tokens are signed by :class:`SmallPayloadSerializer` (the session cookie and the CSRF token
too, ``survey_app/signing.py``): itsdangerous's URL-safe serializer, which deflates every
payload and keeps the result when shorter, except that payloads below
:data:`DEFLATE_FROM` bytes are not tried. A token's payload (about 60 bytes of ids and
random hex) never deflates shorter, so the token is the one itsdangerous would make, but
the attempt costs a deflate state each time (0.05–0.09 ms here). Either form is read by
the same ``loads``.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode

MAX_TOKEN_LENGTH = 300

#: Payloads (JSON bytes) shorter than this are not deflated.
DEFLATE_FROM = 200


class SmallPayloadSerializer(URLSafeTimedSerializer):
    """``URLSafeTimedSerializer`` that deflates only payloads of :data:`DEFLATE_FROM` bytes or more."""

    def dump_payload(self, obj: Any) -> bytes:
        json = self.serializer.dumps(obj, **self.serializer_kwargs)
        if isinstance(json, str):
            json = json.encode("utf-8")
        if len(json) >= DEFLATE_FROM:
            return super().dump_payload(obj)
        return base64_encode(json)


def serializer_for(secret: str | bytes, salt: str) -> SmallPayloadSerializer:
    """A :class:`SmallPayloadSerializer` for this secret and salt, kept per process."""
    key = (secret, salt)
    serializer = _SERIALIZERS.get(key)
    if serializer is None:
        if len(_SERIALIZERS) >= 64:  # a test run builds many apps with their own keys
            _SERIALIZERS.clear()
        serializer = _SERIALIZERS[key] = SmallPayloadSerializer(secret, salt=salt)
    return serializer


_SERIALIZERS: dict[tuple[str | bytes, str], SmallPayloadSerializer] = {}


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
    return serializer_for(secret, salt).dumps(payload)


def read(secret: str, salt: str, token: str | None, binding: Mapping[str, int], max_age: int) -> FormToken | None:
    """The token if it is genuine, fresh and for this very form (same ``binding``); else ``None``."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        payload, issued = serializer_for(secret, salt).loads(token, max_age=max_age, return_timestamp=True)
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
