"""Every read and write of face-to-face reading (対面朗読). Flushes, never commits: the entry point commits once.

Bookings are serialised per room, volunteer and patron: :func:`_lock_for_booking` takes row locks
(``SELECT … FOR UPDATE`` on PostgreSQL) in a fixed order before the conflict check, and SQLite write
transactions start with ``BEGIN IMMEDIATE`` (outreach.db), so of two librarians booking the same slot at
once exactly one succeeds and the other gets the conflict.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import Date, and_, case, delete, func, literal, or_, select, union_all, update
from sqlmodel import Session

from outreach.audit import services as audit
from outreach.auth import services as auth_services
from outreach.auth.models import StaffUser
from outreach.calendar import ClosedReason, closed_reason, fiscal_year_range
from outreach.db import utcnow
from outreach.enrolments.models import Approval
from outreach.enrolments.services import active_approval, in_force_condition
from outreach.patrons.models import Patron
from outreach.policy import Policy
from outreach.reading import rules
from outreach.reading.models import (
    ReadingRequest,
    ReadingRoom,
    ReadingRoomHours,
    ReadingSeries,
    ReadingSession,
    Volunteer,
    VolunteerAbsence,
    VolunteerAvailability,
    VolunteerRoom,
    VolunteerSkill,
)
from outreach.reading.rules import Conflict, ConflictCode, ReadingError
from outreach.system.services import current_policy
from outreach.types import CancelledBy, ReadingKind, ReadingRequestStatus, ReadingSessionState, Role, Service

log = logging.getLogger(__name__)

VOLUNTEER_FIELDS = (
    "name", "name_kana", "phone", "email", "postal_code", "address", "pledge_signed_on", "retired_on", "notes",
)
REQUEST_FIELDS = (
    "received_on", "address_as", "preferred_times", "duration_minutes", "material_kind", "material_description",
    "brings_own_material", "note",
)
NEUTRAL_MATERIAL = "（記録なし：利用者の同意がないため保存していません）"


def _error(code: ConflictCode, ja: str, en: str) -> ReadingError:
    return ReadingError([Conflict(code, ja, en)])


# ==================================================================================================
# rooms and opening hours


def list_rooms(session: Session, active_only: bool = False) -> Sequence[ReadingRoom]:
    """Reading rooms in their display order."""
    stmt = select(ReadingRoom)
    if active_only:
        stmt = stmt.where(ReadingRoom.is_active.is_(True))
    return session.scalars(stmt.order_by(ReadingRoom.sort_order, ReadingRoom.id)).all()


def get_room(session: Session, room_id: int) -> ReadingRoom | None:
    return session.get(ReadingRoom, room_id)


def room_hours(session: Session, room_ids: Iterable[int] | None = None) -> dict[int, dict[int, tuple[time, time]]]:
    """Opening hours by room and day kind (0 = Monday … 6 = Sunday, 7 = national holiday)."""
    stmt = select(ReadingRoomHours)
    if room_ids is not None:
        stmt = stmt.where(ReadingRoomHours.room_id.in_(list(room_ids)))
    hours: dict[int, dict[int, tuple[time, time]]] = defaultdict(dict)
    for row in session.scalars(stmt.order_by(ReadingRoomHours.room_id, ReadingRoomHours.day_kind)):
        hours[row.room_id][row.day_kind] = (row.opens, row.closes)
    return hours


def set_room_hours(
    session: Session, room: ReadingRoom, hours: Mapping[int, tuple[time, time] | None], actor: StaffUser
) -> list[int]:
    """Replace the room's hours for the given day kinds (None: closed that day). Returns the changed day kinds."""
    problems = []
    for kind, value in sorted(hours.items()):
        if kind not in rules.DAY_KINDS:
            raise ValueError(f"unknown day kind {kind}")
        if value is not None and value[0] >= value[1]:
            problems.append(Conflict(
                ConflictCode.END_BEFORE_START,
                f"{rules.weekday_words(kind)}：閉館時刻が開館時刻より前か同じです。",
                f"{rules.weekday_words(kind, 'en')}: the closing time is before or at the opening time."))
    if problems:
        raise ReadingError(problems)
    existing = {row.day_kind: row for row in session.scalars(
        select(ReadingRoomHours).where(ReadingRoomHours.room_id == room.id).order_by(ReadingRoomHours.day_kind))}
    changed = []
    for kind, value in sorted(hours.items()):
        row = existing.get(kind)
        if value is None:
            if row is not None:
                session.delete(row)
                changed.append(kind)
        elif row is None:
            session.add(ReadingRoomHours(room_id=room.id, day_kind=kind, opens=value[0], closes=value[1]))
            changed.append(kind)
        elif (row.opens, row.closes) != value:
            row.opens, row.closes = value
            changed.append(kind)
    if changed:
        room.updated_at = utcnow()
        session.flush()
        _audit(session, actor, "update", "reading_room", room.id, ["opening_hours"])
    return changed


# ==================================================================================================
# volunteers


@dataclass(frozen=True)
class VolunteerSummary:
    volunteer: Volunteer
    username: str
    room_ids: tuple[int, ...]
    kinds: tuple[ReadingKind, ...]


def list_volunteers(session: Session, include_retired: bool = True) -> list[VolunteerSummary]:
    """Volunteers by reading, with their account name, libraries and kinds of text (three queries)."""
    stmt = select(Volunteer, StaffUser.username).join(StaffUser, StaffUser.id == Volunteer.user_id)
    if not include_retired:
        stmt = stmt.where(Volunteer.retired_on.is_(None))
    rows = session.execute(stmt.order_by(Volunteer.retired_on.is_not(None), Volunteer.name_kana, Volunteer.id)).all()
    ids = [v.id for v, _ in rows]
    rooms = _rooms_of(session, ids)
    kinds = _kinds_of(session, ids)
    return [VolunteerSummary(v, username, tuple(rooms.get(v.id, ())), tuple(kinds.get(v.id, ()))) for v, username in rows]


def get_volunteer(session: Session, volunteer_id: int) -> Volunteer | None:
    return session.get(Volunteer, volunteer_id)


def volunteer_for_user(session: Session, user_id: int, *, on: date | None = None) -> Volunteer | None:
    """The volunteer record of a staff account (None for staff who are not volunteer readers). Given ``on``,
    a volunteer who has retired by that day is None too: retirement ends access from its first day."""
    volunteer = session.scalars(select(Volunteer).where(Volunteer.user_id == user_id)).first()
    if volunteer is not None and on is not None and volunteer.retired_on is not None and volunteer.retired_on <= on:
        return None
    return volunteer


def end_retired_volunteers(session: Session, on: date) -> int:
    """Deactivate the accounts of volunteers whose retirement day has come (a date set ahead of time takes
    effect on that day), which ends their open sessions. Returns how many accounts were deactivated."""
    users = session.scalars(
        select(StaffUser).join(Volunteer, Volunteer.user_id == StaffUser.id)
        .where(Volunteer.retired_on <= on, StaffUser.is_active.is_(True)).order_by(StaffUser.id)
    ).all()
    for user in users:  # a handful on any day: the account service ends sessions and audits each one
        auth_services.update_user(session, user, display_name=user.display_name, role=user.role, is_active=False,
                                  actor=None)
    session.flush()
    return len(users)


