"""Every read and write of loan requests, reader profiles, loans, returns and overdue work.
Flushes, never commits: the entry point commits once."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, delete, exists, func, literal, select, update
from sqlmodel import Session

from outreach.audit import services as audit
from outreach.auth.models import StaffUser
from outreach.catalog import rules as catalog_rules
from outreach.catalog.models import CatalogItem
from outreach.db import stream_rows, utcnow
from outreach.enrolments.services import active_approval
from outreach.errors import DomainError
from outreach.loans import rules
from outreach.loans.models import Loan, LoanRequest, LoanRequestLine, ReaderProfile
from outreach.patrons.models import Patron, Proxy
from outreach.patrons.rules import search_key
from outreach.policy import Policy
from outreach.shipments.models import Shipment
from outreach.system.services import current_policy
from outreach.types import (
    LENDING_SERVICES,
    Channel,
    ItemSource,
    ItemStatus,
    LoanRequestState,
    LoanStatus,
    MaterialType,
    Service,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    """A refused input, naming the field and the rule (Japanese and English)."""

    field: str
    message_ja: str
    message_en: str
    barcode: str | None = None

    def message(self, lang: str = "ja") -> str:
        return self.message_en if lang.lower().startswith("en") else self.message_ja


class LoanInputError(DomainError):
    """One or more problems with a request, a return or a profile; nothing was changed."""

    default_code = "loan.input"

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(self.default_code, "\n".join(p.message_ja for p in problems),
                         "\n".join(p.message_en for p in problems))


# --------------------------------------------------------------------------------------------------
# requests


@dataclass(frozen=True)
class RequestLineView:
    line_id: int
    item: CatalogItem
    source: ItemSource
    reason: str


@dataclass(frozen=True)
class RequestView:
    request: LoanRequest
    lines: list[RequestLineView]
    proxy_name: str = ""


def get_request(session: Session, request_id: int) -> LoanRequest | None:
    return session.get(LoanRequest, request_id)


def requests_for(session: Session, patron_id: int, *, open_only: bool = False, limit: int = 50) -> list[RequestView]:
    """The patron's requests, newest first, with their lines (two queries, whatever the count)."""
    stmt = select(LoanRequest).where(LoanRequest.patron_id == patron_id)
    if open_only:
        stmt = stmt.where(LoanRequest.state == LoanRequestState.OPEN)
    requests = session.scalars(stmt.order_by(LoanRequest.received_on.desc(), LoanRequest.id.desc()).limit(limit)).all()
    return _with_lines(session, requests)


@dataclass(frozen=True)
class OpenRequestRow:
    request_id: int
    received_on: date
    service: Service
    channel: Channel
    choose_for_me: bool
    items: int
    patron_id: int
    patron_name: str
    patron_kana: str


@dataclass(frozen=True)
class OpenRequestPage:
    rows: list[OpenRequestRow]
    total: int
    page: int
    pages: int


def open_requests(session: Session, *, page: int = 1, page_size: int = 20) -> OpenRequestPage:
    """Requests waiting for the monthly run, oldest first (the desk's work list), one page at a time."""
    total = session.scalar(select(func.count()).select_from(LoanRequest)
                           .where(LoanRequest.state == LoanRequestState.OPEN)) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    lines = (select(func.count()).where(LoanRequestLine.request_id == LoanRequest.id)
             .correlate(LoanRequest).scalar_subquery())
    rows = session.execute(
        select(LoanRequest.id, LoanRequest.received_on, LoanRequest.service, LoanRequest.channel,
               LoanRequest.choose_for_me, lines, Patron.id, Patron.name, Patron.name_kana)
        .join(Patron, Patron.id == LoanRequest.patron_id)
        .where(LoanRequest.state == LoanRequestState.OPEN)
        .order_by(LoanRequest.received_on, LoanRequest.id)
        .offset((page - 1) * page_size).limit(page_size)
    ).all()
    return OpenRequestPage([OpenRequestRow(*row) for row in rows], total, page, pages)


