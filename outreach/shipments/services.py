"""The monthly run: planning (set-based), the stored plan and its preview, staff adjustments,
and the commit with its database claim. Flushes, never commits — except :func:`commit_run`,
an entry point of its own that commits chunk by chunk so that an interrupted run can be
completed by the next one (see docs in shipments/models.py)."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, exists, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from outreach import clock
from outreach.audit import services as audit
from outreach.auth.models import StaffUser
from outreach.calendar import add_months
from outreach.catalog import rules as catalog_rules
from outreach.catalog import services as catalog_services
from outreach.catalog.models import CatalogItem
from outreach.db import bulk_insert, bulk_update, utcnow
from outreach.enrolments.models import Approval
from outreach.enrolments.services import active_approvals_stmt, in_force_condition
from outreach.loans import rules as loan_rules
from outreach.loans import services as loan_services
from outreach.loans.models import Loan, LoanRequest, LoanRequestLine, ReaderProfile
from outreach.patrons.models import Patron
from outreach.policy import Policy
from outreach.shipments import rules
from outreach.shipments.models import PlannedItem, PlannedShipment, Shipment, ShipmentRun
from outreach.shipments.rules import RunError
from outreach.system.services import current_policy
from outreach.types import (
    LENDING_SERVICES,
    ApprovalStatus,
    ItemSource,
    ItemStatus,
    LoanRequestState,
    LoanStatus,
    MaterialType,
    RunState,
    Service,
    SkipReason,
)

log = logging.getLogger(__name__)

STORE_BATCH = 500
IN_CHUNK = 1000  # ids per IN (...) list
DEFAULT_CHUNK = 500  # shipments per commit transaction
DEFAULT_LEASE_SECONDS = 120


class RunBusy(RunError):
    """Another process is committing this month right now."""

    default_code = "shipments.run_in_progress"


class AlreadyCommitted(RunError):
    default_code = "shipments.already_committed"


class PlanChanged(RunError):
    default_code = "shipments.plan_changed"


class LostClaim(RunError):
    default_code = "shipments.lost_claim"


def _chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


# --------------------------------------------------------------------------------------------------
# reading the facts of a month, set-based


def build_cases(session: Session, month: str, shipping_on: date) -> list[rules.PatronCase]:
    """Every patron and service the plan must decide on, from a fixed number of queries:
    approvals in force on the shipping date, approvals that lapsed since a month before, open
    requests, reader profiles, overdue counts, this month's shipments and reading histories."""
    standing: dict[tuple[int, Service], rules.Standing] = {}
    lapse_day = rules.lapsed_since(shipping_on)
    for service in LENDING_SERVICES:
        for patron_id in session.scalars(active_approvals_stmt(service, shipping_on).with_only_columns(Approval.patron_id)):
            standing[(patron_id, service)] = rules.Standing.IN_FORCE
        lapsed = select(Approval.patron_id, Approval.ended_on, Approval.status).where(
            Approval.service == service, in_force_condition(lapse_day))
        for patron_id, ended_on, status in session.execute(lapsed):
            if standing.get((patron_id, service)) is rules.Standing.IN_FORCE:
                continue
            standing[(patron_id, service)] = _lapsed_standing(ended_on, status, shipping_on)

    # open request lines, with each item's place in the queue of patrons who asked for it; the planner
    # gives the item to the first in this order among the patrons it serves this month
    position = func.row_number().over(partition_by=LoanRequestLine.item_id,
                                      order_by=(LoanRequest.received_on, LoanRequestLine.id))
    lines: dict[tuple[int, Service], list[rules.RequestedLine]] = defaultdict(list)
    rows = session.execute(
        select(LoanRequest.patron_id, LoanRequest.service, LoanRequestLine.id, LoanRequestLine.item_id,
               LoanRequestLine.source, LoanRequestLine.reason, CatalogItem.barcode, CatalogItem.title,
               CatalogItem.material_type, CatalogItem.is_lendable, CatalogItem.is_unsuitable, CatalogItem.status,
               position.label("position"))
        .join(LoanRequest, LoanRequest.id == LoanRequestLine.request_id)
        .join(CatalogItem, CatalogItem.id == LoanRequestLine.item_id)
        .where(LoanRequest.state == LoanRequestState.OPEN)
        .order_by(LoanRequest.patron_id, LoanRequest.service, LoanRequest.received_on, LoanRequestLine.id)
    )
    for r in rows:
        fact = loan_rules.ItemFact(r.barcode, r.material_type, r.is_lendable, r.is_unsuitable, r.status)
        lines[(r.patron_id, r.service)].append(
            rules.RequestedLine(r.id, r.item_id, fact, r.title, r.position, r.source, r.reason))
    choose = set(session.execute(
        select(LoanRequest.patron_id, LoanRequest.service).where(
            LoanRequest.state == LoanRequestState.OPEN, LoanRequest.choose_for_me.is_(True)).distinct()
    ).tuples())
    # columns, not ORM objects: at national size there is a profile for nearly every patron
    profiles = {p.patron_id: p for p in session.execute(select(
        ReaderProfile.patron_id, ReaderProfile.subjects, ReaderProfile.authors, ReaderProfile.formats,
        ReaderProfile.exclusions, ReaderProfile.items_per_month, ReaderProfile.is_monthly))}
    monthly = {pid for pid, p in profiles.items() if p.is_monthly and p.items_per_month > 0}

    keys = set(standing) | set(lines) | {k for k in choose if k[1] in LENDING_SERVICES}
    missing = sorted(k for k in keys if k not in standing)
    if missing:
        _fill_other_standing(session, missing, standing, shipping_on)

    overdue = dict(session.execute(
        select(Loan.patron_id, func.count()).where(Loan.status == LoanStatus.ON_LOAN, Loan.due_on < shipping_on,
                                                   Loan.patron_id.is_not(None)).group_by(Loan.patron_id)
    ).tuples().all())
    shipped = set(session.execute(select(Shipment.patron_id, Shipment.service).where(Shipment.month == month)).tuples())
    wants = {k for k in keys if k in choose or (k[0] in monthly and standing.get(k) is rules.Standing.IN_FORCE)}
    history = {pid: frozenset(items) for pid, items in  # one frozen set per patron, shared by their cases
               loan_services.reading_history(session, sorted({pid for pid, _s in wants if pid in profiles})).items()}

    cases = []
    for key in sorted(keys):
        patron_id, service = key
        profile = profiles.get(patron_id)
        cases.append(rules.PatronCase(
            patron_id=patron_id, service=service, standing=standing[key],
            overdue_items=overdue.get(patron_id, 0), already_shipped=key in shipped,
            lines=tuple(lines.get(key, ())), wants_selection=key in wants,
            preferences=loan_services.preferences_of(profile) if (profile and key in wants) else None,
            history=history.get(patron_id, frozenset()),
        ))
    return cases


