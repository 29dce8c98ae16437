"""Face-to-face reading in a real browser: a librarian registers a volunteer reader and books a session; the
volunteer logs in, confirms and logs it — and never sees the patron's record. axe-core checks each page."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update
from sqlmodel import Session

from outreach.calendar import format_wareki, is_open, next_open_day
from outreach.clock import today
from outreach.db import make_engine
from outreach.enrolments.models import Approval
from outreach.enrolments.services import active_approval
from outreach.patrons.models import Patron
from outreach.reading.models import ReadingSession
from outreach.types import Service
from tests.browser.conftest import check_accessibility

pytestmark = pytest.mark.browser

CARD = "1000000003"  # 鈴木 ゆかり of the demo data: visually impaired
PASSWORD = "reading-aloud-2027"
# What the patron's record holds and a volunteer must never see.
SECRETS = ("鈴木 ゆかり", "スズキ", CARD, "0798-33-4455", "yukari@example.jp", "663-8035", "1975-02-14",
           "視覚障害", "点字・デイジー利用", "手帳", "要介護", "山田 花子", "佐藤 一郎")
WEEKDAYS_JA = "月火水木金土日"


def _database(live_server):  # type: ignore[no-untyped-def]
    return make_engine(f"sqlite:///{live_server.instance / 'outreach.db'}")


def _ensure_registered(live_server) -> None:  # type: ignore[no-untyped-def]
    """Arrange: the patron is registered for face-to-face reading (the demo data does this; the enrolment
    pages belong to another area, so a missing registration is added directly)."""
    engine = _database(live_server)
    try:
        with Session(engine) as db:
            patron = db.scalars(select(Patron).where(Patron.card_number == CARD)).one()
            if active_approval(db, patron.id, Service.FACE_TO_FACE, today()) is None:
                db.add(Approval(patron_id=patron.id, service=Service.FACE_TO_FACE, valid_from=date(2020, 4, 1)))
                db.commit()
    finally:
        engine.dispose()


def _login(page, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/")


def _logout(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_selector("text=ログアウトしました。")


def test_librarian_books_and_the_volunteer_confirms_and_logs(page, live_server):
    _ensure_registered(live_server)
    # A session today when the library is open (so it can be logged today), else on the next open day.
    day = next_open_day(today())

    # --- the librarian registers a volunteer reader ---
    _login(page, "librarian", live_server.logins["librarian"])
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="対面朗読").click()
    assert check_accessibility(page) == []
    page.get_by_role("link", name="対面朗読協力者").first.click()
    page.get_by_role("link", name="対面朗読協力者を登録").click()
    page.get_by_label("氏名", exact=True).fill("試験 朗読子")
    page.get_by_label("フリガナ").fill("シケン ロウドクコ")
    page.get_by_role("group", name="担当する図書館").get_by_label("北口図書館").check()
    page.get_by_role("group", name="朗読できる資料").get_by_label("一般の資料").check()
    page.get_by_label("守秘の誓約日").fill("2024-04-01")
    page.get_by_label("ユーザー名").fill("roudoku-shiken")
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_label("パスワード（確認）").fill(PASSWORD)
    assert check_accessibility(page) == []
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector("text=対面朗読協力者を登録しました")
    assert check_accessibility(page) == []

    # Her weekly time at 北口: the weekday of the session, 10:00–12:00.
    page.locator("#slot-room_id").select_option(label="北口図書館")
    page.locator("#slot-weekday").select_option(str(day.weekday()))
    page.locator("#slot-start_time").fill("10:00")
    page.locator("#slot-end_time").fill("12:00")
    page.get_by_role("button", name="追加").first.click()
    page.wait_for_selector("text=活動できる時間を追加しました。")

    # --- the librarian records the patron's request and books one session ---
    page.goto("/reading/requests/new")
    page.get_by_label("利用者カード番号").fill(CARD)
    page.get_by_label("図書館", exact=True).select_option(label="北口図書館")
    page.get_by_label("朗読室での呼び名").fill("ゆかりさん")
    page.get_by_label("読む資料").fill("町内会の回覧板と料理の本")
    assert check_accessibility(page) == []
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector("text=依頼を受け付けました")
    page.locator("#session_on").fill(day.isoformat())
    page.locator("#start_time").fill("10:00")
    page.locator("#end_time").fill("12:00")
    page.get_by_role("button", name="この日時を確認").click()
    page.get_by_role("radio", name="試験 朗読子").check()
    assert check_accessibility(page) == []
    page.get_by_role("button", name="この回を予約").click()
    page.wait_for_selector("text=対面朗読を予約しました")
    assert "協力者の確認待ち" in page.content()

    # The same slot again is refused, with the reason.
    page.locator("#session_on").fill(day.isoformat())
    page.locator("#start_time").fill("11:00")
    page.locator("#end_time").fill("12:30")
    page.get_by_role("button", name="この日時を確認").click()
    result = page.locator("#slot-result")
    expect(result).to_contain_text("この日時は予約できません")
    expect(result).to_contain_text("すでに予約があります")
    # The result takes the focus, so a screen reader reads it first.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'slot-result'")
    _logout(page)

    if day != today():
        # The library is closed today: move the booked session to today so that it can be logged today.
        engine = _database(live_server)
        with engine.begin() as conn:
            conn.execute(update(ReadingSession).where(ReadingSession.session_on == day).values(session_on=today()))
        engine.dispose()
        assert not is_open(today())
        day = today()

    # --- the volunteer logs in, sees only what the room needs, confirms and logs ---
    _login(page, "roudoku-shiken", PASSWORD)
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="自分の対面朗読").click()
    when = f"{format_wareki(day)}（{WEEKDAYS_JA[day.weekday()]}） 10:00〜12:00"
    row = page.get_by_role("row").filter(has_text=when)
    expect(row).to_contain_text("ゆかりさん")
    expect(row).to_contain_text("町内会の回覧板と料理の本")
    expect(row).to_contain_text("北口図書館")
    html = page.content()
    for secret in SECRETS:
        assert secret not in html, secret
    assert check_accessibility(page) == []

    row.get_by_role("button", name="引き受ける").click()
    page.wait_for_selector("text=ありがとうございます")
    expect(page.get_by_role("row").filter(has_text=when)).to_contain_text("確認済み")

    page.get_by_role("link", name="自分の予定表").click()
    calendar = page.get_by_role("table")
    expect(calendar).to_contain_text("ゆかりさん")
    for secret in SECRETS:
        assert secret not in page.content(), secret
    assert check_accessibility(page) == []
    page.go_back()

    page.get_by_role("link", name=f"実施記録を書く {when}").click()
    page.get_by_label("実際の開始時刻").fill("10:00")
    page.get_by_label("実際の終了時刻").fill("11:50")
    page.get_by_label("読んだ資料（1行に1点）").fill("回覧板\n季節の献立")
    page.get_by_label("ひとこと記録").fill("予定どおり読みました")
    assert "書名は保存せず" in page.content()  # the demo patron has not consented to a reading history
    for secret in SECRETS:
        assert secret not in page.content(), secret
    assert check_accessibility(page) == []
    page.get_by_role("button", name="記録を保存").click()
    page.wait_for_selector("text=実施記録を保存しました。")
    expect(page.locator("#recent-heading + ul")).to_contain_text("1.8時間")

    # The volunteer's role keeps them out of the patron records and the staff pages.
    for url in ("/patrons", "/reading", "/reading/calendar"):
        assert page.goto(url).status == 403
    _logout(page)
