"""Compressed responses (Flask-Compress): brotli or gzip, whichever the client accepts.

What is compressed: text (HTML, CSS, JSON, CSV, SVG, plain text; ``COMPRESS_MIMETYPES``) of
at least ``COMPRESS_MIN_SIZE`` bytes with a 2xx status, for a client whose
``Accept-Encoding`` allows brotli or gzip; every such response says
``Vary: Accept-Encoding``. Never compressed: images other than SVG, PDF and XLSX (already
compressed: not in the list), anything below the minimum size, error pages.

**BREACH.** A compressed response leaks, through its length, how well an attacker's
guess compresses against a secret in the same body. That needs three things together: a
secret in the body, input the attacker chooses reflected in the same body, and a victim's
browser that carries the victim's cookie on the attacker's requests. All our pages reflect
the query string (the language links keep every argument) and carry a CSRF token, so the
decision rests on what the secret is worth:

* A logged-in official's page carries that official's CSRF token and what only officials
  may read (petitions, comments, the audit log), and the session cookie rides along on a
  top-level navigation the attacker starts (``SameSite=Lax``). **Responses to a request
  whose session holds a logged-in official are never compressed** (``may_compress``).
* A citizen's page (survey, petition, public results) holds only the CSRF token of an
  anonymous session, and a stolen one is worth nothing: a cross-site POST carries no
  ``Lax`` cookie, so the token has no session to match (and Flask-WTF's token changes
  every second anyway). A petition's status page is reached by the tracking code in its
  address, which an attacker able to aim at it already holds. These pages, which phones
  load over slow links, are compressed.
* Static files hold no secret and are compressed for everybody.
* The JSON API with an API key: a browser cannot be made to send the key
  (``Authorization`` header), so those answers are compressed; with an official's session
  they are not, by the first rule.

Flask-Compress keeps its settings on the ``Compress`` object, so each app gets its own
(tests build many apps with different settings); it is kept in
``app.extensions["hailong.compress"]`` and runs from our own ``after_request``
(``COMPRESS_REGISTER`` is off) so the rule above decides first, and ``negotiate`` reads
the client's ``Accept-Encoding`` by the RFC before Flask-Compress sees it.
"""
from __future__ import annotations

from flask import Flask, request, session
from flask_compress import Compress
from werkzeug.datastructures import Accept


def may_compress() -> bool:
    """True unless the request carries a logged-in official's session (see BREACH above).

    Static files are compressed for everybody, without looking at the session."""
    endpoint = request.endpoint or ""
    if endpoint == "static" or endpoint.endswith(".static"):
        return True
    return "_user_id" not in session  # Flask-Login's key: set by login_user, removed by logout


def negotiate(accepted: Accept, algorithms: tuple[str, ...]) -> str | None:
    """The algorithm the client accepts with the highest quality, the first of ``algorithms``
    on a tie; ``None`` if it accepts none of them (then the body is sent as it is).

    RFC 9110 §12.5.3: ``q=0`` refuses a coding, ``*`` stands for every coding not named.
    Flask-Compress 1.25 picks a refused coding when nothing better is offered
    (``gzip;q=0`` gets gzip, ``br;q=0, *`` gets brotli), so it is shown only this answer.

    >>> from werkzeug.http import parse_accept_header
    >>> [negotiate(parse_accept_header(h), ("br", "gzip")) for h in ("gzip, deflate, br", "gzip", "br;q=0, *", "gzip;q=0", "")]
    ['br', 'gzip', 'gzip', None, None]
    """
    best = max(algorithms, key=lambda name: accepted[name])  # max keeps the first of equals
    return best if accepted[best] > 0 else None


def init_app(app: Flask) -> None:
    compress = app.extensions["hailong.compress"] = Compress(app)

    @app.after_request
    def compress_response(response):
        if not may_compress():
            return response
        algorithms = compress.streaming_algorithms if response.is_streamed else compress.enabled_algorithms
        chosen = negotiate(request.accept_encodings, algorithms)
        body = response.response
        environ = request.environ
        asked = environ.get("HTTP_ACCEPT_ENCODING")
        environ["HTTP_ACCEPT_ENCODING"] = chosen or "identity"  # what Flask-Compress reads
        try:
            response = compress.after_request(response)  # also says Vary: Accept-Encoding
        finally:
            if asked is None:
                environ.pop("HTTP_ACCEPT_ENCODING", None)
            else:
                environ["HTTP_ACCEPT_ENCODING"] = asked
        if response.response is not body and hasattr(body, "close"):
            # A streamed body (a static file) replaced by its compressed stream: Flask-Compress
            # would drop the original's close(), leaving the file open until collected.
            response.call_on_close(body.close)
        return response
