"""Forms of the alert pages: every refusal is a sentence of ours, never WTForms' default."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField


class AcknowledgeForm(FlaskForm):
    note = TextAreaField(_l("Note: what was found, what will be done"))


class RuleForm(FlaskForm):
    kind = SelectField(_l("Alert when"), validate_choice=False)
    instrument = SelectField(_l("Survey"), validate_choice=False)
    threshold = StringField(_l("Threshold"))
