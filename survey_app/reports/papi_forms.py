"""The form of published PAPI scores (values are checked by ``services.reports.papi``, which
accepts Vietnamese decimal commas and says what is wrong with each field)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField

from ..models import PAPI_DIMENSIONS


class PublishedForm(FlaskForm):
    """Year, source and the eight dimension scores; CSRF-protected."""

    year = StringField()
    source = StringField()


for _dimension in PAPI_DIMENSIONS:
    setattr(PublishedForm, _dimension, StringField())