def volunteer_room_ids(session: Session, volunteer_id: int) -> list[int]:
    return _rooms_of(session, [volunteer_id]).get(volunteer_id, [])


def volunteer_kinds(session: Session, volunteer_id: int) -> list[ReadingKind]:
    return _kinds_of(session, [volunteer_id]).get(volunteer_id, [])


def unlinked_volunteer_accounts(session: Session) -> Sequence[StaffUser]:
    """Active accounts with the volunteer role that have no volunteer record yet."""
    return session.scalars(
        select(StaffUser)
        .where(StaffUser.role == Role.VOLUNTEER, StaffUser.is_active.is_(True),
               ~select(Volunteer.id).where(Volunteer.user_id == StaffUser.id).exists())
        .order_by(StaffUser.username)
    ).all()


def register_volunteer(
    session: Session,
    *,
    data: Mapping[str, Any],
    room_ids: Iterable[int],
    kinds: Iterable[ReadingKind],
    actor: StaffUser,
    username: str | None = None,
    password: str | None = None,
    user_id: int | None = None,
    hash_method: str = auth_services.DEFAULT_HASH_METHOD,
) -> Volunteer:
    """Register a volunteer reader with a ``volunteer`` account: a new one, or an unlinked existing one.

    Raises ``auth_services.AuthError`` for a taken user name or a weak password, ``ReadingError`` for an
    unsuitable account.
    """
    values = _clean(data, VOLUNTEER_FIELDS)
    if user_id is not None:
        user = session.get(StaffUser, user_id)
        if user is None or user.role != Role.VOLUNTEER or volunteer_for_user(session, user_id) is not None:
            raise _error(ConflictCode.ACCOUNT_UNSUITABLE, "このアカウントは協力者として登録できません。",
                         "This account cannot be used for a volunteer reader.")
    else:
        user = auth_services.create_user(session, username=username or "", display_name=values["name"],
                                         role=Role.VOLUNTEER, password=password or "", actor=actor,
                                         hash_method=hash_method)
    volunteer = Volunteer(user_id=user.id, **values)
    session.add(volunteer)
    session.flush()
    _set_links(session, volunteer, room_ids, kinds)
    _audit(session, actor, "create", "reading_volunteer", volunteer.id,
           [f for f in VOLUNTEER_FIELDS if f in data] + ["rooms", "kinds"])
    return volunteer


def update_volunteer(
    session: Session,
    volunteer: Volunteer,
    *,
    data: Mapping[str, Any],
    room_ids: Iterable[int],
    kinds: Iterable[ReadingKind],
    actor: StaffUser,
    today: date,
) -> list[str]:
    """Change a volunteer's record. Retiring ends the account's access; it is refused while sessions remain
    on or after the retirement day (reassign or cancel them first)."""
    values = _clean(data, VOLUNTEER_FIELDS)
    retiring_on = values.get("retired_on")
    if retiring_on is not None and volunteer.retired_on != retiring_on:
        pending = session.scalar(
            select(func.count()).select_from(ReadingSession).where(
                ReadingSession.volunteer_id == volunteer.id, ReadingSession.session_on >= retiring_on,
                ReadingSession.state.in_(rules.UPCOMING_STATES)))
        if pending:
            raise _error(ConflictCode.VOLUNTEER_RETIRED,
                         f"退任日以降に{pending}回の対面朗読が予定されています。先に別の協力者に割り当てるか取り消してください。",
                         f"{pending} sessions are booked on or after the retirement day. "
                         "Reassign or cancel them first.")
    changed = _apply(volunteer, values)
    room_ids, kinds = sorted(set(room_ids)), sorted(set(kinds))
    if room_ids != sorted(volunteer_room_ids(session, volunteer.id)):
        changed.append("rooms")
    if kinds != sorted(volunteer_kinds(session, volunteer.id)):
        changed.append("kinds")
    if not changed:
        return []
    _set_links(session, volunteer, room_ids, kinds)
    volunteer.updated_at = utcnow()
    user = session.get(StaffUser, volunteer.user_id)
    if user is not None:
        is_active = volunteer.retired_on is None or volunteer.retired_on > today
        if user.display_name != volunteer.name or user.is_active != is_active:
            auth_services.update_user(session, user, display_name=volunteer.name, role=user.role,
                                      is_active=is_active, actor=actor)
    session.flush()
    _audit(session, actor, "update", "reading_volunteer", volunteer.id, changed)
    return changed


def list_availability(session: Session, volunteer_id: int) -> Sequence[VolunteerAvailability]:
    return session.scalars(
        select(VolunteerAvailability).where(VolunteerAvailability.volunteer_id == volunteer_id)
        .order_by(VolunteerAvailability.weekday, VolunteerAvailability.start_time, VolunteerAvailability.id)
    ).all()


def add_availability(
    session: Session, volunteer: Volunteer, *, room_id: int, weekday: int, start: time, end: time, actor: StaffUser
) -> VolunteerAvailability:
    """A weekly slot at a library the volunteer serves; the end comes after the start."""
    problems = rules.check_availability_slot(start, end)
    room = session.get(ReadingRoom, room_id)
    if room is None or room_id not in volunteer_room_ids(session, volunteer.id):
        problems.append(Conflict(ConflictCode.VOLUNTEER_OTHER_LIBRARY, "担当している図書館を選んでください。",
                                 "Choose a library the volunteer serves."))
    if not 0 <= weekday <= 6:
        raise ValueError("weekday out of range")
    if problems:
        raise ReadingError(problems)
    slot = VolunteerAvailability(volunteer_id=volunteer.id, room_id=room_id, weekday=weekday, start_time=start,
                                 end_time=end)
    session.add(slot)
    session.flush()
    _audit(session, actor, "update", "reading_volunteer", volunteer.id, ["availability"])
    return slot


def remove_availability(session: Session, volunteer: Volunteer, slot_id: int, actor: StaffUser) -> bool:
    slot = session.get(VolunteerAvailability, slot_id)
    if slot is None or slot.volunteer_id != volunteer.id:
        return False
    session.delete(slot)
    session.flush()
    _audit(session, actor, "update", "reading_volunteer", volunteer.id, ["availability"])
    return True


def list_absences(session: Session, volunteer_id: int, from_on: date | None = None) -> Sequence[VolunteerAbsence]:
    stmt = select(VolunteerAbsence).where(VolunteerAbsence.volunteer_id == volunteer_id)
    if from_on is not None:
        stmt = stmt.where(VolunteerAbsence.ends_on >= from_on)
    return session.scalars(stmt.order_by(VolunteerAbsence.starts_on, VolunteerAbsence.id)).all()


def add_absence(
    session: Session, volunteer: Volunteer, *, starts_on: date, ends_on: date, note: str, actor: StaffUser
) -> VolunteerAbsence:
    """Days the volunteer is away (both included): they are not offered for sessions then."""
    if ends_on < starts_on:
        raise _error(ConflictCode.END_BEFORE_START, "不在の最終日が初日より前です。",
                     "The last day away is before the first.")
    absence = VolunteerAbsence(volunteer_id=volunteer.id, starts_on=starts_on, ends_on=ends_on, note=note.strip())
    session.add(absence)
    session.flush()
    _audit(session, actor, "update", "reading_volunteer", volunteer.id, ["absences"])
    return absence