def _lapsed_standing(ended_on: date | None, status: ApprovalStatus, shipping_on: date) -> rules.Standing:
    if status == ApprovalStatus.ENDED or (ended_on is not None and ended_on < shipping_on):
        return rules.Standing.ENDED
    return rules.Standing.EXPIRED


def _fill_other_standing(session: Session, keys: Sequence[tuple[int, Service]],
                         standing: dict[tuple[int, Service], rules.Standing], shipping_on: date) -> None:
    """Patrons with a request but no approval in force: expired, ended, or never approved."""
    patron_ids = sorted({pid for pid, _s in keys})
    found: dict[tuple[int, Service], rules.Standing] = {}
    for chunk in _chunks(patron_ids):
        for patron_id, service, ended_on, status in session.execute(
            select(Approval.patron_id, Approval.service, Approval.ended_on, Approval.status)
            .where(Approval.patron_id.in_(chunk), Approval.valid_from <= shipping_on)
            .order_by(Approval.patron_id, Approval.valid_from, Approval.id)
        ):
            found[(patron_id, service)] = _lapsed_standing(ended_on, status, shipping_on)
    for key in keys:
        standing[key] = found.get(key, rules.Standing.NONE)


def _catalogue(session: Session, policy: Policy) -> Callable[[], Iterable[loan_rules.SelectableItem]]:
    types: dict[MaterialType, None] = {}
    for service in LENDING_SERVICES:
        limits = policy.item_limits(service)
        if limits:
            types.update(dict.fromkeys(limits.allowed_material_types))
    return lambda: loan_services.selectable_items(session, list(types), with_titles=False)


def compute_plan(session: Session, month: str, shipping_on: date, policy: Policy) -> Iterator[rules.Decision]:
    """The plan's decisions (nothing stored): the pure planner over the month's facts."""
    cases = build_cases(session, month, shipping_on)
    return rules.plan_month(cases, policy=policy, catalogue=_catalogue(session, policy))


# --------------------------------------------------------------------------------------------------
# planning and the stored plan


@dataclass(frozen=True)
class MonthChoice:
    month: str
    year: int
    number: int
    shipping_on: date
    due_on: date


def choose_month(session: Session, month: str, today: date, shipping_on: date | None = None) -> MonthChoice:
    """Validate a target month (not past, not too far) and its shipping date (an open day in it)."""
    policy = current_policy(session)
    rules.check_run_policy(policy)
    year, number = rules.parse_month(month, today)
    ship = shipping_on or rules.default_shipping_date(year, number, today, policy)
    rules.check_shipping_date(ship, year, number, today, policy)
    return MonthChoice(rules.month_key(year, number), year, number, ship, rules.loan_due_date(ship, policy))


def get_run(session: Session, run_id: int) -> ShipmentRun | None:
    return session.get(ShipmentRun, run_id)


def run_for_month(session: Session, month: str) -> ShipmentRun | None:
    return session.scalars(select(ShipmentRun).where(ShipmentRun.month == month)).first()


def list_runs(session: Session, limit: int = 24) -> Sequence[ShipmentRun]:
    return session.scalars(select(ShipmentRun).order_by(ShipmentRun.month.desc()).limit(limit)).all()


def dry_run(session: Session, *, month: str, today: date,
            shipping_on: date | None = None) -> tuple[MonthChoice, rules.PlanSummary]:
    """The plan as it would be, counted, with nothing stored (``outreach shipments run --dry-run``).

    The decisions are counted as they stream out of the planner, not kept: memory stays that of the
    month's facts, whatever the number of patrons.
    """
    choice = choose_month(session, month, today, shipping_on)
    summary = rules.PlanSummary()
    for decision in compute_plan(session, choice.month, choice.shipping_on, current_policy(session)):
        summary.add(decision)
    return choice, summary


def plan_run(session: Session, *, month: str, today: date, shipping_on: date | None = None,
             actor: StaffUser | None = None, replace: bool = False) -> ShipmentRun:
    """Plan a month and store the plan for review (nothing is lent yet).

    A month already planned is re-planned only with ``replace`` and only while it is not being
    committed; a committed month is never planned again.
    """
    choice = choose_month(session, month, today, shipping_on)
    run = run_for_month(session, choice.month)
    if run is not None:
        if run.state is not RunState.PLANNED:
            raise _not_replannable(run)
        if not replace:
            raise RunError("shipments.already_planned", f"{choice.month}の計画はすでにあります。作り直す場合は「計画をやり直す」を使ってください",
                           f"{choice.month} is already planned; re-plan it to start again")
        # The re-plan claims the run while it is still only planned (a commit may have started meanwhile).
        result = session.execute(update(ShipmentRun).where(ShipmentRun.id == run.id, ShipmentRun.state == RunState.PLANNED)
                                 .values(plan_version=ShipmentRun.plan_version + 1))
        if result.rowcount != 1:
            session.refresh(run)
            raise _not_replannable(run)
        session.execute(delete(PlannedItem).where(PlannedItem.run_id == run.id))
        session.execute(delete(PlannedShipment).where(PlannedShipment.run_id == run.id))
        session.refresh(run)
    else:
        run = ShipmentRun(month=choice.month, shipping_on=choice.shipping_on, due_on=choice.due_on)
        try:
            with session.begin_nested():
                session.add(run)
                session.flush()
        except IntegrityError:
            raise RunError("shipments.already_planned", f"{choice.month}の計画は、いま別の処理が作りました",
                           f"{choice.month} was planned by another process just now") from None
    run.shipping_on, run.due_on = choice.shipping_on, choice.due_on
    run.planned_at = utcnow()
    run.planned_by_id = actor.id if actor else None
    policy = current_policy(session)
    summary = _store(session, run, compute_plan(session, choice.month, choice.shipping_on, policy))
    if session.get_bind().dialect.name == "postgresql":
        # The plan's rows are new: without statistics PostgreSQL joins them to the month's shipments by
        # nested loops (a second per commit chunk at 10,000 patrons). Autovacuum would come too late.
        session.execute(text("ANALYZE planned_shipment"))
        session.execute(text("ANALYZE planned_item"))
    run.patrons_considered, run.shipments_planned = summary.considered, summary.shipments
    run.items_planned, run.excluded = summary.items, summary.excluded
    session.flush()
    audit.record(session, actor_id=actor.id if actor else None, actor_username=actor.username if actor else "scheduler",
                 action="plan", entity_type="shipment_run", entity_id=run.id,
                 detail=f"{run.month}: {summary.shipments} shipments, {summary.items} items, {summary.excluded} not sent")
    log.info("shipment run %s planned: %d shipments, %d items, %d not sent", run.month, summary.shipments,
             summary.items, summary.excluded)
    return run


def _not_replannable(run: ShipmentRun) -> RunError:
    if run.state is RunState.COMMITTED:
        return AlreadyCommitted("shipments.already_committed", f"{run.month}はすでに確定しています。追加するものはありません",
                                f"{run.month} is already committed: nothing is added")
    return RunBusy("shipments.run_in_progress", f"{run.month}は確定処理中です。終わるまで計画を変えられません",
                   f"{run.month} is being committed: the plan cannot change now")


