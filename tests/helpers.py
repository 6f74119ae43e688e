"""Helpers shared by the tests."""
from __future__ import annotations

import re

HIDDEN_RE = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden fields a browser would send back with the form."""
    return dict(HIDDEN_RE.findall(html))


def survey_target(code: str):
    """The open campaign of service point ``code``, as the citizen path resolves it."""
    from sqlalchemy import select

    from survey_app.extensions import db
    from survey_app.models import Campaign, Unit
    from survey_app.services.collect.surveys import SurveyTarget

    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    campaign = db.session.scalar(select(Campaign).where(Campaign.units.contains(unit)).order_by(Campaign.id))
    return SurveyTarget(unit, campaign, campaign.instrument_version)


def campaign_target(code: str, key: str, name: str | None = None):
    """A :class:`SurveyTarget` at service point ``code`` for the latest version of survey
    ``key``: its open campaign there, made if there is none."""
    from sqlalchemy import select

    from survey_app.extensions import db
    from survey_app.models import Campaign, Unit
    from survey_app.services.collect.instruments import latest_version
    from survey_app.services.collect.surveys import SurveyTarget

    version = latest_version(db.session, key)
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    campaign = db.session.scalar(select(Campaign).where(Campaign.units.contains(unit),
                                                        Campaign.instrument_version_id == version.id))
    if campaign is None:
        campaign = Campaign(name=name or f"{key} – {unit.name_vi}", instrument_version=version, access_mode="open",
                            status="open")
        campaign.units.append(unit)
        db.session.add(campaign)
        db.session.commit()
    return SurveyTarget(unit, campaign, version)


def spent_code(code: str = "p2tieuhoc") -> str:
    """A one-time code of a new code-only campaign at service point ``code`` (with the
    instrument of its first campaign), already used."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import select, update

    from survey_app.extensions import db
    from survey_app.models import Campaign, Unit, VisitToken, utcnow
    from survey_app.services.qr import tokens

    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    first = db.session.scalar(select(Campaign).where(Campaign.units.contains(unit)).order_by(Campaign.id))
    campaign = Campaign(name="Phiếu có mã", instrument_version=first.instrument_version, access_mode="visit_token",
                        status="open", starts_at=datetime.now(timezone.utc) - timedelta(days=1))
    campaign.units.append(unit)
    db.session.add(campaign)
    db.session.commit()
    [token] = tokens.issue_tokens(db.session, campaign, unit, 1)
    db.session.execute(update(VisitToken).where(VisitToken.campaign_id == campaign.id).values(spent_at=utcnow()))
    db.session.commit()
    return token


def add_response(code: str, answers, when, channel: str = "qr", trust: str = "ok") -> int:
    """Store a response at ``code`` through the real submission service; returns its id."""
    import secrets

    from survey_app.extensions import db
    from survey_app.services.collect.surveys import submit_response

    return submit_response(db.session, survey_target(code), answers, channel=channel, language="vi",
                           idempotency_key=secrets.token_hex(16), trust=trust, submitted_at=when).response_id


def full_answers(definition, text: str = "Nhân viên nhiệt tình") -> dict[str, str]:
    """A valid answer to every question of an instrument definition, as form fields."""
    data: dict[str, str] = {}
    for q in definition["questions"]:
        name = "q_" + q["key"]
        if q["type"] == "scale":
            data[name] = str(definition["scales"][q["scale"]]["levels"][-1]["value"])
        elif q["type"] in ("single", "multi"):
            data[name] = q["options"][0]["key"]
        elif q["type"] == "yesno":
            data[name] = "1"
        elif q["type"] in ("rating", "percent"):
            data[name] = str(q["max"])
        else:
            data[name] = text
    return data


def pdf_text(data: bytes, tmp_path) -> str:
    """The text of a PDF, by poppler's pdftotext (``.ci/run`` installs it; CI fails without it)."""
    import os
    import shutil
    import subprocess

    import pytest

    tool = shutil.which("pdftotext")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext is missing; .ci/run installs poppler-utils")
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    done = subprocess.run([tool, "-layout", str(path), "-"], check=True, capture_output=True, timeout=60)
    return done.stdout.decode("utf-8")


def get_ok(client, url: str):
    """GET that must answer 200 (the body's end is shown when it does not)."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[-500:])
    return response


def raw_tables(filters):
    """The count tables of ``filters`` straight from the responses and answers."""
    from sqlalchemy import select

    from analysis import counts
    from analysis.instrument import scoring_of
    from survey_app.extensions import db
    from survey_app.models import InstrumentVersion
    from survey_app.services.reports import rollup

    versions = db.session.scalars(select(InstrumentVersion).where(InstrumentVersion.id.in_(filters.version_ids))).all()
    scorings = {v.id: scoring_of(v.snapshot) for v in versions}
    counted = {v.id: [q["key"] for q in v.snapshot["questions"] if q["type"] in rollup.COUNTED_TYPES] for v in versions}
    with db.engine.connect() as conn:
        return counts.from_raw(conn, filters, scorings, counted)


def rolled_tables(filters):
    """The count tables of ``filters`` read from the rollups."""
    from analysis import counts
    from survey_app.extensions import db

    with db.engine.connect() as conn:
        return counts.from_rollups(conn, filters)


# The instruments a citizen answers, each at a point of the demo tree where it is the only open
# campaign (the demo itself runs the first three; the others are put there by answer_only()).
CITIZEN_POINTS = {"sipas": "p2motcua", "one-stop": "p1motcua", "health-outpatient": "p2yte",
                  "education-parents": "p2tieuhoc", "quick-feedback": "pqtdtn1", "papi-mirror": "pqtttpv"}


def answer_only(key: str) -> str:
    """Make survey ``key`` the one open campaign at its point of :data:`CITIZEN_POINTS` (the
    point's other campaigns closed); returns the point's code."""
    from sqlalchemy import select

    from survey_app.extensions import db
    from survey_app.models import Campaign, Unit

    code = CITIZEN_POINTS[key]
    target = campaign_target(code, key)
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    for campaign in db.session.scalars(select(Campaign).where(Campaign.units.contains(unit))):
        if campaign.id != target.campaign.id:
            campaign.status = "closed"
    db.session.commit()
    return code


def fresh(row):
    """``row`` read again from the database (what another request would see)."""
    from survey_app.extensions import db

    db.session.expire_all()
    return db.session.get(type(row), row.id)
