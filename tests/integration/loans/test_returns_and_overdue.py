"""After dispatch: returns by barcode (partial, lost), privacy on closing, the daily overdue job,
its work list and letters, and the restriction on the next shipment (規則第9条2)."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from outreach.catalog.models import CatalogItem
from outreach.db import database
from outreach.loans import jobs, services
from outreach.loans.models import Loan
from outreach.shipments import services as shipment_services
from outreach.shipments.models import Shipment
from outreach.system.models import JobRun
from outreach.types import ItemStatus, LoanStatus, MaterialType, Service, SkipReason
from tests.conftest import post
from tests.integration.shipments.factories import DUE_ON, MONTH, TODAY, approve, new_item, new_patron, request

HD = Service.HOME_DELIVERY


@pytest.fixture()
def shipped(db, librarian):  # type: ignore[no-untyped-def]
    """December shipped: 花子 (keeps a reading history) got B001-B003, 一郎 (does not) got B004, C001."""
    hanako = new_patron(db, librarian, "7000000001", name="山田 花子", has_reading_history_consent=True)
    ichiro = new_patron(db, librarian, "7000000002", name="佐藤 一郎")
    for patron in (hanako, ichiro):
        approve(db, patron, HD)
    for n in range(1, 6):
        new_item(db, f"B{n:03d}", f"本 {n}")
    new_item(db, "C001", "CD 1", MaterialType.AUDIO_CD)
    new_item(db, "X001", "棚にある本")
    request(db, hanako, librarian, ["B001", "B002", "B003"])
    request(db, ichiro, librarian, ["B004", "C001"])
    db.commit()
    run = shipment_services.plan_run(db, month=MONTH, today=TODAY)
    db.commit()
    shipment_services.commit_run(database.session_scope, run.id, today=TODAY)  # type: ignore[arg-type]
    db.expire_all()
    return hanako, ichiro


def loans_of(db, patron_id):  # type: ignore[no-untyped-def]
    return db.scalars(select(Loan).where(Loan.patron_id == patron_id).order_by(Loan.id)).all()


def status_of(db, barcode: str) -> ItemStatus:  # type: ignore[no-untyped-def]
    return db.scalars(select(CatalogItem.status).where(CatalogItem.barcode == barcode)).one()


def test_partial_returns_and_what_is_remembered(db, librarian, shipped):
    hanako, ichiro = shipped
    result = services.check_in(db, ["B001", "b004".upper()], actor=librarian, today=date(2026, 12, 20))
    db.commit()
    assert [b for b, _t in result.returned] == ["B001", "B004"] and result.shipments_completed == 0
    assert status_of(db, "B001") is ItemStatus.AVAILABLE and status_of(db, "B002") is ItemStatus.ON_LOAN
    # 花子 consented: her closed loan still says who read what
    kept = [loan for loan in loans_of(db, hanako.id) if loan.status is LoanStatus.RETURNED]
    assert len(kept) == 1 and kept[0].item_id is not None and kept[0].closed_on == date(2026, 12, 20)
    # 一郎 did not: the closed loan no longer names him or the item, but still counts
    assert [loan.status for loan in loans_of(db, ichiro.id)] == [LoanStatus.ON_LOAN]
    anonymous = db.scalars(select(Loan).where(Loan.patron_id.is_(None))).one()
    assert anonymous.item_id is None and anonymous.material_type is MaterialType.BOOK and anonymous.service is HD
    # the statistics' counts are untouched
    counts = db.execute(select(func.count(), func.sum(Shipment.books_count), func.sum(Shipment.audio_visual_count))).one()
    assert tuple(counts) == (2, 4, 1)
    # the rest of 一郎's parcel comes back: his shipment is complete
    assert services.check_in(db, ["C001"], actor=librarian, today=date(2026, 12, 21)).shipments_completed == 1


@pytest.mark.parametrize(("barcodes", "message"), [
    (["B001", "NOPE"], "NOPE: この資料番号の資料はありません"),
    (["B001", "X001"], "X001: この資料は貸出中ではありません"),
    (["B001", "B001"], "B001: 同じ資料番号が2回入っています"),
    ([], "資料番号を入れてください"),
])
def test_a_bad_barcode_checks_nothing_in(db, librarian, shipped, barcodes, message):
    with pytest.raises(services.LoanInputError) as error:
        services.check_in(db, barcodes, actor=librarian, today=date(2026, 12, 20))
    db.rollback()
    assert any(p.message_ja.startswith(message) for p in error.value.problems)
    assert status_of(db, "B001") is ItemStatus.ON_LOAN
    assert db.scalar(select(func.count()).select_from(Loan).where(Loan.status == LoanStatus.ON_LOAN)) == 5


def test_an_item_reported_lost(db, librarian, shipped):
    hanako, _ichiro = shipped
    loan = loans_of(db, hanako.id)[0]
    services.mark_lost(db, loan, actor=librarian, today=date(2026, 12, 10))
    db.commit()
    db.refresh(loan)
    assert loan.status is LoanStatus.LOST and status_of(db, "B001") is ItemStatus.LOST
    with pytest.raises(services.LoanInputError):
        services.mark_lost(db, loan, actor=librarian, today=date(2026, 12, 10))


def test_the_daily_overdue_job_the_work_list_and_the_next_month(db, librarian, shipped):
    hanako, ichiro = shipped
    services.check_in(db, ["B004", "C001"], actor=librarian, today=date(2027, 1, 5))  # 一郎 returned on time
    db.commit()
    assert jobs.overdue(db, DUE_ON).endswith("0 loans newly overdue; 0 patrons with overdue items; "
                                             "0 reading records anonymised; 0 retired volunteer accounts deactivated")
    day_after = date(2027, 1, 6)
    summary = jobs.overdue(db, day_after)
    assert "3 loans newly overdue; 1 patrons with overdue items" in summary
    assert jobs.overdue(db, day_after) == "2027-01-06: already done today"
    assert db.scalar(select(func.count()).select_from(JobRun).where(JobRun.job == "loans.overdue")) == 2
    assert {loan.overdue_since for loan in loans_of(db, hanako.id)} == {day_after}
    rows, total = services.overdue_worklist(db, day_after)
    assert total == 1 and (rows[0].name, rows[0].items, rows[0].oldest_due_on) == ("山田 花子", 3, DUE_ON)

    # the January run sends her nothing until the items are back (規則第9条2)
    request(db, hanako, librarian, ["B005"], today=day_after, received_on=day_after)
    db.commit()
    run = shipment_services.plan_run(db, month="2027-01", today=day_after)
    db.commit()
    (row,) = shipment_services.plan_page(db, run, shipping=False, reason=SkipReason.OVERDUE)[0]
    assert row.patron_name == "山田 花子" and "3点" in row.planned.detail


def test_overdue_letters_and_recorded_reminders(client, as_role, db, shipped, monkeypatch):
    from outreach import clock

    hanako, _ichiro = shipped
    monkeypatch.setattr(clock, "today", lambda: date(2027, 1, 8))
    as_role("librarian")
    page = client.get("/loans/overdue").get_data(as_text=True)
    assert "山田 花子" in page and "佐藤 一郎" in page
    letters = client.get("/loans/overdue/letters.pdf")
    assert letters.status_code == 200 and letters.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(letters.data)).pages).replace(" ", "")
    assert "資料の返却について" in text and "本1" in text and "CD1" in text and "佐藤一郎" in text
    one = client.get(f"/loans/overdue/letters.pdf?patron_id={hanako.id}")
    assert "佐藤一郎" not in "".join(p.extract_text() for p in PdfReader(BytesIO(one.data)).pages).replace(" ", "")
    assert post(client, "/loans/overdue/reminded", {}, form_url="/loans/overdue").status_code == 302
    assert {loan.reminded_on for loan in db.scalars(select(Loan))} == {date(2027, 1, 8)}


def test_an_overdue_letter_goes_where_the_patrons_letters_go(db, librarian, shipped):
    """Letters follow the correspondence rule: to the care office (気付) that receives them; parcels go home."""
    from letters.data import Library
    from outreach.patrons import services as patron_services
    from outreach.types import ProxyRelation

    _hanako, ichiro = shipped
    patron_services.add_proxy(db, ichiro, actor=librarian, data=dict(
        name="ケアマネ 太郎", relation=ProxyRelation.CARE_MANAGER, organisation="西宮ケアプランセンター",
        postal_code="662-0918", address="兵庫県西宮市六湛寺町9-9", receives_letters=True))
    db.flush()
    library = Library(name="西宮市立中央図書館", section="", postal_code="662-0914", address="兵庫県西宮市川添町15-26",
                      phone="0798-33-0183")
    (letter,) = services.overdue_letters(db, date(2027, 1, 8), library, patron_ids=[ichiro.id])
    to = letter.addressee
    assert (to.postal_code, to.address_lines, to.name) == ("662-0918", ("兵庫県西宮市六湛寺町9-9",), "佐藤 一郎")
    assert to.proxy_name == "西宮ケアプランセンター" and to.proxy_is_organisation  # 事業所 気付, not the person 様方


def test_the_returns_page(client, as_role, db, shipped, fixed_today):
    as_role("librarian")
    bad = post(client, "/loans/returns", {"barcodes": "B001\nNOPE"}, form_url="/loans/returns")
    assert bad.status_code == 400 and "NOPE: この資料番号の資料はありません" in bad.get_data(as_text=True)
    assert status_of(db, "B001") is ItemStatus.ON_LOAN
    two = post(client, "/loans/returns", {"barcodes": "NOPE1\nNOPE2"}, form_url="/loans/returns").get_data(as_text=True)
    assert "NOPE1: この資料番号の資料はありません<br>NOPE2:" in two  # one problem a line
    good = post(client, "/loans/returns", {"barcodes": "B001\r\nB002"}, form_url="/loans/returns")
    assert good.status_code == 200 and "本 2" in good.get_data(as_text=True)
    assert status_of(db, "B002") is ItemStatus.AVAILABLE


def test_the_privacy_sweep_forgets_history_when_consent_is_withdrawn(db, librarian, shipped):
    hanako, _ichiro = shipped
    services.check_in(db, ["B001", "B002"], actor=librarian, today=date(2026, 12, 20))
    db.commit()
    assert len(services.history_of(db, hanako.id)) == 2
    hanako.has_reading_history_consent = False
    db.commit()
    assert services.privacy_sweep(db) == 2
    assert services.history_of(db, hanako.id) == []
    assert [loan.status for loan in loans_of(db, hanako.id)] == [LoanStatus.ON_LOAN]  # open loans stay


def test_a_patron_with_shipments_cannot_be_deleted_and_the_counts_stay(db, librarian, shipped):
    from outreach.patrons import services as patron_services

    hanako, _ichiro = shipped
    with pytest.raises(patron_services.PatronInUse):
        patron_services.delete_patron(db, hanako, librarian)
    db.rollback()
    shipments = db.scalars(select(Shipment).order_by(Shipment.id)).all()
    assert shipments[0].patron_id == hanako.id and sum(s.books_count for s in shipments) == 4
