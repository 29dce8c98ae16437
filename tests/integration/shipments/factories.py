"""Test data for the loan and shipment areas: patrons with approvals, catalogue items, requests.

Shared by tests/integration/{catalog,loans,shipments}/conftest.py. Dates are fixed: the tests pass
``today`` to the services (and patch ``outreach.clock.today`` for pages)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from outreach.catalog import rules as catalog_rules
from outreach.catalog.models import CatalogItem
from outreach.enrolments.models import Approval
from outreach.loans import services as loan_services
from outreach.patrons import services as patron_services
from outreach.types import Channel, ItemStatus, MaterialType, Service

TODAY = date(2026, 11, 25)  # a Wednesday; the December run ships on Tue 1 December 2026
MONTH = "2026-12"
SHIPPING_ON = date(2026, 12, 1)
DUE_ON = date(2027, 1, 5)  # 1 January falls in the year-end closure (29 Dec - 4 Jan)


def new_patron(db, actor, card: str, **changes: Any):  # type: ignore[no-untyped-def]
    data = dict(card_number=card, name=f"利用 {card[-3:]}", name_kana="リヨウ シャ", birth_date=date(1945, 4, 2),
                postal_code="662-0911", prefecture="兵庫県", city="西宮市", town="池田町", block="1-1")
    data.update(changes)
    return patron_services.create_patron(db, data=data, actor=actor, library_prefecture="兵庫県",
                                         library_city="西宮市")


def approve(db, patron, service: Service, valid_from: date = date(2026, 4, 1),  # type: ignore[no-untyped-def]
            valid_until: date | None = date(2029, 3, 31), **changes: Any) -> Approval:
    approval = Approval(patron_id=patron.id, service=service, valid_from=valid_from,
                        valid_until=valid_until if service is Service.HOME_DELIVERY else None, **changes)
    db.add(approval)
    db.flush()
    return approval


def new_item(db, barcode: str, title: str = "", material: MaterialType = MaterialType.BOOK,  # type: ignore[no-untyped-def]
             **changes: Any) -> CatalogItem:
    values = dict(barcode=barcode, title=title or f"資料 {barcode}", title_kana="", author="", material_type=material,
                  subjects="", shelf_location="中央 一般", call_number="913.6", is_lendable=True,
                  status=ItemStatus.AVAILABLE)
    values.update(changes)
    keys = catalog_rules.derived_keys(values["title"], values["title_kana"], values["author"], values["subjects"],
                                      values["call_number"])
    item = CatalogItem(**values, **keys)
    db.add(item)
    db.flush()
    return item


def request(db, patron, actor, barcodes=(), service: Service = Service.HOME_DELIVERY,  # type: ignore[no-untyped-def]
            choose_for_me: bool = False, received_on: date = TODAY, today: date = TODAY):
    return loan_services.create_request(db, patron, service=service, channel=Channel.PHONE, received_on=received_on,
                                        proxy_id=None, choose_for_me=choose_for_me, note="", barcodes=list(barcodes),
                                        actor=actor, today=today)


@pytest.fixture()
def librarian(users):  # type: ignore[no-untyped-def]
    return users["librarian"]


@pytest.fixture()
def fixed_today(monkeypatch):  # type: ignore[no-untyped-def]
    """Pages see TODAY as the library's date."""
    from outreach import clock

    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY
