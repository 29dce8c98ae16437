"""Pure rules of face-to-face reading: times, open days and hours, volunteers, states, the log, privacy."""

from __future__ import annotations

import dataclasses
from datetime import date, time

import pytest

from outreach.policy import DEFAULT_POLICY
from outreach.reading import rules
from outreach.reading.rules import ConflictCode, VolunteerFacts
from outreach.types import ReadingKind, ReadingSessionState

TEN, NOON = time(10, 0), time(12, 0)
HOURS = (time(9, 0), time(20, 0))


def codes(conflicts) -> set[str]:  # type: ignore[no-untyped-def]
    return {c.code for c in conflicts}


def test_minutes_and_overlaps():
    assert rules.minutes_between(TEN, NOON) == 120
    assert rules.minutes_between(NOON, TEN) == -120
    assert rules.overlaps(TEN, NOON, time(11, 0), time(13, 0))
    assert not rules.overlaps(TEN, NOON, NOON, time(14, 0))  # back to back
    assert rules.reading_hours(90) == 1.5 and rules.reading_hours(3600) == 60.0


@pytest.mark.parametrize(("start", "end", "expected"), [
    (TEN, NOON, set()),
    (NOON, TEN, {ConflictCode.END_BEFORE_START}),
    (TEN, TEN, {ConflictCode.END_BEFORE_START}),
    (TEN, time(13, 0), set()),  # 180 minutes: the policy's longest session
    (TEN, time(13, 1), {ConflictCode.TOO_LONG}),
])
def test_session_times(start, end, expected):
    assert codes(rules.check_times(start, end)) == expected


def test_the_longest_session_is_a_policy_value():
    short = dataclasses.replace(DEFAULT_POLICY, face_to_face_session_minutes=60, face_to_face_max_session_minutes=90)
    [conflict] = rules.check_times(TEN, NOON, short)
    assert conflict.code == ConflictCode.TOO_LONG
    assert "90分まで" in conflict.message("ja") and "120" in conflict.message("en")


@pytest.mark.parametrize(("on", "start", "end", "hours", "expected"), [
    (date(2027, 6, 8), TEN, NOON, HOURS, set()),  # Tuesday
    (date(2027, 6, 7), TEN, NOON, HOURS, {ConflictCode.LIBRARY_CLOSED}),  # Monday
    (date(2027, 6, 3), TEN, NOON, HOURS, {ConflictCode.LIBRARY_CLOSED}),  # first Thursday
    (date(2027, 1, 3), TEN, NOON, HOURS, {ConflictCode.LIBRARY_CLOSED}),  # New Year
    (date(2026, 5, 5), TEN, NOON, HOURS, {ConflictCode.LIBRARY_CLOSED}),  # after a Monday holiday
    (date(2027, 6, 8), time(8, 30), TEN, HOURS, {ConflictCode.OUTSIDE_HOURS}),
    (date(2027, 6, 8), time(19, 0), time(20, 30), HOURS, {ConflictCode.OUTSIDE_HOURS}),
    (date(2027, 6, 8), time(18, 0), time(20, 0), HOURS, set()),  # up to closing time
    (date(2027, 6, 8), TEN, NOON, None, {ConflictCode.ROOM_CLOSED}),
])
def test_open_days_and_hours(on, start, end, hours, expected):
    assert codes(rules.check_open(on, start, end, hours, "北口図書館")) == expected


def test_closed_message_names_the_reason():
    [conflict] = rules.check_open(date(2027, 6, 7), TEN, NOON, HOURS, "中央図書館")
    assert conflict.message("ja") == "令和9年6月7日は中央図書館の休館日です（定例休館日）。"
    assert "weekly closing day" in conflict.message("en")


def test_a_monday_holiday_is_open_with_holiday_hours():
    assert rules.day_kind(date(2026, 5, 4)) == rules.HOLIDAY  # みどりの日, a Monday
    assert rules.day_kind(date(2027, 6, 8)) == 1
    assert rules.check_open(date(2026, 5, 4), TEN, NOON, HOURS, "北口図書館") == []


def test_branch_rooms_close_on_sundays():
    sunday = date(2027, 6, 6)
    assert rules.check_open(sunday, TEN, NOON, HOURS, "分室") == []
    assert codes(rules.check_open(sunday, TEN, NOON, HOURS, "分室", branch=True)) == {ConflictCode.LIBRARY_CLOSED}


def _facts(**changes) -> VolunteerFacts:  # type: ignore[no-untyped-def]
    base = VolunteerFacts(
        volunteer_id=1, name="朗読 一郎", retired_on=None, pledge_signed_on=date(2020, 4, 1), room_ids=frozenset({3}),
        kinds=frozenset({ReadingKind.GENERAL}), slots=(rules.Slot(3, 1, time(9, 30), time(15, 0)),))
    return dataclasses.replace(base, **changes)


def _check(facts, on=date(2027, 6, 8), start=TEN, end=NOON, room_id=3, kind=ReadingKind.GENERAL):  # type: ignore[no-untyped-def]
    return codes(rules.check_volunteer(facts, on=on, start=start, end=end, room_id=room_id, kind=kind,
                                       library_name="北口図書館"))


def test_an_available_volunteer_has_no_conflicts():
    assert _check(_facts()) == set()