def _store(session: Session, run: ShipmentRun, decisions: Iterable[rules.Decision]) -> rules.PlanSummary:
    summary = rules.PlanSummary()
    batch: list[rules.Decision] = []
    for decision in decisions:
        summary.add(decision)
        batch.append(decision)
        if len(batch) >= STORE_BATCH:
            _store_batch(session, run, batch)
            batch = []
    if batch:
        _store_batch(session, run, batch)
    return summary


def _store_batch(session: Session, run: ShipmentRun, batch: Sequence[rules.Decision]) -> None:
    # The driver's executemany (db.bulk_insert): at national size the plan is hundreds of thousands of rows.
    bulk_insert(session, PlannedShipment.__table__, (  # type: ignore[attr-defined]
        "patron_id", "service", "will_ship", "skip_reason", "detail", "detail_en", "books_count",
        "audio_visual_count"), [
        (d.patron_id, d.service, d.ship, d.reason, d.detail_ja[:300], d.detail_en[:300], d.books, d.audio_visual)
        for d in batch
    ], constants={"run_id": run.id, "is_committed": False})
    ids: dict[tuple[int, Service], int] = {}
    for chunk in _chunks(sorted({d.patron_id for d in batch})):
        for pid, patron_id, service in session.execute(
            select(PlannedShipment.id, PlannedShipment.patron_id, PlannedShipment.service)
            .where(PlannedShipment.run_id == run.id, PlannedShipment.patron_id.in_(chunk))
        ):
            ids[(patron_id, service)] = pid
    rows: list[tuple[Any, ...]] = []
    for d in batch:
        planned_id = ids[(d.patron_id, d.service)]
        for line in d.lines:
            rows.append((planned_id, line.item_id, line.source, line.line_id, True, line.reason[:300], "", "", "",
                         False))
        for held in d.held_back:
            rows.append((planned_id, held.item_id, ItemSource.NAMED, held.line_id, False, "", held.code[:40],
                         held.message_ja[:300], held.message_en[:300], held.carry_over))
    bulk_insert(session, PlannedItem.__table__, (  # type: ignore[attr-defined]
        "planned_shipment_id", "item_id", "source", "request_line_id", "is_included", "reason", "problem_code",
        "problem", "problem_en", "carry_over"), rows, constants={"run_id": run.id})


# --------------------------------------------------------------------------------------------------
# the preview


@dataclass(frozen=True)
class PlanRow:
    planned: PlannedShipment
    patron_name: str
    card_number: str
    items: list[tuple[PlannedItem, CatalogItem]] = field(default_factory=list)


def plan_counts(session: Session, run: ShipmentRun) -> dict[str, Any]:
    """Counts for the preview: shipments per service, items, and the exclusions per reason."""
    rows = session.execute(
        select(PlannedShipment.will_ship, PlannedShipment.skip_reason, PlannedShipment.service, func.count(),
               func.coalesce(func.sum(PlannedShipment.books_count), 0),
               func.coalesce(func.sum(PlannedShipment.audio_visual_count), 0))
        .where(PlannedShipment.run_id == run.id)
        .group_by(PlannedShipment.will_ship, PlannedShipment.skip_reason, PlannedShipment.service)
    ).all()
    by_service: dict[Service, dict[str, int]] = {}
    by_reason: dict[SkipReason, int] = {}
    for will_ship, reason, service, count, books, av in rows:
        if will_ship:
            entry = by_service.setdefault(service, {"shipments": 0, "books": 0, "audio_visual": 0})
            entry["shipments"] += count
            entry["books"] += books
            entry["audio_visual"] += av
        else:
            by_reason[reason] = by_reason.get(reason, 0) + count
    held_back = session.scalar(select(func.count()).select_from(PlannedItem).where(
        PlannedItem.run_id == run.id, PlannedItem.is_included.is_(False))) or 0
    return {
        "by_service": dict(sorted(by_service.items())),
        "by_reason": dict(sorted(by_reason.items(), key=lambda kv: list(SkipReason).index(kv[0]))),
        "shipments": sum(v["shipments"] for v in by_service.values()),
        "items": sum(v["books"] + v["audio_visual"] for v in by_service.values()),
        "excluded": sum(by_reason.values()),
        "held_back_items": held_back,
    }


def plan_page(session: Session, run: ShipmentRun, *, shipping: bool, reason: SkipReason | None = None,
              service: Service | None = None, page: int = 1, page_size: int = 50) -> tuple[list[PlanRow], int]:
    """One page of the plan (shipments with their items, or exclusions with their reason)."""
    stmt = (select(PlannedShipment, Patron.name, Patron.card_number)
            .join(Patron, Patron.id == PlannedShipment.patron_id)
            .where(PlannedShipment.run_id == run.id, PlannedShipment.will_ship.is_(shipping)))
    if reason is not None:
        stmt = stmt.where(PlannedShipment.skip_reason == reason)
    if service is not None:
        stmt = stmt.where(PlannedShipment.service == service)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    found = session.execute(stmt.order_by(Patron.kana_key, PlannedShipment.patron_id, PlannedShipment.service)
                            .limit(page_size).offset((max(page, 1) - 1) * page_size)).all()
    items = planned_items(session, [p.id for p, _n, _c in found])
    return [PlanRow(p, name, card, items.get(p.id, [])) for p, name, card in found], total  # type: ignore[arg-type]


def planned_items(session: Session, planned_ids: Sequence[int]) -> dict[int, list[tuple[PlannedItem, CatalogItem]]]:
    out: dict[int, list[tuple[PlannedItem, CatalogItem]]] = defaultdict(list)
    for chunk in _chunks(list(planned_ids)):
        for pi, item in session.execute(
            select(PlannedItem, CatalogItem).join(CatalogItem, CatalogItem.id == PlannedItem.item_id)
            .where(PlannedItem.planned_shipment_id.in_(chunk))
            .order_by(PlannedItem.planned_shipment_id, PlannedItem.is_included.desc(), PlannedItem.id)
        ):
            out[pi.planned_shipment_id].append((pi, item))
    return out


def get_planned(session: Session, run: ShipmentRun, planned_id: int) -> PlanRow | None:
    row = session.execute(
        select(PlannedShipment, Patron.name, Patron.card_number).join(Patron, Patron.id == PlannedShipment.patron_id)
        .where(PlannedShipment.id == planned_id, PlannedShipment.run_id == run.id)
    ).first()
    if row is None:
        return None
    planned, name, card = row
    return PlanRow(planned, name, card, planned_items(session, [planned.id]).get(planned.id, []))  # type: ignore[list-item]


# --------------------------------------------------------------------------------------------------
# staff adjustments before the commit


def _editable(session: Session, run: ShipmentRun) -> None:
    session.refresh(run)
    if run.state is not RunState.PLANNED:
        raise _not_replannable(run)


