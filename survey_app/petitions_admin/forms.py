"""Forms of the officials' petition pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation


class UnitChoiceField(SelectField):
    """A unit chosen among those offered; anything else gets our own message."""

    def __init__(self, label=None, **kwargs):
        super().__init__(label, coerce=int, validate_choice=False, **kwargs)

    def process_formdata(self, valuelist):
        if valuelist:
            try:
                self.data = int(valuelist[0])
            except (ValueError, TypeError):
                self.data = None

    def pre_validate(self, form):
        if self.data not in [choice.value for choice in self.choices or []]:
            raise StopValidation(str(_l("Please choose a unit in your area.")))


def unit_options(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class AssignForm(FlaskForm):
    unit = UnitChoiceField(_l("Assign to"))


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Internal note (never public)"))


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Answer to the citizen"))


class RefuseForm(FlaskForm):
    reason = TextAreaField(_l("Reason for refusing (the citizen reads it)"))


class InfoRequestForm(FlaskForm):
    question = TextAreaField(_l("What the citizen should add (they read it)"))


class ResumeForm(FlaskForm):
    note = TextAreaField(_l("What the citizen added (by phone, at the counter…)"))


class MergeForm(FlaskForm):
    """The survivor's number (``/a/<id>``, as on the petition's page); checked by the service."""
    into = StringField(_l("Merge into petition no."))

    def petition_number(self) -> int | None:
        raw = (self.into.data or "").strip().lstrip("#").removeprefix("số").strip()
        return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31 else None
