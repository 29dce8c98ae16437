"""The annual statistics from the records, set-based: a fixed number of grouped queries per report,
whatever the number of patrons and loans. Counts come from shipment rows and logged sessions,
which survive closing loans and anonymising reading history."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Date, extract, func, literal, select, union_all
from sqlmodel import Session

from outreach.audit import services as audit
from outreach.auth.models import StaffUser
from outreach.calendar import days_in_month, fiscal_year_of, fiscal_year_range
from outreach.enrolments.models import Approval
from outreach.enrolments.services import in_force_condition
from outreach.errors import DomainError
from outreach.patrons.models import Patron
from outreach.reading.models import ReadingRoom, ReadingSession
from outreach.reading.services import reading_figures
from outreach.reports import rules
from outreach.reports.models import HistoricalFigure
from outreach.shipments.models import Shipment
from outreach.types import LENDING_SERVICES, ReadingSessionState, Service

log = logging.getLogger(__name__)


class ReportError(DomainError):
    """A report request the rules refuse (a year in the future, figures that do not add up)."""


def registrants_on(session: Session, on: date) -> dict[Service, int]:
    """Persons with an approval or registration in force on ``on``, per service (one grouped query)."""
    return registrants_at(session, [on])[on]


def registrants_at(session: Session, days: Sequence[date]) -> dict[date, dict[Service, int]]:
    """Persons with an approval in force on each of several days, per service: one grouped query."""
    if not days:
        return {}
    day_list = union_all(*(select(literal(d, Date).label("day")) for d in sorted(set(days)))).subquery("days")
    rows = session.execute(
        select(day_list.c.day, Approval.service, func.count(func.distinct(Approval.patron_id)))
        .join(Approval, in_force_condition(day_list.c.day)).group_by(day_list.c.day, Approval.service)
    ).all()
    out: dict[date, dict[Service, int]] = {d: {} for d in days}
    for day, service, count in rows:
        out[day if isinstance(day, date) else date.fromisoformat(str(day))][Service(service)] = count
    return out


def shipment_totals(session: Session, first: date, last: date) -> dict[Service, tuple[int, int, int]]:
    """(deliveries, books, audio-visual) per service for shipments dispatched between the dates."""
    rows = session.execute(
        select(Shipment.service, func.count(Shipment.id), func.coalesce(func.sum(Shipment.books_count), 0),
               func.coalesce(func.sum(Shipment.audio_visual_count), 0))
        .where(Shipment.shipped_on.between(first, last)).group_by(Shipment.service)
    ).all()
    return {Service(s): (int(d), int(b), int(a)) for s, d, b, a in rows}


def annual_report(session: Session, fiscal_year: int, *, today: date, monthly: bool = True) -> rules.AnnualReport:
    """Both tables of a fiscal year (historical figures where they were entered), with the monthly breakdown."""
    first, last = fiscal_year_range(fiscal_year)
    if first > today:
        raise ReportError("report.future_year", "まだ始まっていない年度です。", "That fiscal year has not begun yet.")
    historical = historical_report(session, fiscal_year)
    if historical is not None:
        return historical
    stock_day = min(last, today)  # a year in progress counts registrants as of today
    registered = registrants_on(session, stock_day)
    totals = shipment_totals(session, first, last)
    services = tuple(
        rules.ServiceFigures(service, registered.get(service, 0), *totals.get(service, (0, 0, 0)))
        for service in LENDING_SERVICES
    )
    reading = reading_figures(session, fiscal_year, registered_on=stock_day)
    libraries = tuple(rules.LibraryFigures(f.library_name, f.registrants, f.sessions, f.minutes)
                      for f in reading.libraries)
    notes = () if stock_day == last else (f"registrants as of {stock_day.isoformat()}",)
    return rules.AnnualReport(
        fiscal_year, services, libraries, reading.unassigned_registrants,
        monthly=_monthly(session, fiscal_year, today) if monthly else (), generated_on=today, notes=notes,
    )


def _monthly(session: Session, fiscal_year: int, today: date) -> tuple[rules.MonthlySeries, ...]:
    first, last = fiscal_year_range(fiscal_year)
    year, month = extract("year", Shipment.shipped_on), extract("month", Shipment.shipped_on)
    by_key: dict[str, dict[int, int | Decimal]] = defaultdict(dict)
    for service, y, m, deliveries, books, av in session.execute(
        select(Shipment.service, year, month, func.count(Shipment.id), func.coalesce(func.sum(Shipment.books_count), 0),
               func.coalesce(func.sum(Shipment.audio_visual_count), 0))
        .where(Shipment.shipped_on.between(first, last)).group_by(Shipment.service, year, month)
    ):
        i = rules.month_index(fiscal_year, int(y), int(m))
        by_key[f"{service}.deliveries"][i] = int(deliveries)
        by_key[f"{service}.books"][i] = int(books)
        by_key[f"{service}.audio_visual"][i] = int(av)
    # Registrants are a stock: counted at each month's end (up to today for the running year), in one query.
    month_ends = {i: min(date(y, m, days_in_month(y, m)), today)
                  for i, (y, m) in enumerate(rules.months_of(fiscal_year)) if date(y, m, 1) <= today}
    stock = registrants_at(session, list(month_ends.values()))
    for i, day in month_ends.items():
        for service, count in stock[day].items():
            by_key[f"{service}.registrants"][i] = count
    ry, rm = extract("year", ReadingSession.session_on), extract("month", ReadingSession.session_on)
    for y, m, sessions, minutes in session.execute(
        select(ry, rm, func.count(ReadingSession.id), func.coalesce(func.sum(ReadingSession.reading_minutes), 0))
        .where(ReadingSession.state == ReadingSessionState.HELD, ReadingSession.session_on.between(first, last))
        .group_by(ry, rm)
    ):
        i = rules.month_index(fiscal_year, int(y), int(m))
        by_key["face_to_face.sessions"][i] = int(sessions)
        by_key["face_to_face.hours"][i] = rules.hours_of(int(minutes))
    elapsed = 12 if last <= today else rules.month_index(fiscal_year, today.year, today.month) + 1
    keys = [f"{s}.{f}" for s in LENDING_SERVICES for f in ("registrants", "deliveries", "books", "audio_visual")]
    keys += ["face_to_face.sessions", "face_to_face.hours"]
    return tuple(
        rules.series(key, by_key.get(key, {}), months_elapsed=elapsed, is_stock=key.endswith(".registrants"),
                     zero=Decimal("0.0") if key.endswith(".hours") else 0)
        for key in keys
    )


def historical_report(session: Session, fiscal_year: int) -> rules.AnnualReport | None:
    rows = session.scalars(select(HistoricalFigure).where(HistoricalFigure.fiscal_year == fiscal_year)
                           .order_by(HistoricalFigure.table_no, HistoricalFigure.id)).all()
    if not rows:
        return None
    services = tuple(rules.ServiceFigures(Service(r.row_key), r.registrants, r.deliveries, r.books, r.audio_visual,
                                          is_historical=True) for r in rows if r.table_no == 1)
    libraries = tuple(rules.LibraryFigures(r.row_key, r.registrants, r.sessions, r.minutes, is_historical=True)
                      for r in rows if r.table_no == 2)
    return rules.AnnualReport(fiscal_year, services, libraries)


def first_recorded_year(session: Session) -> int | None:
    """The earliest fiscal year with any figures (historical, shipments or held sessions)."""
    candidates = [
        session.scalar(select(func.min(HistoricalFigure.fiscal_year))),
        _fy(session.scalar(select(func.min(Shipment.shipped_on)))),
        _fy(session.scalar(select(func.min(ReadingSession.session_on)))),
        _fy(session.scalar(select(func.min(Approval.valid_from)))),
    ]
    years = [c for c in candidates if c is not None]
    return min(years) if years else None


def _fy(d: date | None) -> int | None:
    return fiscal_year_of(d) if d else None


def multi_year(session: Session, first_year: int, last_year: int, *, today: date) -> list[rules.AnnualReport]:
    """Several fiscal years side by side (historical or computed), oldest first, without monthly detail."""
    return [annual_report(session, fy, today=today, monthly=False) for fy in range(first_year, last_year + 1)]


@dataclass(frozen=True)
class HistoricalRow:
    table_no: int
    row_key: str
    registrants: int = 0
    deliveries: int = 0
    books: int = 0
    audio_visual: int = 0
    sessions: int = 0
    minutes: int = 0
    note: str = ""


def save_historical(session: Session, fiscal_year: int, rows: Sequence[HistoricalRow], *, actor: StaffUser,
                    today: date) -> None:
    """Enter (or replace) the hand-counted figures of a fiscal year before the system was in use."""
    if fiscal_year >= fiscal_year_of(today):
        raise ReportError("report.historical_not_past", "過去の年度だけ入力できます。",
                          "Historical figures are for past fiscal years only.")
    for row in rows:
        if min(row.registrants, row.deliveries, row.books, row.audio_visual, row.sessions, row.minutes) < 0:
            raise ReportError("report.negative", "負の数は入力できません。", "Figures cannot be negative.")
    existing = {(r.table_no, r.row_key): r for r in session.scalars(
        select(HistoricalFigure).where(HistoricalFigure.fiscal_year == fiscal_year))}
    for row in rows:
        figure = existing.pop((row.table_no, row.row_key), None) or HistoricalFigure(
            fiscal_year=fiscal_year, table_no=row.table_no, row_key=row.row_key)
        for name in ("registrants", "deliveries", "books", "audio_visual", "sessions", "minutes", "note"):
            setattr(figure, name, getattr(row, name))
        figure.entered_by_id = actor.id
        session.add(figure)
    for stale in existing.values():
        session.delete(stale)
    session.flush()
    audit.record(session, actor_id=actor.id, actor_username=actor.username, action="update",
                 entity_type="historical_figure", entity_id=fiscal_year, fields=("figures",))


def delete_historical(session: Session, fiscal_year: int, actor: StaffUser) -> int:
    rows = session.scalars(select(HistoricalFigure).where(HistoricalFigure.fiscal_year == fiscal_year)).all()
    for row in rows:
        session.delete(row)
    audit.record(session, actor_id=actor.id, actor_username=actor.username, action="delete",
                 entity_type="historical_figure", entity_id=fiscal_year)
    return len(rows)


def library_names(session: Session) -> list[str]:
    return list(session.scalars(select(ReadingRoom.library_name).order_by(ReadingRoom.sort_order, ReadingRoom.id)))


def case_list(session: Session, service: Service, on: date) -> Sequence[tuple[Patron, Approval]]:
    """Active patrons of a service with their approval, by reading (for the section's own records)."""
    return session.execute(
        select(Patron, Approval).join(Approval, Approval.patron_id == Patron.id)
        .where(Approval.service == service, in_force_condition(on))
        .order_by(Patron.kana_key, Patron.id, Approval.valid_from)
    ).tuples().all()