def _bump(session: Session, run: ShipmentRun) -> None:
    result = session.execute(update(ShipmentRun).where(ShipmentRun.id == run.id, ShipmentRun.state == RunState.PLANNED)
                             .values(plan_version=ShipmentRun.plan_version + 1))
    if result.rowcount != 1:
        session.refresh(run)
        raise _not_replannable(run)
    session.refresh(run)


def _recount(session: Session, run: ShipmentRun, planned: PlannedShipment) -> None:
    included = session.execute(
        select(CatalogItem.material_type).join(PlannedItem, PlannedItem.item_id == CatalogItem.id)
        .where(PlannedItem.planned_shipment_id == planned.id, PlannedItem.is_included.is_(True))
    ).scalars().all()
    planned.books_count = sum(1 for m in included if not m.is_audio_visual)
    planned.audio_visual_count = len(included) - planned.books_count
    session.flush()
    totals = session.execute(
        select(func.count(), func.coalesce(func.sum(PlannedShipment.books_count + PlannedShipment.audio_visual_count), 0))
        .where(PlannedShipment.run_id == run.id, PlannedShipment.will_ship.is_(True))
    ).one()
    run.shipments_planned, run.items_planned = totals
    run.excluded = run.patrons_considered - run.shipments_planned


def remove_planned_item(session: Session, run: ShipmentRun, planned: PlannedShipment, planned_item_id: int, *,
                        actor: StaffUser) -> None:
    """Take an item out of a planned shipment; an item the patron asked for stays requested for next month."""
    _editable(session, run)
    pi = session.get(PlannedItem, planned_item_id)
    if pi is None or pi.planned_shipment_id != planned.id or not pi.is_included:
        raise RunError("shipments.no_such_item", "この資料は計画に入っていません", "This item is not in the plan")
    _bump(session, run)
    pi.is_included = False
    pi.problem_code, pi.problem, pi.problem_en = "staff.removed", "職員が今月の発送から外しました", "Removed by staff this month"
    pi.carry_over = pi.request_line_id is not None
    session.flush()
    _recount(session, run, planned)
    if planned.books_count + planned.audio_visual_count == 0:
        planned.will_ship, planned.skip_reason = False, SkipReason.HELD
        planned.detail, planned.detail_en = "職員がすべての資料を外しました", "Staff removed every item"
        _recount(session, run, planned)
    _audit_adjust(session, run, actor, planned, "remove item")


def add_planned_item(session: Session, run: ShipmentRun, planned: PlannedShipment, barcode: str, *,
                     actor: StaffUser) -> CatalogItem:
    """Add an item to a patron's planned shipment, within the limits, if nobody else has it or asked for it."""
    _editable(session, run)
    if not planned.will_ship and planned.skip_reason not in (SkipReason.NOTHING_AVAILABLE, SkipReason.NOTHING_REQUESTED,
                                                             SkipReason.HELD):
        raise RunError("shipments.cannot_ship", "この利用者には今月は発送できません（理由をご確認ください）",
                       "This patron cannot be sent anything this month (see the reason)")
    code = catalog_rules.fold(barcode)
    item = catalog_services.items_by_barcodes(session, [code]).get(code)
    if item is None:
        raise RunError("shipments.unknown_barcode", f"{barcode}: この資料番号の資料はありません", f"{barcode}: no item has this barcode")
    taken = session.scalars(select(PlannedItem.planned_shipment_id).where(
        PlannedItem.run_id == run.id, PlannedItem.item_id == item.id, PlannedItem.is_included.is_(True))).first()
    if taken is not None:
        raise RunError("shipments.item_planned", f"{item.barcode}: 今月、別の発送に入っています",
                       f"{item.barcode}: already planned for another shipment this month")
    asked = session.scalars(select(LoanRequest.patron_id).join(LoanRequestLine, LoanRequestLine.request_id == LoanRequest.id)
                            .where(LoanRequestLine.item_id == item.id, LoanRequest.state == LoanRequestState.OPEN,
                                   LoanRequest.patron_id != planned.patron_id)).first()
    if asked is not None:
        raise RunError("shipments.item_requested", f"{item.barcode}: 別の利用者が申し込んでいる資料です",
                       f"{item.barcode}: another patron has asked for this item")
    current = [i for pi, i in planned_items(session, [planned.id]).get(planned.id, []) if pi.is_included]  # type: ignore[arg-type]
    facts = [loan_rules.ItemFact(i.barcode, i.material_type, i.is_lendable, i.is_unsuitable, ItemStatus.AVAILABLE)
             for i in current]
    facts.append(loan_rules.ItemFact(item.barcode, item.material_type, item.is_lendable, item.is_unsuitable, item.status))
    verdict = loan_rules.evaluate_request(planned.service, facts, current_policy(session))[-1]
    if verdict:
        raise RunError(verdict[0].code.value, verdict[0].message_ja, verdict[0].message_en)
    _bump(session, run)
    session.add(PlannedItem(run_id=run.id, planned_shipment_id=planned.id, item_id=item.id,  # type: ignore[arg-type]
                            source=ItemSource.CHOSEN, reason="職員が追加"))
    planned.will_ship, planned.skip_reason, planned.detail, planned.detail_en = True, None, "", ""
    session.flush()
    _recount(session, run, planned)
    _audit_adjust(session, run, actor, planned, "add item")
    return item


def hold_planned(session: Session, run: ShipmentRun, planned: PlannedShipment, *, actor: StaffUser) -> None:
    """Send nothing to this patron this month (e.g. in hospital); what they asked for stays requested."""
    _editable(session, run)
    if not planned.will_ship:
        raise RunError("shipments.not_shipping", "この利用者は今月の発送に入っていません", "This patron is not in this month's shipments")
    _bump(session, run)
    session.execute(update(PlannedItem).where(PlannedItem.planned_shipment_id == planned.id, PlannedItem.is_included.is_(True))
                    .values(is_included=False, problem_code="staff.held", problem="職員が今月の発送を見合わせました",
                            problem_en="Held by staff this month", carry_over=PlannedItem.request_line_id.is_not(None)))
    planned.will_ship, planned.skip_reason = False, SkipReason.HELD
    planned.detail, planned.detail_en = "職員が今月の発送を見合わせました", "Held by staff this month"
    session.flush()
    _recount(session, run, planned)
    _audit_adjust(session, run, actor, planned, "hold")


def _audit_adjust(session: Session, run: ShipmentRun, actor: StaffUser, planned: PlannedShipment, what: str) -> None:
    audit.record(session, actor_id=actor.id, actor_username=actor.username, action="adjust",
                 entity_type="shipment_run", entity_id=run.id, detail=f"{what} (planned {planned.id})")


# --------------------------------------------------------------------------------------------------
# the commit: a database claim, then chunks of shipments, each in its own transaction


