"""Loan forms: a request, items by barcode, the reader profile, returns."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from forms.common import Length, NoControlCharacters, strip_filter
from outreach.labels import choices, label
from outreach.types import LENDING_SERVICES, Channel, MaterialType

MAX_BARCODES = 200


def split_barcodes(text: str | None) -> list[str]:
    """Barcodes typed or scanned one per line (spaces and commas also separate them)."""
    return [part for part in (text or "").replace(",", "\n").replace("、", "\n").split() if part]


class Barcodes:
    """At most MAX_BARCODES barcodes, each of digits, letters and hyphens."""

    def __call__(self, form: FlaskForm, field: TextAreaField) -> None:
        codes = split_barcodes(field.data)
        if len(codes) > MAX_BARCODES:
            raise ValidationError(_l("At most %(n)d barcodes at a time.", n=MAX_BARCODES))
        for code in codes:
            if len(code) > 32 or not all(ch.isalnum() or ch in "-－" for ch in code):
                raise ValidationError(_l("“%(code)s” is not a barcode (digits, letters and hyphens).", code=code[:40]))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoanRequestCreateForm(FlaskForm):
    service = SelectField(_l("Service"))
    channel = SelectField(_l("How the request came"), choices=choices(Channel), default=Channel.PHONE.value)
    # Not PastDate: "today" is the library's date (outreach.clock), which the service checks.
    received_on = DateField(_l("Date received"), validators=[DataRequired(message=_l("Enter a valid date."))])
    proxy_id = SelectField(_l("Made by"), coerce=int, default=0)
    barcodes = TextAreaField(_l("Barcodes of the items asked for"), validators=[Barcodes()])  # see validate_barcodes
    choose_for_me = BooleanField(_l("Choose for me (staff choose from the reader profile)"))
    note = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=1000), NoControlCharacters(True)])

    def __init__(self, *args: object, proxies: list[tuple[int, str]] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.service.choices = [(s.value, label(s)) for s in LENDING_SERVICES]
        self.proxy_id.choices = [(0, _l("The patron")), *[(pid, _l("Proxy: %(name)s", name=name))
                                                          for pid, name in (proxies or [])]]

    def validate_barcodes(self, field: TextAreaField) -> None:
        if not split_barcodes(field.data) and not self.choose_for_me.data:
            raise ValidationError(_l("Enter the barcodes asked for, or tick “choose for me”."))


class RequestAddItemsForm(FlaskForm):
    barcodes = TextAreaField(_l("Barcodes to add"), validators=[DataRequired(message=_l("Enter at least one barcode.")),
                                                                Barcodes()])


class ReaderProfileEditForm(FlaskForm):
    subjects = TextAreaField(_l("Favourite subjects and genres"),
                             validators=[Optional(), Length(max=500), NoControlCharacters(True)], filters=[strip_filter])
    authors = TextAreaField(_l("Favourite authors"), validators=[Optional(), Length(max=500), NoControlCharacters(True)],
                            filters=[strip_filter])
    formats = MultiCheckboxField(_l("Preferred formats"), choices=choices(MaterialType), validators=[Optional()])
    exclusions = TextAreaField(_l("Never send (words in the subject, title or author)"),
                               validators=[Optional(), Length(max=500), NoControlCharacters(True)], filters=[strip_filter])
    items_per_month = IntegerField(_l("Items wanted each month"), default=5,
                                   validators=[DataRequired(message=_l("Enter a whole number.")),
                                               NumberRange(min=1, max=17, message=_l("Between 1 and 17."))])
    is_monthly = BooleanField(_l("Choose every month without a request"))

    def profile_data(self) -> dict[str, object]:
        return {"subjects": self.subjects.data or "", "authors": self.authors.data or "",
                "formats": [MaterialType(f) for f in (self.formats.data or [])],
                "exclusions": self.exclusions.data or "", "items_per_month": self.items_per_month.data,
                "is_monthly": bool(self.is_monthly.data)}


class ReturnCheckInForm(FlaskForm):
    barcodes = TextAreaField(_l("Barcodes of the returned items"),
                             validators=[DataRequired(message=_l("Enter at least one barcode.")), Barcodes()])


class CatalogPickForm(FlaskForm):
    """Search the catalogue from a request page (GET, changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("Find by title, reading or author"), validators=[Optional(), Length(max=100)],
                    filters=[strip_filter])
