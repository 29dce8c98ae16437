"""Words shown for enumeration values, in the UI's language (Flask-Babel lazy strings)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l

from outreach.types import ContactPreference, ProxyRelation, Role

LABELS: dict[StrEnum, Any] = {
    Role.ADMIN: _l("Administrator"),
    Role.CHIEF: _l("Section chief"),
    Role.LIBRARIAN: _l("Librarian"),
    Role.VOLUNTEER: _l("Volunteer reader"),
    ContactPreference.PHONE: _l("Phone"),
    ContactPreference.FAX: _l("FAX"),
    ContactPreference.EMAIL: _l("E-mail"),
    ContactPreference.MAIL: _l("Post"),
    ContactPreference.PROXY: _l("Through the proxy"),
    ProxyRelation.FAMILY: _l("Family"),
    ProxyRelation.CARER: _l("Carer"),
    ProxyRelation.CARE_MANAGER: _l("Care manager"),
    ProxyRelation.OTHER: _l("Other"),
}


def label(value: StrEnum | str | None) -> Any:
    """The translated word for an enumeration value ('' for None)."""
    if value is None:
        return ""
    return LABELS.get(value, str(value))  # type: ignore[call-overload]


def choices(enum_cls: type[StrEnum]) -> list[Any]:
    """Choices for a select field, in the enumeration's order."""
    from wtforms.fields.choices import SelectChoice

    return [SelectChoice(member.value, label(member)) for member in enum_cls]