@dataclass
class CommitOutcome:
    month: str
    state: RunState
    shipments: int = 0  # created by this call
    items: int = 0
    dropped: int = 0  # planned items that could no longer go (catalogue changed, on loan)
    stopped: int = 0  # planned shipments stopped at the commit (approval no longer in force, items overdue)
    cancelled: int = 0  # request lines cancelled because their item can never go
    resumed: bool = False


def new_owner() -> str:
    return uuid.uuid4().hex


def _owner_gone(run: ShipmentRun, now: Any) -> bool:
    """The claim's owner has stopped: its lease ran out, or it was a process on this machine that no longer exists."""
    if run.lease_until is None or run.lease_until < now:
        return True
    if run.lease_host == socket.gethostname() and run.lease_pid:
        try:
            os.kill(run.lease_pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
    return False


def claim_run(session: Session, run_id: int, *, owner: str, lease_seconds: int = DEFAULT_LEASE_SECONDS,
              expected_version: int | None = None, today: date | None = None) -> bool:
    """Claim the right to commit the run (one conditional UPDATE, so two processes cannot both win).

    Returns True when an interrupted commit of another (stopped) process is taken over; False for a
    new commit, or when ``owner`` already holds the claim. Raises AlreadyCommitted, RunBusy (someone
    alive holds it), PlanChanged (the plan was changed after the librarian reviewed it) or a stale-plan
    RunError (its shipping date is before ``today``, the library's date: re-plan it first).
    """
    now = utcnow()
    day = today or clock.today()
    claim = {"state": RunState.COMMITTING, "lease_owner": owner, "lease_host": socket.gethostname()[:100],
             "lease_pid": os.getpid(), "lease_until": now + timedelta(seconds=lease_seconds), "last_error": ""}
    for _attempt in range(2):
        run = session.execute(select(ShipmentRun).where(ShipmentRun.id == run_id)
                              .execution_options(populate_existing=True)).scalar_one_or_none()
        if run is None:
            raise RunError("shipments.no_run", "この月の発送計画がありません", "There is no plan for this month")
        if run.state is RunState.COMMITTED:
            raise _not_replannable(run)
        if run.state is RunState.PLANNED:
            # Only a new commit is refused for a past date: an interrupted one already sent shipments of
            # that date out, and completing it is the only way to a consistent month.
            rules.check_commit_date(run.shipping_on, day)
            if expected_version is not None and run.plan_version != expected_version:
                raise PlanChanged("shipments.plan_changed", "計画が、確認したあとに変わりました。もう一度確認してから確定してください",
                                  "The plan changed after you reviewed it: review it again before committing")
            result = session.execute(update(ShipmentRun).where(
                ShipmentRun.id == run_id, ShipmentRun.state == RunState.PLANNED,
                ShipmentRun.plan_version == run.plan_version).values(**claim))
            if result.rowcount == 1:
                return False
            continue  # someone else moved it: look again
        # COMMITTING: ours, or a dead owner's, or someone else's at work
        if run.lease_owner == owner or _owner_gone(run, now):
            holder = run.lease_owner
            result = session.execute(update(ShipmentRun).where(
                ShipmentRun.id == run_id, ShipmentRun.state == RunState.COMMITTING,
                ShipmentRun.lease_owner == holder).values(**claim))
            if result.rowcount == 1:
                return holder != owner  # our own claim (the page claimed it first) is no resumption
            continue
        raise _not_replannable(run)
    raise RunBusy("shipments.run_in_progress", "別の処理がこの月を確定しています", "Another process is committing this month")


def commit_run(
    scope: Callable[[], AbstractContextManager[Session]],
    run_id: int,
    *,
    owner: str | None = None,
    actor_id: int | None = None,
    actor_username: str = "system",
    chunk_size: int = DEFAULT_CHUNK,
    lease_seconds: int = DEFAULT_LEASE_SECONDS,
    expected_version: int | None = None,
    on_chunk: Callable[[CommitOutcome], None] | None = None,
    today: date | None = None,
    resumed: bool = False,
) -> CommitOutcome:
    """Commit the stored plan: create shipments and loans, mark items on loan, settle requests.

    ``scope()`` gives a unit of work (database.session_scope). The claim is taken first (unless
    ``owner`` already holds it: then ``resumed`` says whether that claim was taken over from a
    stopped commit); a plan whose shipping date is before ``today`` (the library's date) is refused.
    Each chunk of shipments is written in its own transaction, together with the mark that it is
    done, so a run killed at any moment leaves whole chunks only and the next call completes the
    rest. Each chunk checks again what may have changed since the plan: the items (lendable,
    suitable, available), the approval in force on the shipping date and overdue items. Then the
    requests of patrons who get nothing are settled: lines whose item can never go are cancelled,
    requests with nothing left are closed. The unique (patron, service, month) key and the item's
    open-loan index make a duplicate impossible even if two processes got this far.
    """
    owner = owner or new_owner()
    with scope() as session:
        took_over = claim_run(session, run_id, owner=owner, lease_seconds=lease_seconds,
                              expected_version=expected_version, today=today)
        month = session.scalar(select(ShipmentRun.month).where(ShipmentRun.id == run_id)) or ""
    outcome = CommitOutcome(month=month, state=RunState.COMMITTING, resumed=resumed or took_over)
    try:
        while True:
            with scope() as session:
                done = _commit_chunk(session, run_id, owner, chunk_size, lease_seconds)
            if done is None:
                break
            outcome.shipments += done.shipments
            outcome.items += done.items
            outcome.dropped += done.dropped
            outcome.stopped += done.stopped
            outcome.cancelled += done.cancelled
            if on_chunk is not None:
                on_chunk(outcome)
        while True:
            with scope() as session:
                cancelled = _settle_unshipped_chunk(session, run_id, owner, chunk_size, lease_seconds)
            if cancelled is None:
                break
            outcome.cancelled += cancelled
        with scope() as session:
            _finish(session, run_id, owner, actor_id, actor_username, outcome)
    except LostClaim:
        raise
    except Exception as exc:
        _record_failure(scope, run_id, owner, exc)
        raise
    outcome.state = RunState.COMMITTED
    return outcome


def _record_failure(scope: Callable[[], AbstractContextManager[Session]], run_id: int, owner: str, exc: Exception) -> None:
    """Leave the run resumable at once: the error is noted and the claim released."""
    log.error("shipment run %s: commit stopped (%s)", run_id, type(exc).__name__)
    try:
        with scope() as session:
            session.execute(update(ShipmentRun).where(ShipmentRun.id == run_id, ShipmentRun.lease_owner == owner)
                            .values(lease_until=utcnow() - timedelta(seconds=1),
                                    last_error=f"{type(exc).__name__}: {exc}"[:500]))
    except Exception:  # noqa: BLE001 - the original error matters more
        log.exception("shipment run %s: could not record the failure", run_id)


@dataclass(frozen=True)
class _ChunkDone:
    shipments: int
    items: int
    dropped: int
    stopped: int
    cancelled: int


def _renew(session: Session, run_id: int, owner: str, lease_seconds: int) -> None:
    # Renew the claim first: on PostgreSQL this row lock also keeps any rival out until this chunk commits.
    renewed = session.execute(update(ShipmentRun).where(
        ShipmentRun.id == run_id, ShipmentRun.state == RunState.COMMITTING, ShipmentRun.lease_owner == owner,
    ).values(lease_until=utcnow() + timedelta(seconds=lease_seconds)))
    if renewed.rowcount != 1:
        raise LostClaim("shipments.lost_claim", "この処理は確定の権利を失いました（別の処理が引き継ぎました）",
                        "This process lost its claim on the run (another one took over)")


def _standing_now(session: Session, keys: set[tuple[int, Service]], shipping_on: date,
                  policy: Policy) -> dict[tuple[int, Service], rules.Decision]:
    """Planned shipments that may no longer go: no approval in force on the shipping date any more, or
    items overdue (規則第9条2). Two queries per chunk of patrons, whatever the chunk's size."""
    patron_ids = sorted({pid for pid, _s in keys})
    in_force: set[tuple[int, Service]] = set()
    overdue: dict[int, int] = {}
    for chunk in _chunks(patron_ids):
        in_force.update(session.execute(select(Approval.patron_id, Approval.service).where(
            Approval.patron_id.in_(chunk), in_force_condition(shipping_on))).tuples())
        overdue.update(session.execute(
            select(Loan.patron_id, func.count()).where(Loan.patron_id.in_(chunk), Loan.status == LoanStatus.ON_LOAN,
                                                       Loan.due_on < shipping_on).group_by(Loan.patron_id)).tuples().all())
    standing = {key: rules.Standing.IN_FORCE for key in keys if key in in_force}
    lapsed = sorted(key for key in keys if key not in in_force)
    if lapsed:
        _fill_other_standing(session, lapsed, standing, shipping_on)
    stopped = {}
    for key in keys:
        decision = rules.standing_gate(key[0], key[1], standing[key], overdue.get(key[0], 0), policy)
        if decision is not None:
            stopped[key] = decision
    return stopped


def _commit_chunk(session: Session, run_id: int, owner: str, chunk_size: int, lease_seconds: int) -> _ChunkDone | None:
    _renew(session, run_id, owner, lease_seconds)
    run = session.execute(select(ShipmentRun.month, ShipmentRun.shipping_on, ShipmentRun.due_on,
                                 ShipmentRun.planned_at).where(ShipmentRun.id == run_id)).one()
    planned = session.execute(
        select(PlannedShipment.id, PlannedShipment.patron_id, PlannedShipment.service)
        .where(PlannedShipment.run_id == run_id, PlannedShipment.will_ship.is_(True),
               PlannedShipment.is_committed.is_(False))
        .order_by(PlannedShipment.id).limit(chunk_size)
    ).all()
    if not planned:
        return None
    planned_ids = [p.id for p in planned]
    # The chunk is every shipment still to commit with an id in this range: later queries name the range
    # (an index range) instead of sending thousands of ids.
    in_chunk = (PlannedShipment.run_id == run_id, PlannedShipment.will_ship.is_(True),
                PlannedShipment.is_committed.is_(False), PlannedShipment.id.between(planned_ids[0], planned_ids[-1]))
    chunk_patrons = select(PlannedShipment.patron_id).where(*in_chunk)
    chunk_items = (select(PlannedItem.item_id).join(PlannedShipment, PlannedShipment.id == PlannedItem.planned_shipment_id)
                   .where(*in_chunk, PlannedItem.is_included.is_(True)))
    core = session.connection()  # plain rows, no ORM result machinery: these reads are the chunk's bulk
    lines = core.execute(
        select(PlannedItem.id, PlannedItem.planned_shipment_id, PlannedItem.item_id, PlannedItem.source,
               PlannedItem.request_line_id)
        .join(PlannedShipment, PlannedShipment.id == PlannedItem.planned_shipment_id)
        .where(*in_chunk, PlannedItem.is_included.is_(True))
        .order_by(PlannedItem.id)
    ).all()
    shipped_before = set(core.execute(select(Shipment.patron_id, Shipment.service).where(
        Shipment.month == run.month, Shipment.patron_id.in_(chunk_patrons))).tuples())
    already = [p for p in planned if (p.patron_id, p.service) in shipped_before]
    stopped_by_key = _standing_now(session, {(p.patron_id, p.service) for p in planned
                                             if (p.patron_id, p.service) not in shipped_before},
                                   run.shipping_on, current_policy(session))
    stopped = [p for p in planned if (p.patron_id, p.service) in stopped_by_key]
    skipped = {p.id for p in already} | {p.id for p in stopped}
    lines_of_skipped: dict[int, int] = defaultdict(int)
    stopped_ids = {p.id for p in stopped}
    held_for_stopped = []  # planned items of stopped shipments: they stay requested for next month
    candidates = []
    for line in lines:
        if line.planned_shipment_id in skipped:
            lines_of_skipped[line.planned_shipment_id] += 1
            if line.planned_shipment_id in stopped_ids:
                held_for_stopped.append(line.id)
        else:
            candidates.append(line)

    available: dict[int, MaterialType] = {}
    problems: dict[int, rules.CommitProblem] = {}
    # By primary key only (the status is checked here): a status condition in SQL lets SQLite pick the
    # status index and scan every available item for each chunk, which grows with the catalogue.
    stmt = select(CatalogItem.id, CatalogItem.material_type, CatalogItem.status, CatalogItem.is_lendable,
                  CatalogItem.is_unsuitable).where(CatalogItem.id.in_(chunk_items))
    if core.dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=CatalogItem)
    for item_id, material, status, lendable, unsuitable in core.execute(stmt):
        problem = rules.commit_item_problem(lendable, unsuitable, status)
        if problem is None:
            available[item_id] = material
        else:
            problems[item_id] = problem

    by_planned: dict[int, list[Any]] = defaultdict(list)
    dropped: dict[rules.CommitProblem, list[int]] = defaultdict(list)
    for line in candidates:
        if line.item_id in available:
            by_planned[line.planned_shipment_id].append(line)
        else:
            dropped[problems[line.item_id]].append(line.id)
    to_ship = [p for p in planned if p.id not in skipped and by_planned.get(p.id)]
    nothing_left = [p for p in planned if p.id not in skipped and not by_planned.get(p.id)]
    dropped_count = sum(len(ids) for ids in dropped.values())

    created_at = utcnow()
    counts = {p.id: _kinds(by_planned[p.id], available) for p in to_ship}
    bulk_insert(session, Shipment.__table__, ("patron_id", "service", "books_count", "audio_visual_count"), [  # type: ignore[attr-defined]
        (p.patron_id, p.service, *counts[p.id]) for p in to_ship
    ], constants={"run_id": run_id, "month": run.month, "shipped_on": run.shipping_on, "due_on": run.due_on,
                  "created_at": created_at})
    shipment_ids: dict[tuple[int, Service], int] = {
        (patron_id, service): sid for sid, patron_id, service in core.execute(
            select(Shipment.id, Shipment.patron_id, Shipment.service).where(
                Shipment.month == run.month, Shipment.patron_id.in_(chunk_patrons)))}
    loans: list[tuple[Any, ...]] = []
    lent: list[int] = []
    shipped_lines: list[int] = []
    for p in to_ship:
        sid = shipment_ids[(p.patron_id, p.service)]
        for ln in by_planned[p.id]:
            loans.append((sid, p.patron_id, ln.item_id, p.service, available[ln.item_id], ln.source))
            lent.append(ln.item_id)
            if ln.request_line_id is not None:
                shipped_lines.append(ln.request_line_id)
    bulk_insert(session, Loan.__table__, ("shipment_id", "patron_id", "item_id", "service", "material_type",  # type: ignore[attr-defined]
                                          "source"), loans,
                constants={"shipped_on": run.shipping_on, "due_on": run.due_on, "status": LoanStatus.ON_LOAN,
                           "created_at": created_at})
    bulk_update(session, CatalogItem.__table__, "id", (), [(item_id,) for item_id in lent],  # type: ignore[attr-defined]
                constants={"status": ItemStatus.ON_LOAN, "updated_at": created_at})
    for problem, ids in dropped.items():
        for chunk in _chunks(ids):
            session.execute(update(PlannedItem).where(PlannedItem.id.in_(chunk)).values(
                is_included=False, problem_code=problem.code, carry_over=problem.carry_over,
                problem=problem.message_ja, problem_en=problem.message_en),
                execution_options={"synchronize_session": False})
    for chunk in _chunks(held_for_stopped):
        session.execute(update(PlannedItem).where(PlannedItem.id.in_(chunk)).values(
            is_included=False, problem_code="run.stopped_at_commit", carry_over=PlannedItem.request_line_id.is_not(None),
            problem="確定の時点で発送できなくなっていました（来月に回します）",
            problem_en="The patron could no longer be sent anything at the commit (kept for next month)"),
            execution_options={"synchronize_session": False})
    cancelled = _settle_requests(session, planned_ids, shipped_lines)
    _close_requests(session, to_ship, run, include_choose_for_me=True)
    _close_requests(session, nothing_left, run, include_choose_for_me=False)

    bulk_update(session, PlannedShipment.__table__, "id", ("shipment_id", "books_count", "audio_visual_count"),  # type: ignore[attr-defined]
                [(shipment_ids[(p.patron_id, p.service)], *counts[p.id], p.id) for p in to_ship],
                constants={"is_committed": True})
    not_sent: list[tuple[list[int], SkipReason, str, str]] = [
        ([p.id for p in nothing_left], SkipReason.NOTHING_AVAILABLE, "確定の時点で貸出できる資料がありませんでした",
         "None of the items was still available at the commit"),
        ([p.id for p in already], SkipReason.ALREADY_SHIPPED, "", ""),
    ]
    for p in stopped:
        decision = stopped_by_key[(p.patron_id, p.service)]
        assert decision.reason is not None
        not_sent.append(([p.id], decision.reason, ("確定の時点で: " + decision.detail_ja) if decision.detail_ja else
                         "確定の時点で発送できなくなっていました",
                         ("At the commit: " + decision.detail_en) if decision.detail_en else
                         "Could no longer be sent anything at the commit"))
    for ids, reason, ja, en in not_sent:
        for chunk in _chunks(ids):
            session.execute(update(PlannedShipment).where(PlannedShipment.id.in_(chunk)).values(
                will_ship=False, skip_reason=reason, detail=ja[:300], detail_en=en[:300], is_committed=True,
                books_count=0, audio_visual_count=0), execution_options={"synchronize_session": False})
    not_shipped = len(nothing_left) + len(already) + len(stopped)
    session.execute(update(ShipmentRun).where(ShipmentRun.id == run_id).values(
        shipments_done=ShipmentRun.shipments_done + len(to_ship), items_done=ShipmentRun.items_done + len(loans),
        items_dropped=ShipmentRun.items_dropped + dropped_count,
        shipments_planned=ShipmentRun.shipments_planned - not_shipped,
        items_planned=ShipmentRun.items_planned - dropped_count - sum(lines_of_skipped.values()),
        excluded=ShipmentRun.excluded + not_shipped),
        execution_options={"synchronize_session": False})
    return _ChunkDone(len(to_ship), len(loans), dropped_count, len(stopped), cancelled)


