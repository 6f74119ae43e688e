"""Forms of the management pages. Every message is our own (WTForms has no Vietnamese)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, Field, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, StopValidation
from wtforms.widgets import TextInput

from ..models import ACCESS_MODES, OFFICES, ROLES, UNIT_KINDS

KIND_LABELS = {
    "admin": _l("Administrative unit"),
    "one_stop": _l("One-stop counter"),
    "health": _l("Health station"),
    "education": _l("School"),
}
#: What kind of office a service point is (``Unit.office``).
OFFICE_LABELS = {
    "centre": _l("Public administration service centre"),
    "reception": _l("Reception point (one-stop)"),
    "station": _l("Health station"),
    "school": _l("School"),
    "class": _l("Class"),
}
#: The official level of an administrative unit (``Unit.division``).
DIVISION_LABELS = {
    "province": _l("Province"),
    "city": _l("Centrally-run city"),
    "commune": _l("Commune"),
    "ward": _l("Ward"),
    "special_zone": _l("Special zone"),
}
ROLE_NAMES = {
    "viewer": _l("Viewer"),
    "manager": _l("Manager"),
    "admin": _l("Administrator"),
}
ROLE_LABELS = {
    "viewer": _l("Viewer: reads reports"),
    "manager": _l("Manager: campaigns, service points, posters"),
    "admin": _l("Administrator: also users and access"),
}
ACCESS_NAMES = {
    "open": _l("Poster QR"),
    "visit_token": _l("One-time codes per visit"),
    "respondent_token": _l("A code per respondent"),
}
ACCESS_LABELS = {
    "open": _l("Open: anyone who scans the poster's QR code"),
    "visit_token": _l("One-time codes printed for each visit"),
    "respondent_token": _l("One code per respondent (e.g. per parent)"),
}


def options(pairs) -> list[SelectChoice]:
    """``[(value, label), …]`` as WTForms' choice objects."""
    return [SelectChoice(value, label) for value, label in pairs]


class ChoiceField(SelectField):
    """A select whose bad or missing value gives our own message."""

    def __init__(self, label=None, validators=None, message=None, **kwargs):
        super().__init__(label, validators, validate_choice=False, **kwargs)
        self.message = message or _l("Please choose one of the options.")

    def process_formdata(self, valuelist):
        if valuelist:
            try:
                self.data = self.coerce(valuelist[0])
            except (ValueError, TypeError):
                self.data = None

    def pre_validate(self, form):
        if self.data not in [choice.value for choice in self.choices or []]:
            raise StopValidation(str(self.message))


class MultiChoiceField(SelectMultipleField):
    """Checkboxes; values outside the offered choices are refused with our message."""

    def __init__(self, label=None, validators=None, message=None, **kwargs):
        super().__init__(label, validators, validate_choice=False, **kwargs)
        self.message = message or _l("Please choose among the options shown.")

    def process_formdata(self, valuelist):
        try:
            self.data = [self.coerce(v) for v in valuelist]
        except (ValueError, TypeError):
            self.data = None

    def pre_validate(self, form):
        allowed = {choice.value for choice in self.choices or []}
        if self.data is None or any(v not in allowed for v in self.data):
            raise StopValidation(str(self.message))


class LocalDateTimeField(Field):
    """A date and time in the service's zone (Asia/Ho_Chi_Minh), stored in UTC.

    Accepts the browser's ``2026-12-31T17:00`` and the typed ``31/12/2026 17:00``.
    """

    widget = TextInput(input_type="datetime-local")
    FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%Y-%m-%d")

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
        return self.data.astimezone(zone).strftime("%Y-%m-%dT%H:%M")

    def process_formdata(self, valuelist):
        self.data = None
        raw = (valuelist[0] if valuelist else "").strip()
        if not raw:
            return
        zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
        for fmt in self.FORMATS:
            try:
                local = datetime.strptime(raw, fmt)
            except ValueError:
                continue
            if local.year < 2000 or local.year > 2100:
                break
            self.data = local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))
            return
        raise ValueError(str(_l("Please give a date and time such as 31/12/2026 17:00.")))


def _name_field(label):
    return StringField(label, validators=[
        DataRequired(_l("Please fill in this field.")),
        Length(max=200, message=_l("At most %(max)d characters.")),
    ])


class UnitForm(FlaskForm):
    name_vi = _name_field(_l("Name in Vietnamese"))
    name_en = StringField(_l("Name in English (optional)"),
                          validators=[Optional(), Length(max=200, message=_l("At most %(max)d characters."))])
    kind = ChoiceField(_l("Kind"), choices=options((k, KIND_LABELS[k]) for k in UNIT_KINDS),
                       message=_l("Please choose the kind of unit."))
    service_point = BooleanField(_l("This is a service point (it gets a QR code)"))
    office = ChoiceField(_l("Kind of office (service points)"),
                         choices=options([("", "—")] + [(k, OFFICE_LABELS[k]) for k in OFFICES]),
                         message=_l("Please choose the kind of office."), default="")
    slug = StringField(_l("Short name in addresses (optional, made from the name)"),
                       validators=[Optional(), Length(max=40, message=_l("At most %(max)d characters."))])
    code = StringField(_l("Service point code (optional, generated if empty)"),
                       validators=[Optional(), Length(max=16, message=_l("At most %(max)d characters."))])


