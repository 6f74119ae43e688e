"""The OpenAPI 3.1 description: valid (openapi-spec-validator), the same routes as the app
(no drift either way), a readable page, and a Schemathesis run against the live app for
every operation: 0 server errors, 0 responses that do not match the description."""
from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate

from survey_app.api.openapi import spec

_ARG = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def flask_operations(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((method.lower(), _ARG.sub(r"{\1}", rule.rule)))
    return found


def spec_operations(description) -> set[tuple[str, str]]:
    return {(method, path) for path, methods in description["paths"].items() for method in methods}


def test_the_description_is_valid_and_has_every_route(app):
    description = app.test_client().get("/api/v1/openapi.json").get_json()
    validate(description)
    assert description["openapi"].startswith("3.1")
    assert flask_operations(app) == spec_operations(description)


def test_the_dossier_schemas_name_the_fields_the_service_takes():
    from survey_app.services.dossiers import operations

    schemas = spec()["components"]["schemas"]
    assert tuple(schemas["DossierInput"]["properties"]) == operations.FIELDS
    assert set(schemas["DossierInput"]["required"]) == set(operations.REQUIRED)
    assert tuple(schemas["DossierStatusInput"]["properties"]) == operations.STATUS_FIELDS
    assert schemas["Dossier"]["properties"]["status"]["enum"] == list(operations.DOSSIER_STATUSES)


def test_the_docs_page_lists_every_operation(app):
    with app.test_client().get("/api/v1/docs") as page:
        assert page.status_code == 200 and page.mimetype == "text/html"
        html = page.get_data(as_text=True)
    for method, path in spec_operations(spec()):
        assert path in html and method.upper() in html
    assert "cdn" not in html.lower() and "<script src=\"http" not in html


def test_schemathesis_against_the_live_app(demo_app, counters, d):
    import schemathesis
    from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                                   status_code_conformance)
    from schemathesis.checks import not_a_server_error

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", demo_app)
    # Real values now and then, so the run gets past the lookups into the writes and reads.
    demo_app.test_client().post("/api/v1/dossiers", json=d.dossier("P2-260302-0001"),
                                headers=d.bearer(counters.write_p2)).close()
    ran = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        key = counters.read_p2 if operation.path.startswith("/api/v1/reports") else counters.write_p2

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                         HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
        def run(case):
            response = case.call(headers={"Authorization": f"Bearer {key}"})
            case.validate_response(response, checks=checks)

        run()
        ran.add((operation.method.lower(), operation.path))
    # Schemathesis leaves out the operation that serves the description it was loaded from;
    # the first test fetches that one and validates it.
    assert ran | {("get", "/api/v1/openapi.json")} == spec_operations(spec())