def remove_absence(session: Session, volunteer: Volunteer, absence_id: int, actor: StaffUser) -> bool:
    absence = session.get(VolunteerAbsence, absence_id)
    if absence is None or absence.volunteer_id != volunteer.id:
        return False
    session.delete(absence)
    session.flush()
    _audit(session, actor, "update", "reading_volunteer", volunteer.id, ["absences"])
    return True


# ==================================================================================================
# requests


def find_patron_by_card(session: Session, card_number: str) -> Patron | None:
    """The patron with this library card number (for the request form)."""
    return session.scalars(select(Patron).where(Patron.card_number == card_number.strip())).first()


def is_registered(session: Session, patron_id: int, on: date) -> bool:
    """Registered for face-to-face reading on ``on`` (an approval in force, see outreach.enrolments)."""
    return active_approval(session, patron_id, Service.FACE_TO_FACE, on=on) is not None


def registered_on_dates(session: Session, patron_id: int, dates: Iterable[date]) -> dict[date, bool]:
    """Registration on each of many dates (a series): one query, then the in-force rule per date."""
    from outreach.enrolments.rules import is_approval_in_force
    from outreach.enrolments.services import approvals_of

    approvals = [a for a in approvals_of(session, patron_id) if a.service == Service.FACE_TO_FACE]
    return {d: any(is_approval_in_force(a.valid_from, a.valid_until, d, a.ended_on) for a in approvals)
            for d in sorted(set(dates))}


def create_request(
    session: Session, *, patron: Patron, room: ReadingRoom, data: Mapping[str, Any], actor: StaffUser
) -> ReadingRequest:
    """Record a patron's request; the patron must be registered for face-to-face reading on the day received."""
    values = _clean(data, REQUEST_FIELDS)
    problems = []
    if not is_registered(session, patron.id, values["received_on"]):
        problems.append(rules.not_registered(values["received_on"]))
    limit = current_policy(session).face_to_face_max_session_minutes
    if not 0 < values["duration_minutes"] <= limit:
        problems.append(Conflict(ConflictCode.TOO_LONG, f"1回の時間は1分から{limit}分までです。",
                                 f"A session lasts 1 to {limit} minutes."))
    if not room.is_active:
        problems.append(Conflict(ConflictCode.ROOM_CLOSED, f"{room.library_name}の対面朗読室は現在使われていません。",
                                 f"The reading room of {room.library_name} is not in use."))
    if problems:
        raise ReadingError(problems)
    values["address_as"] = values.get("address_as") or patron.name
    request = ReadingRequest(patron_id=patron.id, room_id=room.id, created_by_id=actor.id, **values)
    session.add(request)
    session.flush()
    _audit(session, actor, "create", "reading_request", request.id, [f for f in REQUEST_FIELDS if f in data])
    return request


def get_request(session: Session, request_id: int) -> ReadingRequest | None:
    return session.get(ReadingRequest, request_id)


@dataclass(frozen=True)
class RequestRow:
    request: ReadingRequest
    patron_name: str
    library_name: str
    upcoming: int
    next_on: date | None


def list_requests(session: Session, *, today: date, status: ReadingRequestStatus | None = ReadingRequestStatus.OPEN
                  ) -> list[RequestRow]:
    """Requests with the patron, the library and how many sessions lie ahead (one query)."""
    upcoming = (
        select(ReadingSession.request_id, func.count().label("n"), func.min(ReadingSession.session_on).label("next_on"))
        .where(ReadingSession.state.in_(rules.UPCOMING_STATES), ReadingSession.session_on >= today)
        .group_by(ReadingSession.request_id)
        .subquery()
    )
    stmt = (
        select(ReadingRequest, Patron.name, ReadingRoom.library_name, upcoming.c.n, upcoming.c.next_on)
        .join(Patron, Patron.id == ReadingRequest.patron_id)
        .join(ReadingRoom, ReadingRoom.id == ReadingRequest.room_id)
        .outerjoin(upcoming, upcoming.c.request_id == ReadingRequest.id)
    )
    if status is not None:
        stmt = stmt.where(ReadingRequest.status == status)
    rows = session.execute(stmt.order_by(ReadingRequest.received_on, ReadingRequest.id)).all()
    return [RequestRow(r, name, lib, n or 0, next_on) for r, name, lib, n, next_on in rows]


def close_request(session: Session, request: ReadingRequest, *, actor: StaffUser, today: date) -> None:
    """Close a request once nothing is booked ahead. Without reading-history consent, what was to be read is
    forgotten (the sessions' counts and hours stay for the statistics)."""
    pending = session.scalar(select(func.count()).select_from(ReadingSession).where(
        ReadingSession.request_id == request.id, ReadingSession.state.in_(rules.UPCOMING_STATES),
        ReadingSession.session_on >= today))
    if pending:
        raise _error(ConflictCode.INVALID_TRANSITION,
                     f"この依頼にはまだ{pending}回の予定があります。先に取り消してください。",
                     f"This request still has {pending} upcoming sessions. Cancel them first.")
    if request.status == ReadingRequestStatus.CLOSED:
        return
    patron = session.get(Patron, request.patron_id)
    fields = ["status"]
    if patron is not None and not patron.has_reading_history_consent and request.material_description:
        request.material_description = ""
        fields.append("material_description")
    request.status = ReadingRequestStatus.CLOSED
    request.closed_on = today
    request.updated_at = utcnow()
    session.flush()
    _audit(session, actor, "close", "reading_request", request.id, fields)


def forget_reading_titles(session: Session, patron_id: int | None = None) -> int:
    """Forget what was read: the titles logged on sessions and what was to be read on closed requests, for one
    patron whose consent was withdrawn or (``None``) every patron without reading-history consent. Set-based;
    the sessions' counts, item numbers and minutes stay, so the statistics do not change."""
    if patron_id is not None:
        of_session, of_request = ReadingSession.patron_id == patron_id, ReadingRequest.patron_id == patron_id
    else:
        no_consent = select(Patron.id).where(Patron.has_reading_history_consent.is_(False))
        of_session, of_request = ReadingSession.patron_id.in_(no_consent), ReadingRequest.patron_id.in_(no_consent)
    titles = session.execute(
        update(ReadingSession).where(of_session, ReadingSession.material_titles != "")
        .values(material_titles="", updated_at=utcnow()), execution_options={"synchronize_session": False})
    # An open request keeps its description: the reader needs it for the sessions still to come.
    described = session.execute(
        update(ReadingRequest).where(of_request, ReadingRequest.status == ReadingRequestStatus.CLOSED,
                                     ReadingRequest.material_description != "")
        .values(material_description="", updated_at=utcnow()), execution_options={"synchronize_session": False})
    return (titles.rowcount or 0) + (described.rowcount or 0)


# ==================================================================================================
# booking


@dataclass(frozen=True)
class DayCheck:
    """The slot on one day: what refuses it outright, and each candidate volunteer's problems."""

    on: date
    slot_conflicts: tuple[Conflict, ...]
    volunteers: dict[int, tuple[Conflict, ...]]

    def conflicts_for(self, volunteer_id: int) -> list[Conflict]:
        return [*self.slot_conflicts, *self.volunteers.get(volunteer_id, ())]


