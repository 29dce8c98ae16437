"""Patron and proxy forms."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Optional, Regexp, ValidationError

from forms.common import Length, NoControlCharacters, PastDate, Reading, strip_filter
from outreach.labels import choices
from outreach.patrons import rules
from outreach.types import ContactPreference, ProxyRelation

PHONE_PATTERN = r"^[0-9０-９()（）\-－ー+ ]*$"

CONTACT_CHOICES = choices(ContactPreference)
RELATION_CHOICES = choices(ProxyRelation)


def _text(label: object, max_length: int, required: bool = False, extra: list | None = None) -> StringField:
    validators = [DataRequired()] if required else [Optional()]
    validators += [Length(max=max_length), NoControlCharacters()] + (extra or [])
    return StringField(label, validators=validators, filters=[strip_filter])


class PatronEditForm(FlaskForm):
    # In the order the page shows them, so the error summary lists problems in that order too.
    name = _text(_l("Name"), 100, required=True)
    name_kana = _text(_l("Reading (furigana)"), 100, required=True, extra=[Reading()])
    birth_date = DateField(_l("Date of birth"), validators=[DataRequired(message=_l("Enter a valid date."))
                                                               , PastDate(earliest=date(1900, 1, 1))])
    card_number = _text(_l("Library card number"), 20, required=True,
                        extra=[Regexp(r"^[0-9A-Za-z\-]+$", message=_l("Use digits, letters and hyphens only."))])
    postal_code = _text(_l("Postal code"), 8, required=True)
    prefecture = _text(_l("Prefecture"), 10, required=True)
    city = _text(_l("City"), 50, required=True)
    town = _text(_l("Town"), 100)
    block = _text(_l("Block and number"), 100)
    building = _text(_l("Building and room"), 100)
    is_in_facility = BooleanField(_l("Lives in a care facility"))
    facility_name = _text(_l("Facility name"), 100)
    phone = _text(_l("Phone"), 20, extra=[Regexp(PHONE_PATTERN, message=_l("Use digits and hyphens only."))])
    fax = _text(_l("FAX"), 20, extra=[Regexp(PHONE_PATTERN, message=_l("Use digits and hyphens only."))])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254), Email(check_deliverability=False)],
                       filters=[strip_filter])
    contact_preference = SelectField(_l("Preferred contact"), choices=CONTACT_CHOICES, default="phone")
    needs_large_print = BooleanField(_l("Letters and slips in large print"))
    has_reading_history_consent = BooleanField(_l("Consents to keeping a reading history"))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000), NoControlCharacters(True)])

    def validate_postal_code(self, field: StringField) -> None:
        if not field.data:
            return
        normalised = rules.normalise_postal_code(field.data)
        if normalised is None:
            raise ValidationError(_l("A postal code has seven digits, like 662-0911."))
        # Imported here: forms call services for checks that need data, never models.
        from outreach.patrons.services import lookup_postal_code

        if lookup_postal_code(normalised) is None:
            raise ValidationError(_l("This postal code does not exist."))
        field.data = normalised

    def patron_data(self) -> dict[str, object]:
        data = {name: f.data for name, f in self._fields.items() if name not in ("csrf_token",)}
        data["contact_preference"] = ContactPreference(data["contact_preference"])
        for key in ("phone", "fax", "email", "town", "block", "building", "facility_name", "notes"):
            data[key] = data.get(key) or ""
        return data


class PatronSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a search changes nothing

    q = StringField(_l("Name, reading, card number or phone"), validators=[Optional(), Length(max=100)],
                    filters=[strip_filter])


class ProxyEditForm(FlaskForm):
    name = _text(_l("Name"), 100, required=True)
    name_kana = _text(_l("Reading (furigana)"), 100, extra=[Reading()])
    relation = SelectField(_l("Relation"), choices=RELATION_CHOICES)
    organisation = _text(_l("Organisation"), 100)
    phone = _text(_l("Phone"), 20, extra=[Regexp(PHONE_PATTERN, message=_l("Use digits and hyphens only."))])
    fax = _text(_l("FAX"), 20, extra=[Regexp(PHONE_PATTERN, message=_l("Use digits and hyphens only."))])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254), Email(check_deliverability=False)],
                       filters=[strip_filter])
    postal_code = _text(_l("Postal code"), 8)
    address = _text(_l("Address"), 200)
    receives_letters = BooleanField(_l("Letters are sent to this proxy"))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=1000), NoControlCharacters(True)])

    def validate_postal_code(self, field: StringField) -> None:
        if not field.data:
            return
        normalised = rules.normalise_postal_code(field.data)
        if normalised is None:
            raise ValidationError(_l("A postal code has seven digits, like 662-0911."))
        field.data = normalised

    def validate_receives_letters(self, field: BooleanField) -> None:
        if field.data and not (self.postal_code.data and self.address.data):
            raise ValidationError(_l("Letters can go to the proxy only when their postal code and address are filled in."))

    def proxy_data(self) -> dict[str, object]:
        data = {name: f.data for name, f in self._fields.items() if name != "csrf_token"}
        data["relation"] = ProxyRelation(data["relation"])
        for key, value in list(data.items()):
            if value is None:
                data[key] = ""
        return data