def _kinds(lines: Sequence[Any], available: dict[int, MaterialType]) -> tuple[int, int]:
    """(books, audio-visual items) among a shipment's lines."""
    audio_visual = sum(1 for ln in lines if available[ln.item_id].is_audio_visual)
    return len(lines) - audio_visual, audio_visual


def _settle_unshipped_chunk(session: Session, run_id: int, owner: str, chunk_size: int,
                            lease_seconds: int) -> int | None:
    """Requests of patrons who get nothing this month: lines whose item can never go (not lendable,
    unsuitable, wrong type, lost ...) are cancelled with the request's count, and a request with
    nothing left is closed. Lines kept for next month stay. Marks each settled planned row, so an
    interrupted commit resumes here too. Returns the lines cancelled, None when nothing is left."""
    _renew(session, run_id, owner, lease_seconds)
    run = session.execute(select(ShipmentRun.shipping_on, ShipmentRun.planned_at)
                          .where(ShipmentRun.id == run_id)).one()
    planned = session.execute(
        select(PlannedShipment.id, PlannedShipment.patron_id, PlannedShipment.service)
        .where(PlannedShipment.run_id == run_id, PlannedShipment.will_ship.is_(False),
               PlannedShipment.is_committed.is_(False))
        .order_by(PlannedShipment.id).limit(chunk_size)
    ).all()
    if not planned:
        return None
    planned_ids = [p.id for p in planned]
    cancelled = _settle_requests(session, planned_ids, ())
    _close_requests(session, planned, run, include_choose_for_me=False)
    for chunk in _chunks(planned_ids):
        session.execute(update(PlannedShipment).where(PlannedShipment.id.in_(chunk)).values(is_committed=True),
                        execution_options={"synchronize_session": False})
    return cancelled