@dataclass(frozen=True)
class SlotCheck:
    """What a librarian sees after picking a slot: the refusals and the volunteers on offer."""

    on: date
    start: time
    end: time
    conflicts: tuple[Conflict, ...]
    offered: list[rules.VolunteerFacts]
    not_offered: list[tuple[rules.VolunteerFacts, tuple[Conflict, ...]]]


def check_slot(
    session: Session, *, request: ReadingRequest, on: date, start: time, end: time, today: date,
    exclude_session_id: int | None = None,
) -> SlotCheck:
    """Check a slot for a request and list the volunteers who can take it (serving the library, active)."""
    room = session.get(ReadingRoom, request.room_id)
    assert room is not None
    checks, facts = _evaluate(session, request=request, room=room, dates=[on], start=start, end=end,
                              volunteer_ids=None, today=today, exclude_session_id=exclude_session_id)
    day = checks[on]
    offered, not_offered = [], []
    for vid, f in sorted(facts.items(), key=lambda item: item[1].name):
        problems = day.volunteers.get(vid, ())
        if problems:
            not_offered.append((f, problems))
        else:
            offered.append(f)
    return SlotCheck(on, start, end, day.slot_conflicts, offered, not_offered)


def book_session(
    session: Session, *, request: ReadingRequest, on: date, start: time, end: time, volunteer_id: int,
    actor: StaffUser, today: date,
) -> ReadingSession:
    """Book one session, refusing every conflict with its reason (the room, the volunteer or the patron already
    booked, the library closed, outside opening hours, the patron not registered, an unsuitable volunteer)."""
    room = _room_of(session, request)
    _lock_for_booking(session, room.id, [volunteer_id], request.patron_id)
    _check_request_open(request)
    day = _evaluate(session, request=request, room=room, dates=[on], start=start, end=end,
                    volunteer_ids=[volunteer_id], today=today)[0][on]
    conflicts = day.conflicts_for(volunteer_id)
    if conflicts:
        raise ReadingError(conflicts)
    reading_session = ReadingSession(
        request_id=request.id, patron_id=request.patron_id, room_id=room.id, volunteer_id=volunteer_id,
        session_on=on, start_time=start, end_time=end, booked_by_id=actor.id)
    session.add(reading_session)
    session.flush()
    _audit(session, actor, "book", "reading_session", reading_session.id, ["session_on", "start_time", "end_time",
                                                                           "volunteer_id"])
    return reading_session


@dataclass(frozen=True)
class Occurrence:
    on: date
    conflicts: tuple[Conflict, ...]

    @property
    def is_free(self) -> bool:
        return not self.conflicts


class SeriesClashError(ReadingError):
    """Some occurrences of a series clash; nothing was booked. ``occurrences`` holds every date's verdict."""

    default_code = "reading.series_clash"

    def __init__(self, occurrences: Sequence[Occurrence]) -> None:
        self.occurrences = tuple(occurrences)
        clashes = [o for o in occurrences if o.conflicts]
        super().__init__([Conflict(
            ConflictCode.ROOM_TAKEN,
            f"{len(occurrences)}回のうち{len(clashes)}回は予約できません。",
            f"{len(clashes)} of {len(occurrences)} occurrences cannot be booked.")])


@dataclass(frozen=True)
class SeriesResult:
    series: ReadingSeries
    booked: list[ReadingSession]
    clashes: list[Occurrence]


def plan_series(
    session: Session, *, request: ReadingRequest, first_on: date, start: time, end: time, occurrences: int,
    volunteer_id: int, today: date,
) -> list[Occurrence]:
    """Every occurrence of a weekly series with its conflicts (nothing is written)."""
    room = _room_of(session, request)
    dates = rules.series_dates(first_on, occurrences)
    checks, _facts = _evaluate(session, request=request, room=room, dates=dates, start=start, end=end,
                               volunteer_ids=[volunteer_id], today=today)
    return [Occurrence(d, tuple(checks[d].conflicts_for(volunteer_id))) for d in dates]


def book_series(
    session: Session, *, request: ReadingRequest, first_on: date, start: time, end: time, occurrences: int,
    volunteer_id: int, actor: StaffUser, today: date, accept_clashes: bool = False,
) -> SeriesResult:
    """Book a weekly series; each occurrence becomes a session with its own state.

    A clash in one occurrence is never dropped silently: without ``accept_clashes`` any clash raises
    :class:`SeriesClashError` listing every occurrence and nothing is booked; with it, the free
    occurrences are booked and the clashes are returned. When no occurrence is free, nothing is booked.
    """
    room = _room_of(session, request)
    _lock_for_booking(session, room.id, [volunteer_id], request.patron_id)
    _check_request_open(request)
    _raise(rules.check_times(start, end, current_policy(session)))
    plan = plan_series(session, request=request, first_on=first_on, start=start, end=end, occurrences=occurrences,
                       volunteer_id=volunteer_id, today=today)
    clashes = [o for o in plan if not o.is_free]
    if clashes and (not accept_clashes or len(clashes) == len(plan)):
        raise SeriesClashError(plan)
    series = ReadingSeries(request_id=request.id, first_on=first_on, occurrences=occurrences, start_time=start,
                           end_time=end, created_by_id=actor.id)
    session.add(series)
    session.flush()
    booked = [
        ReadingSession(request_id=request.id, patron_id=request.patron_id, room_id=room.id, volunteer_id=volunteer_id,
                       series_id=series.id, session_on=o.on, start_time=start, end_time=end, booked_by_id=actor.id)
        for o in plan if o.is_free
    ]
    session.add_all(booked)
    session.flush()
    _audit(session, actor, "book", "reading_series", series.id, ["session_on", "start_time", "end_time",
                                                                 "volunteer_id"],
           detail=f"request {request.id}: {len(booked)} booked, {len(clashes)} clashed")
    return SeriesResult(series, booked, clashes)


def series_candidates(session: Session, request: ReadingRequest, on: date) -> list[rules.VolunteerFacts]:
    """Volunteers who could read a series for this request: active, pledged, serving the library, reading the kind.

    Their weekly availability and other bookings are checked per occurrence when the series is planned.
    """
    facts = _volunteer_facts(session, room_id=request.room_id, volunteer_ids=None, dates=[on])
    return sorted(
        (f for f in facts.values()
         if not f.is_retired_on(on) and f.pledge_signed_on is not None and f.pledge_signed_on <= on
         and request.material_kind in f.kinds),
        key=lambda f: f.name)


def reassign_session(
    session: Session, reading_session: ReadingSession, *, volunteer_id: int, actor: StaffUser, today: date
) -> None:
    """Give a session (typically one a volunteer declined) to another volunteer; it awaits their confirmation."""
    request = session.get(ReadingRequest, reading_session.request_id)
    assert request is not None
    room = _room_of(session, request)
    _lock_for_booking(session, room.id, [volunteer_id], request.patron_id)
    _raise(rules.check_transition(reading_session.state, ReadingSessionState.SCHEDULED))
    day = _evaluate(session, request=request, room=room, dates=[reading_session.session_on],
                    start=reading_session.start_time, end=reading_session.end_time, volunteer_ids=[volunteer_id],
                    today=today, exclude_session_id=reading_session.id)[0][reading_session.session_on]
    _raise(day.conflicts_for(volunteer_id))
    reading_session.volunteer_id = volunteer_id
    reading_session.state = ReadingSessionState.SCHEDULED
    reading_session.confirmed_at = None
    reading_session.updated_at = utcnow()
    session.flush()
    _audit(session, actor, "reassign", "reading_session", reading_session.id, ["volunteer_id", "state"])


