"""Forms of the login pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Please enter your username.")), Length(max=64, message=_l("At most %(max)d characters."))],
                           render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Please enter your password.")), Length(max=200, message=_l("At most %(max)d characters."))],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(_l("Please enter your current password."))],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("New password"), validators=[DataRequired(_l("Please choose a new password."))],
                        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New password, again"), validators=[
        DataRequired(_l("Please repeat the new password.")), EqualTo("new", _l("The two new passwords differ."))])