def request_view(session: Session, request: LoanRequest) -> RequestView:
    return _with_lines(session, [request])[0]


def _with_lines(session: Session, requests: Sequence[LoanRequest]) -> list[RequestView]:
    ids = [r.id for r in requests]
    lines: dict[int, list[RequestLineView]] = {i: [] for i in ids}  # type: ignore[misc]
    if ids:
        rows = session.execute(
            select(LoanRequestLine, CatalogItem).join(CatalogItem, CatalogItem.id == LoanRequestLine.item_id)
            .where(LoanRequestLine.request_id.in_(ids)).order_by(LoanRequestLine.request_id, LoanRequestLine.id)
        ).all()
        for line, item in rows:
            lines[line.request_id].append(RequestLineView(line.id, item, line.source, line.reason))  # type: ignore[index]
    proxies = {p.id: p.name for p in session.scalars(
        select(Proxy).where(Proxy.id.in_([r.proxy_id for r in requests if r.proxy_id]))
    )} if any(r.proxy_id for r in requests) else {}
    return [RequestView(r, lines[r.id], proxies.get(r.proxy_id, "")) for r in requests]  # type: ignore[index]


def open_line_items(session: Session, patron_id: int, service: Service, exclude_request_id: int | None = None) -> list[CatalogItem]:
    """Items already asked for (open lines) by the patron for this service, in the order asked."""
    stmt = (select(CatalogItem).join(LoanRequestLine, LoanRequestLine.item_id == CatalogItem.id)
            .join(LoanRequest, LoanRequest.id == LoanRequestLine.request_id)
            .where(LoanRequest.patron_id == patron_id, LoanRequest.service == service,
                   LoanRequest.state == LoanRequestState.OPEN))
    if exclude_request_id is not None:
        stmt = stmt.where(LoanRequest.id != exclude_request_id)
    return list(session.scalars(stmt.order_by(LoanRequest.received_on, LoanRequestLine.id)).all())


def _fact(item: CatalogItem) -> rules.ItemFact:
    return rules.ItemFact(item.barcode, item.material_type, item.is_lendable, item.is_unsuitable, item.status)


def _resolve(session: Session, barcodes: Sequence[str]) -> tuple[list[CatalogItem], list[Problem]]:
    wanted = [catalog_rules.fold(b) for b in barcodes if b and b.strip()]
    found = _items_by_barcode(session, wanted)
    problems = [Problem("barcodes", f"{b}: この資料番号の資料はありません", f"{b}: no item has this barcode", b)
                for b in wanted if b not in found]
    return [found[b] for b in wanted if b in found], problems


def _items_by_barcode(session: Session, barcodes: Sequence[str]) -> dict[str, CatalogItem]:
    found: dict[str, CatalogItem] = {}
    unique = list(dict.fromkeys(barcodes))
    for start in range(0, len(unique), 1000):
        for item in session.scalars(select(CatalogItem).where(CatalogItem.barcode.in_(unique[start:start + 1000]))):
            found[item.barcode] = item
    return found


def check_items(session: Session, patron_id: int, service: Service, new_items: Sequence[CatalogItem],
                policy: Policy, exclude_request_id: int | None = None) -> list[Problem]:
    """The limits over everything the patron has asked for this service plus the new items: one
    delivery takes at most N books and M audio-visual items, of allowed types, lendable and suitable."""
    existing = open_line_items(session, patron_id, service, exclude_request_id)
    facts = [_fact(i) for i in [*existing, *new_items]]
    verdicts = rules.evaluate_request(service, facts, policy)
    problems = []
    for verdict in verdicts[len(existing):]:
        for v in verdict:
            problems.append(Problem("barcodes", v.message_ja, v.message_en, v.barcode))
    return problems


