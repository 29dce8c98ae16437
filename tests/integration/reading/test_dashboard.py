"""The reading card for the dashboard: staff counts, and a volunteer's own next sessions."""

from __future__ import annotations

from datetime import date, timedelta

from flask import render_template_string

from outreach.reading import services
from outreach.types import CancelledBy
from tests.integration.reading.conftest import (
    DAY,
    NOON,
    TEN,
    TODAY,
    make_patron,
    make_request,
    make_volunteer,
)


def test_dashboard_summary_and_card(app, db, users):
    librarian = users["librarian"]
    reader = make_volunteer(db, librarian, "reader-a", name="朗読 一", slots=[(wd, TEN, NOON) for wd in range(1, 7)])
    patron = make_patron(db, librarian, "6000000001")
    request = make_request(db, librarian, patron, address_as="山田さん")
    make_request(db, librarian, make_patron(db, librarian, "6000000002"))  # nothing booked: waiting
    soon = services.book_session(db, request=request, on=DAY, start=TEN, end=NOON, volunteer_id=reader.id,
                                 actor=librarian, today=TODAY)
    declined = services.book_session(db, request=request, on=DAY + timedelta(days=1), start=TEN, end=NOON,
                                     volunteer_id=reader.id, actor=librarian, today=TODAY)
    services.decline_session(db, declined, volunteer=reader, reason="", actor=librarian, today=TODAY)
    past = services.book_session(db, request=request, on=date(2027, 5, 25), start=TEN, end=NOON,
                                 volunteer_id=reader.id, actor=librarian, today=date(2027, 5, 25))
    cancelled = services.book_session(db, request=request, on=DAY + timedelta(days=2), start=TEN, end=NOON,
                                      volunteer_id=reader.id, actor=librarian, today=TODAY)
    services.cancel_session(db, cancelled, cancelled_by=CancelledBy.LIBRARY, reason="臨時休館", actor=librarian)
    assert past.session_on < TODAY

    staff = services.dashboard_summary(db, today=TODAY, user=librarian)
    assert (staff.requests_waiting, staff.declined, staff.unconfirmed_soon, staff.unlogged) == (1, 1, 1, 1)

    volunteer_user = db.get(type(librarian), reader.user_id)
    mine = services.dashboard_summary(db, today=TODAY, user=volunteer_user)
    assert mine.is_volunteer and [s.id for s in mine.my_sessions] == [soon.id] and mine.my_to_log == 1

    with app.test_request_context("/"):
        card = render_template_string('{% include "reading/_dashboard.html" %}', reading_summary=staff)
        assert "予約が1回も入っていない依頼：1件" in card and "協力者が辞退した回：1件" in card
        own = render_template_string('{% include "reading/_dashboard.html" %}', reading_summary=mine)
        assert "山田さん" in own and "記録を書く回：1件" in own
        assert patron.name not in own and patron.card_number not in own
