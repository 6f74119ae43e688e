"""Every audit action reads as words in the log, in Vietnamese too."""
from __future__ import annotations

from flask_babel import force_locale

from survey_app.admin.routes import action_labels
from survey_app.services.officials.audit import ACTIONS


def test_every_audit_action_has_a_label(app):
    with app.test_request_context("/"):
        labels = action_labels()
        assert set(labels) == set(ACTIONS)
        with force_locale("vi"):
            vietnamese = action_labels()
    assert vietnamese["comment.hidden"] == "ẩn ý kiến"
    assert all(vietnamese[a] for a in ACTIONS)
