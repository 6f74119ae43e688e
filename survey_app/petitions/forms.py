"""The citizen's petition form. Every message is our own (WTForms has no Vietnamese)."""
from __future__ import annotations

import re

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation, ValidationError

from ..models import PETITION_CATEGORIES
from ..services.collect.text import clean_text
from ..services.petitions.labels import CATEGORY_LABELS

PHONE_RE = re.compile(r"^\+?[0-9][0-9 .\-()]{6,22}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,185}\.[^@\s.]{2,}$")


class CategoryField(SelectField):
    """A select whose missing or unknown value gets our own message."""

    def __init__(self, label=None, **kwargs):
        super().__init__(label, validate_choice=False, **kwargs)

    def pre_validate(self, form):
        if self.data not in PETITION_CATEGORIES:
            raise StopValidation(_("Please choose what your feedback is about."))


class PetitionForm(FlaskForm):
    category = CategoryField(_l("What is it about?"),
                             choices=[SelectChoice("", _l("Choose…"))]
                             + [SelectChoice(c, CATEGORY_LABELS[c]) for c in PETITION_CATEGORIES])
    text = TextAreaField(_l("Your feedback"))
    photo = FileField(_l("A photo (optional, JPEG or PNG)"))
    contact_consent = BooleanField(_l("I agree that the unit keeps my name, phone number and email to contact me "
                                      "about this petition, and for nothing else."))
    name = StringField(_l("Name"))
    phone = StringField(_l("Phone"))
    email = StringField(_l("Email"))
    publish_consent = BooleanField(_l("I allow the text of my petition to be published with the answer "
                                      "(officials check it first; my contact details are never published)."))

    def validate_text(self, field):
        text = clean_text(field.data or "")
        limit = current_app.config["PETITION_TEXT_MAX"]
        if not text:
            raise StopValidation(_("Please write your feedback."))
        if len(text) > limit:
            raise StopValidation(_("Please shorten your text to %(limit)d characters (it has %(length)d).",
                                   limit=limit, length=len(text)))
        field.data = text

    # The contact fields are looked at only when the consent box is ticked; otherwise they
    # are ignored (and never stored).
    def validate_name(self, field):
        if self.contact_consent.data:
            field.data = clean_text(field.data or "")
            if len(field.data) > 100:
                raise ValidationError(_("At most %(max)d characters.", max=100))

    def validate_phone(self, field):
        if not self.contact_consent.data:
            return
        field.data = clean_text(field.data or "")
        if field.data and not PHONE_RE.match(field.data):
            raise ValidationError(_("Please give a phone number such as 0912 345 678."))
        if not field.data and not clean_text(self.email.data or ""):
            raise ValidationError(_("Please give a phone number or an email address so that we can contact you, "
                                    "or untick the box above."))

    def validate_email(self, field):
        if not self.contact_consent.data:
            return
        field.data = clean_text(field.data or "")
        if field.data and (len(field.data) > 254 or not EMAIL_RE.match(field.data)):
            raise ValidationError(_("Please give an email address such as ten@example.vn."))

    def contact_given(self) -> bool:
        """Whether any contact field was filled in (with or without consent)."""
        return any((f.data or "").strip() for f in (self.name, self.phone, self.email))


class TrackingForm(FlaskForm):
    """The ``/t`` form (a GET: nothing changes, so no CSRF)."""

    class Meta:
        csrf = False

    code = StringField(_l("Tracking code"))