def _check_patron(session: Session, patron: Patron, service: Service, on: date) -> list[Problem]:
    if service not in LENDING_SERVICES:
        return [Problem("service", "このサービスでは資料の貸出はありません", "This service lends no items")]
    if active_approval(session, patron.id, service, on) is None:  # type: ignore[arg-type]
        return [Problem("service", "この利用者には、このサービスの有効な承認・登録がありません",
                        "The patron has no approval or registration in force for this service")]
    return []


def create_request(
    session: Session,
    patron: Patron,
    *,
    service: Service,
    channel: Channel,
    received_on: date,
    proxy_id: int | None,
    choose_for_me: bool,
    note: str,
    barcodes: Sequence[str],
    actor: StaffUser,
    today: date,
) -> LoanRequest:
    """Take a request: the patron must be approved for the service today, every barcode must exist
    and the items, with what the patron already asked for, must fit the service's limits.
    Raises LoanInputError (naming each rule) and changes nothing when any check fails."""
    policy = current_policy(session)
    problems = _check_patron(session, patron, service, today)
    if received_on > today:
        problems.append(Problem("received_on", "受付日が未来の日付です", "The date received is in the future"))
    elif (today - received_on).days > 366:
        problems.append(Problem("received_on", "受付日が1年以上前になっています", "The date received is more than a year ago"))
    if proxy_id is not None and session.scalars(
        select(Proxy.id).where(Proxy.id == proxy_id, Proxy.patron_id == patron.id)
    ).first() is None:
        problems.append(Problem("proxy_id", "この利用者の代理人ではありません", "Not a proxy of this patron"))
    items, missing = _resolve(session, barcodes)
    problems += missing
    if not problems:
        problems += check_items(session, patron.id, service, items, policy)  # type: ignore[arg-type]
    if not items and not choose_for_me and not missing:
        problems.append(Problem("barcodes", "資料番号を入れるか「おまかせ」を選んでください",
                                "Enter barcodes or choose 'choose for me'"))
    if problems:
        raise LoanInputError(problems)
    request = LoanRequest(patron_id=patron.id, service=service, channel=channel, received_on=received_on,  # type: ignore[arg-type]
                          proxy_id=proxy_id, choose_for_me=choose_for_me, note=note.strip(), created_by_id=actor.id)
    session.add(request)
    session.flush()
    for item in items:
        session.add(LoanRequestLine(request_id=request.id, item_id=item.id, source=ItemSource.NAMED))  # type: ignore[arg-type]
    session.flush()
    _audit(session, actor, "create", "loan_request", patron.id, ["service", "channel", "items"],
           f"request {request.id}")
    return request


def add_items(session: Session, request: LoanRequest, barcodes: Sequence[str], *, actor: StaffUser, today: date,
              source: ItemSource = ItemSource.NAMED, reasons: Mapping[int, str] | None = None) -> int:
    """Add items to an open request, with the same checks as taking it. Returns how many were added."""
    _require_open(request)
    policy = current_policy(session)
    patron = session.get(Patron, request.patron_id)
    assert patron is not None
    problems = _check_patron(session, patron, request.service, today)
    items, missing = _resolve(session, barcodes)
    problems += missing
    if not items and not missing:
        problems.append(Problem("barcodes", "資料番号を入れてください", "Enter at least one barcode"))
    if not problems:
        problems += check_items(session, patron.id, request.service, items, policy)  # type: ignore[arg-type]
    if problems:
        raise LoanInputError(problems)
    for item in items:
        session.add(LoanRequestLine(request_id=request.id, item_id=item.id, source=source,  # type: ignore[arg-type]
                                    reason=(reasons or {}).get(item.id, "")[:300]))  # type: ignore[arg-type]
    request.updated_at = utcnow()
    session.flush()
    _audit(session, actor, "update", "loan_request", request.patron_id, ["items"], f"request {request.id}")
    return len(items)


