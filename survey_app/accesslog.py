"""Gunicorn's access log without the secrets that travel in URLs.

One-time survey codes (``/v/<code>``, ``/v?code=``), a dossier's survey (``/d/<ref>``), petition tracking codes
(``/t/<tracking>``, ``/t?code=``), the links that stop a petitioner's e-mails (``/u/<token>``) and kiosk
enrolment secrets (``/k/enrol/<secret>``) are
each a key to something: whoever reads the log could answer in a citizen's place or follow
their petition. :class:`RedactingLogger` writes ``[redacted]`` in their place in every atom
of the access log line (request line, path, query, referrer, headers), so no format can
leak them. ``gunicorn.conf.py`` at the root of the repository sets it.
"""
from __future__ import annotations

import re

from gunicorn.glogging import Logger

__all__ = ["RedactingLogger", "redact"]

REDACTED = "[redacted]"
_SECRET_PATH = re.compile(r"(/(?:v|t|d|u|k/enrol)/)[^/?#\s\"]+")
_SECRET_QUERY = re.compile(r"([?&](?:code|tracking|secret|token|key)=)[^&#\s\"]*", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` (a URL, a request line, a referrer) with every code replaced by ``[redacted]``.

    >>> redact('GET /v/K7QM-3XDA-9F2P-HW8T/thanks?lang=vi HTTP/1.1')
    'GET /v/[redacted]/thanks?lang=vi HTTP/1.1'
    >>> redact('/t?code=7K3QM-XD9FP&lang=en')
    '/t?code=[redacted]&lang=en'
    """
    return _SECRET_QUERY.sub(r"\1" + REDACTED, _SECRET_PATH.sub(r"\1" + REDACTED, text))


class RedactingLogger(Logger):
    """Gunicorn's logger, with :func:`redact` applied to every text atom of an access line."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
