"""Deleting a patron cannot erase service history; withdrawing consent forgets what they read at once."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from outreach.enrolments.models import Approval
from outreach.loans.models import Loan
from outreach.patrons import services
from outreach.patrons.models import Patron
from outreach.shipments.models import Shipment
from outreach.types import LoanStatus, MaterialType, Service
from tests.conftest import post

DATA = {"card_number": "5550001", "name": "履歴 あり", "name_kana": "リレキ アリ", "birth_date": "1945-01-01",
        "postal_code": "662-0911", "prefecture": "兵庫県", "city": "西宮市", "town": "池田町", "block": "1",
        "contact_preference": "phone"}


def _patron(db, users, consent=True):  # type: ignore[no-untyped-def]
    patron = services.create_patron(db, actor=users["librarian"], library_prefecture="兵庫県", library_city="西宮市",
                                    data={**DATA, "birth_date": date(1945, 1, 1),
                                          "has_reading_history_consent": consent})
    db.commit()
    return patron


def test_a_patron_with_service_history_cannot_be_deleted(client, as_role, db, users):
    as_role("librarian")
    patron = _patron(db, users)
    db.add(Approval(patron_id=patron.id, service=Service.HOME_DELIVERY, valid_from=date(2024, 4, 1),
                    valid_until=date(2027, 3, 31)))
    db.commit()
    response = post(client, f"/patrons/{patron.id}/delete", form_url=f"/patrons/{patron.id}")
    assert response.status_code == 302
    assert "削除できません" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.expire_all()
    assert db.get(Patron, patron.id) is not None
    assert db.scalar(select(func.count()).select_from(Approval)) == 1


def test_withdrawing_consent_forgets_closed_loans_at_once(client, as_role, db, users):
    as_role("librarian")
    patron = _patron(db, users, consent=True)
    shipment = Shipment(patron_id=patron.id, service=Service.HOME_DELIVERY, month="2026-10",
                        shipped_on=date(2026, 10, 1), due_on=date(2026, 11, 2), books_count=1)
    db.add(shipment)
    db.flush()
    db.add(Loan(shipment_id=shipment.id, patron_id=patron.id, service=Service.HOME_DELIVERY,
                material_type=MaterialType.BOOK, shipped_on=date(2026, 10, 1), due_on=date(2026, 11, 2),
                status=LoanStatus.RETURNED, closed_on=date(2026, 10, 20)))
    db.commit()
    form = {**DATA, "has_reading_history_consent": ""}
    form.pop("has_reading_history_consent")  # an unticked box is simply absent
    response = post(client, f"/patrons/{patron.id}/edit", form, form_url=f"/patrons/{patron.id}/edit")
    assert response.status_code == 302
    db.expire_all()
    loan = db.scalars(select(Loan)).one()
    assert loan.patron_id is None and loan.item_id is None
    # The counts the statistics need stay.
    assert db.scalars(select(Shipment)).one().books_count == 1