def remove_line(session: Session, request: LoanRequest, line_id: int, *, actor: StaffUser) -> bool:
    _require_open(request)
    result = session.execute(delete(LoanRequestLine).where(LoanRequestLine.id == line_id,
                                                           LoanRequestLine.request_id == request.id))
    if not result.rowcount:
        return False
    request.updated_at = utcnow()
    _audit(session, actor, "update", "loan_request", request.patron_id, ["items"], f"request {request.id}")
    return True


def cancel_request(session: Session, request: LoanRequest, *, actor: StaffUser, today: date) -> None:
    """Cancel a request: its lines go (what was asked for is not kept), the counts stay."""
    _require_open(request)
    count = session.scalar(select(func.count()).select_from(LoanRequestLine)
                           .where(LoanRequestLine.request_id == request.id)) or 0
    session.execute(delete(LoanRequestLine).where(LoanRequestLine.request_id == request.id))
    request.items_cancelled += count
    request.state = LoanRequestState.CANCELLED
    request.closed_on = today
    request.updated_at = utcnow()
    _audit(session, actor, "cancel", "loan_request", request.patron_id, detail=f"request {request.id}")


def _require_open(request: LoanRequest) -> None:
    if request.state is not LoanRequestState.OPEN:
        raise LoanInputError([Problem("request", "この申込みは締め切られています（発送済み・取消済み）",
                                      "This request is closed (sent or cancelled)")])


# --------------------------------------------------------------------------------------------------
# reader profiles and "choose for me"


PROFILE_FIELDS = ("subjects", "authors", "formats", "exclusions", "items_per_month", "is_monthly")


def get_profile(session: Session, patron_id: int) -> ReaderProfile | None:
    return session.scalars(select(ReaderProfile).where(ReaderProfile.patron_id == patron_id)).first()


def save_profile(session: Session, patron: Patron, *, data: Mapping[str, Any], actor: StaffUser) -> ReaderProfile:
    """Create or change the patron's reader profile."""
    profile = get_profile(session, patron.id) or ReaderProfile(patron_id=patron.id)  # type: ignore[arg-type]
    values = dict(data)
    if "formats" in values and not isinstance(values["formats"], str):
        values["formats"] = ",".join(MaterialType(f).value for f in values["formats"])
    changed = []
    for key in PROFILE_FIELDS:
        if key in values and getattr(profile, key) != values[key]:
            setattr(profile, key, values[key].strip() if isinstance(values[key], str) else values[key])
            changed.append(key)
    profile.updated_by_id = actor.id
    profile.updated_at = utcnow()
    session.add(profile)
    session.flush()
    if changed:
        _audit(session, actor, "update", "reader_profile", patron.id, changed)
    return profile


def profile_formats(profile: ReaderProfile) -> list[MaterialType]:
    return [MaterialType(f) for f in profile.formats.split(",") if f]


def preferences_of(profile: ReaderProfile) -> rules.ReaderPreferences:
    """The profile as the selection reads it (words folded like the catalogue keys)."""
    return rules.preferences_from_text(profile.subjects, profile.authors, profile_formats(profile),
                                       profile.exclusions, profile.items_per_month, search_key)