def _settle_requests(session: Session, planned_ids: Sequence[int], shipped_lines: Sequence[int]) -> int:
    """Sent lines are removed (the loan now says it), cancelled lines too (with the request's counts).
    Lines kept for next month stay. Returns how many lines were cancelled."""
    cancelled = [row for chunk in _chunks(list(planned_ids)) for row in session.execute(
        select(PlannedItem.request_line_id).where(
            PlannedItem.planned_shipment_id.in_(chunk), PlannedItem.is_included.is_(False),
            PlannedItem.carry_over.is_(False), PlannedItem.request_line_id.is_not(None))).scalars()]
    for lines, column in ((shipped_lines, "items_shipped"), (cancelled, "items_cancelled")):
        counts: dict[int, int] = defaultdict(int)
        for chunk in _chunks(list(lines)):
            for request_id in session.scalars(select(LoanRequestLine.request_id).where(LoanRequestLine.id.in_(chunk))):
                counts[request_id] += 1
            session.execute(delete(LoanRequestLine).where(LoanRequestLine.id.in_(chunk)),
                            execution_options={"synchronize_session": False})
        if counts:
            table = LoanRequest.__table__  # type: ignore[attr-defined]
            session.execute(update(table).where(table.c.id == bindparam("rid")).values(
                {column: table.c[column] + bindparam("n")}),
                [{"rid": rid, "n": n} for rid, n in counts.items()], execution_options={"synchronize_session": False})
    return len(cancelled)


