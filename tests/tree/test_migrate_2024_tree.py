"""An installation's 2024 three-level tree (province › district › ward › point) with its
history, migrated to 0014 and moved to the 2025 tree by the merger mapping: not one response
lost or re-attributed, every old unit's totals identical, the new ward's the sum of its
predecessors'."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa

from survey_app.extensions import db

ROOT = Path(__file__).resolve().parents[2]

UNITS = [  # id, parent, path, kind, name, point code
    (1, None, "/vn/", "admin", "Việt Nam", None),
    (2, 1, "/vn/qt/", "admin", "Tỉnh Quảng Trị", None),
    (3, 2, "/vn/qt/tx-qt/", "admin", "Thị xã Quảng Trị", None),
    (4, 3, "/vn/qt/tx-qt/p1/", "admin", "Phường 1", None),
    (5, 4, "/vn/qt/tx-qt/p1/mot-cua/", "one_stop", "Bộ phận Một cửa Phường 1", "p1mc"),
    (6, 3, "/vn/qt/tx-qt/p2/", "admin", "Phường 2", None),
    (7, 6, "/vn/qt/tx-qt/p2/mot-cua/", "one_stop", "Bộ phận Một cửa Phường 2", "p2mc"),
    (8, 2, "/vn/qt/hai-lang/", "admin", "Huyện Hải Lăng", None),
    (9, 8, "/vn/qt/hai-lang/hai-le/", "admin", "Xã Hải Lệ", None),
    (10, 9, "/vn/qt/hai-lang/hai-le/mot-cua/", "one_stop", "Bộ phận Một cửa xã Hải Lệ", "hlmc"),
]
OLD_UNITS = ["/vn/qt/", "/vn/qt/tx-qt/", "/vn/qt/tx-qt/p1/", "/vn/qt/tx-qt/p2/", "/vn/qt/hai-lang/",
             "/vn/qt/hai-lang/hai-le/"]
NATIONAL = [{"name": "Quảng Trị", "code": 44, "division_type": "tỉnh", "codename": "quang_tri", "wards": [
    {"name": "Phường Quảng Trị", "code": 19360, "division_type": "phường", "short_codename": "quang_tri"},
    {"name": "Xã Hải Lăng", "code": 19501, "division_type": "xã", "short_codename": "hai_lang"}]}]
MAPPING = ("predecessor,successor,effective_on,change,share\n"
           "/vn/qt/tx-qt/p1/,19360,2025-07-01,merger,\n"
           "/vn/qt/tx-qt/p2/,19360,2025-07-01,merger,\n"
           "/vn/qt/hai-lang/hai-le/,19360,2025-07-01,split,0.6\n"
           "/vn/qt/hai-lang/hai-le/,19501,2025-07-01,split,0.4\n")
WINDOW = (date(2024, 1, 1), date(2025, 12, 31))


def load_2024_installation() -> None:
    """Schema as of 0012, the 2024 tree and a year and a half of SIPAS answers (SQL: the
    models already have 0014's columns)."""
    from survey_app.models import Campaign, InstrumentVersion
    from survey_app.services.collect import instruments

    flask_migrate.upgrade(revision="0012_papi_published")
    with db.engine.begin() as conn:
        for uid, parent, path, kind, name, code in UNITS:
            conn.execute(sa.text(
                "INSERT INTO unit (id, parent_id, slug, path, kind, name_vi, name_en, code, is_service_point, active,"
                " created_at) VALUES (:id, :parent, :slug, :path, :kind, :name, :name, :code, :sp, true,"
                " '2024-01-01 00:00:00')"), {"id": uid, "parent": parent, "slug": path.rstrip("/").rsplit("/", 1)[1],
                                            "path": path, "kind": kind, "name": name, "code": code,
                                            "sp": code is not None})
    instruments.load_directory(db.session, ROOT / "surveys")
    version = db.session.scalars(sa.select(InstrumentVersion).join(InstrumentVersion.instrument)
                                 .where(sa.text("instrument.key = 'sipas'"))).first()
    campaign = Campaign(name="SIPAS 2024", instrument_version=version, access_mode="open", status="open",
                        starts_at=datetime(2024, 1, 1, tzinfo=timezone.utc))
    db.session.add(campaign)
    db.session.flush()
    keys = [q["key"] for q in version.snapshot["questions"] if q["type"] == "scale"]
    rng = random.Random(2024)
    rid = aid = 0
    responses, answers = [], []
    for point, shift in ((5, 0), (7, 1), (10, -1)):
        db.session.execute(sa.text("INSERT INTO campaign_unit (campaign_id, unit_id) VALUES (:c, :u)"),
                           {"c": campaign.id, "u": point})
        for day in range(0, 540, 3):
            rid += 1
            when = datetime(2024, 1, 1, 2, tzinfo=timezone.utc) + timedelta(days=day, hours=rng.randint(0, 8))
            responses.append({"id": rid, "c": campaign.id, "u": point, "v": version.id, "at": when.replace(tzinfo=None),
                              "k": f"k{rid}", "t": "suspect" if rid % 17 == 0 else "ok"})
            for key in keys:
                aid += 1
                answers.append({"id": aid, "r": rid, "q": key, "v": min(5, max(1, rng.randint(2, 5) + shift))})
    db.session.execute(sa.text(
        "INSERT INTO response (id, campaign_id, unit_id, instrument_version_id, channel, language, submitted_at, trust,"
        " idempotency_key, rolled_up) VALUES (:id, :c, :u, :v, 'paper', 'vi', :at, :t, :k, false)"), responses)
    db.session.execute(sa.text("INSERT INTO answer (id, response_id, question_key, value_int) VALUES (:id, :r, :q, :v)"),
                       answers)
    if db.engine.dialect.name == "postgresql":  # ids were given: move the sequences past them
        for table in ("unit", "response", "answer"):
            db.session.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                       f"(SELECT max(id) FROM {table}))"))
    db.session.commit()


