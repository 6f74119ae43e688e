"""Helpers shared by the tests."""
from __future__ import annotations

import re

HIDDEN_RE = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden fields a browser would send back with the form."""
    return dict(HIDDEN_RE.findall(html))
