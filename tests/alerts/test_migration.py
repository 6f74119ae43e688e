"""Migration 0016_alerts up and down on SQLite and PostgreSQL: officials keep their rows,
the partial unique index holds one unresolved alert per (rule, subject), going back drops
only what 0016 added."""
from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa

from survey_app.extensions import db


def test_0016_up_and_down_keeps_officials_and_enforces_one_open_alert(empty_app):
    flask_migrate.upgrade(revision="0015_kiosk_campaign")
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO unit (id, slug, path, kind, name_vi, name_en, code, is_service_point, active, created_at) "
                             "VALUES (1, 'p', '/p/', 'one_stop', 'Điểm', 'Point', 'pt1', true, true, '2026-01-01 00:00:00')"))
        conn.execute(sa.text("INSERT INTO official (id, username, display_name, password_hash, active, session_token, "
                             "home_unit_id, failed_logins, created_at) VALUES (1, 'can.bo', 'Cán bộ', 'h', true, 't', 1, 0, "
                             "'2026-01-01 00:00:00')"))
    flask_migrate.upgrade(revision="0016_alerts")
    inspector = sa.inspect(db.engine)
    assert {"alert", "alert_rule"} <= set(inspector.get_table_names())
    with db.engine.begin() as conn:
        row = conn.execute(sa.text("SELECT username, email FROM official")).one()
        assert tuple(row) == ("can.bo", None)
        conn.execute(sa.text("INSERT INTO alert_rule (id, unit_id, kind, instrument_key, threshold, active, created_at) "
                             "VALUES (1, 1, 'below', 'quick-feedback', 70, true, '2026-01-01 00:00:00')"))
        insert = sa.text("INSERT INTO alert (rule_id, unit_id, kind, subject, status, detail, opened_at, last_seen_at, "
                         "email_attempts) VALUES (1, 1, 'below', '', :status, '{}', '2026-01-01 00:00:00', "
                         "'2026-01-01 00:00:00', 0)")
        conn.execute(insert, {"status": "resolved"})
        conn.execute(insert, {"status": "resolved"})  # resolved ones may repeat
        conn.execute(insert, {"status": "open"})
    with pytest.raises(sa.exc.IntegrityError):
        with db.engine.begin() as conn:
            conn.execute(insert, {"status": "acknowledged"})  # a second unresolved one
    with pytest.raises(sa.exc.IntegrityError):
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO alert_rule (unit_id, kind, active, created_at) "
                                 "VALUES (1, 'sometimes', true, '2026-01-01 00:00:00')"))
    flask_migrate.downgrade(revision="0015_kiosk_campaign")
    inspector = sa.inspect(db.engine)
    assert not {"alert", "alert_rule"} & set(inspector.get_table_names())
    assert "email" not in {c["name"] for c in inspector.get_columns("official")}
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT username FROM official")).scalar_one() == "can.bo"
    flask_migrate.upgrade(revision="heads")