def confirm_session(session: Session, reading_session: ReadingSession, *, volunteer: Volunteer, actor: StaffUser,
                    today: date) -> None:
    """The assigned volunteer confirms a scheduled session."""
    _check_own(reading_session, volunteer)
    _raise(rules.check_not_past(reading_session.session_on, today))
    if reading_session.state == ReadingSessionState.CONFIRMED:
        return
    _raise(rules.check_transition(reading_session.state, ReadingSessionState.CONFIRMED))
    reading_session.state = ReadingSessionState.CONFIRMED
    reading_session.confirmed_at = utcnow()
    reading_session.updated_at = utcnow()
    session.flush()
    _audit(session, actor, "confirm", "reading_session", reading_session.id, ["state"])


def decline_session(session: Session, reading_session: ReadingSession, *, volunteer: Volunteer, reason: str,
                    actor: StaffUser, today: date) -> None:
    """The assigned volunteer declines: the room and patron stay booked until a librarian reassigns or cancels."""
    _check_own(reading_session, volunteer)
    _raise(rules.check_not_past(reading_session.session_on, today))
    _raise(rules.check_transition(reading_session.state, ReadingSessionState.DECLINED))
    reading_session.state = ReadingSessionState.DECLINED
    reading_session.declined_volunteer_id = volunteer.id
    reading_session.volunteer_id = None
    reading_session.decline_reason = reason.strip()[:500]
    reading_session.confirmed_at = None
    reading_session.updated_at = utcnow()
    session.flush()
    _audit(session, actor, "decline", "reading_session", reading_session.id, ["state", "volunteer_id",
                                                                              "decline_reason"])


def cancel_session(session: Session, reading_session: ReadingSession, *, cancelled_by: CancelledBy, reason: str,
                   actor: StaffUser) -> None:
    """Cancel a session that has not been held, recording on whose side and why."""
    if not reason.strip():
        raise _error(ConflictCode.INVALID_TRANSITION, "取消の理由を入力してください。", "Enter why the session is cancelled.")
    _raise(rules.check_transition(reading_session.state, ReadingSessionState.CANCELLED))
    reading_session.state = ReadingSessionState.CANCELLED
    reading_session.cancelled_by = CancelledBy(cancelled_by)
    reading_session.cancel_reason = reason.strip()[:500]
    reading_session.cancelled_at = utcnow()
    reading_session.cancelled_by_user_id = actor.id
    reading_session.updated_at = utcnow()
    session.flush()
    _audit(session, actor, "cancel", "reading_session", reading_session.id, ["state", "cancelled_by", "cancel_reason"])


def mark_no_show(session: Session, reading_session: ReadingSession, *, actor: StaffUser, today: date) -> None:
    """The patron did not come: only for a session whose day has come."""
    _raise(rules.check_transition(reading_session.state, ReadingSessionState.NO_SHOW))
    if reading_session.session_on > today:
        raise _error(ConflictCode.LOG_IN_FUTURE, "まだ実施日になっていません。", "The session's day has not come yet.")
    reading_session.state = ReadingSessionState.NO_SHOW
    reading_session.updated_at = utcnow()
    session.flush()
    _audit(session, actor, "no_show", "reading_session", reading_session.id, ["state"])


LOG_FIELDS = ("actual_start_time", "actual_end_time", "reading_minutes", "material_titles", "material_count", "log_note")


def log_session(
    session: Session, reading_session: ReadingSession, *, actual_start: time, actual_end: time, titles: Sequence[str],
    note: str, actor: StaffUser, today: date,
) -> list[str]:
    """Log a held session: actual times (hours are computed) and a note. Titles are kept only with the patron's
    reading-history consent, otherwise only their number. Changing a held session's log is audited."""
    _raise(rules.check_log(reading_session.state, reading_session.session_on, actual_start, actual_end, today,
                           current_policy(session)))
    patron = session.get(Patron, reading_session.patron_id)
    record = rules.material_record(titles, has_consent=bool(patron and patron.has_reading_history_consent))
    was_held = reading_session.state == ReadingSessionState.HELD
    changed = _apply(reading_session, {
        "actual_start_time": actual_start, "actual_end_time": actual_end,
        "reading_minutes": rules.minutes_between(actual_start, actual_end),
        "material_titles": record.titles, "material_count": record.count, "log_note": note.strip()[:1000],
    })
    if not was_held:
        reading_session.state = ReadingSessionState.HELD
        changed.append("state")
    if not changed:
        return []
    reading_session.logged_at = utcnow()
    reading_session.logged_by_id = actor.id
    reading_session.updated_at = utcnow()
    session.flush()
    _audit(session, actor, "update" if was_held else "log", "reading_session", reading_session.id, changed)
    return changed


def get_session(session: Session, session_id: int) -> ReadingSession | None:
    return session.get(ReadingSession, session_id)


@dataclass(frozen=True)
class SessionRow:
    """A session as staff see it in lists."""

    session: ReadingSession
    library_name: str
    volunteer_name: str | None
    declined_volunteer_name: str | None


def list_sessions(session: Session, *, request_id: int) -> list[SessionRow]:
    """The sessions of a request, by date."""
    declined = _volunteer_alias()
    rows = session.execute(
        select(ReadingSession, ReadingRoom.library_name, Volunteer.name, declined.name)
        .join(ReadingRoom, ReadingRoom.id == ReadingSession.room_id)
        .outerjoin(Volunteer, Volunteer.id == ReadingSession.volunteer_id)
        .outerjoin(declined, declined.id == ReadingSession.declined_volunteer_id)
        .where(ReadingSession.request_id == request_id)
        .order_by(ReadingSession.session_on, ReadingSession.start_time, ReadingSession.id)
    ).all()
    return [SessionRow(s, lib, vname, dname) for s, lib, vname, dname in rows]


# ==================================================================================================
# the volunteer's own pages: only what a reader needs in the room


@dataclass(frozen=True)
class VolunteerSessionView:
    """A session as its volunteer sees it: no certificate, care level, address, phone or other patrons' data."""

    id: int
    session_on: date
    start_time: time
    end_time: time
    library_name: str
    room_name: str
    address_as: str
    material_kind: ReadingKind
    material: str
    brings_own_material: bool
    state: ReadingSessionState
    reading_minutes: int | None
    is_logged: bool


