"""The reading pages as a librarian and a volunteer use them: forms, errors on fields, nothing saved on refusal,
and what a volunteer must never see."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from sqlalchemy import func, select

from outreach.audit.models import AuditEvent
from outreach.auth.models import StaffUser
from outreach.reading import routes, services
from outreach.reading.models import ReadingRequest, ReadingRoomHours, ReadingSession, Volunteer
from outreach.types import ReadingKind, ReadingSessionState, Role
from tests.conftest import login, post
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

REGISTERED_LONG_AGO = date(2020, 4, 1)


@pytest.fixture()
def on_day(monkeypatch):  # type: ignore[no-untyped-def]
    """Pin the library's 'today' seen by the reading pages."""

    def pin(day: date) -> None:
        monkeypatch.setattr(routes, "today", lambda: day)

    pin(TODAY)
    return pin


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model)) or 0


VOLUNTEER_FORM = {
    "name": "朗読 はな", "name_kana": "ロウドク ハナ", "phone": "090-1111-2222", "email": "", "postal_code": "",
    "address": "", "pledge_signed_on": "2020-04-01", "notes": "", "account_id": "0",
    "username": "hana-reader", "password": "reading-aloud-2027", "password_confirm": "reading-aloud-2027",
}


def test_a_librarian_registers_a_volunteer_with_an_account(client, as_role, db):
    as_role("librarian")
    kitaguchi = room(db, "北口図書館")
    data = {**VOLUNTEER_FORM, "room_ids": [str(kitaguchi.id)], "kinds": ["general", "english"]}
    response = post(client, "/reading/volunteers/new", data, form_url="/reading/volunteers/new")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    volunteer = db.scalars(select(Volunteer).where(Volunteer.name == "朗読 はな")).one()
    account = db.get(StaffUser, volunteer.user_id)
    assert (account.username, account.role) == ("hana-reader", Role.VOLUNTEER)
    assert services.volunteer_room_ids(db, volunteer.id) == [kitaguchi.id]
    assert set(services.volunteer_kinds(db, volunteer.id)) == {ReadingKind.GENERAL, ReadingKind.ENGLISH}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "hana-reader" in page and "北口図書館" in page


@pytest.mark.parametrize(("changes", "message"), [
    ({"room_ids": []}, "図書館を1つ以上選んでください"),
    ({"kinds": []}, "1つ以上選んでください"),
    ({"username": ""}, "ユーザー名"),
    ({"password": "short", "password_confirm": "short"}, "12"),
    ({"name_kana": "Hana"}, "カタカナ"),
])
def test_bad_volunteer_input_names_the_field_and_saves_nothing(client, as_role, db, changes, message):
    as_role("librarian")
    data = {**VOLUNTEER_FORM, "room_ids": [str(room(db, "北口図書館").id)], "kinds": ["general"], **changes}
    before = (_count(db, Volunteer), _count(db, StaffUser))
    response = post(client, "/reading/volunteers/new", data, form_url="/reading/volunteers/new")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="error-summary"' in page and message in page
    assert (_count(db, Volunteer), _count(db, StaffUser)) == before


def test_a_request_for_a_patron_not_registered_is_refused_on_the_card_field(client, as_role, db, users, on_day):
    as_role("librarian")
    make_patron(db, users["librarian"], "4000000001", registered_from=None)
    db.commit()
    data = {"card_number": "4000000001", "room_id": str(room(db, "北口図書館").id), "received_on": TODAY.isoformat(),
            "address_as": "", "preferred_times": "", "duration_minutes": "120", "material_kind": "general",
            "material_description": "新聞", "note": ""}
    # PastDate checks against the real clock: use a received day that is not in the future.
    data["received_on"] = "2026-11-01"
    response = post(client, "/reading/requests/new", data, form_url="/reading/requests/new")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "対面朗読の利用登録がありません" in page
    assert re.search(r'id="card_number-error"', page)
    assert _count(db, ReadingRequest) == 0


