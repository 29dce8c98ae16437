"""Booking single and recurring sessions: every conflict refused with its reason, nothing saved on refusal."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from outreach.reading import services
from outreach.reading.models import ReadingSeries, ReadingSession
from outreach.reading.rules import ConflictCode, ReadingError
from outreach.types import ReadingKind, ReadingSessionState
from tests.integration.reading.conftest import (
    DAY,
    NOON,
    TEN,
    TODAY,
    TWO,
    make_patron,
    make_request,
    make_volunteer,
    room,
)


def _count(db) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(ReadingSession)) or 0


def _refused(db, **kwargs) -> set[str]:  # type: ignore[no-untyped-def]
    before = _count(db)
    with pytest.raises(ReadingError) as exc:
        services.book_session(db, **kwargs)
    assert _count(db) == before
    assert exc.value.message("ja") and exc.value.message("en")
    return exc.value.codes


@pytest.fixture()
def setup(db, librarian):  # type: ignore[no-untyped-def]
    patron = make_patron(db, librarian, "3000000001")
    volunteer = make_volunteer(db, librarian, "reader-a")
    request = make_request(db, librarian, patron)
    return patron, volunteer, request


def _book(db, librarian, request, volunteer, on=DAY, start=TEN, end=NOON):  # type: ignore[no-untyped-def]
    return services.book_session(db, request=request, on=on, start=start, end=end, volunteer_id=volunteer.id,
                                 actor=librarian, today=TODAY)


def test_a_slot_offers_the_available_volunteers(db, librarian, setup):
    _patron, volunteer, request = setup
    away = make_volunteer(db, librarian, "reader-b", name="不在 花子")
    services.add_absence(db, away, starts_on=DAY, ends_on=DAY, note="旅行", actor=librarian)
    english_only = make_volunteer(db, librarian, "reader-c", kinds=(ReadingKind.ENGLISH,), name="英語 一郎")
    make_volunteer(db, librarian, "reader-d", rooms=("中央図書館",), name="中央 次郎")  # another library: not listed
    check = services.check_slot(db, request=request, on=DAY, start=TEN, end=NOON, today=TODAY)
    assert check.conflicts == ()
    assert [f.volunteer_id for f in check.offered] == [volunteer.id]
    reasons = {f.volunteer_id: {c.code for c in problems} for f, problems in check.not_offered}
    assert reasons == {away.id: {ConflictCode.VOLUNTEER_AWAY}, english_only.id: {ConflictCode.VOLUNTEER_CANNOT_READ}}


def test_book_a_session(db, librarian, setup):
    patron, volunteer, request = setup
    s = _book(db, librarian, request, volunteer)
    assert (s.state, s.patron_id, s.volunteer_id, s.session_on) == (ReadingSessionState.SCHEDULED, patron.id,
                                                                     volunteer.id, DAY)


def test_the_room_the_volunteer_and_the_patron_cannot_be_booked_twice(db, librarian, setup):
    patron, volunteer, request = setup
    _book(db, librarian, request, volunteer)
    # Same room, another patron and volunteer, overlapping by an hour.
    other_patron = make_patron(db, librarian, "3000000002")
    other_volunteer = make_volunteer(db, librarian, "reader-b")
    other_request = make_request(db, librarian, other_patron)
    codes = _refused(db, request=other_request, on=DAY, start=time(11, 0), end=time(13, 0),
                     volunteer_id=other_volunteer.id, actor=librarian, today=TODAY)
    assert codes == {ConflictCode.ROOM_TAKEN}
    # Back to back is fine: 12:00–14:00 after 10:00–12:00.
    services.book_session(db, request=other_request, on=DAY, start=NOON, end=TWO, volunteer_id=other_volunteer.id,
                          actor=librarian, today=TODAY)
    # The same patron at another library at the same time.
    central = make_request(db, librarian, patron, library="中央図書館")
    central_reader = make_volunteer(db, librarian, "reader-c", rooms=("中央図書館",))
    assert _refused(db, request=central, on=DAY, start=TEN, end=NOON, volunteer_id=central_reader.id,
                    actor=librarian, today=TODAY) == {ConflictCode.PATRON_TAKEN}
    # The same volunteer at another library at the same time.
    third = make_patron(db, librarian, "3000000003")
    naruo = make_request(db, librarian, third, library="鳴尾図書館")
    services.update_volunteer(db, volunteer, data={}, room_ids=[room(db, "北口図書館").id, room(db, "鳴尾図書館").id],
                              kinds=[ReadingKind.GENERAL], actor=librarian, today=TODAY)
    services.add_availability(db, volunteer, room_id=room(db, "鳴尾図書館").id, weekday=1, start=TEN, end=TWO,
                              actor=librarian)
    assert _refused(db, request=naruo, on=DAY, start=TEN, end=NOON, volunteer_id=volunteer.id, actor=librarian,
                    today=TODAY) == {ConflictCode.VOLUNTEER_TAKEN}


@pytest.mark.parametrize(("on", "start", "end", "code"), [
    (DAY, NOON, TEN, ConflictCode.END_BEFORE_START),
    (DAY, TEN, TEN, ConflictCode.END_BEFORE_START),
    (DAY, time(9, 0), time(13, 0), ConflictCode.TOO_LONG),  # 240 minutes > 180
    (date(2027, 6, 7), TEN, NOON, ConflictCode.LIBRARY_CLOSED),  # a Monday
    (date(2027, 6, 3), TEN, NOON, ConflictCode.LIBRARY_CLOSED),  # the first Thursday
    (date(2027, 12, 30), TEN, NOON, ConflictCode.LIBRARY_CLOSED),  # year end
    (DAY, time(19, 0), time(20, 30), ConflictCode.OUTSIDE_HOURS),  # 北口 closes at 20:00 on weekdays
    (date(2027, 5, 25), TEN, NOON, ConflictCode.IN_THE_PAST),
])
def test_bad_slots_are_refused_with_the_reason(db, librarian, setup, on, start, end, code):
    _patron, volunteer, request = setup
    codes = _refused(db, request=request, on=on, start=start, end=end, volunteer_id=volunteer.id, actor=librarian,
                     today=TODAY)
    assert code in codes


def test_a_patron_not_registered_on_that_day_cannot_book(db, librarian, setup):
    _patron, volunteer, _request = setup
    lapsed = make_patron(db, librarian, "3000000009", registered_until=date(2027, 6, 5))
    request = make_request(db, librarian, lapsed)
    assert _refused(db, request=request, on=DAY, start=TEN, end=NOON, volunteer_id=volunteer.id, actor=librarian,
                    today=TODAY) == {ConflictCode.NOT_REGISTERED}


def test_a_request_needs_a_registered_patron(db, librarian):
    stranger = make_patron(db, librarian, "3000000008", registered_from=None)
    with pytest.raises(ReadingError) as exc:
        make_request(db, librarian, stranger)
    assert exc.value.codes == {ConflictCode.NOT_REGISTERED}
    assert "対面朗読の利用登録がありません" in exc.value.message("ja")


def test_unsuitable_volunteers_are_refused(db, librarian, setup):
    _patron, volunteer, request = setup
    retired = make_volunteer(db, librarian, "reader-r")
    services.update_volunteer(db, retired, data={"retired_on": TODAY}, room_ids=[room(db, "北口図書館").id],
                              kinds=[ReadingKind.GENERAL], actor=librarian, today=TODAY)
    assert _refused(db, request=request, on=DAY, start=TEN, end=NOON, volunteer_id=retired.id, actor=librarian,
                    today=TODAY) == {ConflictCode.VOLUNTEER_RETIRED}
    unpledged = make_volunteer(db, librarian, "reader-p", pledge=None)
    assert _refused(db, request=request, on=DAY, start=TEN, end=NOON, volunteer_id=unpledged.id, actor=librarian,
                    today=TODAY) == {ConflictCode.VOLUNTEER_NO_PLEDGE}
    # Outside the volunteer's weekly slot (Tuesday 10–14 only).
    assert _refused(db, request=request, on=DAY, start=time(15, 0), end=time(17, 0), volunteer_id=volunteer.id,
                    actor=librarian, today=TODAY) == {ConflictCode.VOLUNTEER_UNAVAILABLE}


def test_a_series_books_each_week_and_reports_a_clash(db, librarian, setup):
    patron, volunteer, request = setup
    # The third Tuesday is taken by another patron in the room.
    other = make_request(db, librarian, make_patron(db, librarian, "3000000002"))
    other_reader = make_volunteer(db, librarian, "reader-b")
    clash_day = DAY + timedelta(days=14)
    services.book_session(db, request=other, on=clash_day, start=TEN, end=NOON, volunteer_id=other_reader.id,
                          actor=librarian, today=TODAY)
    before = _count(db)
    with pytest.raises(services.SeriesClashError) as exc:
        services.book_series(db, request=request, first_on=DAY, start=TEN, end=NOON, occurrences=8,
                             volunteer_id=volunteer.id, actor=librarian, today=TODAY)
    assert _count(db) == before
    # 2027-07-19 is Marine Day (a Monday holiday), so the library closes on Tuesday 07-20 instead.
    marine_day_shift = date(2027, 7, 20)
    assert [o.on for o in exc.value.occurrences if o.conflicts] == [clash_day, marine_day_shift]
    assert db.scalar(select(func.count()).select_from(ReadingSeries)) == 0

    result = services.book_series(db, request=request, first_on=DAY, start=TEN, end=NOON, occurrences=8,
                                  volunteer_id=volunteer.id, actor=librarian, today=TODAY, accept_clashes=True)
    assert len(result.booked) == 6
    assert [(c.on, {x.code for x in c.conflicts}) for c in result.clashes] == [
        (clash_day, {ConflictCode.ROOM_TAKEN}), (marine_day_shift, {ConflictCode.LIBRARY_CLOSED})]
    assert all(s.series_id == result.series.id and s.state == ReadingSessionState.SCHEDULED for s in result.booked)
    # Each occurrence is a session of its own: confirming one leaves the others as they were.
    services.confirm_session(db, result.booked[0], volunteer=volunteer, actor=librarian, today=TODAY)
    states = [v.state for v in services.volunteer_sessions(db, volunteer.id)]
    assert states == [ReadingSessionState.CONFIRMED] + [ReadingSessionState.SCHEDULED] * 5


def test_a_series_over_a_closed_day_reports_it(db, librarian, setup):
    _patron, volunteer, request = setup
    # Thursdays: the first Thursday of July 2027 (7/1) is a closing day.
    services.add_availability(db, volunteer, room_id=request.room_id, weekday=3, start=TEN, end=TWO, actor=librarian)
    plan = services.plan_series(db, request=request, first_on=date(2027, 6, 17), start=TEN, end=NOON, occurrences=3,
                                volunteer_id=volunteer.id, today=TODAY)
    assert [(o.on, {c.code for c in o.conflicts}) for o in plan] == [
        (date(2027, 6, 17), set()), (date(2027, 6, 24), set()), (date(2027, 7, 1), {ConflictCode.LIBRARY_CLOSED})]


def test_declined_session_keeps_the_room_until_reassigned(db, librarian, setup):
    _patron, volunteer, request = setup
    s = _book(db, librarian, request, volunteer)
    services.decline_session(db, s, volunteer=volunteer, reason="体調不良", actor=librarian, today=TODAY)
    assert (s.state, s.volunteer_id, s.declined_volunteer_id) == (ReadingSessionState.DECLINED, None, volunteer.id)
    other = make_request(db, librarian, make_patron(db, librarian, "3000000002"))
    second = make_volunteer(db, librarian, "reader-b")
    assert _refused(db, request=other, on=DAY, start=TEN, end=NOON, volunteer_id=second.id, actor=librarian,
                    today=TODAY) == {ConflictCode.ROOM_TAKEN}
    services.reassign_session(db, s, volunteer_id=second.id, actor=librarian, today=TODAY)
    assert (s.state, s.volunteer_id) == (ReadingSessionState.SCHEDULED, second.id)


def test_retiring_a_volunteer_with_booked_sessions_is_refused(db, librarian, setup):
    _patron, volunteer, request = setup
    _book(db, librarian, request, volunteer)
    with pytest.raises(ReadingError) as exc:
        services.update_volunteer(db, volunteer, data={"retired_on": TODAY}, room_ids=[request.room_id],
                                  kinds=[ReadingKind.GENERAL], actor=librarian, today=TODAY)
    assert "1回の対面朗読が予定されています" in exc.value.message("ja")
    db.refresh(volunteer)
    assert volunteer.retired_on is None
