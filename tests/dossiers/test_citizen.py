"""The citizen rates a dossier: its evaluation code opens the one-stop survey of its point
once (``/v/<code>``), or the dossier code and check code typed at ``/d`` do; a wrong pair
gets a clear message; the response is linked to the dossier; Vietnamese and English."""
from __future__ import annotations

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Dossier, Response

from helpers import full_answers, hidden_fields


def _create(client, counters, d, code="000.00.27.H56-260302-0001"):
    with client.post("/api/v1/dossiers", json=d.dossier(code, returned_at="2026-03-03T10:00"),
                     headers=d.bearer(counters.write_p2)) as r:
        assert r.status_code == 201
        return r.get_json()["dossier"]


def _answer(client, url: str, definition) -> str:
    with client.get(url) as page:
        assert page.status_code == 200, page.get_data(as_text=True)[-400:]
        html = page.get_data(as_text=True)
    data = {**hidden_fields(html), **full_answers(definition)}
    with client.post(url, data=data) as r:
        assert r.status_code == 303, r.get_data(as_text=True)[-400:]
        return r.headers["Location"]


def test_the_evaluation_code_opens_the_one_stop_survey_once(demo_app, counters, d):
    client = demo_app.test_client()
    made = _create(client, counters, d)
    path = made["evaluation"]["url"].removeprefix("http://localhost")
    definition = counters.campaigns.p2.instrument_version.snapshot
    with client.get(path) as page:
        assert definition["title"]["vi"] in page.get_data(as_text=True)
    thanks = _answer(client, path, definition)
    assert "/thanks" in thanks
    dossier = db.session.scalar(select(Dossier))
    db.session.refresh(dossier)
    response = db.session.get(Response, dossier.response_id)
    assert response.campaign_id == counters.campaigns.p2.id and response.unit_id == counters.p2.id
    # Nothing of a person: no address, no raw device id on the response.
    assert response.device_hash is None or len(response.device_hash) == 32
    with client.get(path) as again:
        assert again.status_code == 410
    with client.get("/api/v1/dossiers/000.00.27.H56-260302-0001", headers=d.bearer(counters.write_p2)) as r:
        assert r.get_json()["dossier"]["rated"] is True


def test_typing_the_dossier_code_and_check_code(demo_app, counters, d):
    client = demo_app.test_client()
    made = _create(client, counters, d)
    with client.get("/d") as page:
        assert page.status_code == 200
        token = hidden_fields(page.get_data(as_text=True))["csrf_token"]
    with client.post("/d?lang=en", data={"csrf_token": token, "dossier": made["code"], "check": "ZZZZZZ"}) as r:
        assert r.status_code == 404 and "do not match" in r.get_data(as_text=True)
    with client.post("/d?lang=en", data={"csrf_token": token, "dossier": "NO-SUCH-CODE", "check": made["evaluation"]["check_code"]}) as r:
        assert r.status_code == 404 and "do not match" in r.get_data(as_text=True)
    # Typed loosely: small letters, spaces, dashes.
    typed_check = "-".join(made["evaluation"]["check_code"].lower()[i:i + 3] for i in (0, 3))
    with client.post("/d", data={"csrf_token": token, "dossier": " " + made["code"].lower(), "check": typed_check}) as r:
        assert r.status_code == 303, r.get_data(as_text=True)[-300:]
        survey = r.headers["Location"]
    thanks = _answer(client, survey, counters.campaigns.p2.instrument_version.snapshot)
    with client.get(thanks) as page:
        assert page.status_code == 200
    assert db.session.scalar(select(Dossier.response_id)) is not None
    # Once only: the pair now says it was rated, and the evaluation code too.
    with client.post("/d?lang=en", data={"csrf_token": token, "dossier": made["code"],
                                         "check": made["evaluation"]["check_code"]}) as r:
        assert r.status_code == 410 and "already been rated" in r.get_data(as_text=True)
    with client.get(made["evaluation"]["url"].removeprefix("http://localhost")) as r:
        assert r.status_code == 410


def test_the_entry_page_in_vietnamese_and_english(demo_app, counters, d):
    client = demo_app.test_client()
    with client.get("/d?lang=vi") as page:
        html = page.get_data(as_text=True)
        assert "Mã hồ sơ" in html and "Mã kiểm tra" in html
    with client.get("/d?lang=en") as page:
        html = page.get_data(as_text=True)
        assert "Dossier code" in html and "Check code" in html


def test_a_forged_or_stale_reference_is_refused(demo_app, counters, d):
    client = demo_app.test_client()
    with client.get("/d/not-a-reference") as r:
        assert r.status_code == 404


def test_the_entry_form_is_rate_limited(variant, counters, d):
    app = variant(RATELIMIT_ENABLED=True, RATELIMIT_CODE_ENTRY="3/minute", RATELIMIT_CODE_ENTRY_ADDRESS="100/minute")
    client = app.test_client()
    with client.get("/d") as page:
        token = hidden_fields(page.get_data(as_text=True))["csrf_token"]
    statuses = [client.post("/d", data={"csrf_token": token, "dossier": "X-1", "check": "ABCDEF"}).status_code
                for _ in range(5)]
    assert statuses == [404, 404, 404, 429, 429]


def test_the_access_log_hides_the_dossier_reference():
    from survey_app.accesslog import redact

    assert redact("GET /d/eyJkIjoxfQ.abc/thanks?lang=vi HTTP/1.1") == "GET /d/[redacted]/thanks?lang=vi HTTP/1.1"


def test_a_paper_form_with_the_dossiers_code_is_linked_too(demo_app, counters, d, tmp_path):
    client = demo_app.test_client()
    made = _create(client, counters, d)
    definition = counters.campaigns.p2.instrument_version.snapshot
    keys = [q["key"] for q in definition["questions"] if q["type"] == "scale"]
    (tmp_path / "forms.csv").write_text(
        "unit,submitted_at,code," + ",".join(keys) + "\n"
        + f"p2motcua,2026-03-05,{made['evaluation']['code']}," + ",".join("3" for _ in keys) + "\n", encoding="utf-8")
    result = demo_app.test_cli_runner().invoke(args=["responses", "import", "--campaign",
                                                     str(counters.campaigns.p2.id), str(tmp_path / "forms.csv")])
    assert result.exit_code == 0, result.output
    response = db.session.scalar(select(Response))
    assert response.channel == "paper"
    assert db.session.scalar(select(Dossier.response_id)) == response.id
