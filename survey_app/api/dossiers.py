"""The one-stop software's writes: ``POST /api/v1/dossiers`` (one, idempotent on the code),
``POST /api/v1/dossiers/batch`` (up to 1,000, all or nothing), ``PATCH
/api/v1/dossiers/<code>`` (a later status) and ``GET /api/v1/dossiers/<code>``.

Only an API key with the ``dossiers:write`` scope (``Authorization: Bearer <key>``), never
a browser session: the API takes no CSRF token, so a session must not be able to write.
The key writes for the one-stop points of its unit's subtree. 201 a new dossier, 200 an
update or a repeat (``result`` says which); 400 a body that is not JSON, 401 no or bad
key, 404 an unknown dossier, 409 a code another unit reported, 413 too large, 422 bad
values, every problem named in ``error.problems`` (with its index in a batch).
"""
from __future__ import annotations

from flask import current_app, g, jsonify, request
from flask_babel import gettext as _

from ..errors import error_response
from ..extensions import db
from ..services.dossiers import operations, views
from ..services.officials import apikeys
from ..services.qr import encoding
from . import bp
from .routes import _Refused

WRITE_SCOPE = "dossiers:write"
BATCH_MAX_BYTES = 4 * 1024 * 1024


class _Invalid(Exception):
    def __init__(self, exc: operations.DossierInvalid):
        super().__init__(str(exc))
        self.exc = exc


@bp.errorhandler(_Invalid)
def invalid(wrapper: _Invalid):
    exc = wrapper.exc
    if exc.status == 404:
        message = exc.problems[0].message
    elif len(exc.problems) == 1:
        message = exc.problems[0].message
    else:
        message = _("The request has %(n)d problems; each is listed in problems. Nothing was saved.",
                    n=len(exc.problems))
    return error_response(exc.status, message, problems=[p.as_json() for p in exc.problems])


def _writer():
    header = request.headers.get("Authorization", "")
    kind, _sep, token = header.partition(" ")
    if not header or kind.lower() != "bearer":
        raise _Refused(401, _("Send an API key with the dossiers:write scope: Authorization: Bearer <key>."))
    key = apikeys.authenticate(db.session, token, WRITE_SCOPE)
    if key is None:
        raise _Refused(401, _("This API key is not valid (or was revoked), or may not write dossiers."))
    g.api_key = key
    return apikeys.scope_for(db.session, key), f"apikey:{key.prefix}"


def _base_url() -> str:
    return encoding.normalize_base_url(current_app.config.get("PUBLIC_BASE_URL") or request.url_root)


def _body(max_bytes: int | None = None):
    if max_bytes is not None:
        request.max_content_length = max_bytes
    if not request.is_json:
        raise _Refused(400, _("Send the dossier as JSON (Content-Type: application/json)."))
    payload = request.get_json(silent=True)
    if payload is None:
        raise _Refused(400, _("The body is not valid JSON."))
    return payload


def _message(outcome: operations.Outcome) -> str:
    if outcome.result == "created":
        return _("Dossier %(code)s saved, with its evaluation code.", code=outcome.dossier.code)
    if outcome.result == "updated":
        return _("Dossier %(code)s updated: %(fields)s.", code=outcome.dossier.code, fields=", ".join(outcome.changed))
    return _("Dossier %(code)s was already saved with exactly these values: nothing changed.",
             code=outcome.dossier.code)


def _outcome_json(outcome: operations.Outcome, base_url: str) -> dict:
    return {"result": outcome.result, "changed": outcome.changed, "message": _message(outcome),
            "dossier": views.as_json(outcome.dossier, base_url, outcome.evaluation_code)}


def _commit_or_rollback(run):
    try:
        result = run()
    except operations.DossierInvalid as exc:
        db.session.rollback()
        raise _Invalid(exc) from None
    db.session.commit()
    return result


@bp.post("/dossiers")
def dossier_create():
    scope, actor = _writer()
    payload = _body()
    outcome = _commit_or_rollback(lambda: operations.upsert(db.session, scope, payload, actor_name=actor))
    return jsonify(_outcome_json(outcome, _base_url())), 201 if outcome.result == "created" else 200


@bp.post("/dossiers/batch")
def dossier_batch():
    scope, actor = _writer()
    payload = _body(BATCH_MAX_BYTES)
    items = payload.get("dossiers") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise _Refused(400, _('Send {"dossiers": [ … ]}: a list of 1 to %(limit)d dossiers.',
                              limit=operations.MAX_BATCH))
    outcomes = _commit_or_rollback(
        lambda: operations.upsert_many(db.session, scope, items, actor_name=actor))
    base_url = _base_url()
    counts = {name: sum(1 for o in outcomes if o.result == name) for name in ("created", "updated", "unchanged")}
    return jsonify({**counts, "dossiers": [_outcome_json(o, base_url) for o in outcomes]}), \
        201 if counts["created"] else 200


@bp.patch("/dossiers/<path:code>")
def dossier_update(code: str):
    scope, _actor = _writer()
    payload = _body()
    outcome = _commit_or_rollback(lambda: operations.apply_status(db.session, scope, code, payload))
    return jsonify(_outcome_json(outcome, _base_url()))


@bp.get("/dossiers/<path:code>")
def dossier_show(code: str):
    scope, _actor = _writer()
    dossier = operations.find_in_scope(db.session, scope, code)
    if dossier is None:
        raise _Refused(404, _("There is no dossier %(code)s among your units.", code=code[:64]))
    return jsonify({"dossier": views.as_json(dossier, _base_url())})
