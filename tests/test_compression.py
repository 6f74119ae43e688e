"""Compressed responses and static files cached by their content hash."""
from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import brotli
from flask import Blueprint, Flask, url_for
from sqlalchemy import select

from survey_app import static_files
from survey_app.extensions import db
from survey_app.models import Unit
from survey_app.services.data.demo import DEMO_PASSWORD
from survey_app.services.officials import apikeys

SIPAS = "/s/p2motcua"
APP_DIR = Path(__file__).resolve().parent.parent / "survey_app"
STATIC_IN_TEMPLATE = re.compile(r"""url_for\(\s*['"]([\w.]*static)['"]\s*,\s*filename\s*=\s*['"]([^'"]+)['"]\s*\)""")
TOKEN = re.compile(r'(name="(?:csrf|form)_token" value=")[^"]*"')


def vary(response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()}


def without_tokens(html: str) -> str:
    return TOKEN.sub(r'\1"', html)


def stylesheet_urls(html: str) -> list[str]:
    return re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)


def sha16(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def official_client(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"csrf_token": token, "username": "demo-manager",
                                       "password": DEMO_PASSWORD}).status_code == 303
    return client


# ------------------------------------------------------------------ compression

def test_survey_page_is_gzipped_for_a_client_that_accepts_gzip(client):
    plain = client.get(SIPAS, headers={"Accept-Encoding": ""})
    zipped = client.get(SIPAS, headers={"Accept-Encoding": "gzip"})
    assert zipped.status_code == 200 and zipped.headers["Content-Encoding"] == "gzip"
    body = gzip.decompress(zipped.get_data())
    assert int(zipped.headers["Content-Length"]) == len(zipped.get_data()) < len(body) / 4
    assert without_tokens(body.decode()) == without_tokens(plain.get_data(as_text=True))
    assert "accept-encoding" in vary(zipped)


