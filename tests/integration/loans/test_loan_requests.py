"""Taking a request: the limits per service, checked when it is taken; bad input changes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from outreach.audit.models import AuditEvent
from outreach.loans import services
from outreach.loans.models import LoanRequest, LoanRequestLine, ReaderProfile
from outreach.types import ItemSource, ItemStatus, LoanRequestState, MaterialType, Service
from tests.conftest import post
from tests.integration.shipments.factories import TODAY, approve, new_item, new_patron, request

HD, ML = Service.HOME_DELIVERY, Service.MAIL_LOAN


@pytest.fixture()
def patron(db, librarian):  # type: ignore[no-untyped-def]
    p = new_patron(db, librarian, "6000000001", name="宅配 花子")
    approve(db, p, HD)
    for n in range(1, 18):
        new_item(db, f"B{n:03d}", f"本 {n}")
    for n in range(1, 4):
        new_item(db, f"C{n:03d}", f"CD {n}", MaterialType.AUDIO_CD)
    new_item(db, "L001", "貸出中の本", status=ItemStatus.ON_LOAN)
    new_item(db, "P001", "点訳絵本", MaterialType.BRAILLE_PICTURE_BOOK)
    db.commit()
    return p


def requests_count(db) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(LoanRequest)) or 0


def refused(db, patron, librarian, barcodes, **kw) -> list[str]:  # type: ignore[no-untyped-def]
    before = (requests_count(db), db.scalar(select(func.count()).select_from(LoanRequestLine)))
    with pytest.raises(services.LoanInputError) as error:
        request(db, patron, librarian, barcodes, **kw)
    db.rollback()
    assert (requests_count(db), db.scalar(select(func.count()).select_from(LoanRequestLine))) == before
    return [p.message_ja for p in error.value.problems]


def test_a_request_is_taken(db, patron, librarian):
    taken = request(db, patron, librarian, ["B001", " b002 ".upper(), "ｃ００１".upper()])
    db.commit()
    view = services.request_view(db, taken)
    assert [line.item.barcode for line in view.lines] == ["B001", "B002", "C001"]
    assert taken.state is LoanRequestState.OPEN and taken.service is HD
    event = db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "loan_request")).one()
    assert event.entity_id == patron.id and "B001" not in event.detail  # no titles or barcodes in the trail


def test_an_unknown_barcode_is_named(db, patron, librarian):
    assert refused(db, patron, librarian, ["B001", "ZZZ9"]) == ["ZZZ9: この資料番号の資料はありません"]


def test_an_item_already_on_loan(db, patron, librarian):
    assert refused(db, patron, librarian, ["L001"]) == ["L001: この資料は貸出中のため貸出できません"]


def test_a_sixteenth_book_counts_what_was_already_asked_for(db, patron, librarian):
    request(db, patron, librarian, [f"B{n:03d}" for n in range(1, 16)])
    db.commit()
    assert refused(db, patron, librarian, ["B016"]) == ["図書は1回の宅配につき15冊までです（16冊目：B016）"]


def test_a_third_cd(db, patron, librarian):
    assert refused(db, patron, librarian, ["C001", "C002", "C003"]) == [
        "視聴覚資料は1回の宅配につき2点までです（3点目：C003）"]


def test_a_book_on_a_mail_loan(db, patron, librarian):
    approve(db, patron, ML)
    db.commit()
    messages = refused(db, patron, librarian, ["B001"], service=ML)
    assert messages == ["B001: 図書は貸出できません（貸出できるのは点訳絵本・CD・デイジー・その他の視聴覚資料に限ります）"]
    assert request(db, patron, librarian, ["P001", "C001"], service=ML).service is ML


def test_a_patron_without_an_active_approval(db, patron, librarian):
    assert refused(db, patron, librarian, ["P001"], service=ML) == ["この利用者には、このサービスの有効な承認・登録がありません"]
    lapsed = new_patron(db, librarian, "6000000002")
    approve(db, lapsed, HD, valid_from=date(2023, 4, 1), valid_until=date(2026, 3, 31))
    db.commit()
    assert refused(db, lapsed, librarian, ["B001"]) == ["この利用者には、このサービスの有効な承認・登録がありません"]


def test_a_date_received_in_the_future(db, patron, librarian):
    assert refused(db, patron, librarian, ["B001"], received_on=date(2026, 12, 1)) == ["受付日が未来の日付です"]


def test_items_added_and_removed_later(db, patron, librarian):
    taken = request(db, patron, librarian, [f"B{n:03d}" for n in range(1, 15)])
    db.commit()
    assert services.add_items(db, taken, ["B015"], actor=librarian, today=TODAY) == 1
    db.commit()
    with pytest.raises(services.LoanInputError) as over:
        services.add_items(db, taken, ["B016", "B017"], actor=librarian, today=TODAY)
    assert [p.barcode for p in over.value.problems] == ["B016", "B017"]
    db.rollback()
    line = services.request_view(db, taken).lines[0]
    assert services.remove_line(db, taken, line.line_id, actor=librarian)
    assert services.add_items(db, taken, ["B016"], actor=librarian, today=TODAY) == 1
    services.cancel_request(db, taken, actor=librarian, today=TODAY)
    db.commit()
    assert taken.state is LoanRequestState.CANCELLED and taken.items_cancelled == 15
    assert db.scalar(select(func.count()).select_from(LoanRequestLine)) == 0
    with pytest.raises(services.LoanInputError):
        services.add_items(db, taken, ["B001"], actor=librarian, today=TODAY)


def test_choose_for_me_proposes_from_the_profile(db, patron, librarian):
    new_item(db, "S001", "剣客商売", author="池波 正太郎")
    new_item(db, "S002", "料理の本", subjects="料理")
    services.save_profile(db, patron, data=dict(subjects="", authors="池波正太郎", formats=[], exclusions="",
                                                items_per_month=3, is_monthly=False), actor=librarian)
    taken = request(db, patron, librarian, [], choose_for_me=True)
    db.commit()
    proposals = services.propose_selection(db, taken)
    assert [(c.item.barcode, c.reason_ja) for c in proposals] == [("S001", "著者「池波正太郎」が読書プロフィールに一致")]
    services.add_items(db, taken, ["S001"], actor=librarian, today=TODAY, source=ItemSource.CHOSEN,
                       reasons={proposals[0].item.item_id: proposals[0].reason_ja})
    db.commit()
    (line,) = services.request_view(db, taken).lines
    assert line.source is ItemSource.CHOSEN and "池波" in line.reason


# --- the pages --------------------------------------------------------------------------------------


def test_the_request_page_shows_each_rule_on_the_field_and_saves_nothing(client, as_role, db, patron, fixed_today):
    as_role("librarian")
    url = f"/loans/patrons/{patron.id}/requests/new"
    page = client.get(url)
    assert page.status_code == 200 and 'value="2026-11-25"' in page.get_data(as_text=True)
    data = {"service": "home_delivery", "channel": "phone", "received_on": "2026-11-25", "proxy_id": "0"}
    bad = post(client, url, {**data, "barcodes": "B001\nZZZ9\nL001"}, form_url=url)
    body = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "ZZZ9: この資料番号の資料はありません" in body and 'aria-describedby="barcodes-hint barcodes-error"' in body
    empty = post(client, url, data, form_url=url)
    assert empty.status_code == 400 and requests_count(db) == 0
    good = post(client, url, {**data, "barcodes": "B001\r\nB002", "channel": "fax"}, form_url=url)
    assert good.status_code == 302
    (taken,) = db.scalars(select(LoanRequest)).all()
    assert taken.channel == "fax"
    shown = client.get(good.headers["Location"]).get_data(as_text=True)
    assert "本 1" in shown and "本 2" in shown


def test_the_request_page_adds_by_title_and_the_profile_page_validates(client, as_role, db, patron, fixed_today):
    librarian = as_role("librarian")
    taken = request(db, patron, librarian, ["B001"])
    db.commit()
    url = f"/loans/requests/{taken.id}"
    found = client.get(url + "?q=本 1").get_data(as_text=True)
    assert "本 10" in found
    added = post(client, url + "/items", {"barcodes": "B010"}, form_url=url)
    assert added.status_code == 302 and len(services.request_view(db, taken).lines) == 2
    over = post(client, url + "/items", {"barcodes": "C001\nC002\nC003"}, form_url=url)
    assert over.status_code == 400 and "3点目：C003" in over.get_data(as_text=True)
    profile_url = f"/loans/patrons/{patron.id}/profile"
    bad = post(client, profile_url, {"items_per_month": "40"}, form_url=profile_url)
    assert bad.status_code == 400 and db.scalar(select(func.count()).select_from(ReaderProfile)) == 0
    ok = post(client, profile_url, {"subjects": "時代小説", "items_per_month": "4", "formats": ["large_print", "daisy"]},
              form_url=profile_url)
    assert ok.status_code == 302
    profile = services.get_profile(db, patron.id)
    assert profile.items_per_month == 4 and services.profile_formats(profile) == [MaterialType.LARGE_PRINT,
                                                                                  MaterialType.DAISY]
