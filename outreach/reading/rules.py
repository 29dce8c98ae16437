"""Pure rules of face-to-face reading (対面朗読): session times, open days and hours, volunteers, the log.

No Flask, no session, no query: values in, values or conflicts out. Every refusal is a
:class:`Conflict` with a stable code and a message in Japanese and English that names the rule.
Session lengths come from the policy (``face_to_face_max_session_minutes``); closed days from
:mod:`outreach.calendar` (図書館条例施行規則 第2条).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from outreach.calendar import closed_reason, format_wareki, is_national_holiday
from outreach.errors import DomainError
from outreach.policy import DEFAULT_POLICY, Policy
from outreach.types import ReadingKind, ReadingSessionState

HOLIDAY = 7  # the day kind of a national holiday (土日祝の開館時間 apply)
DAY_KINDS = tuple(range(8))
MAX_SERIES_OCCURRENCES = 52
_WEEKDAYS_JA = ("月", "火", "水", "木", "金", "土", "日", "祝")
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Hol")
_KIND_JA = {
    ReadingKind.GENERAL: "一般の資料",
    ReadingKind.ENGLISH: "英語の資料",
    ReadingKind.TECHNICAL: "専門書",
    ReadingKind.BRAILLE_PROOFREADING: "点訳校正",
}
_KIND_EN = {
    ReadingKind.GENERAL: "general texts",
    ReadingKind.ENGLISH: "English texts",
    ReadingKind.TECHNICAL: "technical texts",
    ReadingKind.BRAILLE_PROOFREADING: "braille proof-reading",
}

# Sessions in these states hold their room and patron; a volunteer is held while assigned.
OCCUPYING_STATES = (
    ReadingSessionState.SCHEDULED,
    ReadingSessionState.CONFIRMED,
    ReadingSessionState.DECLINED,
    ReadingSessionState.HELD,
)
UPCOMING_STATES = (ReadingSessionState.SCHEDULED, ReadingSessionState.CONFIRMED, ReadingSessionState.DECLINED)

ALLOWED_TRANSITIONS: dict[ReadingSessionState, frozenset[ReadingSessionState]] = {
    ReadingSessionState.SCHEDULED: frozenset({
        ReadingSessionState.SCHEDULED, ReadingSessionState.CONFIRMED, ReadingSessionState.DECLINED,
        ReadingSessionState.HELD, ReadingSessionState.CANCELLED, ReadingSessionState.NO_SHOW}),
    ReadingSessionState.CONFIRMED: frozenset({
        ReadingSessionState.SCHEDULED, ReadingSessionState.DECLINED, ReadingSessionState.HELD,
        ReadingSessionState.CANCELLED, ReadingSessionState.NO_SHOW}),
    ReadingSessionState.DECLINED: frozenset({ReadingSessionState.SCHEDULED, ReadingSessionState.CANCELLED}),
    ReadingSessionState.HELD: frozenset({ReadingSessionState.HELD}),  # the log may be corrected
    ReadingSessionState.CANCELLED: frozenset(),
    ReadingSessionState.NO_SHOW: frozenset(),
}


class ConflictCode(StrEnum):
    END_BEFORE_START = "reading.end_before_start"
    TOO_LONG = "reading.too_long"
    IN_THE_PAST = "reading.in_the_past"
    LIBRARY_CLOSED = "reading.library_closed"
    ROOM_CLOSED = "reading.room_closed"
    OUTSIDE_HOURS = "reading.outside_hours"
    NOT_REGISTERED = "reading.not_registered"
    ROOM_TAKEN = "reading.room_taken"
    PATRON_TAKEN = "reading.patron_taken"
    VOLUNTEER_TAKEN = "reading.volunteer_taken"
    VOLUNTEER_RETIRED = "reading.volunteer_retired"
    VOLUNTEER_NO_PLEDGE = "reading.volunteer_no_pledge"
    VOLUNTEER_OTHER_LIBRARY = "reading.volunteer_other_library"
    VOLUNTEER_CANNOT_READ = "reading.volunteer_cannot_read"
    VOLUNTEER_UNAVAILABLE = "reading.volunteer_unavailable"
    VOLUNTEER_AWAY = "reading.volunteer_away"
    INVALID_TRANSITION = "reading.invalid_transition"
    NOT_HELD = "reading.not_held"
    LOG_IN_FUTURE = "reading.log_in_future"
    TOO_MANY_OCCURRENCES = "reading.too_many_occurrences"
    ACCOUNT_UNSUITABLE = "reading.account_unsuitable"


@dataclass(frozen=True)
class Conflict:
    """Why a session cannot be booked (or a step cannot be taken), in a librarian's words."""

    code: ConflictCode
    message_ja: str
    message_en: str

    def message(self, lang: str = "ja") -> str:
        return self.message_en if lang.lower().startswith("en") else self.message_ja


