"""The annual statistics from the records, set-based: a fixed number of grouped queries per report,
whatever the number of patrons and loans. Counts come from shipment rows and logged sessions,
which survive closing loans and anonymising reading history."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import case, extract, func, or_, select
from sqlmodel import Session

from outreach.audit import services as audit
from outreach.auth.models import StaffUser
from outreach.calendar import days_in_month, fiscal_year_label, fiscal_year_of, fiscal_year_range
from outreach.enrolments.models import Approval
from outreach.enrolments.services import in_force_condition
from outreach.errors import DomainError
from outreach.patrons.models import Patron
from outreach.policy import FISCAL_YEAR_START_MONTH
from outreach.reading.models import ReadingRoom, ReadingSession
from outreach.reading.services import list_rooms, reading_registrants_at
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
    """Persons with an approval in force on each of several days, per service: one grouped query.

    One pass over the approvals that overlap the days, with a distinct count per day (a person with two
    overlapping approvals, e.g. a renewal, counts once)."""
    wanted = sorted(set(days))
    if not wanted:
        return {}
    first, last = wanted[0], wanted[-1]
    per_day = [func.count(func.distinct(case((in_force_condition(day), Approval.patron_id)))) for day in wanted]
    rows = session.execute(
        select(Approval.service, *per_day)
        .where(Approval.valid_from <= last, or_(Approval.valid_until.is_(None), Approval.valid_until >= first),
               or_(Approval.ended_on.is_(None), Approval.ended_on >= first))
        .group_by(Approval.service)
    ).all()
    out: dict[date, dict[Service, int]] = {d: {} for d in days}
    for service, *counts in rows:
        for day, count in zip(wanted, counts, strict=True):
            if count:
                out[day][Service(service)] = count
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
    """Both tables of a fiscal year, with the monthly breakdown: from the records, or from the historical figures
    of a year before the system was in use (a year with records of its own is never replaced by them)."""
    (report,) = reports_for(session, [fiscal_year], today=today)
    if not monthly or report.is_historical:
        return report
    monthly_series, per_library = _monthly(session, fiscal_year, today)
    return replace(report, monthly=monthly_series, monthly_libraries=per_library)


def multi_year(session: Session, first_year: int, last_year: int, *, today: date) -> list[rules.AnnualReport]:
    """Several fiscal years side by side (historical or computed), oldest first, without monthly detail."""
    return reports_for(session, range(first_year, last_year + 1), today=today)


def reports_for(session: Session, years: Iterable[int], *, today: date) -> list[rules.AnnualReport]:
    """Tables (1) and (2) of the given fiscal years, oldest first: historical figures for a year before the
    system's first records, otherwise computed. Set-based over all the years at once: a fixed number of grouped
    queries, however many years."""
    wanted = sorted(set(years))
    if not wanted:
        return []
    if any(fiscal_year_range(fy)[0] > today for fy in wanted):
        raise ReportError("report.future_year", "まだ始まっていない年度です。", "That fiscal year has not begun yet.")
    first_real = first_real_year(session)
    before_records = [fy for fy in wanted if first_real is None or fy < first_real]
    historical = historical_reports(session, before_records)
    computed = _computed_years(session, [fy for fy in wanted if fy not in historical], today)
    return [historical.get(fy) or computed[fy] for fy in wanted]


def _computed_years(session: Session, years: Sequence[int], today: date) -> dict[int, rules.AnnualReport]:
    """Tables (1) and (2) of each year from the records: five grouped queries for all the years together."""
    if not years:
        return {}
    stock_days = {fy: min(fiscal_year_range(fy)[1], today) for fy in years}  # a running year: as of today
    registered = registrants_at(session, list(stock_days.values()))
    reading_registered = reading_registrants_at(session, stock_days.values())
    first, last = fiscal_year_range(min(years))[0], fiscal_year_range(max(years))[1]
    shipped = _by_fiscal_year(Shipment.shipped_on)
    shipments: dict[tuple[int, Service], tuple[int, int, int]] = {
        (int(fy), Service(service)): (int(d), int(b), int(a)) for service, fy, d, b, a in session.execute(
            select(Shipment.service, shipped, func.count(Shipment.id), func.coalesce(func.sum(Shipment.books_count), 0),
                   func.coalesce(func.sum(Shipment.audio_visual_count), 0))
            .where(Shipment.shipped_on.between(first, last)).group_by(Shipment.service, shipped))
    }
    held_in = _by_fiscal_year(ReadingSession.session_on)
    held: dict[tuple[int, int], tuple[int, int]] = {
        (int(fy), room_id): (int(n), int(minutes)) for room_id, fy, n, minutes in session.execute(
            select(ReadingSession.room_id, held_in, func.count(ReadingSession.id),
                   func.coalesce(func.sum(ReadingSession.reading_minutes), 0))
            .where(ReadingSession.state == ReadingSessionState.HELD, ReadingSession.session_on.between(first, last))
            .group_by(ReadingSession.room_id, held_in))
    }
    rooms = list_rooms(session)
    reports = {}
    for fy in years:
        stock_day, last_day = stock_days[fy], fiscal_year_range(fy)[1]
        services = tuple(rules.ServiceFigures(service, registered[stock_day].get(service, 0),
                                              *shipments.get((fy, service), (0, 0, 0)))
                         for service in LENDING_SERVICES)
        by_room = reading_registered[stock_day]
        libraries = tuple(
            rules.LibraryFigures(room.library_name, by_room.get(room.id, 0), *held.get((fy, room.id), (0, 0)))
            for room in rooms if room.is_active or (fy, room.id) in held or room.id in by_room)
        notes = () if stock_day == last_day else (f"registrants as of {stock_day.isoformat()}",)
        reports[fy] = rules.AnnualReport(fy, services, libraries, by_room.get(None, 0), generated_on=today,
                                         notes=notes)
    return reports


def _by_fiscal_year(day_column):  # type: ignore[no-untyped-def]
    """SQL: the fiscal year (named by the year of its April) of a date column."""
    year = extract("year", day_column)
    return case((extract("month", day_column) >= FISCAL_YEAR_START_MONTH, year), else_=year - 1).label("fiscal_year")


def _monthly(session: Session, fiscal_year: int, today: date) -> tuple[tuple[rules.MonthlySeries, ...],
                                                                         tuple[rules.LibraryMonthly, ...]]:
    first, last = fiscal_year_range(fiscal_year)
    elapsed = 12 if last <= today else rules.month_index(fiscal_year, today.year, today.month) + 1
    year, month = extract("year", Shipment.shipped_on), extract("month", Shipment.shipped_on)
    by_key: dict[str, dict[int, int]] = defaultdict(dict)
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
    # Face-to-face reading per library: sessions and minutes by month, registrants at each month's end.
    ry, rm = extract("year", ReadingSession.session_on), extract("month", ReadingSession.session_on)
    sessions: dict[int, dict[int, int]] = defaultdict(dict)
    minutes: dict[int, dict[int, int]] = defaultdict(dict)
    for room_id, y, m, n, logged in session.execute(
        select(ReadingSession.room_id, ry, rm, func.count(ReadingSession.id),
               func.coalesce(func.sum(ReadingSession.reading_minutes), 0))
        .where(ReadingSession.state == ReadingSessionState.HELD, ReadingSession.session_on.between(first, last))
        .group_by(ReadingSession.room_id, ry, rm)
    ):
        i = rules.month_index(fiscal_year, int(y), int(m))
        sessions[room_id][i], minutes[room_id][i] = int(n), int(logged)
    reading_stock = reading_registrants_at(session, month_ends.values())
    registrants: dict[int | None, dict[int, int]] = defaultdict(dict)
    for i, day in month_ends.items():
        for room_id, count in reading_stock[day].items():
            registrants[room_id][i] = count
    all_minutes = {i: sum(m.get(i, 0) for m in minutes.values()) for i in range(12)}
    keys = [f"{s}.{f}" for s in LENDING_SERVICES for f in ("registrants", "deliveries", "books", "audio_visual")]
    series = [rules.series(key, by_key.get(key, {}), months_elapsed=elapsed, is_stock=key.endswith(".registrants"))
              for key in keys]
    series.append(rules.series("face_to_face.sessions", {i: sum(s.get(i, 0) for s in sessions.values())
                                                         for i in range(12)}, months_elapsed=elapsed))
    series.append(rules.hours_series("face_to_face.hours", all_minutes, months_elapsed=elapsed))
    per_library = [
        rules.LibraryMonthly(
            room.library_name,
            rules.series("registrants", registrants.get(room.id, {}), months_elapsed=elapsed, is_stock=True),
            rules.series("sessions", sessions.get(room.id, {}), months_elapsed=elapsed),
            rules.hours_series("hours", minutes.get(room.id, {}), months_elapsed=elapsed))
        for room in list_rooms(session) if room.is_active or room.id in sessions or room.id in registrants
    ]
    if any(registrants.get(None, {}).values()):  # registered, no request at any library yet
        per_library.append(rules.LibraryMonthly(
            rules.UNASSIGNED, rules.series("registrants", registrants[None], months_elapsed=elapsed, is_stock=True),
            rules.series("sessions", {}, months_elapsed=elapsed), rules.hours_series("hours", {}, months_elapsed=elapsed)))
    return tuple(series), tuple(per_library)


def historical_report(session: Session, fiscal_year: int) -> rules.AnnualReport | None:
    """The hand-entered figures of a fiscal year, if any (whether or not the year also has records)."""
    return historical_reports(session, [fiscal_year]).get(fiscal_year)


def historical_reports(session: Session, years: Sequence[int]) -> dict[int, rules.AnnualReport]:
    """The hand-entered figures of the given fiscal years that have them (one query)."""
    if not years:
        return {}
    rows = session.scalars(select(HistoricalFigure).where(HistoricalFigure.fiscal_year.in_(list(years)))
                           .order_by(HistoricalFigure.fiscal_year, HistoricalFigure.table_no, HistoricalFigure.id)).all()
    by_year: dict[int, list[HistoricalFigure]] = defaultdict(list)
    for r in rows:
        by_year[r.fiscal_year].append(r)
    return {
        fy: rules.AnnualReport(
            fy,
            tuple(rules.ServiceFigures(Service(r.row_key), r.registrants, r.deliveries, r.books, r.audio_visual,
                                       is_historical=True) for r in figures if r.table_no == 1),
            tuple(rules.LibraryFigures(r.row_key, r.registrants, r.sessions, r.minutes, is_historical=True)
                  for r in figures if r.table_no == 2))
        for fy, figures in by_year.items()
    }


def first_real_year(session: Session) -> int | None:
    """The first fiscal year with the system's own records: a shipment dispatched or a reading session held.
    Registrations alone do not count (approvals are often entered with dates from before the system)."""
    candidates = [
        _fy(session.scalar(select(func.min(Shipment.shipped_on)))),
        _fy(session.scalar(select(func.min(ReadingSession.session_on))
                           .where(ReadingSession.state == ReadingSessionState.HELD))),
    ]
    years = [c for c in candidates if c is not None]
    return min(years) if years else None


def first_recorded_year(session: Session) -> int | None:
    """The earliest fiscal year with any figures: historical, or the system's own records."""
    years = [y for y in (session.scalar(select(func.min(HistoricalFigure.fiscal_year))), first_real_year(session))
             if y is not None]
    return min(years) if years else None