def selectable_items(session: Session, material_types: Iterable[MaterialType], *,
                     exclude_requested: bool = True, batch: int = 2000,
                     with_titles: bool = True) -> Iterator[rules.SelectableItem]:
    """Available, lendable, suitable items of these types, newest first, streamed (for おまかせ).

    Items someone has asked for (open request lines) are left for them. The monthly plan reads the
    whole available catalogue through here, so rows come as the driver's tuples (db.stream_rows); it
    stores item ids only, so it reads without barcodes and titles (``with_titles=False``): at national
    size the chosen items' strings alone would cost hundreds of megabytes.
    """
    shown = (CatalogItem.barcode, CatalogItem.title) if with_titles else (literal(""), literal(""))
    stmt = (select(CatalogItem.id, *shown, CatalogItem.material_type,
                   CatalogItem.author_key, CatalogItem.subject_keys, CatalogItem.title_key)
            .where(CatalogItem.status == ItemStatus.AVAILABLE, CatalogItem.is_lendable.is_(True),
                   CatalogItem.is_unsuitable.is_(False), CatalogItem.material_type.in_(list(material_types))))
    if exclude_requested:
        stmt = stmt.where(~exists().where(
            LoanRequestLine.item_id == CatalogItem.id, LoanRequest.id == LoanRequestLine.request_id,
            LoanRequest.state == LoanRequestState.OPEN))
    materials = {m.value: m for m in MaterialType}
    item = rules.SelectableItem
    rows = stream_rows(session, stmt.order_by(CatalogItem.id.desc()), batch)
    try:
        for item_id, barcode, title, material, author_key, subject_keys, title_key in rows:
            keys = tuple(k for k in subject_keys.split("|") if k) if subject_keys else ()
            yield item(item_id, barcode, title, materials[material], author_key or "", keys, title_key or "")
    finally:
        rows.close()  # the selection usually stops early: release the (server-side) cursor now


def reading_history(session: Session, patron_ids: Iterable[int]) -> dict[int, set[int]]:
    """Items lent before to patrons who consented to a reading history (nobody else has one)."""
    ids = list(patron_ids)
    history: dict[int, set[int]] = {}
    for start in range(0, len(ids), 1000):
        rows = session.execute(
            select(Loan.patron_id, Loan.item_id).join(Patron, Patron.id == Loan.patron_id)
            .where(Loan.patron_id.in_(ids[start:start + 1000]), Patron.has_reading_history_consent.is_(True),
                   Loan.item_id.is_not(None))
        )
        for patron_id, item_id in rows:
            history.setdefault(patron_id, set()).add(item_id)
    return history


def propose_selection(session: Session, request: LoanRequest) -> list[rules.Choice]:
    """"Choose for me" now, for one request: items matching the profile that staff may accept."""
    profile = get_profile(session, request.patron_id)
    policy = current_policy(session)
    limits = policy.item_limits(request.service)
    if profile is None or limits is None:
        return []
    prefs = preferences_of(profile)
    asked = open_line_items(session, request.patron_id, request.service)
    books = sum(1 for i in asked if not i.material_type.is_audio_visual)
    want = rules.SelectionWant(
        patron_id=request.patron_id, service=request.service, preferences=prefs,
        books_room=max(0, limits.max_books - books),
        audio_visual_room=max(0, limits.max_audio_visual - (len(asked) - books)),
        total_room=max(0, prefs.items_per_month - len(asked)), allowed=limits.allowed_material_types,
        history=frozenset(reading_history(session, [request.patron_id]).get(request.patron_id, set())),
    )
    stream = selectable_items(session, limits.allowed_material_types)
    try:
        chosen = rules.choose_items([want], stream)
    finally:
        stream.close()
    return chosen.get((request.patron_id, request.service), [])


# --------------------------------------------------------------------------------------------------
# loans, returns, loss


@dataclass(frozen=True)
class LoanView:
    loan: Loan
    item: CatalogItem | None


def open_loans(session: Session, patron_id: int) -> list[LoanView]:
    rows = session.execute(
        select(Loan, CatalogItem).outerjoin(CatalogItem, CatalogItem.id == Loan.item_id)
        .where(Loan.patron_id == patron_id, Loan.status == LoanStatus.ON_LOAN).order_by(Loan.due_on, Loan.id)
    ).all()
    return [LoanView(loan, item) for loan, item in rows]