class ReadingError(DomainError):
    """One or more reading rules refused an operation; nothing was saved. ``conflicts`` lists every reason."""

    default_code = "reading.refused"

    def __init__(self, conflicts: Sequence[Conflict]) -> None:
        self.conflicts = tuple(conflicts)
        first = self.conflicts[0] if self.conflicts else None
        super().__init__(
            first.code if first else None,
            " ".join(c.message_ja for c in self.conflicts),
            " ".join(c.message_en for c in self.conflicts),
        )

    @property
    def codes(self) -> set[str]:
        return {c.code for c in self.conflicts}


def _conflict(code: ConflictCode, ja: str, en: str) -> Conflict:
    return Conflict(code, ja, en)


def hhmm(t: time) -> str:
    """10:00 (times in messages and pages are written as text)."""
    return t.strftime("%H:%M")


def kind_words(kind: ReadingKind, lang: str = "ja") -> str:
    return (_KIND_EN if lang.startswith("en") else _KIND_JA)[kind]


def weekday_words(day_kind: int, lang: str = "ja") -> str:
    return (_WEEKDAYS_EN if lang.startswith("en") else _WEEKDAYS_JA)[day_kind]


# --------------------------------------------------------------------------------------------------
# time arithmetic


def minutes_between(start: time, end: time) -> int:
    """Whole minutes from ``start`` to ``end`` on the same day (negative when end is earlier)."""
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


def overlaps(start: time, end: time, other_start: time, other_end: time) -> bool:
    """Two periods overlap unless one ends when (or before) the other starts: 10–12 and 12–14 do not."""
    return start < other_end and other_start < end


def day_kind(d: date) -> int:
    """Which opening hours apply on ``d``: the weekday, or HOLIDAY on a national holiday (休日)."""
    return HOLIDAY if is_national_holiday(d) else d.weekday()


def series_dates(first_on: date, occurrences: int, every_days: int = 7) -> list[date]:
    """The dates of a recurring booking: ``first_on`` and then every ``every_days`` days."""
    if not 1 <= occurrences <= MAX_SERIES_OCCURRENCES:
        raise ReadingError([_conflict(
            ConflictCode.TOO_MANY_OCCURRENCES,
            f"繰り返しの回数は1回から{MAX_SERIES_OCCURRENCES}回までです。",
            f"A series has 1 to {MAX_SERIES_OCCURRENCES} occurrences.")])
    return [first_on + timedelta(days=every_days * i) for i in range(occurrences)]