def test_request_then_book_a_session_and_a_clash_is_refused(client, as_role, db, users, on_day):
    librarian = as_role("librarian")
    make_patron(db, librarian, "4000000002", registered_from=REGISTERED_LONG_AGO)
    volunteer = make_volunteer(db, librarian, "reader-a", name="朗読 一郎")
    db.commit()
    data = {"card_number": "4000000002", "room_id": str(room(db, "北口図書館").id), "received_on": "2026-11-01",
            "address_as": "山田さん", "preferred_times": "火曜午前", "duration_minutes": "120",
            "material_kind": "general", "material_description": "広報紙", "note": ""}
    response = post(client, "/reading/requests/new", data, form_url="/reading/requests/new")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    request_url = response.headers["Location"]
    request_id = int(request_url.rsplit("/", 1)[1])

    # Pick a slot: the volunteer is offered.
    page = client.get(f"{request_url}?session_on={DAY.isoformat()}&start_time=10:00&end_time=12:00")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "朗読 一郎" in text and "この回を予約" in text

    book = {"session_on": DAY.isoformat(), "start_time": "10:00", "end_time": "12:00", "volunteer_id": str(volunteer.id)}
    response = post(client, f"/reading/requests/{request_id}/book", book, form_url=request_url)
    assert response.status_code == 302
    assert _count(db, ReadingSession) == 1

    # The same slot again: refused with the reason, nothing saved.
    response = post(client, f"/reading/requests/{request_id}/book", book, form_url=request_url)
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "対面朗読室はこの時間（10:00〜12:00）にすでに予約があります" in text
    assert "この利用者はこの時間" in text
    assert _count(db, ReadingSession) == 1

    # A closed day and an end before the start are refused too.
    for bad, reason in (({"session_on": "2027-06-07"}, "休館日"), ({"end_time": "09:00"}, "終了時刻")):
        response = post(client, f"/reading/requests/{request_id}/book", {**book, **bad}, form_url=request_url)
        assert response.status_code == 409 and reason in response.get_data(as_text=True)
    assert _count(db, ReadingSession) == 1


def test_a_series_with_a_clash_is_shown_then_booked_without_it(client, as_role, db, on_day):
    librarian = as_role("librarian")
    patron = make_patron(db, librarian, "4000000003", registered_from=REGISTERED_LONG_AGO)
    volunteer = make_volunteer(db, librarian, "reader-a")
    request = make_request(db, librarian, patron)
    other = make_request(db, librarian, make_patron(db, librarian, "4000000004", registered_from=REGISTERED_LONG_AGO))
    services.book_session(db, request=other, on=date(2027, 6, 15), start=TEN, end=NOON,
                          volunteer_id=make_volunteer(db, librarian, "reader-b").id, actor=librarian, today=TODAY)
    db.commit()
    url = f"/reading/requests/{request.id}"
    series = {"series-first_on": DAY.isoformat(), "series-start_time": "10:00", "series-end_time": "12:00",
              "series-occurrences": "4", "series-volunteer_id": str(volunteer.id)}
    token_page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="series-csrf_token"[^>]*value="([^"]+)"', token_page).group(1)
    response = client.post(f"{url}/series", data={**series, "series-csrf_token": token})
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "4回のうち1回は予約できません" in text and "令和9年6月15日" in text
    assert _count(db, ReadingSession) == 1
    response = client.post(f"{url}/series", data={**series, "series-csrf_token": token, "series-accept_clashes": "y"})
    assert response.status_code == 302
    assert _count(db, ReadingSession) == 4  # three of the series and the other patron's


@pytest.fixture()
def volunteer_world(db, users):  # type: ignore[no-untyped-def]
    """A volunteer with a session for a patron, and another volunteer with another patron's session."""
    librarian = users["librarian"]
    patron = make_patron(db, librarian, "4100000001", name="秘密 花子", registered_from=REGISTERED_LONG_AGO)
    other_patron = make_patron(db, librarian, "4100000002", name="別人 次郎", registered_from=REGISTERED_LONG_AGO)
    me = make_volunteer(db, librarian, "me-reader", name="私 朗読")
    someone = make_volunteer(db, librarian, "other-reader", name="他 朗読")
    mine = services.book_session(db, request=make_request(db, librarian, patron, address_as="花子さん",
                                                          material_description="料理の本『季節の献立』"),
                                 on=DAY, start=TEN, end=NOON, volunteer_id=me.id, actor=librarian, today=TODAY)
    theirs = services.book_session(db, request=make_request(db, librarian, other_patron, address_as="次郎さん",
                                                            material_description="他の人の資料"),
                                   on=DAY, start=NOON, end=time(14, 0), volunteer_id=someone.id, actor=librarian,
                                   today=TODAY)
    db.commit()
    return {"patron": patron, "me": me, "mine": mine, "theirs": theirs}


