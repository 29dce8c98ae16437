"""Words shown for enumeration values, in the UI's language (Flask-Babel lazy strings)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l

from outreach.policy import HolidayShift
from outreach.types import (
    ApplicationState,
    ApprovalStatus,
    CancelledBy,
    CareLevel,
    CaseNoteKind,
    CertificateKind,
    Channel,
    ContactPreference,
    DifficultyBasis,
    DisabilityCategory,
    EndReason,
    ItemSource,
    ItemStatus,
    LetterKind,
    LoanRequestState,
    LoanStatus,
    MaterialType,
    ProxyRelation,
    ReadingKind,
    ReadingRequestStatus,
    ReadingSessionState,
    Role,
    RunState,
    Service,
    SkipReason,
)

_PAIRS: tuple[tuple[StrEnum, Any], ...] = (  # pairs, not a dict: equal values of different enums stay apart
    (Role.ADMIN, _l("Administrator")),
    (Role.CHIEF, _l("Section chief")),
    (Role.LIBRARIAN, _l("Librarian")),
    (Role.VOLUNTEER, _l("Volunteer reader")),
    (ContactPreference.PHONE, _l("Phone")),
    (ContactPreference.FAX, _l("FAX")),
    (ContactPreference.EMAIL, _l("E-mail")),
    (ContactPreference.MAIL, _l("Post")),
    (ContactPreference.PROXY, _l("Through the proxy")),
    (ProxyRelation.FAMILY, _l("Family")),
    (ProxyRelation.CARER, _l("Carer")),
    (ProxyRelation.CARE_MANAGER, _l("Care manager")),
    (ProxyRelation.OTHER, _l("Other")),
    (Service.HOME_DELIVERY, _l("Home delivery")),
    (Service.MAIL_LOAN, _l("Mail loans")),
    (Service.FACE_TO_FACE, _l("Face-to-face reading")),
    (CertificateKind.PHYSICAL, _l("Physical disability certificate")),
    (CertificateKind.INTELLECTUAL, _l("Intellectual disability certificate (Ryoiku techo)")),
    (CertificateKind.MENTAL, _l("Mental disability certificate")),
    (DisabilityCategory.VISUAL, _l("Visual impairment")),
    (DisabilityCategory.HEARING, _l("Hearing or balance impairment")),
    (DisabilityCategory.SPEECH, _l("Speech, language or chewing impairment")),
    (DisabilityCategory.LIMB, _l("Limb impairment")),
    (DisabilityCategory.INTERNAL, _l("Internal impairment")),
    (CareLevel.SUPPORT_1, _l("Support level 1")),
    (CareLevel.SUPPORT_2, _l("Support level 2")),
    (CareLevel.CARE_1, _l("Care level 1")),
    (CareLevel.CARE_2, _l("Care level 2")),
    (CareLevel.CARE_3, _l("Care level 3")),
    (CareLevel.CARE_4, _l("Care level 4")),
    (CareLevel.CARE_5, _l("Care level 5")),
    (Channel.COUNTER, _l("At the counter")),
    (Channel.PHONE, _l("Phone")),
    (Channel.FAX, _l("FAX")),
    (Channel.MAIL, _l("Post")),
    (Channel.INTERNET, _l("Internet")),
    (ApplicationState.RECEIVED, _l("Received")),
    (ApplicationState.AWAITING_DECISION, _l("Awaiting decision")),
    (ApplicationState.APPROVED, _l("Approved")),
    (ApplicationState.REJECTED, _l("Rejected")),
    (ApplicationState.WITHDRAWN, _l("Withdrawn")),
    (ApprovalStatus.ACTIVE, _l("In force")),
    (ApprovalStatus.EXPIRED, _l("Expired")),
    (ApprovalStatus.ENDED, _l("Ended")),
    (EndReason.MOVED_AWAY, _l("Moved away")),
    (EndReason.ENTERED_FACILITY, _l("Entered a care facility")),
    (EndReason.DECEASED, _l("Deceased")),
    (EndReason.WITHDREW, _l("Withdrew")),
    (EndReason.ELIGIBILITY_LOST, _l("No longer eligible")),
    (CaseNoteKind.CONTACT, _l("Contact")),
    (CaseNoteKind.HOME_VISIT, _l("Home visit")),
    (CaseNoteKind.READING_CONSULTATION, _l("Reading consultation")),
    (CaseNoteKind.OTHER, _l("Other")),
    (LetterKind.APPLICATION_FORM, _l("Application form (Form 1)")),
    (LetterKind.APPROVAL, _l("Approval letter (Form 2)")),
    (LetterKind.REJECTION, _l("Rejection letter (Form 3)")),
    (LetterKind.RENEWAL_NOTICE, _l("Renewal notice")),
    (LetterKind.SERVICE_ENDED, _l("Service-ended notice")),
    (LetterKind.OVERDUE, _l("Overdue reminder")),
    (DifficultyBasis.SELF_REPORT, _l("Reported by the patron or family")),
    (DifficultyBasis.HOME_VISIT, _l("Confirmed on a home visit")),
    (DifficultyBasis.CARE_MANAGER, _l("Care manager's opinion")),
    (DifficultyBasis.DOCUMENT, _l("From certificates or documents")),
    (MaterialType.BOOK, _l("Book")),
    (MaterialType.LARGE_PRINT, _l("Large-print book")),
    (MaterialType.BRAILLE_PICTURE_BOOK, _l("Braille picture book")),
    (MaterialType.BRAILLE_BOOK, _l("Braille book")),
    (MaterialType.AUDIO_CD, _l("Audio CD")),
    (MaterialType.DAISY, _l("DAISY")),
    (MaterialType.OTHER_AV, _l("Other audio-visual")),
    (ItemStatus.AVAILABLE, _l("On the shelf")),
    (ItemStatus.ON_LOAN, _l("On loan")),
    (ItemStatus.LOST, _l("Lost")),
    (ItemStatus.WITHDRAWN, _l("Withdrawn from stock")),
    (LoanRequestState.OPEN, _l("Waiting for the monthly run")),
    (LoanRequestState.DONE, _l("Done")),
    (LoanRequestState.CANCELLED, _l("Cancelled")),
    (ItemSource.NAMED, _l("Asked for")),
    (ItemSource.CHOSEN, _l("Chosen for the patron")),
    (LoanStatus.ON_LOAN, _l("On loan")),
    (LoanStatus.RETURNED, _l("Returned")),
    (LoanStatus.LOST, _l("Lost")),
    (RunState.PLANNED, _l("Planned (not yet committed)")),
    (RunState.COMMITTING, _l("Committing")),
    (RunState.COMMITTED, _l("Committed")),
    (SkipReason.APPROVAL_EXPIRED, _l("Approval expired")),
    (SkipReason.SERVICE_ENDED, _l("Service ended")),
    (SkipReason.NOT_APPROVED, _l("No approval or registration")),
    (SkipReason.OVERDUE, _l("Overdue items outstanding")),
    (SkipReason.ALREADY_SHIPPED, _l("Already shipped this month")),
    (SkipReason.NOTHING_REQUESTED, _l("Nothing requested and no reader profile")),
    (SkipReason.NOTHING_AVAILABLE, _l("None of the requested items can be sent")),
    (SkipReason.HELD, _l("Held by staff this month")),
    (ReadingKind.GENERAL, _l("General texts")),
    (ReadingKind.ENGLISH, _l("English texts")),
    (ReadingKind.TECHNICAL, _l("Technical texts")),
    (ReadingKind.BRAILLE_PROOFREADING, _l("Braille proof-reading")),
    (ReadingRequestStatus.OPEN, _l("Open")),
    (ReadingRequestStatus.CLOSED, _l("Closed")),
    (ReadingSessionState.SCHEDULED, _l("Waiting for the volunteer's confirmation")),
    (ReadingSessionState.CONFIRMED, _l("Confirmed")),
    (ReadingSessionState.DECLINED, _l("Declined by the volunteer")),
    (ReadingSessionState.HELD, _l("Held")),
    (ReadingSessionState.CANCELLED, _l("Cancelled")),
    (ReadingSessionState.NO_SHOW, _l("Patron did not come")),
    (CancelledBy.PATRON, _l("On the patron's side")),
    (CancelledBy.VOLUNTEER, _l("On the volunteer's side")),
    (CancelledBy.LIBRARY, _l("On the library's side")),
    (HolidayShift.NEXT_DAY, _l("the next day")),
    (HolidayShift.NEXT_NON_HOLIDAY, _l("the next day that is not a holiday")),
)


def _basis_pairs() -> tuple[tuple[StrEnum, Any], ...]:
    from outreach.enrolments.rules import Basis

    return (
        (Basis.HOME_DELIVERY_DISABILITY, _l("Home delivery rules art. 2 (1): disability certificate")),
        (Basis.HOME_DELIVERY_ELDERLY_CARE, _l("Home delivery rules art. 2 (2): elderly with a qualifying care level")),
        (Basis.HOME_DELIVERY_SPECIAL, _l("Home delivery rules art. 2 (3): specially recognised by the chief")),
        (Basis.MAIL_LOAN_VISUAL, _l("Mail loan rules art. 2: visual impairment certificate")),
        (Basis.MAIL_LOAN_GRANDFATHERED, _l("Mail loan rules, supplementary provision: registered before the rules")),
        (Basis.MAIL_LOAN_SPECIAL, _l("Mail loans: specially recognised by the chief")),
        (Basis.FACE_TO_FACE_VISUAL, _l("Face-to-face reading: visual impairment certificate")),
        (Basis.FACE_TO_FACE_SPECIAL, _l("Face-to-face reading: specially recognised by the chief")),
        (Basis.FACE_TO_FACE_OPEN, _l("Face-to-face reading: open to all patrons")),
    )


# Keyed by (enumeration, value): the same value can mean different things in different enumerations.
_BY_TYPE: dict[tuple[type, str], Any] = {
    (type(member), member.value): text for member, text in (*_PAIRS, *_basis_pairs())
}


def label(value: StrEnum | None) -> Any:
    """The translated word for an enumeration member ('' for None)."""
    if value is None:
        return ""
    return _BY_TYPE.get((type(value), str(value)), str(value))


def basis_label(value: StrEnum | str | None) -> Any:
    """The words for a rule clause, given as a Basis or as the code an approval stores."""
    from outreach.enrolments.rules import Basis

    if isinstance(value, str) and not isinstance(value, StrEnum):
        try:
            value = Basis(value)
        except ValueError:
            return value  # a clause no longer in the rules: shown as stored
    return label(value)


def choices(enum_cls: type[StrEnum]) -> list[Any]:
    """Choices for a select field, in the enumeration's order."""
    from wtforms.fields.choices import SelectChoice

    return [SelectChoice(member.value, label(member)) for member in enum_cls]