def _fy(d: date | str | None) -> int | None:
    if d is None:
        return None
    return fiscal_year_of(d if isinstance(d, date) else date.fromisoformat(str(d)))


def report_years(session: Session, *, today: date) -> list[int]:
    """The fiscal years that have figures, newest first: every year from the first with the system's records to
    the current one, and the earlier years with historical figures (a year before the system with none is left
    out rather than shown as zeros)."""
    current = fiscal_year_of(today)
    first_real = first_real_year(session)
    computed = set(range(min(first_real, current), current + 1)) if first_real is not None else {current}
    historical = set(session.scalars(select(HistoricalFigure.fiscal_year).distinct()).all())
    return sorted(computed | {y for y in historical if y <= current}, reverse=True)


def trend_years(session: Session, fiscal_year: int, *, today: date) -> list[int]:
    """The years of the multi-year view of a fiscal year, oldest first, ending at that year (page, downloads
    and command alike)."""
    return sorted({y for y in report_years(session, today=today) if y <= fiscal_year} | {fiscal_year})


def report_and_trend(session: Session, fiscal_year: int, *, today: date
                     ) -> tuple[rules.AnnualReport, list[rules.AnnualReport]]:
    """The annual report of a fiscal year and its multi-year view, each year computed once."""
    report = annual_report(session, fiscal_year, today=today)
    earlier = [y for y in trend_years(session, fiscal_year, today=today) if y != fiscal_year]
    trend = reports_for(session, earlier, today=today)
    return report, [*trend, report]


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
    first_real = first_real_year(session)
    if first_real is not None and fiscal_year >= first_real:
        ja, en = fiscal_year_label(first_real, "ja"), fiscal_year_label(first_real, "en")
        raise ReportError(
            "report.historical_has_records",
            f"{ja}以降はシステムの記録（発送・対面朗読）から集計するため、過去の実績は入力できません。"
            f"{ja}より前の年度を入力してください。",
            f"From {en} on the figures come from the system's own records (shipments, reading sessions), so "
            f"historical figures cannot be entered. Enter a year before {en}.")
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
