"""The JSON API: the CLI's report names, for a logged-in official or an API key with a
read scope, scoped to the key's subtree exactly like a viewer's grant; errors in the one
JSON shape with 4xx. Also the ``apikeys`` command."""
from __future__ import annotations

import pytest
from flask import Flask

from survey_app.extensions import db
from survey_app.models import ApiKey
from survey_app.services.officials import apikeys


def key_for(unit, label="Cổng dữ liệu tỉnh") -> str:
    made = apikeys.create_key(db.session, unit, label)
    db.session.commit()
    return made.secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def api_rules(app: Flask):
    """The API's read routes of a unit (the dossier writes and the description have their own tests)."""
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith("api.") and "unit_ref" in r.arguments]


def test_the_cli_makes_a_key_that_reads_its_subtree(demo_app, place, sipas, h):
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["apikeys", "create", "--unit", "/vn/qt/p2/", "--label", "Cổng thông tin phường"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    assert secret.startswith("hl_")
    key = db.session.scalar(db.select(ApiKey))
    assert key.key_hash != secret and secret not in key.key_hash and key.label == "Cổng thông tin phường"
    assert h.audits("apikey.created")[0].unit_path == "/vn/qt/p2/"
    client = demo_app.test_client()
    with client.get(f"/api/v1/reports/vn/qt/p2?{h.qs()}", headers=bearer(secret)) as response:
        assert response.status_code == 200
        data = response.get_json()
    assert data["responses"] == 30 and data["unit"]["path"] == "/vn/qt/p2/"
    for name in ("index", "factors", "questions", "trend", "trend_test", "change", "units", "reliability", "window"):
        assert name in data
    [event] = h.audits("export.created")
    assert event.detail["format"] == "json" and event.actor_name == f"apikey:{key.prefix}"
    listed = runner.invoke(args=["apikeys", "list"])
    assert key.prefix in listed.output and "active" in listed.output
    revoked = runner.invoke(args=["apikeys", "revoke", str(key.id)])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    with client.get(f"/api/v1/reports/vn/qt/p2?{h.qs()}", headers=bearer(secret)) as response:
        assert response.status_code == 401
    bad = runner.invoke(args=["apikeys", "create", "--unit", "/nowhere/", "--label", "x"])
    assert bad.exit_code != 0 and "no unit" in bad.output


def test_an_api_key_is_scoped_like_a_viewer_grant(demo_app, place, sipas, h):
    """Every API route, tried with the other ward, the town above and the ward's own units."""
    secret = key_for(place.p2)
    client = demo_app.test_client()
    rules = api_rules(demo_app)
    assert rules, "the API has routes"
    for rule in rules:
        for unit, status in ((place.p1, 404), (place.p1_point, 404), (place.town, 404), (place.p2, 200),
                             (place.p2_point, 200)):
            for ref in (unit.path.strip("/"), str(unit.id)) + ((unit.code,) if unit.code else ()):
                url = rule.rule.replace("<path:unit_ref>", ref) + "?" + h.qs()
                with client.get(url, headers=bearer(secret)) as response:
                    assert response.status_code == status, (url, response.status_code)
                    if status == 404:
                        body = response.get_json()
                        assert set(body["error"]) == {"status", "title", "message"}
                        assert unit.name_vi not in response.get_data(as_text=True)
    # a campaign of the other ward is not a usable filter either
    with client.get(f"/api/v1/reports/vn/qt/p2?{h.qs(campaign=h.campaign_of(place.p1_point, 'sipas').id)}",
                    headers=bearer(secret)) as response:
        assert response.status_code == 400


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"},
                                     {"Authorization": "Bearer hl_00000000_" + "x" * 43}])
def test_missing_or_bad_credentials_are_401_json(demo_app, place, h, headers):
    with demo_app.test_client().get(f"/api/v1/reports/vn/qt/p2?{h.qs()}", headers=headers) as response:
        assert response.status_code == 401
        assert response.get_json()["error"]["status"] == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("params, word", [
    ({"instrument": ""}, "instrument"), ({"from": ""}, "YYYY-MM-DD"), ({"to": "2026-02-30"}, "2026-02-30"),
    ({"period": "week"}, "month"), ({"include_suspect": "maybe"}, "include_suspect"), ({"channel": "fax"}, "fax"),
])
def test_bad_filters_are_400_json(demo_app, place, h, params, word):
    secret = key_for(place.p2)
    with demo_app.test_client().get(f"/api/v1/reports/vn/qt/p2?{h.qs(**params)}&lang=en",
                                    headers=bearer(secret)) as response:
        assert response.status_code == 400
        error = response.get_json()["error"]
        assert error["status"] == 400 and word in error["message"]


def test_a_logged_in_official_reads_the_json_of_their_own_area(place, sipas, login, h):
    viewer = login("demo-viewer")
    with viewer.get(f"/api/v1/reports/p2motcua?{h.qs(include_suspect='true')}") as response:
        assert response.status_code == 200
        assert response.get_json()["responses"] == 32
        assert response.headers["Cache-Control"] == "no-store"
    with viewer.get(f"/api/v1/reports/vn/qt/p1?{h.qs()}") as response:
        assert response.status_code == 404
    [event] = h.audits("export.created")
    assert event.actor_name == "demo-viewer" and event.detail["include_suspect"] is True
