"""The batch data path (outreach.db.stream_rows, bulk_insert): it must give and store exactly what the
ORM would, on SQLite and PostgreSQL alike, because the monthly run reads and writes through it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from outreach.catalog.models import CatalogItem
from outreach.db import bulk_insert, stream_rows
from outreach.loans import services as loan_services
from outreach.shipments.models import Shipment
from outreach.types import MaterialType, Service
from tests.integration.shipments.factories import new_item, new_patron


def test_a_stream_gives_every_row_in_order_whatever_the_batch(db):
    ids = [new_item(db, f"ST{i:03d}").id for i in range(7)]
    stmt = select(CatalogItem.id, CatalogItem.barcode).where(CatalogItem.id.in_(ids)).order_by(CatalogItem.id.desc())
    expected = [tuple(row) for row in db.execute(stmt)]
    for batch in (1, 2, 3, 100):
        assert [tuple(row) for row in stream_rows(db, stmt, batch=batch)] == expected


def test_choose_for_me_is_offered_the_newest_available_item_too(db):
    ids = [new_item(db, f"NW{i:03d}").id for i in range(4)]
    offered = [item.item_id for item in loan_services.selectable_items(db, [MaterialType.BOOK], batch=2)]
    assert offered[:4] == sorted(ids, reverse=True)


def test_a_stream_stopped_early_leaves_the_session_working(db):
    for i in range(12):
        new_item(db, f"ES{i:03d}")
    stream = loan_services.selectable_items(db, [MaterialType.BOOK], batch=3)
    assert next(stream).item_id > 0
    stream.close()
    assert len(db.scalars(select(CatalogItem).where(CatalogItem.barcode.like("ES%"))).all()) == 12


def test_bulk_rows_are_stored_as_the_orm_stores_them(db, users):
    by_orm, by_bulk = (new_patron(db, users["librarian"], card) for card in ("7100000001", "7100000002"))
    when = datetime(2026, 12, 1, 9, 30, 0, tzinfo=UTC)  # no microseconds: the text form must still match
    db.add(Shipment(patron_id=by_orm.id, service=Service.MAIL_LOAN, month="2026-12", shipped_on=date(2026, 12, 1),
                    due_on=date(2027, 1, 5), books_count=2, audio_visual_count=1, created_at=when))
    db.flush()
    bulk_insert(db, Shipment.__table__, ("patron_id", "service", "books_count", "audio_visual_count"),
                [(by_bulk.id, Service.MAIL_LOAN, 2, 1)],
                constants={"month": "2026-12", "shipped_on": date(2026, 12, 1), "due_on": date(2027, 1, 5),
                           "created_at": when, "run_id": None})
    columns = (Shipment.service, Shipment.month, Shipment.shipped_on, Shipment.due_on, Shipment.books_count,
               Shipment.audio_visual_count, Shipment.created_at, Shipment.run_id)
    typed = [db.execute(select(*columns).where(Shipment.patron_id == p.id)).one() for p in (by_orm, by_bulk)]
    assert typed[0] == typed[1]
    assert typed[1].service is Service.MAIL_LOAN and typed[1].created_at == when
    # and as the database holds them (the same text on SQLite, the same values on PostgreSQL)
    raw = [db.connection().exec_driver_sql(
        f"SELECT service, month, shipped_on, due_on, created_at FROM shipment WHERE patron_id = {int(p.id)}").one()
        for p in (by_orm, by_bulk)]
    assert raw[0] == raw[1]