@pytest.mark.parametrize(("changes", "kwargs", "expected"), [
    ({"retired_on": date(2027, 6, 1)}, {}, {ConflictCode.VOLUNTEER_RETIRED}),
    ({"retired_on": date(2027, 7, 1)}, {}, set()),  # retiring later: still reads until then
    ({"pledge_signed_on": None}, {}, {ConflictCode.VOLUNTEER_NO_PLEDGE}),
    ({"pledge_signed_on": date(2027, 6, 9)}, {}, {ConflictCode.VOLUNTEER_NO_PLEDGE}),
    ({}, {"room_id": 1}, {ConflictCode.VOLUNTEER_OTHER_LIBRARY, ConflictCode.VOLUNTEER_UNAVAILABLE}),
    ({}, {"kind": ReadingKind.ENGLISH}, {ConflictCode.VOLUNTEER_CANNOT_READ}),
    ({}, {"on": date(2027, 6, 9)}, {ConflictCode.VOLUNTEER_UNAVAILABLE}),  # a Wednesday
    ({}, {"end": time(15, 30)}, {ConflictCode.VOLUNTEER_UNAVAILABLE}),
    ({"absences": ((date(2027, 6, 1), date(2027, 6, 8)),)}, {}, {ConflictCode.VOLUNTEER_AWAY}),
    ({"busy": (rules.Busy(date(2027, 6, 8), time(11, 0), time(13, 0)),)}, {}, {ConflictCode.VOLUNTEER_TAKEN}),
    ({"busy": (rules.Busy(date(2027, 6, 8), NOON, time(14, 0)),)}, {}, set()),
])
def test_volunteer_conflicts(changes, kwargs, expected):
    assert _check(_facts(**changes), **kwargs) == expected


def test_retired_is_the_only_reason_given_for_a_retired_volunteer():
    facts = _facts(retired_on=date(2020, 1, 1), pledge_signed_on=None, kinds=frozenset())
    [conflict] = rules.check_volunteer(facts, on=date(2027, 6, 8), start=TEN, end=NOON, room_id=3,
                                       kind=ReadingKind.GENERAL, library_name="北口図書館")
    assert conflict.message("ja") == "朗読 一郎さんは退任しています。"


def test_series_dates_are_weekly_and_bounded():
    assert rules.series_dates(date(2027, 6, 8), 3) == [date(2027, 6, 8), date(2027, 6, 15), date(2027, 6, 22)]
    for bad in (0, 53):
        with pytest.raises(rules.ReadingError) as exc:
            rules.series_dates(date(2027, 6, 8), bad)
        assert exc.value.codes == {ConflictCode.TOO_MANY_OCCURRENCES}


@pytest.mark.parametrize(("from_state", "to_state", "ok"), [
    (ReadingSessionState.SCHEDULED, ReadingSessionState.CONFIRMED, True),
    (ReadingSessionState.CONFIRMED, ReadingSessionState.HELD, True),
    (ReadingSessionState.SCHEDULED, ReadingSessionState.DECLINED, True),
    (ReadingSessionState.DECLINED, ReadingSessionState.SCHEDULED, True),
    (ReadingSessionState.DECLINED, ReadingSessionState.HELD, False),
    (ReadingSessionState.CANCELLED, ReadingSessionState.SCHEDULED, False),
    (ReadingSessionState.HELD, ReadingSessionState.CANCELLED, False),
    (ReadingSessionState.NO_SHOW, ReadingSessionState.HELD, False),
])
def test_state_machine(from_state, to_state, ok):
    assert (rules.check_transition(from_state, to_state) == []) is ok


@pytest.mark.parametrize(("state", "session_on", "start", "end", "expected"), [
    (ReadingSessionState.CONFIRMED, date(2027, 6, 8), TEN, NOON, set()),
    (ReadingSessionState.SCHEDULED, date(2027, 6, 8), TEN, NOON, set()),  # forgot to confirm, but read
    (ReadingSessionState.HELD, date(2027, 6, 8), TEN, time(11, 0), set()),  # a correction
    (ReadingSessionState.CANCELLED, date(2027, 6, 8), TEN, NOON, {ConflictCode.NOT_HELD}),
    (ReadingSessionState.NO_SHOW, date(2027, 6, 8), TEN, NOON, {ConflictCode.NOT_HELD}),
    (ReadingSessionState.DECLINED, date(2027, 6, 8), TEN, NOON, {ConflictCode.NOT_HELD}),
    (ReadingSessionState.CONFIRMED, date(2027, 6, 9), TEN, NOON, {ConflictCode.LOG_IN_FUTURE}),
    (ReadingSessionState.CONFIRMED, date(2027, 6, 8), NOON, TEN, {ConflictCode.END_BEFORE_START}),
    (ReadingSessionState.CONFIRMED, date(2027, 6, 8), time(9, 0), time(13, 30), {ConflictCode.TOO_LONG}),
])
def test_a_log_only_for_a_session_that_took_place(state, session_on, start, end, expected):
    assert codes(rules.check_log(state, session_on, start, end, today=date(2027, 6, 8))) == expected


def test_titles_are_kept_only_with_consent():
    titles = rules.split_titles("  暮らしの手帖 \n\n市政ニュース\n")
    assert titles == ["暮らしの手帖", "市政ニュース"]
    assert rules.material_record(titles, has_consent=True) == rules.MaterialRecord("暮らしの手帖\n市政ニュース", 2)
    assert rules.material_record(titles, has_consent=False) == rules.MaterialRecord("", 2)
    assert rules.material_record([], has_consent=False) == rules.MaterialRecord("", 0)
