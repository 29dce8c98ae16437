"""What a reader read is forgotten when consent is withdrawn (at once, and in the nightly sweep) while the
statistics stay; a retirement day set ahead of time ends the volunteer's access on that day."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import func, select

from outreach.auth.models import StaffSession, StaffUser
from outreach.loans import jobs as loan_jobs
from outreach.loans import services as loan_services
from outreach.patrons import services as patron_services
from outreach.reading import routes, services
from outreach.reading.models import ReadingRequest, ReadingSession
from outreach.types import ReadingRequestStatus
from tests.conftest import login
from tests.integration.reading.conftest import (
    DAY,
    NOON,
    TEN,
    TODAY,
    make_patron,
    make_request,
    make_volunteer,
)

FY = 2027
LATER = date(2027, 6, 15)  # another open Tuesday


def _held(db, librarian, patron, volunteer, on: date, titles: list[str], description: str):  # type: ignore[no-untyped-def]
    request = make_request(db, librarian, patron, material_description=description)
    reading = services.book_session(db, request=request, on=on, start=TEN, end=NOON, volunteer_id=volunteer.id,
                                    actor=librarian, today=TODAY)
    services.log_session(db, reading, actual_start=TEN, actual_end=time(11, 45), titles=titles, note="",
                         actor=librarian, today=on)
    return request, reading


@pytest.fixture()
def two_readers(db, librarian):  # type: ignore[no-untyped-def]
    """Two consenting patrons, each with a held session and a closed request, and one still-open request."""
    volunteer = make_volunteer(db, librarian, "privacy-reader")
    hanako = make_patron(db, librarian, "4100000001", consent=True, name="読書 花子")
    taro = make_patron(db, librarian, "4100000002", consent=True, name="読書 太郎")
    closed, hanako_session = _held(db, librarian, hanako, volunteer, DAY, ["秘密の本", "日記"], "恋愛小説")
    services.close_request(db, closed, actor=librarian, today=DAY)
    still_open = make_request(db, librarian, hanako, material_description="来月の広報紙")
    taro_request, taro_session = _held(db, librarian, taro, volunteer, LATER, ["taroの本"], "歴史書")
    services.close_request(db, taro_request, actor=librarian, today=LATER)
    db.commit()
    return {"hanako": hanako, "taro": taro, "closed": closed, "open": still_open, "hanako_session": hanako_session,
            "taro_session": taro_session}


def _figures(db):  # type: ignore[no-untyped-def]
    f = services.reading_figures(db, FY)
    return ([(x.library_name, x.registrants, x.sessions, x.minutes) for x in f.libraries],
            [(v.name, v.sessions, v.minutes) for v in f.volunteers])


def _fresh(db, model, id_):  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.get(model, id_)


def test_withdrawing_consent_forgets_session_titles_and_closed_requests_at_once(db, librarian, two_readers):
    w = two_readers
    before = _figures(db)
    assert _fresh(db, ReadingSession, w["hanako_session"].id).material_titles == "秘密の本\n日記"
    patron_services.update_patron(db, w["hanako"], data={"has_reading_history_consent": False}, actor=librarian,
                                  library_prefecture="兵庫県", library_city="西宮市")
    db.commit()
    forgotten = _fresh(db, ReadingSession, w["hanako_session"].id)
    assert (forgotten.material_titles, forgotten.material_count, forgotten.reading_minutes) == ("", 2, 105)
    assert _fresh(db, ReadingRequest, w["closed"].id).material_description == ""
    # The open request keeps what is to be read: the reader needs it for the sessions still to come.
    assert _fresh(db, ReadingRequest, w["open"].id).material_description == "来月の広報紙"
    # Another patron, who still consents, keeps their history.
    assert _fresh(db, ReadingSession, w["taro_session"].id).material_titles == "taroの本"
    assert _fresh(db, ReadingRequest, w["taro_session"].request_id).material_description == "歴史書"
    assert _figures(db) == before  # sessions and hours do not change


def test_the_nightly_sweep_forgets_titles_of_every_patron_without_consent(db, librarian, two_readers):
    w = two_readers
    before = _figures(db)
    # Consent changed without the patron form (e.g. an import): the nightly sweep catches it.
    w["taro"].has_reading_history_consent = False
    db.commit()
    assert loan_services.privacy_sweep(db) == 2  # one session's titles, one closed request's description
    db.commit()
    assert _fresh(db, ReadingSession, w["taro_session"].id).material_titles == ""
    assert _fresh(db, ReadingRequest, w["taro_session"].request_id).material_description == ""
    assert _fresh(db, ReadingSession, w["hanako_session"].id).material_titles == "秘密の本\n日記"  # consents
    assert _figures(db) == before
    assert loan_services.privacy_sweep(db) == 0  # nothing left to forget: safe to repeat


def test_the_daily_job_runs_the_sweep(db, librarian, two_readers):
    w = two_readers
    w["hanako"].has_reading_history_consent = False
    db.commit()
    summary = loan_jobs.overdue(db, date(2027, 6, 20))
    db.commit()
    assert "2 reading records anonymised" in summary  # her session's titles, her closed request
    assert _fresh(db, ReadingSession, w["hanako_session"].id).material_titles == ""
    assert _fresh(db, ReadingRequest, w["open"].id).status is ReadingRequestStatus.OPEN


# --------------------------------------------------------------------------------------------------
# retirement set ahead of time


RETIRES_ON = date(2027, 7, 1)


@pytest.fixture()
def retiring(db, librarian, monkeypatch):  # type: ignore[no-untyped-def]
    volunteer = make_volunteer(db, librarian, "leaving-reader")
    services.update_volunteer(db, volunteer, data={"retired_on": RETIRES_ON}, room_ids=services.volunteer_room_ids(
        db, volunteer.id), kinds=services.volunteer_kinds(db, volunteer.id), actor=librarian, today=TODAY)
    db.commit()
    days = {"today": TODAY}
    monkeypatch.setattr(routes, "today", lambda: days["today"])
    return volunteer, days


def _account(db, volunteer) -> StaffUser:  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.get(StaffUser, volunteer.user_id)


def test_a_future_retirement_keeps_access_until_the_day(client, db, retiring):
    volunteer, days = retiring
    assert _account(db, volunteer).is_active
    assert login(client, "leaving-reader", "volunteer-pass-1234").status_code == 302
    assert client.get("/reading/my/calendar").status_code == 200
    days["today"] = date(2027, 6, 30)
    assert client.get("/reading/my/availability").status_code == 200
    assert loan_jobs.overdue(db, date(2027, 6, 30)).endswith("0 retired volunteer accounts deactivated")
    assert _account(db, volunteer).is_active


def test_on_the_retirement_day_the_pages_refuse_and_the_daily_job_ends_the_account(client, db, retiring):
    volunteer, days = retiring
    assert login(client, "leaving-reader", "volunteer-pass-1234").status_code == 302
    days["today"] = RETIRES_ON
    # Before the job has run that morning, the volunteer pages already refuse.
    assert client.get("/reading/my/calendar").status_code == 404
    assert client.get("/reading/my/availability").status_code == 404
    page = client.get("/reading/my").get_data(as_text=True)
    assert "協力者としての活動は" in page and "花子" not in page

    summary = loan_jobs.overdue(db, RETIRES_ON)
    db.commit()
    assert summary.endswith("1 retired volunteer accounts deactivated")
    assert not _account(db, volunteer).is_active
    open_sessions = db.scalar(select(func.count()).select_from(StaffSession).where(
        StaffSession.user_id == volunteer.user_id, StaffSession.ended_at.is_(None)))
    assert open_sessions == 0
    assert client.get("/reading/my").status_code == 302  # logged out: back to the login page
    assert login(client, "leaving-reader", "volunteer-pass-1234").status_code == 400  # refused
    # The job's next run finds nobody left to deactivate.
    assert services.end_retired_volunteers(db, date(2027, 7, 2)) == 0


def test_a_volunteer_without_a_retirement_day_is_left_alone(db, librarian):
    staying = make_volunteer(db, librarian, "staying-reader")
    db.commit()
    assert services.end_retired_volunteers(db, date(2030, 1, 1)) == 0
    assert _account(db, staying).is_active