def history_of(session: Session, patron_id: int, limit: int = 200) -> list[LoanView]:
    """Closed loans kept as a reading history (only patrons who consented have any)."""
    rows = session.execute(
        select(Loan, CatalogItem).join(CatalogItem, CatalogItem.id == Loan.item_id)
        .where(Loan.patron_id == patron_id, Loan.status != LoanStatus.ON_LOAN)
        .order_by(Loan.shipped_on.desc(), Loan.id.desc()).limit(limit)
    ).all()
    return [LoanView(loan, item) for loan, item in rows]


@dataclass
class CheckInResult:
    returned: list[tuple[str, str]] = field(default_factory=list)  # (barcode, title)
    shipments_completed: int = 0


def check_in(session: Session, barcodes: Sequence[str], *, actor: StaffUser, today: date) -> CheckInResult:
    """Check returned items in by barcode (one or many, partial returns welcome).

    Every barcode must be known and on loan here; otherwise nothing is checked in and each
    problem is named. Each loan is closed (and forgotten unless the patron keeps a history).
    """
    wanted = [catalog_rules.fold(b) for b in barcodes if b and b.strip()]
    if not wanted:
        raise LoanInputError([Problem("barcodes", "資料番号を入れてください", "Enter at least one barcode")])
    problems: list[Problem] = []
    seen: set[str] = set()
    for b in wanted:
        if b in seen:
            problems.append(Problem("barcodes", f"{b}: 同じ資料番号が2回入っています", f"{b}: entered twice", b))
        seen.add(b)
    items = _items_by_barcode(session, wanted)
    open_by_item = dict(session.execute(
        select(Loan.item_id, Loan.id).where(Loan.item_id.in_([i.id for i in items.values()]),
                                            Loan.status == LoanStatus.ON_LOAN)
    ).all()) if items else {}
    for b in dict.fromkeys(wanted):
        item = items.get(b)
        if item is None:
            problems.append(Problem("barcodes", f"{b}: この資料番号の資料はありません", f"{b}: no item has this barcode", b))
        elif item.id not in open_by_item:
            problems.append(Problem("barcodes", f"{b}: この資料は貸出中ではありません（返却済みか、貸し出されていません）",
                                    f"{b}: this item is not on loan", b))
    if problems:
        raise LoanInputError(problems)
    loan_ids = [open_by_item[items[b].id] for b in dict.fromkeys(wanted)]
    completed = close_loans(session, loan_ids, LoanStatus.RETURNED, today)
    audit.record(session, actor_id=actor.id, actor_username=actor.username, action="return", entity_type="loan",
                 detail=f"{len(loan_ids)} items")
    return CheckInResult([(b, items[b].title) for b in dict.fromkeys(wanted)], completed)


def mark_lost(session: Session, loan: Loan, *, actor: StaffUser, today: date) -> None:
    """The patron reports an item lost: the loan closes, the item becomes lost."""
    if loan.status is not LoanStatus.ON_LOAN:
        raise LoanInputError([Problem("loan", "この貸出はすでに終わっています", "This loan is already closed")])
    close_loans(session, [loan.id], LoanStatus.LOST, today)  # type: ignore[list-item]
    audit.record(session, actor_id=actor.id, actor_username=actor.username, action="lost", entity_type="loan",
                 entity_id=loan.id)


def close_loans(session: Session, loan_ids: Sequence[int], outcome: LoanStatus, today: date) -> int:
    """Close loans set-based: the items come back (or are lost), and who-read-what is forgotten for
    every patron without reading-history consent. Returns how many shipments are now fully back."""
    if not loan_ids:
        return 0
    ids = list(loan_ids)
    shipment_ids = set()
    item_status = ItemStatus.AVAILABLE if outcome is LoanStatus.RETURNED else ItemStatus.LOST
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        shipment_ids.update(session.scalars(select(Loan.shipment_id).where(Loan.id.in_(chunk))).all())
        item_ids = select(Loan.item_id).where(Loan.id.in_(chunk), Loan.item_id.is_not(None)).scalar_subquery()
        session.execute(update(CatalogItem).where(CatalogItem.id.in_(item_ids))
                        .values(status=item_status, updated_at=utcnow()), execution_options={"synchronize_session": False})
        session.execute(update(Loan).where(Loan.id.in_(chunk), Loan.status == LoanStatus.ON_LOAN)
                        .values(status=outcome, closed_on=today), execution_options={"synchronize_session": False})
        _anonymise(session, Loan.id.in_(chunk))
    session.expire_all()
    done = session.scalar(select(func.count()).select_from(Shipment).where(
        Shipment.id.in_(list(shipment_ids)),
        ~exists().where(Loan.shipment_id == Shipment.id, Loan.status == LoanStatus.ON_LOAN))) or 0
    return done