def volunteer_sessions(
    session: Session, volunteer_id: int, *, from_on: date | None = None, to_on: date | None = None,
    states: Sequence[ReadingSessionState] | None = None, session_id: int | None = None,
) -> list[VolunteerSessionView]:
    """The volunteer's own sessions, by date; what is to be read is shown only until the session is held."""
    stmt = (
        select(ReadingSession.id, ReadingSession.session_on, ReadingSession.start_time, ReadingSession.end_time,
               ReadingRoom.library_name, ReadingRoom.room_name, ReadingRequest.address_as,
               ReadingRequest.material_kind, ReadingRequest.material_description, ReadingRequest.brings_own_material,
               ReadingSession.state, ReadingSession.reading_minutes, ReadingSession.logged_at)
        .join(ReadingRoom, ReadingRoom.id == ReadingSession.room_id)
        .join(ReadingRequest, ReadingRequest.id == ReadingSession.request_id)
        .where(ReadingSession.volunteer_id == volunteer_id)
    )
    if from_on is not None:
        stmt = stmt.where(ReadingSession.session_on >= from_on)
    if to_on is not None:
        stmt = stmt.where(ReadingSession.session_on <= to_on)
    if states is not None:
        stmt = stmt.where(ReadingSession.state.in_(list(states)))
    if session_id is not None:
        stmt = stmt.where(ReadingSession.id == session_id)
    rows = session.execute(stmt.order_by(ReadingSession.session_on, ReadingSession.start_time, ReadingSession.id))
    return [
        VolunteerSessionView(
            r.id, r.session_on, r.start_time, r.end_time, r.library_name, r.room_name, r.address_as, r.material_kind,
            "" if r.state == ReadingSessionState.HELD else r.material_description, r.brings_own_material, r.state,
            r.reading_minutes, r.logged_at is not None)
        for r in rows
    ]


def volunteer_session_view(session: Session, volunteer_id: int, session_id: int) -> VolunteerSessionView | None:
    """One of the volunteer's own sessions (None for anybody else's)."""
    rows = volunteer_sessions(session, volunteer_id, session_id=session_id)
    return rows[0] if rows else None


def to_log(session: Session, volunteer_id: int, today: date) -> list[VolunteerSessionView]:
    """The volunteer's sessions whose day has come and that are not logged yet."""
    return volunteer_sessions(session, volunteer_id, to_on=today,
                              states=(ReadingSessionState.SCHEDULED, ReadingSessionState.CONFIRMED))


# ==================================================================================================
# calendar


@dataclass(frozen=True)
class CalendarEntry:
    session_id: int
    start_time: time
    end_time: time
    state: ReadingSessionState
    library_name: str
    volunteer_name: str | None
    address_as: str


@dataclass(frozen=True)
class CalendarDay:
    on: date
    closed: ClosedReason | None
    hours: tuple[time, time] | None
    entries: list[CalendarEntry] = field(default_factory=list)


def calendar_days(
    session: Session, *, first_on: date, days: int, room_id: int | None = None, volunteer_id: int | None = None,
) -> list[CalendarDay]:
    """Days with their closed reason, the room's hours (for a room) and the sessions (not cancelled) in time order."""
    policy = current_policy(session)
    last_on = first_on + timedelta(days=days - 1)
    stmt = (
        select(ReadingSession.id, ReadingSession.session_on, ReadingSession.start_time, ReadingSession.end_time,
               ReadingSession.state, ReadingRoom.library_name, Volunteer.name, ReadingRequest.address_as)
        .join(ReadingRoom, ReadingRoom.id == ReadingSession.room_id)
        .join(ReadingRequest, ReadingRequest.id == ReadingSession.request_id)
        .outerjoin(Volunteer, Volunteer.id == ReadingSession.volunteer_id)
        .where(ReadingSession.session_on.between(first_on, last_on),
               ReadingSession.state != ReadingSessionState.CANCELLED)
    )
    if room_id is not None:
        stmt = stmt.where(ReadingSession.room_id == room_id)
    if volunteer_id is not None:
        stmt = stmt.where(ReadingSession.volunteer_id == volunteer_id)
    by_day: dict[date, list[CalendarEntry]] = defaultdict(list)
    for r in session.execute(stmt.order_by(ReadingSession.session_on, ReadingSession.start_time, ReadingSession.id)):
        by_day[r.session_on].append(CalendarEntry(r.id, r.start_time, r.end_time, r.state, r.library_name, r.name,
                                                  r.address_as))
    room = session.get(ReadingRoom, room_id) if room_id is not None else None
    hours = room_hours(session, [room_id]).get(room_id, {}) if room_id is not None else {}
    result = []
    for i in range(days):
        d = first_on + timedelta(days=i)
        reason = closed_reason(d, policy, branch=bool(room and room.is_branch))
        result.append(CalendarDay(d, reason, None if reason or room is None else hours.get(rules.day_kind(d)),
                                  by_day.get(d, [])))
    return result


# ==================================================================================================
# statistics: 「(2) 対面朗読」 per library, and per volunteer


@dataclass(frozen=True)
class LibraryFigures:
    room_id: int | None
    library_name: str
    registrants: int  # 登録者（人）
    sessions: int  # 回数（回）
    minutes: int

    @property
    def hours(self) -> float:  # 朗読時間（時間）
        return rules.reading_hours(self.minutes)


@dataclass(frozen=True)
class VolunteerFigures:
    volunteer_id: int
    name: str
    name_kana: str
    sessions: int
    minutes: int

    @property
    def hours(self) -> float:
        return rules.reading_hours(self.minutes)


@dataclass(frozen=True)
class ReadingFigures:
    fiscal_year: int
    libraries: list[LibraryFigures]
    unassigned_registrants: int  # registered, but no request at any library yet
    volunteers: list[VolunteerFigures]

    @property
    def total_registrants(self) -> int:
        return sum(f.registrants for f in self.libraries) + self.unassigned_registrants

    @property
    def total_sessions(self) -> int:
        return sum(f.sessions for f in self.libraries)

    @property
    def total_minutes(self) -> int:
        return sum(f.minutes for f in self.libraries)

    @property
    def total_hours(self) -> float:
        return rules.reading_hours(self.total_minutes)


def reading_registrants_at(session: Session, days: Iterable[date]) -> dict[date, dict[int | None, int]]:
    """Persons registered for face-to-face reading on each of the days, per reading room: each counted once, at
    the room of their latest request received on or before that day (``None``: no request yet). One query."""
    wanted = sorted(set(days))
    if not wanted:
        return {}
    day_list = union_all(*(select(literal(d, Date).label("day")) for d in wanted)).subquery("days")
    registered = (
        select(day_list.c.day, Approval.patron_id)
        .join(Approval, and_(Approval.service == Service.FACE_TO_FACE, in_force_condition(day_list.c.day)))
        .distinct().subquery("registered")
    )
    # The room of each registrant's latest request on that day: one index look-up per registrant and day.
    latest_room = (
        select(ReadingRequest.room_id)
        .where(ReadingRequest.patron_id == registered.c.patron_id, ReadingRequest.received_on <= registered.c.day)
        .order_by(ReadingRequest.received_on.desc(), ReadingRequest.id.desc()).limit(1)
        .correlate(registered).scalar_subquery()
    )
    per_room = select(registered.c.day, latest_room.label("room_id")).subquery("per_room")
    rows = session.execute(
        select(per_room.c.day, per_room.c.room_id, func.count()).group_by(per_room.c.day, per_room.c.room_id)
    ).all()
    out: dict[date, dict[int | None, int]] = {d: {} for d in wanted}
    for day, room_id, count in rows:
        out[day if isinstance(day, date) else date.fromisoformat(str(day))][room_id] = count
    return out


