"""Numbers with decimals as citizens type them, and as the page writes them.

A ``number`` question may declare ``decimals = N`` (0–4; ``surveys/README.md``). Its answers
are stored as whole numbers, value × 10^N (``analysis.instrument.scaled``), so counts and
rollups stay exact; :func:`read` turns what was typed into that whole number, and
:func:`written` writes a value back in the page's language.

Vietnamese writes the decimal comma (3,5), English the point (3.5); both are accepted in
either language. Nothing is ever rounded: an answer that needs more digits after the point
than the question declares is refused (3,50 is 3,5 and fits one decimal; 3,55 does not).
No thousands separators are read ("1.234,5" is not a number), and none are written.
"""
from __future__ import annotations

import re
from decimal import Decimal

from analysis.instrument import plain, scaled

__all__ = ["NumberRefused", "read", "written", "MAX_TYPED"]

#: The longest answer read at all (10000,0000 is ten characters).
MAX_TYPED = 16
_TYPED = re.compile(r"^([+-]?)([0-9]*)(?:[.,]([0-9]*))?$")


class NumberRefused(ValueError):
    """What was typed is not an answer: ``reason`` is ``not_a_number``, ``too_many_decimals``
    or ``out_of_range``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def read(typed: str, decimals: int, low: int | float, high: int | float) -> int:
    """The stored whole number (value × 10^decimals) for what a citizen typed.

    Raises :class:`NumberRefused` naming why it is not an answer.
    """
    text = typed.strip().replace(" ", "").replace("\u00a0", "")
    m = _TYPED.match(text) if len(text) <= MAX_TYPED else None
    if not m or not (m.group(2) or m.group(3)):
        raise NumberRefused("not_a_number")
    sign, whole, fraction = m.group(1), m.group(2) or "0", (m.group(3) or "").rstrip("0")
    if len(fraction) > decimals:
        raise NumberRefused("too_many_decimals")
    value = Decimal(f"{sign}{whole}.{fraction or '0'}")
    if not Decimal(str(low)) <= value <= Decimal(str(high)):
        raise NumberRefused("out_of_range")
    return scaled(value, decimals)


def written(value: int | float | Decimal, lang: str) -> str:
    """A number as the page shows it: ``100,5`` in Vietnamese, ``100.5`` in English, no
    trailing zeros and no thousands separators."""
    text = plain(value)
    return text.replace(".", ",") if lang == "vi" else text