def _anonymise(session: Session, condition: Any) -> int:
    """Forget who read what on closed loans of patrons without reading-history consent."""
    no_consent = select(Patron.id).where(Patron.has_reading_history_consent.is_(False))
    result = session.execute(
        update(Loan).where(condition, Loan.status != LoanStatus.ON_LOAN, Loan.patron_id.in_(no_consent))
        .values(patron_id=None, item_id=None), execution_options={"synchronize_session": False})
    return result.rowcount or 0


def privacy_sweep(session: Session) -> int:
    """Forget who read what for every patron without consent (e.g. after consent was withdrawn): closed loans,
    and the titles of face-to-face reading sessions and closed requests. Returns how many records."""
    from outreach.reading.services import forget_reading_titles

    return _anonymise(session, Loan.patron_id.is_not(None)) + forget_reading_titles(session)


def forget_reading_history(session: Session, patron_id: int) -> int:
    """Remove the patron's reading history at once, e.g. when consent is withdrawn: closed loans, and the titles
    of their face-to-face reading sessions and closed requests (counts and hours stay for the statistics)."""
    from outreach.reading.services import forget_reading_titles

    result = session.execute(update(Loan).where(Loan.patron_id == patron_id, Loan.status != LoanStatus.ON_LOAN)
                             .values(patron_id=None, item_id=None), execution_options={"synchronize_session": False})
    return (result.rowcount or 0) + forget_reading_titles(session, patron_id)


# --------------------------------------------------------------------------------------------------
# overdue


@dataclass(frozen=True)
class OverdueRow:
    patron_id: int
    name: str
    card_number: str
    items: int
    oldest_due_on: date
    last_reminded_on: date | None


def mark_overdue(session: Session, on: date) -> int:
    """Note the day each loan was first seen overdue (the daily job). Returns how many became overdue."""
    result = session.execute(update(Loan).where(Loan.status == LoanStatus.ON_LOAN, Loan.due_on < on,
                                                Loan.overdue_since.is_(None))
                             .values(overdue_since=on), execution_options={"synchronize_session": False})
    return result.rowcount or 0


def overdue_worklist(session: Session, on: date, *, page: int = 1, page_size: int = 50) -> tuple[list[OverdueRow], int]:
    """Patrons with items past their due date on ``on`` (規則第9条2: no new shipment until returned)."""
    base = (select(Loan.patron_id, func.count().label("item_count"), func.min(Loan.due_on).label("oldest"),
                   func.max(Loan.reminded_on).label("reminded"))
            .where(Loan.status == LoanStatus.ON_LOAN, Loan.due_on < on, Loan.patron_id.is_not(None))
            .group_by(Loan.patron_id).subquery())
    total = session.scalar(select(func.count()).select_from(base)) or 0
    rows = session.execute(
        select(base.c.patron_id, Patron.name, Patron.card_number, base.c.item_count, base.c.oldest, base.c.reminded)
        .join(Patron, Patron.id == base.c.patron_id).order_by(base.c.oldest, Patron.kana_key, Patron.id)
        .limit(page_size).offset((max(page, 1) - 1) * page_size)
    ).all()
    return [OverdueRow(*row) for row in rows], total


