"""Forms of the report pages (GET filters are parsed by ``services.reports.views``)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class ModerateForm(FlaskForm):
    """Hide an open answer, or show it again."""

    answer = IntegerField(validators=[DataRequired(_l("Which comment?")), NumberRange(1, 2**31 - 1)])
    action = SelectField(choices=[SelectChoice("hide", "hide"), SelectChoice("restore", "restore")])
    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=200)])


class UnpublishForm(FlaskForm):
    publication = IntegerField(validators=[DataRequired(_l("Which publication?")), NumberRange(1, 2**31 - 1)])