def reading_figures(session: Session, fiscal_year: int, *, registered_on: date | None = None) -> ReadingFigures:
    """The 対面朗読 statistics of a fiscal year, set-based (three grouped queries).

    - registrants: persons registered for face-to-face reading on the fiscal year's last day, each counted once,
      at the library of their latest request received on or before that day (no request yet: unassigned);
    - sessions and reading hours: sessions held in the fiscal year, by library, with their logged minutes;
    - per volunteer: held sessions and minutes (every volunteer active during the year, and anyone who read).

    ``registered_on`` counts registrants on another day (a year still running counts them as of today,
    like table (1) of the annual report).
    """
    first_on, last_on = fiscal_year_range(fiscal_year)
    stock_on = registered_on or last_on
    registrants = reading_registrants_at(session, [stock_on])[stock_on]
    held = and_(ReadingSession.state == ReadingSessionState.HELD, ReadingSession.session_on.between(first_on, last_on))
    per_room = {
        room_id: (n, minutes) for room_id, n, minutes in session.execute(
            select(ReadingSession.room_id, func.count(), func.coalesce(func.sum(ReadingSession.reading_minutes), 0))
            .where(held).group_by(ReadingSession.room_id))
    }
    libraries = [
        LibraryFigures(room.id, room.library_name, registrants.get(room.id, 0), *per_room.get(room.id, (0, 0)))
        for room in list_rooms(session)
        if room.is_active or room.id in per_room or room.id in registrants
    ]
    per_volunteer = (
        select(ReadingSession.volunteer_id.label("volunteer_id"), func.count().label("n"),
               func.coalesce(func.sum(ReadingSession.reading_minutes), 0).label("minutes"))
        .where(held).group_by(ReadingSession.volunteer_id).subquery()
    )
    volunteers = [
        VolunteerFigures(v_id, name, kana, n or 0, minutes or 0)
        for v_id, name, kana, n, minutes in session.execute(
            select(Volunteer.id, Volunteer.name, Volunteer.name_kana, per_volunteer.c.n, per_volunteer.c.minutes)
            .outerjoin(per_volunteer, per_volunteer.c.volunteer_id == Volunteer.id)
            .where(or_(per_volunteer.c.n.is_not(None), Volunteer.retired_on.is_(None), Volunteer.retired_on >= first_on))
            .order_by(Volunteer.name_kana, Volunteer.id))
    ]
    return ReadingFigures(fiscal_year, libraries, registrants.get(None, 0), volunteers)


# ==================================================================================================
# dashboard


@dataclass(frozen=True)
class DashboardSummary:
    """The reading work list: for staff, what needs doing; for a volunteer, their next sessions."""

    requests_waiting: int = 0  # open requests with nothing booked ahead
    declined: int = 0  # sessions a volunteer declined: reassign or cancel
    unconfirmed_soon: int = 0  # scheduled within 7 days, not yet confirmed by the volunteer
    unlogged: int = 0  # the day has passed and nothing was logged
    my_sessions: list[VolunteerSessionView] = field(default_factory=list)
    my_to_log: int = 0
    is_volunteer: bool = False


def dashboard_summary(session: Session, *, today: date, user: StaffUser) -> DashboardSummary:
    """Counts for the staff dashboard card, or a volunteer's next sessions and logs to write."""
    if user.role == Role.VOLUNTEER:
        volunteer = volunteer_for_user(session, user.id, on=today)
        if volunteer is None:
            return DashboardSummary(is_volunteer=True)
        upcoming = volunteer_sessions(session, volunteer.id, from_on=today, states=rules.UPCOMING_STATES[:2])
        return DashboardSummary(my_sessions=upcoming[:5], my_to_log=len(to_log(session, volunteer.id, today)),
                                is_volunteer=True)
    s = ReadingSession
    counts = session.execute(select(
        func.coalesce(func.sum(case((s.state == ReadingSessionState.DECLINED, 1), else_=0)), 0),
        func.coalesce(func.sum(case((and_(s.state == ReadingSessionState.SCHEDULED, s.session_on >= today,
                                          s.session_on <= today + timedelta(days=7)), 1), else_=0)), 0),
        func.coalesce(func.sum(case((and_(s.state.in_([ReadingSessionState.SCHEDULED, ReadingSessionState.CONFIRMED]),
                                          s.session_on < today), 1), else_=0)), 0),
    ).where(s.state.in_(rules.UPCOMING_STATES))).one()
    waiting = session.scalar(
        select(func.count()).select_from(ReadingRequest).where(
            ReadingRequest.status == ReadingRequestStatus.OPEN,
            ~select(ReadingSession.id).where(ReadingSession.request_id == ReadingRequest.id,
                                             ReadingSession.state.in_(rules.UPCOMING_STATES),
                                             ReadingSession.session_on >= today).exists())) or 0
    return DashboardSummary(requests_waiting=waiting, declined=counts[0], unconfirmed_soon=counts[1], unlogged=counts[2])


# ==================================================================================================
# internals


def _room_of(session: Session, request: ReadingRequest) -> ReadingRoom:
    room = session.get(ReadingRoom, request.room_id)
    assert room is not None
    return room


def _check_request_open(request: ReadingRequest) -> None:
    if request.status != ReadingRequestStatus.OPEN:
        raise _error(ConflictCode.INVALID_TRANSITION, "この依頼は終了しています。", "This request is closed.")


def _check_own(reading_session: ReadingSession, volunteer: Volunteer) -> None:
    if reading_session.volunteer_id != volunteer.id:
        raise _error(ConflictCode.INVALID_TRANSITION, "この回の担当ではありません。", "This session is not yours.")


def _raise(conflicts: Sequence[Conflict]) -> None:
    if conflicts:
        raise ReadingError(conflicts)


def _lock_for_booking(session: Session, room_id: int, volunteer_ids: Sequence[int], patron_id: int) -> None:
    """Serialise bookings touching the same room, volunteers or patron until this transaction ends.

    PostgreSQL: row locks (SELECT … FOR UPDATE), always in the order room → volunteers (by id) → patron, so two
    bookings cannot deadlock. SQLite ignores FOR UPDATE; its write transactions already start with
    BEGIN IMMEDIATE, which serialises all writers.
    """
    session.execute(select(ReadingRoom.id).where(ReadingRoom.id == room_id).with_for_update())
    if volunteer_ids:
        session.execute(select(Volunteer.id).where(Volunteer.id.in_(sorted(set(volunteer_ids))))
                        .order_by(Volunteer.id).with_for_update())
    session.execute(select(Patron.id).where(Patron.id == patron_id).with_for_update())