def reading_hours(minutes: int) -> Decimal:
    """Reading hours as the statistics show them: one decimal, rounded half up (75 min → 1.3)."""
    return (Decimal(minutes) / Decimal(60)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------------------------------
# the slot: times, open days, opening hours


def check_times(start: time, end: time, policy: Policy = DEFAULT_POLICY) -> list[Conflict]:
    """A session ends after it starts and is no longer than the policy allows."""
    length = minutes_between(start, end)
    if length <= 0:
        return [_conflict(ConflictCode.END_BEFORE_START,
                          f"終了時刻（{hhmm(end)}）が開始時刻（{hhmm(start)}）より前か同じです。",
                          f"The session ends ({hhmm(end)}) before or when it starts ({hhmm(start)}).")]
    limit = policy.face_to_face_max_session_minutes
    if length > limit:
        return [_conflict(ConflictCode.TOO_LONG,
                          f"1回の対面朗読は{limit}分までです（{length}分になっています）。",
                          f"A session may last at most {limit} minutes (this one is {length}).")]
    return []


def check_not_past(on: date, today: date) -> list[Conflict]:
    if on < today:
        return [_conflict(ConflictCode.IN_THE_PAST, f"{format_wareki(on)}は過去の日付です。",
                          f"{on.isoformat()} is in the past.")]
    return []


def check_open(
    on: date,
    start: time,
    end: time,
    hours: tuple[time, time] | None,
    library_name: str,
    policy: Policy = DEFAULT_POLICY,
    branch: bool = False,
) -> list[Conflict]:
    """The library is open on ``on`` (休館日 per the policy) and the session lies within the room's hours."""
    reason = closed_reason(on, policy, branch=branch)
    if reason is not None:
        return [_conflict(ConflictCode.LIBRARY_CLOSED,
                          f"{format_wareki(on)}は{library_name}の休館日です（{reason.label('ja')}）。",
                          f"{library_name} is closed on {on.isoformat()} ({reason.label('en')}).")]
    if hours is None:
        kind = day_kind(on)
        return [_conflict(ConflictCode.ROOM_CLOSED,
                          f"{library_name}の対面朗読室は{weekday_words(kind)}曜日（{format_wareki(on)}）に開いていません。",
                          f"The reading room of {library_name} does not open on {weekday_words(kind, 'en')} "
                          f"({on.isoformat()}).")]
    opens, closes = hours
    if start < opens or end > closes:
        return [_conflict(ConflictCode.OUTSIDE_HOURS,
                          f"{library_name}の開館時間（{hhmm(opens)}〜{hhmm(closes)}）の外です"
                          f"（{hhmm(start)}〜{hhmm(end)}）。",
                          f"{hhmm(start)}–{hhmm(end)} is outside the opening hours of {library_name} "
                          f"({hhmm(opens)}–{hhmm(closes)}).")]
    return []


def not_registered(on: date) -> Conflict:
    return _conflict(ConflictCode.NOT_REGISTERED,
                     f"この利用者は{format_wareki(on)}に対面朗読の利用登録がありません。",
                     f"The patron is not registered for face-to-face reading on {on.isoformat()}.")


def room_taken(start: time, end: time) -> Conflict:
    return _conflict(ConflictCode.ROOM_TAKEN,
                     f"対面朗読室はこの時間（{hhmm(start)}〜{hhmm(end)}）にすでに予約があります。",
                     f"The reading room is already booked at this time ({hhmm(start)}–{hhmm(end)}).")


def patron_taken(start: time, end: time) -> Conflict:
    return _conflict(ConflictCode.PATRON_TAKEN,
                     f"この利用者はこの時間（{hhmm(start)}〜{hhmm(end)}）に別の対面朗読の予約があります。",
                     f"The patron already has a session at this time ({hhmm(start)}–{hhmm(end)}).")


# --------------------------------------------------------------------------------------------------
# volunteers


@dataclass(frozen=True)
class Slot:
    """A weekly availability slot of a volunteer at one library."""

    room_id: int
    weekday: int
    start_time: time
    end_time: time


@dataclass(frozen=True)
class Busy:
    """A session that already holds the volunteer."""

    on: date
    start_time: time
    end_time: time


@dataclass(frozen=True)
class VolunteerFacts:
    """What the rules need to know about a volunteer to offer or book them."""

    volunteer_id: int
    name: str
    retired_on: date | None
    pledge_signed_on: date | None
    room_ids: frozenset[int]
    kinds: frozenset[ReadingKind]
    slots: tuple[Slot, ...] = ()
    absences: tuple[tuple[date, date], ...] = ()
    busy: tuple[Busy, ...] = field(default=())

    def is_retired_on(self, on: date) -> bool:
        return self.retired_on is not None and self.retired_on <= on


def check_volunteer(
    facts: VolunteerFacts,
    *,
    on: date,
    start: time,
    end: time,
    room_id: int,
    kind: ReadingKind,
    library_name: str,
) -> list[Conflict]:
    """Every reason why this volunteer cannot read at this slot; [] when they can be offered.

    A volunteer is offered when active (not retired), has signed the confidentiality pledge
    (利用者の秘密を守る), serves the library, can read the kind of text, has a weekly slot covering the
    session at that library, is not away that day, and has no other session at that time.
    """
    name = facts.name
    if facts.is_retired_on(on):
        return [_conflict(ConflictCode.VOLUNTEER_RETIRED, f"{name}さんは退任しています。",
                          f"{name} has retired as a volunteer reader.")]
    problems: list[Conflict] = []
    if facts.pledge_signed_on is None or facts.pledge_signed_on > on:
        problems.append(_conflict(ConflictCode.VOLUNTEER_NO_PLEDGE,
                                  f"{name}さんは守秘義務の誓約（利用者の秘密を守る）がまだ記録されていません。",
                                  f"{name} has no confidentiality pledge on record for that day."))
    if room_id not in facts.room_ids:
        problems.append(_conflict(ConflictCode.VOLUNTEER_OTHER_LIBRARY, f"{name}さんは{library_name}の担当ではありません。",
                                  f"{name} does not serve {library_name}."))
    if kind not in facts.kinds:
        problems.append(_conflict(ConflictCode.VOLUNTEER_CANNOT_READ,
                                  f"{name}さんは「{kind_words(kind)}」の朗読を担当していません。",
                                  f"{name} does not read {kind_words(kind, 'en')}."))
    if any(first <= on <= last for first, last in facts.absences):
        problems.append(_conflict(ConflictCode.VOLUNTEER_AWAY, f"{name}さんは{format_wareki(on)}は不在です。",
                                  f"{name} is away on {on.isoformat()}."))
    elif not any(s.room_id == room_id and s.weekday == on.weekday() and s.start_time <= start and end <= s.end_time
                 for s in facts.slots):
        problems.append(_conflict(ConflictCode.VOLUNTEER_UNAVAILABLE,
                                  f"{name}さんの活動可能な時間（{library_name}・{weekday_words(on.weekday())}曜日）に"
                                  f"{hhmm(start)}〜{hhmm(end)}が含まれていません。",
                                  f"{name} is not available at {library_name} on {weekday_words(on.weekday(), 'en')} "
                                  f"{hhmm(start)}–{hhmm(end)}."))
    if any(b.on == on and overlaps(start, end, b.start_time, b.end_time) for b in facts.busy):
        problems.append(_conflict(ConflictCode.VOLUNTEER_TAKEN,
                                  f"{name}さんはこの時間（{hhmm(start)}〜{hhmm(end)}）に別の対面朗読があります。",
                                  f"{name} already reads in another session at this time."))
    return problems


def check_availability_slot(start: time, end: time) -> list[Conflict]:
    if minutes_between(start, end) <= 0:
        return [_conflict(ConflictCode.END_BEFORE_START,
                          f"終了時刻（{hhmm(end)}）が開始時刻（{hhmm(start)}）より前か同じです。",
                          f"The end ({hhmm(end)}) is before or at the start ({hhmm(start)}).")]
    return []


# --------------------------------------------------------------------------------------------------
# states and the log


_STATE_JA = {
    ReadingSessionState.SCHEDULED: "協力者の確認待ち",
    ReadingSessionState.CONFIRMED: "確認済み",
    ReadingSessionState.DECLINED: "協力者が辞退",
    ReadingSessionState.HELD: "実施済み",
    ReadingSessionState.CANCELLED: "取消",
    ReadingSessionState.NO_SHOW: "利用者の不参加",
}


def check_transition(from_state: ReadingSessionState, to_state: ReadingSessionState) -> list[Conflict]:
    """The session state machine: scheduled → confirmed → held, or declined, cancelled, no-show."""
    if to_state in ALLOWED_TRANSITIONS[from_state]:
        return []
    return [_conflict(ConflictCode.INVALID_TRANSITION,
                      f"この回は「{_STATE_JA[from_state]}」のため、「{_STATE_JA[to_state]}」にはできません。",
                      f"A session that is {from_state.value} cannot become {to_state.value}.")]


def check_log(
    state: ReadingSessionState,
    session_on: date,
    actual_start: time,
    actual_end: time,
    today: date,
    policy: Policy = DEFAULT_POLICY,
) -> list[Conflict]:
    """A log is written only for a session that took place: not cancelled, no-show or declined, not in the future;
    the actual times end after they start and stay within the policy's longest session."""
    if state not in (ReadingSessionState.SCHEDULED, ReadingSessionState.CONFIRMED, ReadingSessionState.HELD):
        return [_conflict(ConflictCode.NOT_HELD,
                          f"この回は「{_STATE_JA[state]}」で、実施されていないため記録できません。",
                          f"This session was not held ({state.value}); there is nothing to log.")]
    if session_on > today:
        return [_conflict(ConflictCode.LOG_IN_FUTURE,
                          f"{format_wareki(session_on)}の回はまだ実施されていないため記録できません。",
                          f"The session on {session_on.isoformat()} has not taken place yet.")]
    return check_times(actual_start, actual_end, policy)


def split_titles(text: str) -> list[str]:
    """One title per line, blank lines and surrounding spaces dropped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


@dataclass(frozen=True)
class MaterialRecord:
    """What the log keeps of the material read: titles only with consent, otherwise only a count."""

    titles: str
    count: int


def material_record(titles: Iterable[str], has_consent: bool) -> MaterialRecord:
    """図書館の自由に関する宣言 (利用者の秘密を守る): who read what is kept only with the patron's consent."""
    items = [t for t in titles if t]
    return MaterialRecord("\n".join(items) if has_consent else "", len(items))