def test_brotli_is_preferred_when_the_client_accepts_both(client):
    response = client.get(SIPAS, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert response.headers["Content-Encoding"] == "br"
    assert "Gửi câu trả lời" in brotli.decompress(response.get_data()).decode()
    assert "accept-encoding" in vary(response)


def test_a_coding_refused_with_q_0_is_never_used(client):
    assert client.get(SIPAS, headers={"Accept-Encoding": "br;q=0, *"}).headers["Content-Encoding"] == "gzip"
    assert client.get(SIPAS, headers={"Accept-Encoding": "br;q=0, gzip;q=0.5"}).headers["Content-Encoding"] == "gzip"
    assert client.get(SIPAS, headers={"Accept-Encoding": "gzip;q=0.2, br;q=0.8"}).headers["Content-Encoding"] == "br"


def test_identity_when_the_client_accepts_no_compression(client):
    for accept in ("", "identity", "gzip;q=0", "gzip;q=0, br;q=0", "identity;q=1, *;q=0", "deflate, zstd"):
        response = client.get(SIPAS, headers={"Accept-Encoding": accept})
        assert "Content-Encoding" not in response.headers, accept
        assert "Gửi câu trả lời" in response.get_data(as_text=True)
        assert int(response.headers["Content-Length"]) == len(response.get_data())
        assert "accept-encoding" in vary(response), accept  # a cache must not hand this to a gzip client


def test_already_compressed_images_and_small_answers_are_sent_as_they_are(client):
    png = client.get(SIPAS + "/qr.png", headers={"Accept-Encoding": "gzip, br"})
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert "Content-Encoding" not in png.headers
    assert png.get_data().startswith(b"\x89PNG")
    small = client.get("/healthz", headers={"Accept-Encoding": "gzip, br"})
    assert len(small.get_data()) < 500 and "Content-Encoding" not in small.headers


def test_pdf_xlsx_and_images_are_not_on_the_compressed_list(demo_app):
    mimetypes = set(demo_app.config["COMPRESS_MIMETYPES"])
    assert not {"application/pdf", "image/png", "image/jpeg", "image/webp",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} & mimetypes
    assert {"text/html", "text/css", "application/json"} <= mimetypes


def test_an_officials_pages_are_never_compressed_but_static_files_are(demo_app):
    """BREACH: an official's page holds their CSRF token and reflects the query string."""
    client = official_client(demo_app)
    page = client.get("/admin/?probe=x", headers={"Accept-Encoding": "gzip, br"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "probe=x" in html and 'name="csrf_token"' in html
    assert len(html) > 500 and "text/html" in page.content_type  # would be compressed for anybody else
    assert "Content-Encoding" not in page.headers
    survey = client.get(SIPAS, headers={"Accept-Encoding": "gzip, br"})
    assert survey.status_code == 200 and "Content-Encoding" not in survey.headers
    (css,) = [u for u in stylesheet_urls(html) if "admin.css" in u]
    with client.get(css, headers={"Accept-Encoding": "gzip"}) as sheet:
        assert sheet.headers["Content-Encoding"] == "gzip"
    # logged out: the same client's pages are compressed again
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code in (302, 303)
    assert client.get(SIPAS, headers={"Accept-Encoding": "gzip"}).headers.get("Content-Encoding") == "gzip"


def test_gzip_only_client_first_and_next_visit_weights(client):
    """Chromium over HTTPS gets brotli (tests/test_page_weight.py); a gzip-only client too
    stays within the budget: page + CSS ≤ 5,000 bytes, the page alone ≤ 4,000."""
    page = client.get(SIPAS, headers={"Accept-Encoding": "gzip"})
    (url,) = stylesheet_urls(gzip.decompress(page.get_data()).decode())
    with client.get(url, headers={"Accept-Encoding": "gzip"}) as css:
        assert css.headers["Content-Encoding"] == "gzip"
        assert len(page.get_data()) <= 4000
        assert len(page.get_data()) + len(css.get_data()) <= 5000


# ------------------------------------------------------------------ static files by content hash

def test_stylesheet_url_carries_the_files_content_hash_and_is_immutable(client):
    (url,) = stylesheet_urls(client.get(SIPAS).get_data(as_text=True))
    assert url == "/static/site.css?v=" + sha16((APP_DIR / "static" / "site.css").read_bytes())
    with client.get(url) as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.get_data() == (APP_DIR / "static" / "site.css").read_bytes()


def test_static_file_without_or_with_a_stale_hash_gets_a_short_max_age(client, demo_app):
    short = f"public, max-age={demo_app.config['STATIC_MAX_AGE']}"
    assert demo_app.config["STATIC_MAX_AGE"] <= 3600
    for url in ("/static/site.css", "/static/site.css?v=0123456789abcdef"):
        with client.get(url) as response:
            assert response.status_code == 200 and response.headers["Cache-Control"] == short, url
    with client.get("/static/nothing-here.css") as missing:
        assert missing.status_code == 404


def test_every_static_file_a_template_names_gets_a_hashed_url(demo_app):
    named = set()
    for template in APP_DIR.rglob("templates/**/*.html"):
        named |= set(STATIC_IN_TEMPLATE.findall(template.read_text(encoding="utf-8")))
    assert ("static", "site.css") in named and ("petitions.static", "petitions.css") in named
    with demo_app.test_request_context("/"):
        for endpoint, filename in sorted(named):
            folder = demo_app.static_folder if endpoint == "static" else \
                demo_app.blueprints[endpoint.rsplit(".", 1)[0]].static_folder
            expected = sha16((Path(folder) / filename).read_bytes())
            assert url_for(endpoint, filename=filename).endswith(f"{filename}?v={expected}"), (endpoint, filename)


def test_blueprint_static_file_is_hashed_and_immutable(client):
    html = client.get("/f/p2motcua").get_data(as_text=True)
    (url,) = [u for u in stylesheet_urls(html) if "petitions.css" in u]
    assert re.fullmatch(r"/static/petitions/petitions\.css\?v=[0-9a-f]{16}", url)
    with client.get(url, headers={"Accept-Encoding": "gzip"}) as response:
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["Content-Encoding"] == "gzip"
        assert b"{" in gzip.decompress(response.get_data())


def _app_with_static(folder: Path) -> Flask:
    app = Flask(__name__, static_folder=str(folder / "top"), static_url_path="/static")
    app.config["STATIC_MAX_AGE"] = 60
    app.register_blueprint(Blueprint("extra", __name__, static_folder=str(folder / "bp"),
                                     static_url_path="/static/extra"))
    static_files.init_app(app)
    return app


def test_a_changed_file_gets_a_new_url(tmp_path):
    (tmp_path / "top" / "css").mkdir(parents=True)
    (tmp_path / "bp").mkdir()
    (tmp_path / "top" / "css" / "a.css").write_text("body{color:red}")
    (tmp_path / "bp" / "b.css").write_text("p{margin:0}")
    before = _app_with_static(tmp_path)
    with before.test_request_context("/"):
        old = url_for("static", filename="css/a.css"), url_for("extra.static", filename="b.css")
    assert old[0] == "/static/css/a.css?v=" + sha16(b"body{color:red}")
    assert old[1] == "/static/extra/b.css?v=" + sha16(b"p{margin:0}")

    (tmp_path / "top" / "css" / "a.css").write_text("body{color:blue}")
    after = _app_with_static(tmp_path)
    with after.test_request_context("/"):
        new = url_for("static", filename="css/a.css"), url_for("extra.static", filename="b.css")
        assert url_for("static", filename="missing.css") == "/static/missing.css"  # no file, no hash
    assert new[0] == "/static/css/a.css?v=" + sha16(b"body{color:blue}") != old[0]
    assert new[1] == old[1]  # the unchanged file keeps its URL

    client = after.test_client()
    for url, cache in ((new[0], "public, max-age=31536000, immutable"),
                       (old[0], "public, max-age=60"),  # the link of a page rendered before the change
                       (new[1], "public, max-age=31536000, immutable")):
        with client.get(url) as response:
            assert response.status_code == 200 and response.headers["Cache-Control"] == cache, url



def test_the_api_is_compressed_for_an_api_key_but_not_for_an_officials_session(demo_app, client):
    point = db.session.scalar(select(Unit).where(Unit.code == "p2motcua"))
    secret = apikeys.create_key(db.session, point, "Cổng dữ liệu").secret
    db.session.commit()
    asked = {"Accept-Encoding": "gzip"}
    report_url = "/api/v1/reports/p2motcua?instrument=sipas&window=custom&from=2026-01-01&to=2026-06-30"
    with client.get(report_url, headers={**asked, "Authorization": f"Bearer {secret}"}) as keyed:
        assert keyed.status_code == 200 and keyed.headers["Content-Encoding"] == "gzip"
        report = gzip.decompress(keyed.get_data())
        assert b'"responses"' in report and "accept-encoding" in vary(keyed)
    with official_client(demo_app).get(report_url, headers=asked) as session_read:
        assert session_read.status_code == 200 and "Content-Encoding" not in session_read.headers
        assert b'"responses"' in session_read.get_data() and len(session_read.get_data()) >= 500