class RenameForm(FlaskForm):
    name_vi = _name_field(_l("Name in Vietnamese"))
    name_en = StringField(_l("Name in English (optional)"),
                          validators=[Optional(), Length(max=200, message=_l("At most %(max)d characters."))])
    slug = StringField(_l("Short name in addresses"),
                       validators=[Optional(), Length(max=40, message=_l("At most %(max)d characters."))])


class MoveForm(FlaskForm):
    parent = ChoiceField(_l("New place in the tree"), coerce=int, message=_l("Please choose where to move the unit."))


CHANGE_LABELS = {
    "merger": _l("Merger: the former units were merged into this one"),
    "split": _l("Split: this unit took part of a former unit"),
    "rename": _l("Rename: the same unit under a new name"),
}


class LineageForm(FlaskForm):
    predecessors = MultiChoiceField(_l("Former units"), coerce=int,
                                    message=_l("Please choose the former units among those shown."))
    effective_on = StringField(_l("From (the first day of this unit, e.g. 01/07/2025)"),
                               validators=[DataRequired(_l("Please fill in this field."))])
    change = ChoiceField(_l("Kind of change"), default="merger",
                         choices=options((k, v) for k, v in CHANGE_LABELS.items()),
                         message=_l("Please choose merger, split or rename."))
    share = StringField(_l("Share of the former unit's area (a split only, e.g. 0.4)"),
                        validators=[Optional(), Length(max=10, message=_l("At most %(max)d characters."))])
    note = StringField(_l("Note (optional, e.g. the resolution that decided it)"),
                       validators=[Optional(), Length(max=300, message=_l("At most %(max)d characters."))])

    def validate_effective_on(self, field):
        raw = (field.data or "").strip()
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                field.parsed = datetime.strptime(raw, fmt).date()
                return
            except ValueError:
                continue
        raise StopValidation(str(_l("Please write the date as 01/07/2025.")))


class CampaignForm(FlaskForm):
    name = _name_field(_l("Campaign name"))
    version = ChoiceField(_l("Survey"), coerce=int, message=_l("Please choose a survey."))
    units = MultiChoiceField(_l("Service points"), coerce=int,
                             message=_l("Please choose among the service points shown."))
    access_mode = ChoiceField(_l("How citizens reach the survey"), default="open",
                              choices=options((m, ACCESS_LABELS[m]) for m in ACCESS_MODES),
                              message=_l("Please choose how citizens reach the survey."))
    starts_at = LocalDateTimeField(_l("Opens (Viet Nam time, optional)"))
    ends_at = LocalDateTimeField(_l("Closes (Viet Nam time, optional)"))


class UploadForm(FlaskForm):
    file = FileField(_l("Survey file (.toml)"), validators=[FileRequired(_l("Please choose a file."))])


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(_l("Please fill in this field.")), Length(max=64, message=_l("At most %(max)d characters."))])
    display_name = _name_field(_l("Full name"))
    email = StringField(_l("E-mail (optional: alerts are sent there)"), render_kw={"autocomplete": "email"})
    role = ChoiceField(_l("Role"), message=_l("Please choose a role."))
    password = PasswordField(_l("Password (at least 10 characters)"),
                             validators=[DataRequired(_l("Please fill in this field."))],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Password, again"), validators=[
        DataRequired(_l("Please fill in this field.")), EqualTo("password", _l("The two passwords differ."))])


class EmailForm(FlaskForm):
    email = StringField(_l("E-mail (empty: no alert e-mails)"), render_kw={"autocomplete": "email"})


class GrantForm(FlaskForm):
    unit = ChoiceField(_l("Unit"), coerce=int, message=_l("Please choose a unit in your area."))
    role = ChoiceField(_l("Role"), choices=options((r, ROLE_LABELS[r]) for r in ROLES), message=_l("Please choose a role."))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password (at least 10 characters)"),
                             validators=[DataRequired(_l("Please fill in this field."))],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New password, again"), validators=[
        DataRequired(_l("Please fill in this field.")), EqualTo("password", _l("The two passwords differ."))])


class AuditFilterForm(FlaskForm):
    """Filters in the query string (a GET form: no CSRF needed, nothing changes)."""

    class Meta:
        csrf = False

    action = ChoiceField(_l("Action"), default="", message=_l("Please choose an action."))
    user = StringField(_l("Username"), validators=[Optional(), Length(max=64, message=_l("At most %(max)d characters."))])
    since = LocalDateTimeField(_l("From"))
    until = LocalDateTimeField(_l("Until"))
