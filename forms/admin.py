from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Regexp

from forms.common import Length, NoControlCharacters, strip_filter
from outreach.labels import choices
from outreach.types import Role

ROLE_CHOICES = choices(Role)


class UserCreateForm(FlaskForm):
    username = StringField(_l("User name"), filters=[strip_filter], validators=[
        DataRequired(), Length(max=64),
        Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Use letters, digits, dots, hyphens and underscores only."))])
    display_name = StringField(_l("Display name"), filters=[strip_filter],
                               validators=[DataRequired(), Length(max=100), NoControlCharacters()])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=12, max=256)])
    password_confirm = PasswordField(_l("Password (again)"),
                                     validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))])


class UserEditForm(FlaskForm):
    display_name = StringField(_l("Display name"), filters=[strip_filter],
                               validators=[DataRequired(), Length(max=100), NoControlCharacters()])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    is_active = BooleanField(_l("Active"))


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=12, max=256)])
    password_confirm = PasswordField(_l("New password (again)"),
                                     validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))])
