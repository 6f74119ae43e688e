"""The dossier API: a write key only, idempotent POST (201 / 200 unchanged / 200 updated),
PATCH for the later status, a batch of up to 1,000 all or nothing, every problem named;
times in Vietnam time stored UTC; the evaluation code, its URL and QR images."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Dossier, VisitToken
from survey_app.services.qr import tokens


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_post_creates_then_a_repeat_changes_nothing_then_an_update(demo_app, counters, d):
    client = demo_app.test_client()
    with client.post("/api/v1/dossiers", json=d.dossier(), headers=d.bearer(counters.write_p2)) as r:
        assert r.status_code == 201, r.get_json()
        body = r.get_json()
    assert body["result"] == "created"
    made = body["dossier"]
    assert made["code"] == "000.00.27.H56-260302-0001" and made["service_point"] == "p2motcua"
    assert made["received_at"] == "2026-03-02T08:15:00+07:00" and made["status"] == "processing"
    evaluation = made["evaluation"]
    code = evaluation["code"]
    assert tokens.normalize_code(code) is not None
    assert evaluation["url"] == f"http://localhost/v/{code}"
    assert evaluation["qr_png"] == f"http://localhost/v/{code}/qr.png"
    assert evaluation["qr_svg"] == f"http://localhost/v/{code}/qr.svg"
    assert len(evaluation["check_code"]) == 6 and evaluation["entry_url"] == "http://localhost/d"
    stored = db.session.scalar(select(Dossier))
    assert stored.received_at == datetime(2026, 3, 2, 1, 15, tzinfo=timezone.utc)  # UTC
    token = db.session.get(VisitToken, stored.token_id)
    assert token.code_hash == tokens.code_hash(tokens.normalize_code(code)) and token.unit_id == counters.p2.id
    assert token.campaign_id == counters.campaigns.p2.id
    with client.get(evaluation["qr_png"].removeprefix("http://localhost")) as r:
        assert r.status_code == 200 and r.mimetype == "image/png" and r.data[:4] == b"\x89PNG"
    with client.get(evaluation["qr_svg"].removeprefix("http://localhost")) as r:
        assert r.status_code == 200 and r.mimetype == "image/svg+xml" and b"<svg" in r.data

    # The same again: nothing changes, and the answer says so; no second code.
    with client.post("/api/v1/dossiers?lang=en", json=d.dossier(), headers=d.bearer(counters.write_p2)) as r:
        assert r.status_code == 200
        again = r.get_json()
    assert again["result"] == "unchanged" and "nothing changed" in again["message"]
    assert again["dossier"]["evaluation"]["code"] is None
    assert again["dossier"]["evaluation"]["check_code"] == evaluation["check_code"]
    assert count(Dossier) == 1 and count(VisitToken) == 1

    # Other content for the same code: an update, naming what changed.
    with client.post("/api/v1/dossiers", json=d.dossier(sector="Chứng thực"), headers=d.bearer(counters.write_p2)) as r:
        assert r.status_code == 200
        assert r.get_json()["result"] == "updated" and r.get_json()["changed"] == ["sector"]
    assert count(Dossier) == 1 and count(VisitToken) == 1


def test_patch_returned_late_and_waiting(demo_app, counters, d):
    client = demo_app.test_client()
    client.post("/api/v1/dossiers", json=d.dossier(), headers=d.bearer(counters.write_p2)).close()
    url = "/api/v1/dossiers/000.00.27.H56-260302-0001"
    with client.patch(url, json={"status": "waiting", "waited_minutes": 1440, "document_requests": 1},
                      headers=d.bearer(counters.write_p2)) as r:
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["dossier"]["status"] == "waiting"
    # Returned a day after the due time, but it waited a day for the citizen: on time.
    with client.patch(url, json={"returned_at": "2026-03-04T16:00:00+07:00"}, headers=d.bearer(counters.write_p2)) as r:
        got = r.get_json()["dossier"]
    assert got["status"] == "returned" and got["late"] is False and got["waited_minutes"] == 1440
    with client.patch(url, json={"status": "returned_late"}, headers=d.bearer(counters.write_p2)) as r:
        assert r.get_json()["dossier"]["late"] is True
    with client.patch(url, json={"status": "returned_late"}, headers=d.bearer(counters.write_p2)) as r:
        assert r.status_code == 200 and r.get_json()["result"] == "unchanged"
    with client.patch(url, json={"status": "lost", "waited_minutes": -3, "colour": "red"},
                      headers=d.bearer(counters.write_p2)) as r:
        assert r.status_code == 422
        fields = {p["field"] for p in r.get_json()["error"]["problems"]}
    assert {"status", "waited_minutes", "colour"} <= fields
    with client.patch("/api/v1/dossiers/NO-SUCH", json={"status": "returned"}, headers=d.bearer(counters.write_p2)) as r:
        assert r.status_code == 404 and set(r.get_json()["error"]) >= {"status", "title", "message"}
    # Ward p1's key cannot touch ward p2's dossier: it is not among its units.
    with client.patch(url, json={"status": "returned"}, headers=d.bearer(counters.write_p1)) as r:
        assert r.status_code == 404


def test_bad_input_names_every_problem_and_writes_nothing(demo_app, counters, d):
    client = demo_app.test_client()
    bad = d.dossier(code="", received_at="2. März", due_at="2026-02-01T08:00", service_point="p1motcua",
                    petition="maybe")
    del bad["sector"]
    with client.post("/api/v1/dossiers", json=bad, headers=d.bearer(counters.write_p2)) as r:
        assert r.status_code == 422
        error = r.get_json()["error"]
    assert set(error) == {"status", "title", "message", "problems"}
    fields = {p["field"] for p in error["problems"]}
    assert fields == {"code", "received_at", "service_point", "petition", "sector"}
    assert count(Dossier) == 0 and count(VisitToken) == 0
    with client.post("/api/v1/dossiers?lang=vi", json=bad, headers=d.bearer(counters.write_p2)) as r:
        assert any("bắt buộc" in p["message"] for p in r.get_json()["error"]["problems"])
    with client.post("/api/v1/dossiers", data="{not json", headers={**d.bearer(counters.write_p2),
                                                                     "Content-Type": "application/json"}) as r:
        assert r.status_code == 400
    with client.post("/api/v1/dossiers", json=[1, 2], headers=d.bearer(counters.write_p2)) as r:
        assert r.status_code == 422


def test_only_a_write_key_may_write(demo_app, counters, d):
    client = demo_app.test_client()
    for headers in ({}, d.bearer(counters.read_p2), {"Authorization": "Bearer nope"}):
        with client.post("/api/v1/dossiers", json=d.dossier(), headers=headers) as r:
            assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert count(Dossier) == 0
    # A write key reads no reports.
    with client.get("/api/v1/reports/vn/qt/p2?instrument=sipas", headers=d.bearer(counters.write_p2)) as r:
        assert r.status_code == 401


def test_a_code_reported_by_another_ward_is_refused(demo_app, counters, d):
    client = demo_app.test_client()
    client.post("/api/v1/dossiers", json=d.dossier(), headers=d.bearer(counters.write_p2)).close()
    with client.post("/api/v1/dossiers", json=d.dossier(service_point="p1motcua"),
                     headers=d.bearer(counters.write_p1)) as r:
        assert r.status_code == 409
    assert db.session.scalar(select(Dossier)).unit_id == counters.p2.id


def test_no_open_one_stop_campaign_is_named(demo_app, counters, d):
    counters.campaigns.p2.status = "closed"
    db.session.commit()
    with demo_app.test_client().post("/api/v1/dossiers?lang=en", json=d.dossier(),
                                     headers=d.bearer(counters.write_p2)) as r:
        assert r.status_code == 422
        [problem] = r.get_json()["error"]["problems"]
    assert problem["field"] == "service_point" and "campaign" in problem["message"]
    assert count(Dossier) == 0


def test_batch_all_or_nothing_with_indexes(demo_app, counters, d):
    client = demo_app.test_client()
    items = [d.dossier(f"P2-260302-{i:04d}") for i in range(1000)]
    items[17]["received_at"] = "yesterday"
    items[503]["code"] = "P2-260302-0002"  # the same code as index 2
    with client.post("/api/v1/dossiers/batch", json={"dossiers": items}, headers=d.bearer(counters.write_p2)) as r:
        assert r.status_code == 422
        problems = r.get_json()["error"]["problems"]
    assert {(p["index"], p["field"]) for p in problems} == {(17, "received_at"), (503, "code")}
    assert count(Dossier) == 0 and count(VisitToken) == 0
    items[17]["received_at"] = "2026-03-02T09:00"
    items[503]["code"] = "P2-260302-0503"
    with client.post("/api/v1/dossiers/batch", json={"dossiers": items}, headers=d.bearer(counters.write_p2)) as r:
        assert r.status_code == 201, r.get_json()
        body = r.get_json()
    assert body["created"] == 1000 and len({x["dossier"]["evaluation"]["code"] for x in body["dossiers"]}) == 1000
    assert count(Dossier) == 1000 and count(VisitToken) == 1000
    with client.post("/api/v1/dossiers/batch", json={"dossiers": items + [d.dossier("ONE-MORE")]},
                     headers=d.bearer(counters.write_p2)) as r:
        assert r.status_code == 422 and "1000" in r.get_json()["error"]["message"]
    with client.post("/api/v1/dossiers/batch", json={"dossiers": items[:3]}, headers=d.bearer(counters.write_p2)) as r:
        assert r.status_code == 200 and r.get_json()["unchanged"] == 3
    with client.post("/api/v1/dossiers/batch", json={"items": []}, headers=d.bearer(counters.write_p2)) as r:
        assert r.status_code == 400


def test_the_cli_makes_a_write_key(demo_app):
    result = demo_app.test_cli_runner().invoke(args=["apikeys", "create", "--unit", "/vn/qt/p2/", "--label",
                                                     "Phần mềm một cửa", "--scope", "dossiers:write"])
    assert result.exit_code == 0, result.output
    from survey_app.models import ApiKey
    assert db.session.scalar(select(ApiKey)).scope_list == ["dossiers:write"]
