"""The session log (hours, privacy of titles, audit of changes) and the fiscal-year figures."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import select

from outreach.audit.models import AuditEvent
from outreach.enrolments.models import Approval
from outreach.reading import services
from outreach.reading.rules import ConflictCode, ReadingError
from outreach.types import CancelledBy, ReadingSessionState, Service
from tests.integration.reading.conftest import (
    DAY,
    NOON,
    TEN,
    TODAY,
    make_patron,
    make_request,
    make_volunteer,
    room,
)


def _session(db, librarian, *, consent=False, card="3100000001", on=DAY):  # type: ignore[no-untyped-def]
    patron = make_patron(db, librarian, card, consent=consent)
    volunteer = make_volunteer(db, librarian, f"reader-{card}")
    request = make_request(db, librarian, patron)
    s = services.book_session(db, request=request, on=on, start=TEN, end=NOON, volunteer_id=volunteer.id,
                              actor=librarian, today=TODAY)
    return s, volunteer


def test_log_computes_hours_and_keeps_titles_only_with_consent(db, librarian):
    without, _ = _session(db, librarian, consent=False, card="3100000001")
    services.log_session(db, without, actual_start=time(10, 5), actual_end=time(11, 50),
                         titles=["暮らしの手帖", "市政ニュース"], note="予定どおり", actor=librarian, today=DAY)
    assert (without.state, without.reading_minutes) == (ReadingSessionState.HELD, 105)
    assert (without.material_titles, without.material_count) == ("", 2)

    later = date(2027, 6, 15)
    with_consent, _ = _session(db, librarian, consent=True, card="3100000002", on=later)
    services.log_session(db, with_consent, actual_start=time(12, 0), actual_end=time(14, 0),
                         titles=["暮らしの手帖"], note="", actor=librarian, today=later)
    assert (with_consent.material_titles, with_consent.material_count, with_consent.reading_minutes) == (
        "暮らしの手帖", 1, 120)


def test_changing_a_held_sessions_log_is_audited(db, librarian):
    s, _ = _session(db, librarian)
    services.log_session(db, s, actual_start=TEN, actual_end=NOON, titles=[], note="", actor=librarian, today=DAY)
    changed = services.log_session(db, s, actual_start=TEN, actual_end=time(11, 30), titles=[], note="訂正",
                                   actor=librarian, today=DAY)
    assert set(changed) == {"actual_end_time", "reading_minutes", "log_note"}
    events = db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "reading_session",
                                                 AuditEvent.entity_id == s.id).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["book", "log", "update"]
    assert events[-1].fields == "actual_end_time,log_note,reading_minutes"
    assert "訂正" not in events[-1].detail  # names of fields, never their values


@pytest.mark.parametrize(("state_change", "code"), [
    ("cancel", ConflictCode.NOT_HELD),
    ("no_show", ConflictCode.NOT_HELD),
    ("future", ConflictCode.LOG_IN_FUTURE),
])
def test_a_log_for_a_session_never_held_is_refused(db, librarian, state_change, code):
    s, _ = _session(db, librarian)
    today = DAY
    if state_change == "cancel":
        services.cancel_session(db, s, cancelled_by=CancelledBy.PATRON, reason="体調不良", actor=librarian)
    elif state_change == "no_show":
        services.mark_no_show(db, s, actor=librarian, today=DAY)
    else:
        today = TODAY  # a week before the session
    state_before = s.state
    with pytest.raises(ReadingError) as exc:
        services.log_session(db, s, actual_start=TEN, actual_end=NOON, titles=[], note="", actor=librarian,
                             today=today)
    assert exc.value.codes == {code}
    db.refresh(s)
    assert (s.state, s.reading_minutes) == (state_before, None)


def test_a_log_that_ends_before_it_starts_is_refused(db, librarian):
    s, _ = _session(db, librarian)
    with pytest.raises(ReadingError) as exc:
        services.log_session(db, s, actual_start=NOON, actual_end=TEN, titles=[], note="", actor=librarian, today=DAY)
    assert exc.value.codes == {ConflictCode.END_BEFORE_START}


def test_cancel_needs_a_reason_and_records_who(db, librarian):
    s, _ = _session(db, librarian)
    with pytest.raises(ReadingError):
        services.cancel_session(db, s, cancelled_by=CancelledBy.LIBRARY, reason="  ", actor=librarian)
    services.cancel_session(db, s, cancelled_by=CancelledBy.LIBRARY, reason="臨時休館", actor=librarian)
    assert (s.state, s.cancelled_by, s.cancel_reason, s.cancelled_by_user_id) == (
        ReadingSessionState.CANCELLED, CancelledBy.LIBRARY, "臨時休館", librarian.id)
    with pytest.raises(ReadingError) as exc:
        services.confirm_session(db, s, volunteer=services.get_volunteer(db, s.volunteer_id), actor=librarian,
                                 today=TODAY)
    assert exc.value.codes == {ConflictCode.INVALID_TRANSITION}


def _held(db, librarian, request, volunteer, on, minutes=120):  # type: ignore[no-untyped-def]
    s = services.book_session(db, request=request, on=on, start=TEN, end=NOON, volunteer_id=volunteer.id,
                              actor=librarian, today=on)
    end = time(10 + minutes // 60, minutes % 60)
    services.log_session(db, s, actual_start=TEN, actual_end=end, titles=[], note="", actor=librarian, today=on)
    return s


def test_fiscal_year_figures_per_library_and_volunteer(db, librarian):
    kitaguchi, central = room(db, "北口図書館"), room(db, "中央図書館")
    reader = make_volunteer(db, librarian, "reader-a", rooms=("北口図書館", "中央図書館"), name="朗読 一")
    services.add_availability(db, reader, room_id=central.id, weekday=2, start=TEN, end=NOON, actor=librarian)
    other = make_volunteer(db, librarian, "reader-b", name="朗読 二")
    # Three registrants at 北口 (one of them asked at 中央 first, then at 北口), one at 中央, one without a request,
    # one whose registration ended before the year's end.
    a = make_patron(db, librarian, "3200000001", registered_from=date(2027, 4, 1))
    b = make_patron(db, librarian, "3200000002", registered_from=date(2027, 4, 1))
    c = make_patron(db, librarian, "3200000003", registered_from=date(2027, 4, 1))
    d = make_patron(db, librarian, "3200000004", registered_from=date(2027, 4, 1))
    make_patron(db, librarian, "3200000005", registered_from=date(2027, 4, 1))  # unassigned
    gone = make_patron(db, librarian, "3200000006", registered_from=date(2027, 4, 1), registered_until=date(2028, 1, 31))
    a_req = make_request(db, librarian, a, received_on=date(2027, 4, 2))
    make_request(db, librarian, b, received_on=date(2027, 4, 2))
    make_request(db, librarian, c, library="中央図書館", received_on=date(2027, 4, 2))
    make_request(db, librarian, c, received_on=date(2027, 5, 1))
    d_req = make_request(db, librarian, d, library="中央図書館", received_on=date(2027, 4, 2))
    make_request(db, librarian, gone, received_on=date(2027, 4, 2))
    # Held sessions: 北口 two (120 + 90 min), 中央 one (120); one cancelled and one in the next year do not count.
    _held(db, librarian, a_req, reader, date(2027, 6, 8))
    _held(db, librarian, a_req, other, date(2027, 6, 15), minutes=90)
    _held(db, librarian, d_req, reader, date(2027, 6, 9))
    cancelled = services.book_session(db, request=a_req, on=date(2027, 6, 22), start=TEN, end=NOON,
                                      volunteer_id=reader.id, actor=librarian, today=date(2027, 6, 1))
    services.cancel_session(db, cancelled, cancelled_by=CancelledBy.PATRON, reason="都合", actor=librarian)
    # An approval for another service is not a face-to-face registration.
    db.add(Approval(patron_id=a.id, service=Service.HOME_DELIVERY, valid_from=date(2027, 4, 1), approved_by_id=librarian.id))
    db.flush()

    figures = services.reading_figures(db, 2027)
    rows = {f.library_name: (f.registrants, f.sessions, f.hours) for f in figures.libraries}
    assert rows == {"中央図書館": (1, 1, 2.0), "鳴尾図書館": (0, 0, 0.0), "北口図書館": (3, 2, 3.5)}
    assert [f.library_name for f in figures.libraries] == ["中央図書館", "鳴尾図書館", "北口図書館"]
    assert figures.unassigned_registrants == 1
    assert (figures.total_registrants, figures.total_sessions, figures.total_hours) == (5, 3, 5.5)
    assert [(v.name, v.sessions, v.minutes) for v in figures.volunteers] == [("朗読 一", 2, 240), ("朗読 二", 1, 90)]
    # The previous year had none of it.
    previous = services.reading_figures(db, 2026)
    assert previous.total_sessions == 0 and previous.total_registrants == 0
    assert kitaguchi.id in {f.room_id for f in previous.libraries}


def test_the_source_years_shape_thirty_sessions_sixty_hours(db, librarian):
    """令和2年度 北口: 3 registrants, 30 sessions, 60 hours (every session 2 hours)."""
    reader = make_volunteer(db, librarian, "reader-a", slots=[(wd, TEN, NOON) for wd in range(1, 7)])
    patrons = [make_patron(db, librarian, f"33000000{i:02d}", registered_from=date(2020, 4, 1)) for i in range(3)]
    requests = [make_request(db, librarian, p, received_on=date(2020, 4, 1)) for p in patrons]
    day, held = date(2020, 4, 7), 0
    while held < 30:
        from outreach.calendar import is_open

        if is_open(day) and day.weekday() != 0:
            _held(db, librarian, requests[held % 3], reader, day)
            held += 1
        day = date.fromordinal(day.toordinal() + 1)
    figures = services.reading_figures(db, 2020)
    kitaguchi = next(f for f in figures.libraries if f.library_name == "北口図書館")
    assert (kitaguchi.registrants, kitaguchi.sessions, kitaguchi.hours) == (3, 30, 60.0)


def test_closing_a_request_forgets_what_was_read_without_consent(db, librarian):
    s, _ = _session(db, librarian, consent=False)
    request = services.get_request(db, s.request_id)
    with pytest.raises(ReadingError) as exc:
        services.close_request(db, request, actor=librarian, today=TODAY)  # a session is still ahead
    assert "1回の予定があります" in exc.value.message("ja")
    services.log_session(db, s, actual_start=TEN, actual_end=NOON, titles=["広報紙"], note="", actor=librarian, today=DAY)
    services.close_request(db, request, actor=librarian, today=DAY)
    assert (request.status.value, request.material_description, request.closed_on) == ("closed", "", DAY)
    assert (s.reading_minutes, s.material_count, s.material_titles) == (120, 1, "")  # the counts stay

    kept, _ = _session(db, librarian, consent=True, card="3100000009", on=date(2027, 6, 15))
    consenting = services.get_request(db, kept.request_id)
    services.cancel_session(db, kept, cancelled_by=CancelledBy.PATRON, reason="都合", actor=librarian)
    services.close_request(db, consenting, actor=librarian, today=TODAY)
    assert consenting.material_description == "市の広報紙と新聞の社説"