# Words of the audit trail: what was done, and to what kind of record (unknown codes are shown as they are).
_AUDIT_WORDS: dict[str, Any] = {
    # actions
    "create": _l("created"), "update": _l("changed"), "delete": _l("deleted"), "view": _l("opened"),
    "login": _l("logged in"), "login_failed": _l("login failed"), "login_locked": _l("login refused (locked)"),
    "login_inactive": _l("login refused (deactivated)"), "logout": _l("logged out"),
    "password_reset": _l("password reset"), "export": _l("printed or downloaded"), "import": _l("imported"),
    "issue_letter": _l("letter issued"), "approve": _l("approved"), "reject": _l("not approved"),
    "end": _l("service ended"), "review_kept": _l("review: kept"), "plan": _l("planned"),
    "commit": _l("committed"), "adjust": _l("plan adjusted"), "return": _l("returned"), "remind": _l("reminded"),
    "lost": _l("marked lost"), "book": _l("booked"), "confirm": _l("confirmed"), "decline": _l("declined"),
    "cancel": _l("cancelled"), "no_show": _l("no-show"), "reassign": _l("reassigned"), "close": _l("closed"),
    # kinds of record
    "patron": _l("patron"), "patron_proxy": _l("proxy"), "application": _l("application"),
    "approval": _l("approval"), "disability_certificate": _l("disability certificate"),
    "care_certification": _l("care certification"), "visit_difficulty": _l("difficulty visiting"),
    "case_note": _l("case note"), "reader_profile": _l("reader profile"), "loan_request": _l("loan request"),
    "loan": _l("loan"), "staff_user": _l("staff account"), "policy": _l("service rules"),
    "catalog_import": _l("catalogue import"), "catalog_item": _l("catalogue item"),
    "shipment_run": _l("monthly run"), "reading_volunteer": _l("volunteer reader"),
    "reading_room": _l("reading room"), "reading_request": _l("reading request"),
    "reading_session": _l("reading session"), "reading_series": _l("reading series"),
    "historical_figure": _l("historical figures"), "case_list": _l("case list"),
    "address_list": _l("address list"), "label_check": _l("label check"), "packing_slips": _l("packing slips"),
    "overdue_letters": _l("overdue letters"), "outbound_labels": _l("address labels"),
    "return_labels": _l("return labels"), "pick_list": _l("pick list"),
}


def audit_word(code: str) -> Any:
    """The words for an audit action or kind of record."""
    return _AUDIT_WORDS.get(code, code)
