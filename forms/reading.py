"""Face-to-face reading forms: volunteers, availability, rooms' hours, requests, bookings, the session log."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from forms.common import Length, NoControlCharacters, PastDate, Reading, strip_filter
from outreach.labels import choices
from outreach.patrons import rules as patron_rules
from outreach.types import CancelledBy, ReadingKind

PHONE_PATTERN = r"^[0-9０-９()（）\-－ー+ ]*$"
DAY_KIND_LABELS = [_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
                   _l("Sunday"), _l("National holidays")]
NEW_ACCOUNT = 0


def select_choices(pairs: Any) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, text) for value, text in pairs]


WEEKDAY_CHOICES = select_choices(enumerate(DAY_KIND_LABELS[:7]))


def _text(label: object, max_length: int, required: bool = False, extra: list | None = None) -> StringField:
    validators = [DataRequired(message=_l("This field is required."))] if required else [Optional()]
    validators += [Length(max=max_length), NoControlCharacters()] + (extra or [])
    return StringField(label, validators=validators, filters=[strip_filter])


def _time(label: object, required: bool = True) -> TimeField:
    first = DataRequired(message=_l("Enter a time such as 10:00.")) if required else Optional()
    return TimeField(label, validators=[first], format="%H:%M")


def _date(label: object, required: bool = True, extra: list | None = None) -> DateField:
    first = DataRequired(message=_l("Enter a valid date.")) if required else Optional()
    return DateField(label, validators=[first, *(extra or [])])


def _after(start: time | date | None, end: time | date | None, message: Any) -> None:
    if start is not None and end is not None and end <= start:
        raise ValidationError(message)


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes (rendered inside a fieldset with a legend)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# --------------------------------------------------------------------------------------------------
# volunteers


class VolunteerEditForm(FlaskForm):
    name = _text(_l("Name"), 100, required=True)
    name_kana = _text(_l("Reading (furigana)"), 100, required=True, extra=[Reading()])
    phone = _text(_l("Phone"), 20, extra=[Regexp(PHONE_PATTERN, message=_l("Use digits and hyphens only."))])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254), Email(check_deliverability=False)],
                       filters=[strip_filter])
    postal_code = _text(_l("Postal code"), 8)
    address = _text(_l("Address"), 200)
    room_ids = MultiCheckboxField(_l("Libraries served"), coerce=int,
                                  validators=[DataRequired(message=_l("Choose at least one library."))])
    kinds = MultiCheckboxField(_l("Can read"), choices=choices(ReadingKind),
                               validators=[DataRequired(message=_l("Choose at least one kind of text."))])
    pledge_signed_on = _date(_l("Confidentiality pledge signed on"), required=False, extra=[PastDate()])
    retired_on = _date(_l("Retired on"), required=False)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000), NoControlCharacters(True)])

    def validate_postal_code(self, field: StringField) -> None:
        if field.data:
            normalised = patron_rules.normalise_postal_code(field.data)
            if normalised is None:
                raise ValidationError(_l("A postal code has seven digits, like 662-0911."))
            field.data = normalised

    def volunteer_data(self) -> dict[str, Any]:
        data = {name: self[name].data for name in (
            "name", "name_kana", "phone", "email", "postal_code", "address", "pledge_signed_on", "retired_on",
            "notes")}
        for key in ("phone", "email", "postal_code", "address", "notes"):
            data[key] = data[key] or ""
        return data


class VolunteerCreateForm(VolunteerEditForm):
    account_id = SelectField(_l("Staff account"), coerce=int, default=NEW_ACCOUNT)
    username = StringField(_l("User name"), filters=[strip_filter], validators=[
        Optional(), Length(max=64),
        Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Use letters, digits, dots, hyphens and underscores only."))])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(min=12, max=256)])
    password_confirm = PasswordField(_l("Password (again)"),
                                     validators=[EqualTo("password", message=_l("The passwords differ."))])

    def validate_username(self, field: StringField) -> None:
        if self.account_id.data == NEW_ACCOUNT and not field.data:
            raise ValidationError(_l("Enter a user name for the new account, or choose an existing account."))

    def validate_password(self, field: PasswordField) -> None:
        if self.account_id.data == NEW_ACCOUNT and not field.data:
            raise ValidationError(_l("Enter a password for the new account."))


class AvailabilityForm(FlaskForm):
    room_id = SelectField(_l("Library"), coerce=int)
    weekday = SelectField(_l("Day of the week"), coerce=int, choices=WEEKDAY_CHOICES)
    start_time = _time(_l("From"))
    end_time = _time(_l("Until"))

    def validate_end_time(self, field: TimeField) -> None:
        _after(self.start_time.data, field.data, _l("The end must come after the start."))


class AbsenceForm(FlaskForm):
    starts_on = _date(_l("Away from"))
    ends_on = _date(_l("Away until"))
    note = _text(_l("Note"), 200)

    def validate_ends_on(self, field: DateField) -> None:
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The last day away is before the first."))


def room_hours_form(formdata: Any = None, hours: dict[int, tuple[time, time]] | None = None) -> FlaskForm:
    """A form with an opening and a closing time for each day kind (Monday … Sunday, national holidays)."""

    class RoomHoursForm(FlaskForm):
        def validate(self, extra_validators: Any = None) -> bool:
            ok = super().validate(extra_validators)
            for kind in range(8):
                opens, closes = self[f"opens_{kind}"], self[f"closes_{kind}"]
                if (opens.data is None) != (closes.data is None) and not (opens.errors or closes.errors):
                    closes.errors = [*closes.errors, _l("Enter both times, or neither for a closed day.")]
                    ok = False
                elif opens.data and closes.data and closes.data <= opens.data:
                    closes.errors = [*closes.errors, _l("The closing time must come after the opening time.")]
                    ok = False
            return ok

        def hours(self) -> dict[int, tuple[time, time] | None]:
            return {kind: ((self[f"opens_{kind}"].data, self[f"closes_{kind}"].data)
                           if self[f"opens_{kind}"].data else None) for kind in range(8)}

    for kind, day in enumerate(DAY_KIND_LABELS):
        setattr(RoomHoursForm, f"opens_{kind}", TimeField(_l("%(day)s: opens", day=day), validators=[Optional()],
                                                          format="%H:%M"))
        setattr(RoomHoursForm, f"closes_{kind}", TimeField(_l("%(day)s: closes", day=day), validators=[Optional()],
                                                           format="%H:%M"))
    data = {}
    for kind, (opens, closes) in (hours or {}).items():
        data[f"opens_{kind}"], data[f"closes_{kind}"] = opens, closes
    return RoomHoursForm(formdata=formdata, data=data) if formdata is not None else RoomHoursForm(data=data)


# --------------------------------------------------------------------------------------------------
# requests and bookings


class ReadingRequestForm(FlaskForm):
    card_number = _text(_l("Library card number"), 20, required=True)
    room_id = SelectField(_l("Library"), coerce=int)
    received_on = _date(_l("Received on"), extra=[PastDate()])
    address_as = _text(_l("Name to use in the room"), 100)
    preferred_times = _text(_l("Preferred days and times"), 500)
    duration_minutes = IntegerField(_l("Length of a session (minutes)"),
                                    validators=[DataRequired(message=_l("Enter the length in minutes.")),
                                                NumberRange(min=1, max=24 * 60)])
    material_kind = SelectField(_l("Kind of text"), choices=choices(ReadingKind), default=ReadingKind.GENERAL.value)
    material_description = TextAreaField(_l("What is to be read"),
                                         validators=[Optional(), Length(max=1000), NoControlCharacters(True)])
    brings_own_material = BooleanField(_l("The patron brings their own material"))
    note = TextAreaField(_l("Note for staff"), validators=[Optional(), Length(max=1000), NoControlCharacters(True)])

    def validate_card_number(self, field: StringField) -> None:
        from outreach.db import get_session
        from outreach.reading.services import find_patron_by_card

        if field.data and find_patron_by_card(get_session(), field.data) is None:
            raise ValidationError(_l("No patron has this library card number."))

    def validate_material_description(self, field: TextAreaField) -> None:
        if not (field.data or "").strip() and not self.brings_own_material.data:
            raise ValidationError(_l("Describe what is to be read, or tick that the patron brings their own."))

    def request_data(self) -> dict[str, Any]:
        return {
            "received_on": self.received_on.data, "address_as": self.address_as.data or "",
            "preferred_times": self.preferred_times.data or "", "duration_minutes": self.duration_minutes.data,
            "material_kind": ReadingKind(self.material_kind.data),
            "material_description": (self.material_description.data or "").strip(),
            "brings_own_material": self.brings_own_material.data, "note": (self.note.data or "").strip(),
        }


class SlotForm(FlaskForm):
    """Pick a day and time: the page then lists the conflicts and the volunteers on offer (changes nothing)."""

    class Meta:
        csrf = False

    session_on = _date(_l("Date"))
    start_time = _time(_l("From"))
    end_time = _time(_l("Until"))


class BookForm(FlaskForm):
    session_on = _date(_l("Date"))
    start_time = _time(_l("From"))
    end_time = _time(_l("Until"))
    volunteer_id = RadioField(_l("Volunteer reader"), coerce=int,
                              validators=[DataRequired(message=_l("Choose a volunteer reader."))])


class SeriesForm(FlaskForm):
    first_on = _date(_l("First date"))
    start_time = _time(_l("From"))
    end_time = _time(_l("Until"))
    occurrences = IntegerField(_l("Number of weeks"), default=8,
                               validators=[DataRequired(message=_l("Enter how many weeks.")),
                                           NumberRange(min=2, max=52, message=_l("Between 2 and 52 weeks."))])
    volunteer_id = SelectField(_l("Volunteer reader"), coerce=int,
                               validators=[DataRequired(message=_l("Choose a volunteer reader."))])
    accept_clashes = BooleanField(_l("Book the free weeks and leave out the ones that clash"))


class ReassignForm(FlaskForm):
    volunteer_id = SelectField(_l("Volunteer reader"), coerce=int,
                               validators=[DataRequired(message=_l("Choose a volunteer reader."))])


class CancelForm(FlaskForm):
    cancelled_by = SelectField(_l("Cancelled on whose side"), choices=choices(CancelledBy))
    reason = _text(_l("Reason"), 500, required=True)


class DeclineForm(FlaskForm):
    reason = _text(_l("Reason (optional)"), 500)


class SessionLogForm(FlaskForm):
    actual_start_time = _time(_l("Actual start"))
    actual_end_time = _time(_l("Actual end"))
    titles = TextAreaField(_l("Material read (one per line)"),
                           validators=[Optional(), Length(max=2000), NoControlCharacters(True)])
    note = TextAreaField(_l("Short note"), validators=[Optional(), Length(max=1000), NoControlCharacters(True)])

    def validate_actual_end_time(self, field: TimeField) -> None:
        _after(self.actual_start_time.data, field.data, _l("The end must come after the start."))


class CalendarForm(FlaskForm):
    class Meta:
        csrf = False

    view = SelectField(_l("View"), choices=select_choices([("week", _l("Week")), ("day", _l("Day"))]), default="week")
    start = _date(_l("Date"), required=False)
    room_id = SelectField(_l("Library"), coerce=int, default=0)
    volunteer_id = SelectField(_l("Volunteer reader"), coerce=int, default=0)


class FiguresForm(FlaskForm):
    class Meta:
        csrf = False

    fiscal_year = IntegerField(_l("Fiscal year (starting April)"),
                               validators=[Optional(), NumberRange(min=1990, max=2200)])
