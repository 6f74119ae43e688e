"""Fuzzing every public route and the paper importer: whatever arrives — NUL and other
control characters, 100 KB values, percent-escapes that are not UTF-8, binary bodies —
the answer is never a server error (the outside probe found 311 of them).

Routes come from the URL map, so a new public route is fuzzed without being listed here;
the officials' blueprints are walked by ``tests/officials/test_route_walk.py`` instead.
Bounded: ``EXAMPLES`` cases per route (``FUZZ_EXAMPLES`` in the environment raises it
for a deeper run), no example database written.
"""
from __future__ import annotations

import os
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from helpers import full_answers, hidden_fields
from survey_app.extensions import db
from survey_app.models import Campaign, Unit
from survey_app.services.data import paper_import
from test_survey import definition_for

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
OFFICIAL_BLUEPRINTS = {"admin", "reports", "petitions_admin"}
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])
# Real values, so that the fuzzing also reaches past the first lookup.
SEEDS = ["p2motcua", "p2yte", "vn/qt/p2", "vn/qt/quang-tri", "7K3QM-XD9FP", "site.css", "sipas"]
RULE_ARG = re.compile(r"<(?:[a-z]+:)?[a-z_]+>")

# --- what an attacker sends, as text already percent-encoded for a URL
# NUL is named twice: it is what PostgreSQL refuses, and hypothesis seldom draws it by itself.
controls = st.sampled_from(["\x00", "\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\t", "\r\n"])
hostile_text = st.one_of(
    st.text(max_size=40),  # any Unicode
    st.lists(controls, min_size=1, max_size=4).map("".join),  # control characters only
    st.builds(lambda seed, c, at: seed[:at] + c + seed[at:], st.sampled_from(SEEDS), controls,
              st.integers(0, 12)),  # a real value with a control inside
    st.sampled_from(SEEDS),
    st.just("A" * 100_000),  # overlong
)
encoded = st.one_of(
    hostile_text.map(lambda t: quote(t, safe="")),
    st.binary(max_size=24).map(lambda b: "".join(f"%{x:02X}" for x in b)),  # binary, mostly not UTF-8
    st.sampled_from(["%", "%0", "%zz", "%C3", "%C3%28", "%E2%82", "%F0%9F%98", "%ED%A0%80", "%C0%AF", "%FF%FE"]),
)
query = st.lists(st.tuples(st.one_of(st.sampled_from(["lang", "code", "next", "period", "new", "low"]), encoded),
                           encoded), max_size=3).map(lambda pairs: "&".join(f"{k}={v}" for k, v in pairs))
form_values = st.one_of(hostile_text, st.binary(max_size=64).map(lambda b: b.decode("latin-1")))


def public_rules(app, method: str):
    return sorted((r for r in app.url_map.iter_rules()
                   if method in r.methods and r.endpoint.split(".")[0] not in OFFICIAL_BLUEPRINTS),
                  key=lambda r: r.rule)


def server_error(response) -> str:
    return f"{response.status_code}: {response.get_data(as_text=True)[-300:]}"


def test_every_public_get_route_survives_hostile_addresses(demo_app, client):
    rules = public_rules(demo_app, "GET")
    assert {"/s/<code>", "/f/<path:ref>", "/p/<path:ref>", "/t/<tracking>", "/k/<code>", "/healthz"} <= {
        r.rule for r in rules}
    for rule in rules:
        @SETTINGS
        @given(parts=st.lists(encoded, min_size=len(rule.arguments), max_size=len(rule.arguments)), qs=query)
        def probe(parts, qs):
            values = iter(parts)
            path = RULE_ARG.sub(lambda _m: next(values) or "x", rule.rule)
            with client.get(path + ("?" + qs if qs else "")) as response:
                assert response.status_code < 500, (path, qs[:200], server_error(response))

        probe()


POST_FORMS = ["/s/p2motcua", "/k/p2motcua", "/v", "/f/p2motcua", "/login"]


def valid_body(url: str) -> dict[str, str]:
    """What a person would send, so that hostile values also reach validation and storage."""
    if url.startswith(("/s/", "/k/")):
        return full_answers(definition_for("p2motcua"))
    if url.startswith("/f/"):
        return {"category": "procedure", "text": "Đèn đường trước nhà văn hoá khu phố 3 bị hỏng đã hai tuần."}
    if url == "/login":
        return {"username": "demo-manager", "password": "not the password, but long enough"}
    return {"code": "K7QM-3XDA-9F2P-HW8T"}


@pytest.mark.parametrize("url", POST_FORMS)
def test_the_citizen_and_login_forms_survive_hostile_bodies(demo_app, url):
    client = demo_app.test_client()
    base = valid_body(url)
    with client.get(url) as page:
        assert page.status_code in (200, 403), url  # the kiosk form needs an enrolled tablet
        fields = hidden_fields(page.get_data(as_text=True))
        token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page.get_data(as_text=True))
        if token:
            fields["csrf_token"] = token.group(1)

    names = st.one_of(st.sampled_from(sorted(base)),  # the form's own fields, most often
                      st.sampled_from(sorted(base)),
                      st.sampled_from(["csrf_token", "form_token", "name", "phone", "email", "next", "photo"]),
                      hostile_text)

    @SETTINGS
    @given(extra=st.dictionaries(names, form_values, max_size=4), raw=st.binary(max_size=200),
           kind=st.sampled_from(["form", "form", "raw", "multipart"]))
    def probe(extra, raw, kind):
        if kind == "form":
            response = client.post(url, data={**fields, **base, **extra})
        elif kind == "multipart":
            response = client.post(url, data={**fields, **base, **extra}, content_type="multipart/form-data")
        else:
            response = client.post(url, data=raw, content_type="application/x-www-form-urlencoded")
        with response:
            assert response.status_code < 500, (url, kind, server_error(response))

    probe()


@pytest.fixture
def campaign(demo_app):
    unit = db.session.scalar(select(Unit).where(Unit.code == "p2motcua"))
    return db.session.scalar(select(Campaign).where(Campaign.units.contains(unit)))


def test_the_paper_importer_refuses_hostile_files_with_a_message(campaign, tmp_path):
    """Whatever the file holds, an import either succeeds or says what is wrong
    (``ImportFailed``); nothing else escapes, and no bad row is written."""
    keys = [q["key"] for q in campaign.instrument_version.snapshot["questions"]]

    @SETTINGS
    @given(cells=st.lists(form_values, min_size=1, max_size=6), raw=st.binary(max_size=300),
           kind=st.sampled_from(["cells", "raw-csv", "raw-xlsx"]))
    def probe(cells, raw, kind):
        if kind == "cells":
            path = tmp_path / "fuzz.csv"
            header = ["unit", "submitted_at", *keys[:len(cells)]]
            row = ["p2motcua", "2026-03-05", *cells]
            line = lambda values: ",".join('"' + v.replace('"', '""') + '"' for v in values)  # noqa: E731
            path.write_bytes((line(header) + "\r\n" + line(row) + "\r\n").encode("utf-8", "surrogatepass"))
        else:
            path = tmp_path / ("fuzz.csv" if kind == "raw-csv" else "fuzz.xlsx")
            path.write_bytes(raw)
        try:
            paper_import.import_file(db.session, campaign, path, dry_run=True)
        except paper_import.ImportFailed as exc:
            assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)

    probe()
