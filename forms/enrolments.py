"""Evidence, application, decision, ending and case-log forms."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError

from forms.common import Length, NoControlCharacters, PastDate, strip_filter
from outreach.labels import choices
from outreach.types import (
    CareLevel,
    CaseNoteKind,
    CertificateKind,
    Channel,
    DifficultyBasis,
    DisabilityCategory,
    EndReason,
    Service,
)

DATE_REQUIRED = _l("Enter a valid date.")


def _date(label: object, required: bool = True, past: bool = False) -> DateField:
    validators: list = [DataRequired(message=DATE_REQUIRED)] if required else [Optional()]
    if past:
        validators.append(PastDate())
    return DateField(label, validators=validators)


def _text(label: object, max_length: int, required: bool = False) -> StringField:
    validators = [DataRequired()] if required else [Optional()]
    return StringField(label, validators=[*validators, Length(max=max_length), NoControlCharacters()],
                       filters=[strip_filter])


def _note(label: object, max_length: int, required: bool = False) -> TextAreaField:
    validators = [DataRequired()] if required else [Optional()]
    return TextAreaField(label, validators=[*validators, Length(max=max_length), NoControlCharacters(True)],
                         filters=[strip_filter])


class CertificateAddForm(FlaskForm):
    kind = SelectField(_l("Kind of certificate"), choices=choices(CertificateKind))
    category = SelectField(_l("Category (physical disability)"),
                           choices=[SelectChoice("", _l("— not applicable —")), *choices(DisabilityCategory)])
    grade = _text(_l("Grade"), 10)
    number = _text(_l("Certificate number"), 30)
    issued_on = _date(_l("Issued on"), past=True)
    valid_until = _date(_l("Valid until / re-assessment"), required=False)
    document_seen = _text(_l("Document seen"), 100, required=True)
    seen_on = _date(_l("Seen on"), past=True)

    def validate_category(self, field: SelectField) -> None:
        if self.kind.data == CertificateKind.PHYSICAL and not field.data:
            raise ValidationError(_l("Choose the category of a physical disability certificate."))

    def validate_valid_until(self, field: DateField) -> None:
        if field.data and self.issued_on.data and field.data < self.issued_on.data:
            raise ValidationError(_l("The validity ends before the certificate was issued."))


class CareCertificationAddForm(FlaskForm):
    level = SelectField(_l("Care level"), choices=choices(CareLevel))
    valid_from = _date(_l("Valid from"))
    valid_until = _date(_l("Valid until"))
    document_seen = _text(_l("Document seen"), 100, required=True)
    seen_on = _date(_l("Seen on"), past=True)

    def validate_valid_until(self, field: DateField) -> None:
        if field.data and self.valid_from.data and field.data < self.valid_from.data:
            raise ValidationError(_l("The validity period ends before it starts."))


class VisitDifficultyForm(FlaskForm):
    is_difficult = RadioField(_l("Finds it difficult to visit the library"),
                              choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))], validators=[InputRequired()])
    basis = SelectField(_l("How this was established"), choices=choices(DifficultyBasis))
    note = _text(_l("Note"), 500)
    assessed_on = _date(_l("Established on"), past=True)


class ApplicationReceiveForm(FlaskForm):
    service = SelectField(_l("Service"), choices=choices(Service))
    received_on = _date(_l("Received on"), past=True)
    channel = SelectField(_l("Received by"), choices=choices(Channel))
    proxy_id = SelectField(_l("Made by"), coerce=str)
    note = _note(_l("Note"), 1000)


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[SelectChoice("approve", _l("Approve")), SelectChoice("reject", _l("Reject"))],
                          validators=[InputRequired(message=_l("Choose approve or reject."))])
    decided_on = _date(_l("Decided on"), past=True)
    special_reason = _note(_l("Reason for a special approval (その他特に必要と認めた者)"), 1000)
    rejection_reason = _note(_l("Reason for the rejection"), 1000)

    def __init__(self, *args, received_on: date | None = None, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.received_on = received_on  # the application's; a decision cannot come before it

    def validate_decided_on(self, field: DateField) -> None:
        if field.data and self.received_on and field.data < self.received_on:
            raise ValidationError(_l("The decision cannot be dated before the application was received."))

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def,override]
        # Not an inline validator: Optional() on the field would stop it from running when empty.
        valid = super().validate(extra_validators)
        if self.decision.data == "reject" and not (self.rejection_reason.data or "").strip():
            self.rejection_reason.errors = [*self.rejection_reason.errors,
                                            _l("A rejection needs a reason; it is printed in the letter.")]
            return False
        return valid


class FirstRegistrationForm(FlaskForm):
    """郵送要綱付則2: the day the patron was first registered for mail loans, before the rules took effect."""

    first_registered_on = _date(_l("First registered for mail loans on"), required=False, past=True)


class ApplicationStepForm(FlaskForm):
    note = _note(_l("Note"), 1000)


class ApprovalEndForm(FlaskForm):
    reason = SelectField(_l("Reason"), choices=choices(EndReason))
    ended_on = _date(_l("Last day of service"))
    note = _note(_l("Note"), 500)
    # On by default, but off when the patron has died (the page script unticks it when 死亡 is chosen, and the
    # route when the page is opened for that reason); a notice for a deceased patron goes to their proxy.
    send_letter = BooleanField(_l("Issue a service-ended notice"), default=True)


class CaseNoteAddForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=choices(CaseNoteKind))
    occurs_on = _date(_l("Date"))
    is_planned = BooleanField(_l("Planned (not yet done)"))
    note = _note(_l("Note"), 2000)


class CaseNoteCompleteForm(FlaskForm):
    done_on = _date(_l("Done on"), past=True)
    note = _note(_l("Note"), 2000)


class LetterIssueForm(FlaskForm):
    kind = SelectField(_l("Letter"))
    service = SelectField(_l("Service"), choices=choices(Service))
