"""Form pieces that more than one blueprint uses."""
from __future__ import annotations

from flask_wtf import FlaskForm


class ButtonForm(FlaskForm):
    """No fields: CSRF protection for buttons that POST."""
