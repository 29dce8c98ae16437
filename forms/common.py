"""Validators shared by every form. Messages name the rule in words a librarian understands."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, Form, ValidationError
from wtforms import validators as _validators

from outreach.clock import today
from outreach.patrons import rules


class Length(_validators.Length):
    """WTForms' length check with a message in plain words (its own reads 'フィールドは 12 以上, 256 文字以内…')."""

    def __init__(self, min: int = -1, max: int = -1, message: Any = None) -> None:  # noqa: A002 (WTForms' names)
        if message is None:
            if min > 0 and max > 0:
                message = _l("Write between %(min)d and %(max)d characters.")
            elif min > 0:
                message = _l("Write at least %(min)d characters.")
            else:
                message = _l("Write at most %(max)d characters.")
        super().__init__(min, max, message)


class NoControlCharacters:
    """Refuse control characters (pasted from other systems); line breaks only where allowed."""

    def __init__(self, allow_line_breaks: bool = False) -> None:
        self.allow_line_breaks = allow_line_breaks

    def __call__(self, form: Form, field: Field) -> None:
        if isinstance(field.data, str) and rules.has_control_characters(field.data, self.allow_line_breaks):
            raise ValidationError(_l("Contains control characters that cannot be saved. Please retype the text."))


class Reading:
    """A フリガナ is written in kana."""

    def __call__(self, form: Form, field: Field) -> None:
        if field.data and not rules.looks_like_reading(field.data):
            raise ValidationError(_l("Enter the reading in katakana or hiragana."))


class PastDate:
    """A date that must not lie in the future (a date of birth, a document seen)."""

    def __init__(self, earliest: date | None = None) -> None:
        self.earliest = earliest

    def __call__(self, form: Form, field: Field) -> None:
        value = field.data
        if value is None:
            return
        if value > today():
            raise ValidationError(_l("This date is in the future."))
        if self.earliest and value < self.earliest:
            raise ValidationError(_l("This date is too far in the past."))


def strip_filter(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value
