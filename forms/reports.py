"""Report forms: the fiscal year, and hand-entered figures of years before the system."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, FieldList, FormField, HiddenField, IntegerField, StringField
from wtforms import Form as PlainForm
from wtforms.validators import InputRequired, NumberRange, Optional

from forms.common import Length, NoControlCharacters, strip_filter

COUNT = [InputRequired(message=_l("Enter a number (0 when there were none).")),
         NumberRange(min=0, max=10_000_000, message=_l("Enter a whole number of 0 or more."))]


class ServiceFigureForm(PlainForm):
    row_key = HiddenField()
    registrants = IntegerField(_l("Registrants"), validators=COUNT, default=0)
    deliveries = IntegerField(_l("Deliveries"), validators=COUNT, default=0)
    books = IntegerField(_l("Books lent"), validators=COUNT, default=0)
    audio_visual = IntegerField(_l("CDs lent"), validators=COUNT, default=0)


class LibraryFigureForm(PlainForm):
    row_key = HiddenField()
    registrants = IntegerField(_l("Registrants"), validators=COUNT, default=0)
    sessions = IntegerField(_l("Sessions"), validators=COUNT, default=0)
    hours = DecimalField(_l("Reading hours"), places=1, default=0,
                         validators=[InputRequired(message=_l("Enter a number (0 when there were none).")),
                                     NumberRange(min=0, max=1_000_000, message=_l("Enter 0 or more."))])


class HistoricalFiguresForm(FlaskForm):
    fiscal_year = IntegerField(_l("Fiscal year (western year of April)"),
                               validators=[InputRequired(), NumberRange(min=1950, max=2100)])
    services = FieldList(FormField(ServiceFigureForm), min_entries=0)
    libraries = FieldList(FormField(LibraryFigureForm), min_entries=0)
    note = StringField(_l("Source of the figures"), filters=[strip_filter],
                       validators=[Optional(), Length(max=300), NoControlCharacters()])
