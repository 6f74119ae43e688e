"""Codes people read aloud and type: Crockford's base 32.

Digits and capitals without I, L, O and U, so nothing is confused. Typing is forgiving:
case, spaces, dashes and dots do not matter, and O is read as 0, I and L as 1. One-time
visit codes (``tokens``) and petition tracking codes (``petitions``) both use this.
"""
from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # 32 symbols: 5 random bits each
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015_.·]+")


def new_code(length: int) -> str:
    """``length`` random symbols (5 bits each), canonical: upper case, no separators."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize_code(raw: str | None, length: int, max_typed: int = 64) -> str | None:
    """The canonical code a person meant, or ``None`` if it cannot be a code of ``length``."""
    if not raw or len(raw) > max_typed:
        return None
    value = _SEPARATORS.sub("", raw).upper().translate(_READ_AS)
    if len(value) != length or any(ch not in ALPHABET for ch in value):
        return None
    return value


def group_code(code: str, size: int) -> str:
    """``K7QM3XDA`` → ``K7QM-3XDA``: groups of ``size`` joined by dashes."""
    return "-".join(code[i:i + size] for i in range(0, len(code), size))