def totals(path: str, start: date = WINDOW[0], end: date = WINDOW[1]) -> tuple:
    from survey_app.services.reports import build as reports

    unit = reports.find_unit(db.session, path)
    r = reports.make_report(db.session, reports.ReportRequest(unit=unit, instrument_key="sipas", date_from=start,
                                                              date_to=end, include_suspect=True))
    return (r["responses"], r["index"]["value"], tuple((t["period"], t["n"]) for t in r["trend"]),
            tuple((q["key"], tuple(q["counts"].items())) for q in r["questions"] if q["type"] == "scale"))


def response_rows() -> list:
    return db.session.execute(sa.text(
        "SELECT r.id, r.unit_id, r.submitted_at, r.trust, count(a.id), sum(a.value_int) FROM response r"
        " JOIN answer a ON a.response_id = r.id GROUP BY r.id, r.unit_id, r.submitted_at, r.trust ORDER BY r.id")).all()


def test_the_2024_tree_moves_to_the_2025_tree_without_losing_or_moving_one_response(empty_app):
    from flask_babel import force_locale

    from survey_app.services.officials import lineage, official_tree
    from survey_app.services.officials.scope import GrantInfo, Scope

    load_2024_installation()
    flask_migrate.upgrade(revision="heads")
    rows_before = response_rows()
    assert len(rows_before) == 3 * 180
    before = {path: totals(path) for path in OLD_UNITS}
    assert before["/vn/qt/"][0] == 540 and before["/vn/qt/tx-qt/p1/"][0] == 180

    result = official_tree.load_official(db.session, divisions=official_tree.parse_divisions(NATIONAL))
    assert result.created == 2 and result.updated == 1  # the province adopted: code 44, no second Quảng Trị
    with empty_app.test_request_context(), force_locale("en"):
        added = lineage.import_mapping(db.session, Scope(db.session, None, [GrantInfo(0, 0, "/", "admin")]), MAPPING)
    assert added == 4

    assert response_rows() == rows_before, "a response was lost, moved or changed"
    after = {path: totals(path) for path in OLD_UNITS}
    assert after == before, "an old unit's totals changed"
    # the new ward over the two years: its three predecessors' answers, each counted once
    ward = totals("/vn/qt/quang-tri/")
    assert ward[0] == before["/vn/qt/tx-qt/p1/"][0] + before["/vn/qt/tx-qt/p2/"][0] + \
        before["/vn/qt/hai-lang/hai-le/"][0]
    assert dict(ward[2])["2025-06"] > 0
    # a split: each part reads the whole former commune's answers (a respondent is not divided);
    # the old district already has the short name, so the new commune's path carries its code
    hai_lang = db.session.scalar(sa.text("SELECT path FROM unit WHERE official_code = '19501'"))
    assert hai_lang == "/vn/qt/hai-lang-19501/"
    assert totals(hai_lang)[0] == before["/vn/qt/hai-lang/hai-le/"][0]
    # and the province still counts every answer once
    assert totals("/vn/qt/")[0] == 540
