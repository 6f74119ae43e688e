"""The session cookie and the templates' CSRF token, signed without the zlib attempt on small payloads.

itsdangerous's URL-safe serializers deflate every payload and keep the result when it is
shorter. For a citizen's page (the session cookie ``{"csrf_token": "<40 hex>"}``, the CSRF
token, the signed form token: 40–80 bytes of mostly random hex) the deflated form is never
shorter, so the output is the plain one, but each attempt costs a deflate state (0.05–0.09
ms here, three times per survey page). ``services/collect/formtoken.py:SmallPayloadSerializer``
skips it below ``DEFLATE_FROM`` bytes and deflates larger payloads as before. Either form
is read by the same ``loads`` (a deflated payload starts with ``.``), so cookies and tokens
signed before and after a deploy stay valid; what is signed, with which key, salt and age,
is unchanged. Here it signs the session cookie (:class:`SessionInterface`, which also keeps
the serializer instead of building one at every open and save) and the CSRF token of the
templates (:func:`csrf_token`); Flask-WTF validates that token as before.
"""
from __future__ import annotations

import hashlib
import os

from flask import Flask, current_app, g, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from .services.collect.formtoken import SmallPayloadSerializer, serializer_for

__all__ = ["SessionInterface", "csrf_token", "init_app"]


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with :class:`SmallPayloadSerializer` kept per set of
    keys (Flask builds a new serializer at every open and save)."""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)  # current key last
        cache = app.extensions.setdefault("hailong.session_serializers", {})
        serializer = cache.get(keys)
        if serializer is None:
            serializer = cache[keys] = SmallPayloadSerializer(
                list(keys), salt=self.salt, serializer=self.serializer,
                signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method},
            )
        return serializer


def csrf_token() -> str:
    """The request's CSRF token, made as ``flask_wtf.csrf.generate_csrf`` (1.3) makes it: the
    same session key, salt, secret and per-request cache in ``g`` (so forms and templates
    share one token), signed by :class:`SmallPayloadSerializer`; Flask-WTF validates it."""
    config = current_app.config
    field_name = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if field_name not in g:
        signer = serializer_for(config.get("WTF_CSRF_SECRET_KEY", current_app.secret_key), "wtf-csrf-token")
        if field_name not in session:
            session[field_name] = hashlib.sha1(os.urandom(64)).hexdigest()
        try:
            token = signer.dumps(session[field_name])
        except TypeError:
            session[field_name] = hashlib.sha1(os.urandom(64)).hexdigest()
            token = signer.dumps(session[field_name])
        setattr(g, field_name, token)
    return g.get(field_name)


def init_app(app: Flask) -> None:
    """After ``csrf.init_app``: the session interface and the templates' ``csrf_token()``."""
    app.session_interface = SessionInterface()
    # Flask-WTF puts its generate_csrf both among the globals and in a context processor;
    # a context processor registered later wins.
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})
