"""Fixtures for the survey in the physical world: posters, one-time codes, kiosks, abuse defence.

Everything builds on ``demo_app`` from ``tests/conftest.py``, so each test runs on SQLite
and on PostgreSQL. ``variant`` makes a second app on the same database with other
settings (rate limits on, another storage, a minimum fill time…).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

import helpers
from helpers import hidden_fields
from survey_app.extensions import db, limiter
from survey_app.models import Campaign, Unit
from survey_app.services.qr import tokens as token_service

def need_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed; .ci/run installs poppler-utils")
        pytest.skip(f"{name} is not installed (apt-get install poppler-utils)")
    return path


class PdfTools:
    """Poppler's command-line tools on PDF bytes, as a printer or a reader would see them."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path

    def _file(self, pdf: bytes) -> Path:
        path = self.tmp_path / f"doc-{uuid.uuid4().hex}.pdf"
        path.write_bytes(pdf)
        return path

    def image(self, pdf: bytes, page: int = 1, dpi: int = 100) -> Image.Image:
        prefix = self.tmp_path / f"page-{uuid.uuid4().hex}"
        subprocess.run([need_tool("pdftoppm"), "-r", str(dpi), "-png", "-gray", "-f", str(page), "-l", str(page),
                        "-singlefile", str(self._file(pdf)), str(prefix)], check=True, capture_output=True, timeout=60)
        with Image.open(f"{prefix}.png") as image:
            image.load()
            return image.copy()

    def text(self, pdf: bytes) -> str:
        return subprocess.run([need_tool("pdftotext"), "-enc", "UTF-8", str(self._file(pdf)), "-"], check=True,
                              capture_output=True, timeout=60).stdout.decode("utf-8")

    def pages(self, pdf: bytes) -> int:
        info = subprocess.run([need_tool("pdfinfo"), str(self._file(pdf))], check=True, capture_output=True,
                              timeout=60).stdout.decode()
        return int(next(li for li in info.splitlines() if li.startswith("Pages:")).split()[1])


@pytest.fixture
def pdf_tools(tmp_path) -> PdfTools:
    return PdfTools(tmp_path)


def _decode_qr(image: Image.Image) -> list:
    """Every QR code a real decoder (ZXing) finds in the image."""
    import zxingcpp

    return [r for r in zxingcpp.read_barcodes(image) if r.valid and r.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.fixture
def decode_qr():
    return _decode_qr


@pytest.fixture
def full_answers():
    return helpers.full_answers


@pytest.fixture
def unit_by_code(demo_app):
    return lambda code: db.session.scalar(select(Unit).where(Unit.code == code))


@pytest.fixture
def open_campaign(demo_app, unit_by_code):
    """The demo's open campaign at a point."""
    return lambda code: db.session.scalar(select(Campaign).where(Campaign.units.contains(unit_by_code(code)),
                                                                 Campaign.access_mode == "open"))


@pytest.fixture
def token_campaign(demo_app, unit_by_code, open_campaign):
    """Make a token campaign at a point, with the same instrument as its open one."""
    def make(code: str = "p2tieuhoc", mode: str = "respondent_token", **fields) -> Campaign:
        unit = unit_by_code(code)
        template = open_campaign(code)
        campaign = Campaign(name=fields.pop("name", f"Phiếu có mã – {unit.name_vi}"),
                            instrument_version=template.instrument_version, access_mode=mode,
                            status=fields.pop("status", "open"),
                            starts_at=fields.pop("starts_at", datetime.now(timezone.utc) - timedelta(days=1)), **fields)
        campaign.units.append(unit)
        db.session.add(campaign)
        db.session.commit()
        return campaign
    return make


@pytest.fixture
def issue(demo_app, unit_by_code):
    """Issue ``n`` codes for a campaign at a point and commit; returns the printed codes."""
    def make(campaign: Campaign, code: str = "p2tieuhoc", n: int = 1, expires_at: datetime | None = None) -> list[str]:
        codes = token_service.issue_tokens(db.session, campaign, unit_by_code(code), n, expires_at=expires_at)
        db.session.commit()
        return codes
    return make


@pytest.fixture
def answer(demo_app):
    """Open a survey page and send a full, valid answer; returns the POST response."""
    def send(client, url: str, extra: dict | None = None, **headers):
        page = client.get(url, headers=headers)
        assert page.status_code == 200, page.status_code
        html = page.get_data(as_text=True)
        action = html.split('<form method="post" action="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        campaign_def = _definition_from_page(html)
        data = {**hidden_fields(html), **helpers.full_answers(campaign_def), **(extra or {})}
        return client.post(action, data=data, headers=headers)
    return send


def _definition_from_page(html: str):
    """The definition behind a rendered survey page (its form token names the version)."""
    from flask import current_app
    from itsdangerous import URLSafeTimedSerializer

    from survey_app.models import InstrumentVersion

    token = hidden_fields(html)["form_token"]
    payload = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="hailong.survey-form").loads(token)
    return db.session.get(InstrumentVersion, payload["v"]).snapshot


@pytest.fixture
def redis_url():
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis half skipped: TEST_REDIS_URL is not set (.ci/run sets it)")
    return url


@pytest.fixture
def limiter_prefix():
    """A key prefix of this test's own; its Redis keys are deleted afterwards."""
    prefix = f"hl-test-{uuid.uuid4().hex[:12]}-"
    yield prefix
    storage = limiter._storage
    client = getattr(storage, "storage", None)
    if client is not None and hasattr(client, "scan_iter"):
        keys = list(client.scan_iter(match=f"*{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
        client.connection_pool.disconnect()


@pytest.fixture(autouse=True)
def _no_public_base_url_from_the_environment(request):
    """Tests name the public address themselves; a PUBLIC_BASE_URL in the shell must not leak in."""
    if "demo_app" in request.fixturenames:
        request.getfixturevalue("demo_app").config["PUBLIC_BASE_URL"] = ""


@pytest.fixture(params=["memory", "redis"])
def limited(request, variant):
    """An app with rate limits on; ``limited(**settings)`` picks the storage of the param."""
    def make(**settings):
        config = {"RATELIMIT_ENABLED": True, **settings}
        if request.param == "redis":
            config["RATELIMIT_STORAGE_URI"] = request.getfixturevalue("redis_url")
            config["RATELIMIT_KEY_PREFIX"] = request.getfixturevalue("limiter_prefix")
        return variant(**config)
    make.storage = request.param
    return make