def overdue_count(session: Session, patron_id: int, on: date) -> int:
    return session.scalar(select(func.count()).select_from(Loan).where(
        Loan.patron_id == patron_id, Loan.status == LoanStatus.ON_LOAN, Loan.due_on < on)) or 0


def overdue_letters(session: Session, on: date, library: Any, *, patron_ids: Sequence[int] | None = None) -> Iterator[Any]:
    """返却のお願い letters (letters.data.LetterData), one per patron and service, streamed in patron order."""
    from letters.data import LetterData, LetterKind, OverdueItem
    from outreach.correspondence.services import addressee_for  # letters go where the patron's letters go

    proxy_sq = _letter_proxy_subquery()
    stmt = (select(Loan.patron_id, Loan.service, Loan.due_on, CatalogItem.title, CatalogItem.barcode, Patron, Proxy)
            .join(CatalogItem, CatalogItem.id == Loan.item_id).join(Patron, Patron.id == Loan.patron_id)
            .outerjoin(proxy_sq, proxy_sq.c.patron_id == Patron.id).outerjoin(Proxy, Proxy.id == proxy_sq.c.proxy_id)
            .where(Loan.status == LoanStatus.ON_LOAN, Loan.due_on < on))
    if patron_ids is not None:
        stmt = stmt.where(Loan.patron_id.in_(list(patron_ids)))
    rows = session.execute(stmt.order_by(Patron.kana_key, Loan.patron_id, Loan.service, Loan.due_on, Loan.id)
                           .execution_options(yield_per=1000))
    try:
        current: tuple[int, Service] | None = None
        items: list[OverdueItem] = []
        holder: tuple[Patron, Proxy | None] | None = None
        for patron_id, service, due_on, title, barcode, patron, proxy in rows:
            key = (patron_id, service)
            if current is not None and key != current and holder is not None:
                yield LetterData(kind=LetterKind.OVERDUE_REMINDER, library=library, service=current[1], issued_on=on,
                                 addressee=addressee_for(*holder), overdue_items=tuple(items),
                                 large_print=holder[0].needs_large_print)
                items = []
            current, holder = key, (patron, proxy)
            items.append(OverdueItem(title=title, due_on=due_on, barcode=barcode))
        if current is not None and holder is not None:
            yield LetterData(kind=LetterKind.OVERDUE_REMINDER, library=library, service=current[1], issued_on=on,
                             addressee=addressee_for(*holder), overdue_items=tuple(items),
                             large_print=holder[0].needs_large_print)
    finally:
        rows.close()


def record_reminders(session: Session, on: date, *, actor: StaffUser, patron_ids: Sequence[int] | None = None) -> int:
    """Record that the reminders were sent today, for the overdue loans of these patrons (or all)."""
    condition = and_(Loan.status == LoanStatus.ON_LOAN, Loan.due_on < on, Loan.patron_id.is_not(None))
    if patron_ids is not None:
        condition = and_(condition, Loan.patron_id.in_(list(patron_ids)))
    result = session.execute(update(Loan).where(condition).values(reminded_on=on),
                             execution_options={"synchronize_session": False})
    audit.record(session, actor_id=actor.id, actor_username=actor.username, action="remind", entity_type="loan",
                 detail=f"{result.rowcount or 0} overdue items")
    return result.rowcount or 0


def _letter_proxy_subquery() -> Any:
    return (select(Proxy.patron_id, func.min(Proxy.id).label("proxy_id"))
            .where(Proxy.receives_letters.is_(True)).group_by(Proxy.patron_id).subquery())


def _audit(session: Session, actor: StaffUser, action: str, entity_type: str, entity_id: int | None,
           fields: Sequence[str] = (), detail: str = "") -> None:
    audit.record(session, actor_id=actor.id, actor_username=actor.username, action=action,
                 entity_type=entity_type, entity_id=entity_id, fields=fields, detail=detail)
