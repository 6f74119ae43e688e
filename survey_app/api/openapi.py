"""The API's OpenAPI 3.1 description, ``GET /api/v1/openapi.json``, and a page that lists
it for people, ``GET /api/v1/docs`` (server-rendered, nothing from a CDN).

The description is written here, beside the routes, and checked against them:
``tests/dossiers/test_openapi.py`` fails when a route of ``/api/v1`` is missing from it or
it names one that does not exist, validates it with ``openapi-spec-validator`` and runs
Schemathesis against the live app (0 server errors, every response as described).
"""
from __future__ import annotations

from copy import deepcopy
from typing import Any

from flask import jsonify, render_template

from ..models import DOSSIER_STATUSES
from ..services.dossiers.operations import MAX_BATCH
from . import bp

__all__ = ["SPEC", "operations", "spec"]

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "title", "message"],
            "properties": {
                "status": {"type": "integer"},
                "title": {"type": "string"},
                "message": {"type": "string"},
                "problems": {
                    "type": "array",
                    "description": "Each problem of the input: the field (null for the whole object) and, in a "
                                   "batch, the index of the dossier.",
                    "items": {"$ref": "#/components/schemas/Problem"},
                },
            },
        },
    },
}

_TIME_IN = {"type": ["string", "null"], "description": "ISO 8601 date and time; without an offset it is Vietnam time "
                                                      "(Asia/Ho_Chi_Minh). Stored in UTC.",
            "examples": ["2026-03-02T08:15", "2026-03-02T08:15:00+07:00"]}
_TIME_OUT = {"type": ["string", "null"], "description": "ISO 8601, Vietnam time (+07:00)."}

_DOSSIER_IN = {
    "type": "object",
    "required": ["code", "procedure_code", "procedure_name", "sector", "service_point", "received_at"],
    "additionalProperties": False,
    "properties": {
        "code": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9._/-]+$",
                 "description": "The dossier code (mã hồ sơ) the one-stop software gave. The key: sending it again "
                                "updates the dossier, or changes nothing."},
        "procedure_code": {"type": "string", "minLength": 1, "maxLength": 64},
        "procedure_name": {"type": "string", "minLength": 1, "maxLength": 500},
        "sector": {"type": "string", "minLength": 1, "maxLength": 200, "description": "Lĩnh vực, e.g. Hộ tịch."},
        "service_point": {"type": "string", "minLength": 1, "maxLength": 16,
                          "description": "The public code of a one-stop service point of the key's units."},
        "received_at": {**_TIME_IN, "type": "string"},
        "due_at": _TIME_IN,
        "returned_at": _TIME_IN,
        "status": {"type": ["string", "null"], "enum": [*DOSSIER_STATUSES, None]},
        "waited_minutes": {"type": ["integer", "null"], "minimum": 0,
                           "description": "Total time waiting for the citizen's extra documents (left out of the "
                                          "on-time clock)."},
        "document_requests": {"type": ["integer", "null"], "minimum": 0,
                              "description": "How many times the citizen was asked for more documents (a second "
                                             "request counts as late)."},
        "petition": {"type": ["boolean", "null"], "description": "A petition was filed about this dossier."},
        "staff": {"type": ["string", "null"], "maxLength": 100,
                  "description": "The counter that handled it. Never shown publicly."},
    },
}

_STATUS_IN = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": False,
    "properties": {name: _DOSSIER_IN["properties"][name]
                   for name in ("status", "returned_at", "due_at", "waited_minutes", "document_requests", "petition")},
}

_DOSSIER_OUT = {
    "type": "object",
    "required": ["code", "service_point", "procedure_code", "procedure_name", "sector", "received_at", "status",
                 "late", "rated", "evaluation"],
    "properties": {
        "code": {"type": "string"},
        "service_point": {"type": "string"},
        "procedure_code": {"type": "string"},
        "procedure_name": {"type": "string"},
        "sector": {"type": "string"},
        "staff": {"type": ["string", "null"]},
        "received_at": {"type": "string"},
        "due_at": _TIME_OUT,
        "returned_at": _TIME_OUT,
        "status": {"type": "string", "enum": list(DOSSIER_STATUSES)},
        "late": {"type": "boolean", "description": "Late in the sense of 766/QĐ-TTg."},
        "waited_minutes": {"type": "integer"},
        "document_requests": {"type": "integer"},
        "petition": {"type": "boolean"},
        "rated": {"type": "boolean"},
        "evaluation": {
            "type": "object",
            "required": ["code", "url", "qr_png", "qr_svg", "check_code", "entry_url"],
            "properties": {
                "code": {"type": ["string", "null"], "description": "The one-time evaluation code: only in the "
                                                                  "answer that created the dossier (only its digest "
                                                                  "is stored)."},
                "url": {"type": ["string", "null"]},
                "qr_png": {"type": ["string", "null"]},
                "qr_svg": {"type": ["string", "null"]},
                "check_code": {"type": "string", "description": "Printed with the dossier code on the receipt."},
                "entry_url": {"type": "string", "description": "Where the citizen types both codes."},
            },
        },
    },
}