def _close_requests(session: Session, planned: Sequence[Any], run: Any, *, include_choose_for_me: bool) -> None:
    """A request (taken before the plan) with no line left is done. For a patron who was sent nothing,
    a "choose for me" request stays open: nothing was chosen for it yet."""
    for service in LENDING_SERVICES:
        patrons = sorted({p.patron_id for p in planned if p.service == service})
        for chunk in _chunks(patrons):
            condition = [LoanRequest.patron_id.in_(chunk), LoanRequest.service == service,
                         LoanRequest.state == LoanRequestState.OPEN, LoanRequest.created_at <= run.planned_at,
                         ~exists().where(LoanRequestLine.request_id == LoanRequest.id)]
            if not include_choose_for_me:
                condition.append(LoanRequest.choose_for_me.is_(False))
            session.execute(update(LoanRequest).where(*condition).values(
                state=LoanRequestState.DONE, closed_on=run.shipping_on, updated_at=utcnow()),
                execution_options={"synchronize_session": False})


def _finish(session: Session, run_id: int, owner: str, actor_id: int | None, actor_username: str,
            outcome: CommitOutcome) -> None:
    result = session.execute(update(ShipmentRun).where(
        ShipmentRun.id == run_id, ShipmentRun.state == RunState.COMMITTING, ShipmentRun.lease_owner == owner,
    ).values(state=RunState.COMMITTED, committed_at=utcnow(), committed_by_id=actor_id, lease_owner="",
             lease_host="", lease_pid=None, lease_until=None))
    if result.rowcount != 1:
        raise LostClaim("shipments.lost_claim", "この処理は確定の権利を失いました", "This process lost its claim on the run")
    # The loans now say what went to whom; the plan's item lists would keep it after the loans close.
    session.execute(delete(PlannedItem).where(PlannedItem.run_id == run_id))
    extra = [f"{n} {what}" for n, what in ((outcome.dropped, "items dropped"), (outcome.stopped, "shipments stopped"),
                                           (outcome.cancelled, "request lines cancelled")) if n]
    audit.record(session, actor_id=actor_id, actor_username=actor_username, action="commit",
                 entity_type="shipment_run", entity_id=run_id,
                 detail=f"{outcome.month}: {outcome.shipments} shipments, {outcome.items} items"
                        + (f" ({', '.join(extra)})" if extra else "") + (" (resumed)" if outcome.resumed else ""))
    log.info("shipment run %s committed: %d shipments, %d items by this process", outcome.month, outcome.shipments,
             outcome.items)


@dataclass(frozen=True)
class Progress:
    state: RunState
    shipments_done: int
    shipments_planned: int
    items_done: int
    items_planned: int
    is_stalled: bool  # committing, but its owner has stopped: the next commit resumes it
    last_error: str

    @property
    def percent(self) -> int:
        if self.state is RunState.COMMITTED:
            return 100
        return int(100 * self.shipments_done / self.shipments_planned) if self.shipments_planned else 0


def progress(session: Session, run: ShipmentRun) -> Progress:
    """What the status page shows: the run record's counters, read fresh."""
    session.refresh(run)
    stalled = run.state is RunState.COMMITTING and _owner_gone(run, utcnow())
    return Progress(run.state, run.shipments_done, run.shipments_planned, run.items_done, run.items_planned,
                    stalled, run.last_error)


# --------------------------------------------------------------------------------------------------
# after the commit


@dataclass(frozen=True)
class ShipmentRow:
    shipment: Shipment
    patron_name: str
    card_number: str
    open_items: int


def shipments_page(session: Session, run: ShipmentRun, *, page: int = 1, page_size: int = 50) -> tuple[list[ShipmentRow], int]:
    """The run's shipments with how many items are still out."""
    open_count = (select(func.count()).select_from(Loan)
                  .where(Loan.shipment_id == Shipment.id, Loan.status == LoanStatus.ON_LOAN).scalar_subquery())
    stmt = (select(Shipment, Patron.name, Patron.card_number, open_count.label("open_items"))
            .join(Patron, Patron.id == Shipment.patron_id).where(Shipment.run_id == run.id))
    total = session.scalar(select(func.count()).select_from(Shipment).where(Shipment.run_id == run.id)) or 0
    rows = session.execute(stmt.order_by(Patron.kana_key, Shipment.id).limit(page_size)
                           .offset((max(page, 1) - 1) * page_size)).all()
    return [ShipmentRow(s, n, c, o) for s, n, c, o in rows], total


def shipments_of_patron(session: Session, patron_id: int, limit: int = 24) -> Sequence[Shipment]:
    return session.scalars(select(Shipment).where(Shipment.patron_id == patron_id)
                           .order_by(Shipment.month.desc(), Shipment.id.desc()).limit(limit)).all()


@dataclass(frozen=True)
class DashboardSummary:
    month: str
    run: ShipmentRun | None
    open_requests: int
    overdue_patrons: int


def month_to_plan(session: Session, today: date) -> str:
    """The month to plan next: this month while it has no run and an open day is left to ship on,
    else the next month."""
    if run_for_month(session, rules.month_key(today.year, today.month)) is None:
        try:
            rules.default_shipping_date(today.year, today.month, today, current_policy(session))
            return rules.month_key(today.year, today.month)
        except RunError:
            pass
    following = add_months(today.replace(day=1), 1)
    return rules.month_key(following.year, following.month)


def dashboard_summary(session: Session, today: date) -> DashboardSummary:
    """The desk's work list: this month's run (or the month to plan next), requests waiting for it,
    patrons with overdue items."""
    month = rules.month_key(today.year, today.month)
    if run_for_month(session, month) is None:
        month = month_to_plan(session, today)
    open_requests = session.scalar(select(func.count()).select_from(LoanRequest)
                                   .where(LoanRequest.state == LoanRequestState.OPEN)) or 0
    overdue = session.scalar(select(func.count(func.distinct(Loan.patron_id))).where(
        Loan.status == LoanStatus.ON_LOAN, Loan.due_on < today, Loan.patron_id.is_not(None))) or 0
    return DashboardSummary(month, run_for_month(session, month), open_requests, overdue)