def test_the_volunteer_sees_only_their_session_and_only_what_the_room_needs(client, db, volunteer_world, on_day):
    assert login(client, "me-reader", "volunteer-pass-1234").status_code == 302
    pages = [client.get(url) for url in ("/reading/my", "/reading/my/calendar?start=2027-06-07", "/")]
    for response in pages:
        assert response.status_code == 200
    my, calendar, _home = (r.get_data(as_text=True) for r in pages)
    assert "花子さん" in my and "料理の本『季節の献立』" in my and "北口図書館" in my and "10:00〜12:00" in my
    assert "花子さん" in calendar
    patron = volunteer_world["patron"]
    for page in (my, calendar):
        for secret in ("秘密 花子", patron.card_number, patron.phone, "0798-11-2233", "662-0911", "池田町",
                       "1941-05-03", "手帳", "要介護", "次郎さん", "他の人の資料", "別人"):
            assert secret not in page, secret


@pytest.mark.parametrize("url", ["/reading", "/reading/volunteers", "/reading/calendar", "/reading/figures",
                                 "/reading/requests/new", "/patrons"])
def test_the_volunteer_cannot_open_staff_pages(client, volunteer_world, url):
    login(client, "me-reader", "volunteer-pass-1234")
    assert client.get(url).status_code == 403


def test_the_volunteer_cannot_touch_another_volunteers_session(client, db, volunteer_world, on_day):
    login(client, "me-reader", "volunteer-pass-1234")
    theirs = volunteer_world["theirs"]
    assert client.get(f"/reading/my/sessions/{theirs.id}/log").status_code == 404
    response = post(client, f"/reading/my/sessions/{theirs.id}/confirm", {"confirm-csrf_token": "x"}, form_url="/reading/my")
    assert response.status_code in (400, 404)
    db.refresh(theirs)
    assert theirs.state == ReadingSessionState.SCHEDULED


def _token(client, url: str, name: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(url).get_data(as_text=True)
    return re.search(rf'name="{name}"[^>]*value="([^"]+)"', page).group(1)


def test_the_volunteer_confirms_then_logs_the_session(client, db, volunteer_world, on_day):
    login(client, "me-reader", "volunteer-pass-1234")
    mine = volunteer_world["mine"]
    token = _token(client, "/reading/my", "confirm-csrf_token")
    assert client.post(f"/reading/my/sessions/{mine.id}/confirm", data={"confirm-csrf_token": token}).status_code == 302
    db.refresh(mine)
    assert mine.state == ReadingSessionState.CONFIRMED

    # Before the day: a log is refused and nothing changes.
    log_url = f"/reading/my/sessions/{mine.id}/log"
    token = _token(client, log_url, "csrf_token")
    log = {"actual_start_time": "10:00", "actual_end_time": "11:45", "titles": "季節の献立\n暮らしの手帖",
           "note": "楽しく読めた", "csrf_token": token}
    response = client.post(log_url, data=log)
    assert response.status_code == 409 and "まだ実施されていない" in response.get_data(as_text=True)
    db.refresh(mine)
    assert mine.state == ReadingSessionState.CONFIRMED and mine.reading_minutes is None

    on_day(DAY)
    response = client.post(log_url, data={**log, "actual_end_time": "09:00"})
    assert response.status_code == 400 and "終了" in response.get_data(as_text=True)
    response = client.post(log_url, data=log)
    assert response.status_code == 302
    db.refresh(mine)
    # The patron has not consented to a reading history: only the count is kept.
    assert (mine.state, mine.reading_minutes, mine.material_titles, mine.material_count) == (
        ReadingSessionState.HELD, 105, "", 2)


def test_a_staff_correction_of_a_held_log_is_in_the_audit_trail(client, as_role, db, volunteer_world, on_day):
    librarian = as_role("librarian")
    mine = volunteer_world["mine"]
    services.log_session(db, mine, actual_start=TEN, actual_end=NOON, titles=[], note="", actor=librarian, today=DAY)
    db.commit()
    on_day(DAY)
    url = f"/reading/sessions/{mine.id}/log"
    response = post(client, url, {"actual_start_time": "10:00", "actual_end_time": "11:30", "titles": "", "note": "訂正"},
                    form_url=url)
    assert response.status_code == 302
    event = db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "reading_session",
                                                AuditEvent.entity_id == mine.id).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.actor_username, event.fields) == ("update", "librarian1",
                                                                  "actual_end_time,log_note,reading_minutes")