def _evaluate(
    session: Session, *, request: ReadingRequest, room: ReadingRoom, dates: Sequence[date], start: time, end: time,
    volunteer_ids: Sequence[int] | None, today: date, exclude_session_id: int | None = None,
) -> tuple[dict[date, DayCheck], dict[int, rules.VolunteerFacts]]:
    """Check a slot on each of ``dates``: times, past, open days and hours, registration, the room and the patron
    already booked, and each volunteer (given ones, or everyone serving the room). A fixed number of queries."""
    policy: Policy = current_policy(session)
    times = rules.check_times(start, end, policy)
    hours = room_hours(session, [room.id]).get(room.id, {})
    taken = session.execute(
        select(ReadingSession.session_on, ReadingSession.room_id, ReadingSession.patron_id)
        .where(ReadingSession.session_on.in_(list(dates)), ReadingSession.state.in_(rules.OCCUPYING_STATES),
               or_(ReadingSession.room_id == room.id, ReadingSession.patron_id == request.patron_id),
               ReadingSession.start_time < end, ReadingSession.end_time > start,
               ReadingSession.id != (exclude_session_id or -1))
        .order_by(ReadingSession.session_on, ReadingSession.id)
    ).all()
    facts = _volunteer_facts(session, room_id=room.id, volunteer_ids=volunteer_ids, dates=dates,
                             exclude_session_id=exclude_session_id)
    # One look-up per distinct date (a series has at most 52): registration is decided by the enrolments area.
    registered = registered_on_dates(session, request.patron_id, dates)
    result = {}
    for d in dates:
        slot = [*times, *rules.check_not_past(d, today)]
        if not times:
            slot += rules.check_open(d, start, end, hours.get(rules.day_kind(d)), room.library_name, policy,
                                     branch=room.is_branch)
        if not registered[d]:
            slot.append(rules.not_registered(d))
        if not room.is_active:
            slot.append(Conflict(ConflictCode.ROOM_CLOSED, f"{room.library_name}の対面朗読室は現在使われていません。",
                                 f"The reading room of {room.library_name} is not in use."))
        if any(t.session_on == d and t.room_id == room.id for t in taken):
            slot.append(rules.room_taken(start, end))
        if any(t.session_on == d and t.patron_id == request.patron_id for t in taken):
            slot.append(rules.patron_taken(start, end))
        per_volunteer = {}
        for vid, f in facts.items():
            per_volunteer[vid] = tuple(rules.check_volunteer(
                f, on=d, start=start, end=end, room_id=room.id, kind=request.material_kind,
                library_name=room.library_name))
        if volunteer_ids:
            for vid in volunteer_ids:
                if vid not in facts:
                    per_volunteer[vid] = (Conflict(ConflictCode.VOLUNTEER_OTHER_LIBRARY, "協力者が見つかりません。",
                                                   "No such volunteer reader."),)
        result[d] = DayCheck(d, tuple(slot), per_volunteer)
    return result, facts


def _volunteer_facts(
    session: Session, *, room_id: int, volunteer_ids: Sequence[int] | None, dates: Sequence[date],
    exclude_session_id: int | None = None,
) -> dict[int, rules.VolunteerFacts]:
    """Facts about the given volunteers, or about every non-retired volunteer serving the room (six queries)."""
    stmt = select(Volunteer)
    if volunteer_ids is not None:
        stmt = stmt.where(Volunteer.id.in_(list(volunteer_ids)))
    else:
        stmt = stmt.where(
            select(VolunteerRoom.volunteer_id).where(VolunteerRoom.volunteer_id == Volunteer.id,
                                                     VolunteerRoom.room_id == room_id).exists(),
            or_(Volunteer.retired_on.is_(None), Volunteer.retired_on > min(dates)))
    volunteers = session.scalars(stmt.order_by(Volunteer.id)).all()
    ids = [v.id for v in volunteers]
    if not ids:
        return {}
    rooms = _rooms_of(session, ids)
    kinds = _kinds_of(session, ids)
    slots: dict[int, list[rules.Slot]] = defaultdict(list)
    for a in session.scalars(select(VolunteerAvailability).where(VolunteerAvailability.volunteer_id.in_(ids))
                             .order_by(VolunteerAvailability.id)):
        slots[a.volunteer_id].append(rules.Slot(a.room_id, a.weekday, a.start_time, a.end_time))
    absences: dict[int, list[tuple[date, date]]] = defaultdict(list)
    for a in session.scalars(select(VolunteerAbsence).where(
            VolunteerAbsence.volunteer_id.in_(ids), VolunteerAbsence.ends_on >= min(dates),
            VolunteerAbsence.starts_on <= max(dates)).order_by(VolunteerAbsence.id)):
        absences[a.volunteer_id].append((a.starts_on, a.ends_on))
    busy: dict[int, list[rules.Busy]] = defaultdict(list)
    for s in session.execute(
            select(ReadingSession.volunteer_id, ReadingSession.session_on, ReadingSession.start_time,
                   ReadingSession.end_time)
            .where(ReadingSession.volunteer_id.in_(ids), ReadingSession.session_on.in_(list(dates)),
                   ReadingSession.state.in_(rules.OCCUPYING_STATES), ReadingSession.id != (exclude_session_id or -1))
            .order_by(ReadingSession.id)):
        busy[s.volunteer_id].append(rules.Busy(s.session_on, s.start_time, s.end_time))
    return {
        v.id: rules.VolunteerFacts(
            volunteer_id=v.id, name=v.name, retired_on=v.retired_on, pledge_signed_on=v.pledge_signed_on,
            room_ids=frozenset(rooms.get(v.id, ())), kinds=frozenset(kinds.get(v.id, ())),
            slots=tuple(slots.get(v.id, ())), absences=tuple(absences.get(v.id, ())), busy=tuple(busy.get(v.id, ())))
        for v in volunteers
    }


def _rooms_of(session: Session, volunteer_ids: Sequence[int]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = defaultdict(list)
    if volunteer_ids:
        for vid, rid in session.execute(select(VolunteerRoom.volunteer_id, VolunteerRoom.room_id)
                                        .where(VolunteerRoom.volunteer_id.in_(list(volunteer_ids)))
                                        .order_by(VolunteerRoom.volunteer_id, VolunteerRoom.room_id)):
            result[vid].append(rid)
    return result


def _kinds_of(session: Session, volunteer_ids: Sequence[int]) -> dict[int, list[ReadingKind]]:
    result: dict[int, list[ReadingKind]] = defaultdict(list)
    if volunteer_ids:
        for vid, kind in session.execute(select(VolunteerSkill.volunteer_id, VolunteerSkill.kind)
                                         .where(VolunteerSkill.volunteer_id.in_(list(volunteer_ids)))
                                         .order_by(VolunteerSkill.volunteer_id, VolunteerSkill.kind)):
            result[vid].append(ReadingKind(kind))
    return result


def _set_links(session: Session, volunteer: Volunteer, room_ids: Iterable[int], kinds: Iterable[ReadingKind]) -> None:
    session.execute(delete(VolunteerRoom).where(VolunteerRoom.volunteer_id == volunteer.id))
    session.execute(delete(VolunteerSkill).where(VolunteerSkill.volunteer_id == volunteer.id))
    session.add_all([VolunteerRoom(volunteer_id=volunteer.id, room_id=rid) for rid in sorted(set(room_ids))])
    session.add_all([VolunteerSkill(volunteer_id=volunteer.id, kind=ReadingKind(k)) for k in sorted(set(kinds))])
    session.flush()


def _volunteer_alias():  # type: ignore[no-untyped-def]
    from sqlalchemy.orm import aliased

    return aliased(Volunteer)


def _clean(data: Mapping[str, Any], allowed: Sequence[str]) -> dict[str, Any]:
    cleaned = {}
    for key in allowed:
        if key in data:
            value = data[key]
            cleaned[key] = value.strip() if isinstance(value, str) and key not in ("notes", "note") else value
    return cleaned


def _apply(obj: Any, values: Mapping[str, Any]) -> list[str]:
    changed = []
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed.append(key)
    return changed


def _audit(session: Session, actor: StaffUser, action: str, entity_type: str, entity_id: int | None,
           fields: Sequence[str] = (), detail: str = "") -> None:
    audit.record(session, actor_id=actor.id, actor_username=actor.username, action=action, entity_type=entity_type,
                 entity_id=entity_id, fields=fields, detail=detail)