_OUTCOME = {
    "type": "object",
    "required": ["result", "changed", "message", "dossier"],
    "properties": {
        "result": {"type": "string", "enum": ["created", "updated", "unchanged"]},
        "changed": {"type": "array", "items": {"type": "string"}},
        "message": {"type": "string"},
        "dossier": {"$ref": "#/components/schemas/Dossier"},
    },
}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {400: "Not JSON, or a bad filter.", 401: "No or bad credentials.", 404: "Not found among your units.",
            405: "Method not allowed.", 409: "A dossier code another unit reported.", 413: "Too large.",
            422: "Bad values; every problem in error.problems.", 429: "Too many requests.",
            503: "The database is unavailable."}
    # Every request may meet 400 (control characters in the address are refused app-wide) and 503.
    return {str(s): {"description": text[s], "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            for s in sorted({400, 503, *statuses})}


def _json(schema_ref: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


_WRITE = [{"bearerAuth": []}]
_CODE_PARAM = {"name": "code", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1},
               "description": "The dossier code."}

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Hài Lòng API",
        "version": "1",
        "summary": "Satisfaction reports, and dossiers from the one-stop software.",
        "description": "Every error has the shape {\"error\": {\"status\", \"title\", \"message\"[, \"problems\"]}}. "
                       "Keys: flask --app wsgi apikeys create --unit <path> --label <who> [--scope dossiers:write]; "
                       "send Authorization: Bearer <key>. A key reads or writes only its unit's subtree.",
    },
    "components": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer",
                           "description": "An API key: hl_<prefix>_<secret>. reports:read for reports, "
                                          "dossiers:write for dossiers."},
            "session": {"type": "apiKey", "in": "cookie", "name": "session",
                        "description": "A logged-in official's session (reports only)."},
        },
        "schemas": {
            "Error": _ERROR,
            "Problem": {"type": "object", "required": ["field", "message"],
                        "properties": {"field": {"type": ["string", "null"]}, "message": {"type": "string"},
                                       "index": {"type": "integer", "minimum": 0}}},
            "DossierInput": _DOSSIER_IN,
            "DossierStatusInput": _STATUS_IN,
            "Dossier": _DOSSIER_OUT,
            "Outcome": _OUTCOME,
            "Report": {"type": "object", "additionalProperties": True,
                       "required": ["unit", "responses", "index", "window"],
                       "description": "The report, with the names of flask report --format json (analysis/README.md).",
                       "properties": {"unit": {"type": "object"}, "responses": {"type": "integer"},
                                      "window": {"type": "object"}, "index": {}}},
        },
    },
    "paths": {
        "/api/v1/reports/{unit_ref}": {
            "get": {
                "operationId": "getReport",
                "summary": "The report of a unit (its subtree), as flask report --format json prints it.",
                "security": [{"bearerAuth": []}, {"session": []}],
                "parameters": [
                    {"name": "unit_ref", "in": "path", "required": True, "schema": {"type": "string"},
                     "description": "A service point code, a unit path (vn/qt/p2) or a unit id."},
                    {"name": "instrument", "in": "query", "required": True, "schema": {"type": "string"}},
                    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
                    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
                    {"name": "period", "in": "query", "schema": {"type": "string", "enum": ["month", "quarter"]}},
                    {"name": "include_suspect", "in": "query", "schema": {"type": "string", "enum": ["0", "1"]}},
                    {"name": "channel", "in": "query", "schema": {"type": "array", "items": {"type": "string"}},
                     "style": "form", "explode": True},
                    {"name": "campaign", "in": "query", "schema": {"type": "integer"}},
                ],
                "responses": {"200": _json("Report", "The report."), **_errors(400, 401, 404, 503)},
            },
        },
        "/api/v1/dossiers": {
            "post": {
                "operationId": "putDossier",
                "summary": "Create or update one dossier (idempotent on its code); a new one gets its evaluation code.",
                "description": "The body is the whole dossier: a field left out takes its default (no due or "
                               "return time, status from returned_at, 0 minutes waited, no petition). Sending "
                               "the same body again changes nothing (200, result unchanged). Use PATCH to "
                               "change only the status and times.",
                "security": _WRITE,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/DossierInput"}}}},
                "responses": {"201": _json("Outcome", "Created, with the one-time evaluation code."),
                              "200": _json("Outcome", "Updated, or unchanged (result says which)."),
                              **_errors(400, 401, 409, 413, 422, 503)},
            },
        },
        "/api/v1/dossiers/batch": {
            "post": {
                "operationId": "putDossiers",
                "summary": f"Up to {MAX_BATCH} dossiers, all or nothing.",
                "security": _WRITE,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["dossiers"],
                    "properties": {"dossiers": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH,
                                                "items": {"$ref": "#/components/schemas/DossierInput"}}}}}}},
                "responses": {
                    "201": {"description": "At least one created.", "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/BatchResult"}}}},
                    "200": {"description": "All updated or unchanged.", "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/BatchResult"}}}},
                    **_errors(400, 401, 409, 413, 422, 503)},
            },
        },
        "/api/v1/dossiers/{code}": {
            "get": {
                "operationId": "getDossier",
                "summary": "One dossier of the key's units (the evaluation code itself is not shown again).",
                "security": _WRITE,
                "parameters": [_CODE_PARAM],
                "responses": {"200": {"description": "The dossier.", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["dossier"],
                    "properties": {"dossier": {"$ref": "#/components/schemas/Dossier"}}}}}},
                    **_errors(401, 404, 503)},
            },
            "patch": {
                "operationId": "patchDossier",
                "summary": "A later status: returned, returned late, waiting for the citizen's documents "
                           "(with the time waited).",
                "security": _WRITE,
                "parameters": [_CODE_PARAM],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/DossierStatusInput"}}}},
                "responses": {"200": _json("Outcome", "Updated, or unchanged."),
                              **_errors(400, 401, 404, 413, 422, 503)},
            },
        },
        "/api/v1/openapi.json": {
            "get": {"operationId": "getOpenAPI", "summary": "This description.", "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1.",
                                          "content": {"application/json": {"schema": {"type": "object"}}}},
                                  **_errors()}},
        },
        "/api/v1/docs": {
            "get": {"operationId": "getDocs", "summary": "This description as a page.", "security": [],
                    "responses": {"200": {"description": "HTML.",
                                          "content": {"text/html": {"schema": {"type": "string"}}}},
                                  **_errors()}},
        },
    },
}
SPEC["components"]["schemas"]["BatchResult"] = {
    "type": "object", "required": ["created", "updated", "unchanged", "dossiers"],
    "properties": {"created": {"type": "integer"}, "updated": {"type": "integer"}, "unchanged": {"type": "integer"},
                   "dossiers": {"type": "array", "items": {"$ref": "#/components/schemas/Outcome"}}},
}


def spec() -> dict[str, Any]:
    return deepcopy(SPEC)


def operations() -> list[dict[str, Any]]:
    """(method, path, summary, parameters, responses) of every operation, for the page."""
    out = []
    for path, methods in SPEC["paths"].items():
        for method, op in methods.items():
            out.append({"method": method.upper(), "path": path, "summary": op["summary"],
                        "auth": [name for entry in op.get("security", []) for name in entry],
                        "parameters": [p["name"] for p in op.get("parameters", [])],
                        "body": op.get("requestBody", {}).get("content", {}).get("application/json", {})
                        .get("schema", {}).get("$ref", "").rpartition("/")[2] or
                        ("object" if "requestBody" in op else ""),
                        "responses": sorted(op["responses"])})
    return out


@bp.get("/openapi.json")
def openapi_json():
    response = jsonify(spec())
    return response


@bp.get("/docs")
def docs():
    return render_template("api/docs.html", operations=operations(), spec=SPEC)