def test_a_log_for_a_cancelled_session_is_refused(client, as_role, db, volunteer_world, on_day):
    librarian = as_role("librarian")
    mine = volunteer_world["mine"]
    services.cancel_session(db, mine, cancelled_by="patron", reason="入院", actor=librarian)
    db.commit()
    on_day(DAY)
    url = f"/reading/sessions/{mine.id}/log"
    response = post(client, url, {"actual_start_time": "10:00", "actual_end_time": "12:00"}, form_url=url)
    assert response.status_code == 409
    assert "実施されていないため記録できません" in response.get_data(as_text=True)
    db.refresh(mine)
    assert (mine.state, mine.reading_minutes) == (ReadingSessionState.CANCELLED, None)


def test_the_volunteer_declines_and_the_librarian_reassigns(app, client, db, users, volunteer_world, on_day):
    login(client, "me-reader", "volunteer-pass-1234")
    mine = volunteer_world["mine"]
    token = _token(client, "/reading/my", "decline-csrf_token")
    response = client.post(f"/reading/my/sessions/{mine.id}/decline",
                           data={"decline-csrf_token": token, "decline-reason": "都合がつかない"})
    assert response.status_code == 302
    db.refresh(mine)
    assert (mine.state, mine.volunteer_id) == (ReadingSessionState.DECLINED, None)

    client = app.test_client()  # the librarian, in another browser
    login(client, "librarian1")
    replacement = make_volunteer(db, users["librarian"], "reader-new", name="代わり 朗読")
    db.commit()
    page = client.get(f"/reading/sessions/{mine.id}").get_data(as_text=True)
    assert "代わり 朗読" in page and "都合がつかない" in page
    token = re.search(r'name="reassign-csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(f"/reading/sessions/{mine.id}/reassign",
                           data={"reassign-csrf_token": token, "reassign-volunteer_id": str(replacement.id)})
    assert response.status_code == 302
    db.refresh(mine)
    assert (mine.state, mine.volunteer_id) == (ReadingSessionState.SCHEDULED, replacement.id)


def test_the_calendar_is_an_accessible_table(client, as_role, db, volunteer_world, on_day):
    as_role("librarian")
    kitaguchi = room(db, "北口図書館")
    page = client.get(f"/reading/calendar?room_id={kitaguchi.id}&view=week&start=2027-06-08").get_data(as_text=True)
    assert "<caption>" in page and 'scope="row"' in page and 'scope="col"' in page
    assert "令和9年6月7日（月）" in page and "定例休館日" in page  # Monday closed, week starts on Monday
    assert "09:00〜20:00" in page  # 北口's weekday hours, as text
    assert "10:00〜12:00" in page and "花子さん" in page and "私 朗読" in page
    day = client.get(f"/reading/calendar?volunteer_id={volunteer_world['me'].id}&view=day&start=2027-06-08")
    text = day.get_data(as_text=True)
    assert "花子さん" in text and "次郎さん" not in text


def test_room_hours_are_edited_and_bad_hours_refused(client, as_role, db):
    as_role("librarian")
    central = room(db, "中央図書館")
    url = f"/reading/rooms/{central.id}/hours"
    data = {f"opens_{k}": "09:30" for k in range(8)} | {f"closes_{k}": "18:00" for k in range(8)}
    response = post(client, url, {**data, "closes_2": "09:00"}, form_url=url)
    assert response.status_code == 400 and "閉室時刻は開室時刻より後" in response.get_data(as_text=True)
    response = post(client, url, {**data, "opens_0": "", "closes_0": "", "closes_1": "19:00"}, form_url=url)
    assert response.status_code == 302
    hours = services.room_hours(db, [central.id])[central.id]
    assert 0 not in hours and hours[1] == (time(9, 30), time(19, 0))
    assert db.scalar(select(func.count()).select_from(ReadingRoomHours)
                     .where(ReadingRoomHours.room_id == central.id)) == 7


def test_the_figures_page(client, as_role, db, volunteer_world, on_day):
    as_role("librarian")
    page = client.get("/reading/figures?fiscal_year=2027").get_data(as_text=True)
    assert "令和9年度" in page and "北口図書館" in page and "<caption>" in page
    assert client.get("/reading/figures?fiscal_year=abc").status_code == 400
