"""The run's documents as plain data for the ``letters`` package: address labels, return labels,
packing slips, the pick list and the address CSV. Every function streams rows from the database
(``yield_per``) and yields one document part at a time; the PDFs of a big month come in files of
``SHIPMENTS_PER_FILE`` shipments, so memory does not grow with the batch."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from letters.data import Addressee, LabelData, Library, PickLine, SlipData, SlipItem, postal_marking
from outreach.catalog.models import CatalogItem
from outreach.loans.models import Loan
from outreach.patrons.models import Patron, address_lines
from outreach.shipments.models import Shipment, ShipmentRun, shipment_ref
from outreach.types import RunState, Service

STREAM = 1000
SERVICE_JA = {Service.HOME_DELIVERY: "宅配", Service.MAIL_LOAN: "郵送貸出", Service.FACE_TO_FACE: "対面朗読"}


def library_from_config(config: Mapping[str, Any]) -> Library:
    """The sender (差出人) as configured (LIBRARY_NAME, LIBRARY_POSTAL_CODE, LIBRARY_ADDRESS ...)."""
    return Library(name=config["LIBRARY_NAME"], section=config.get("LIBRARY_SECTION", ""),
                   postal_code=config["LIBRARY_POSTAL_CODE"], address=config["LIBRARY_ADDRESS"],
                   phone=config.get("LIBRARY_PHONE", ""), fax=config.get("LIBRARY_FAX", ""))


def parcel_addressee(patron: Any) -> Addressee:
    """Where a parcel goes: the patron's home (宅配 is delivery to the home; a mail loan is sent to the
    reader). A proxy who receives the patron's *letters* is a correspondence matter
    (outreach.correspondence.services.addressee_for): books do not go to a care manager's office. The
    patron record has no separate choice of a parcel address; when it gets one, it is read here.
    ``patron`` is a Patron or a row with its name and address columns (``_PATRON``)."""
    lines = address_lines(patron.prefecture, patron.city, patron.town, patron.block, patron.building)
    return Addressee(patron.postal_code, tuple(lines), patron.name)


# Columns, not ORM objects: the documents of a national month read hundreds of thousands of rows.
_PATRON = (Patron.name, Patron.postal_code, Patron.prefecture, Patron.city, Patron.town, Patron.block,
           Patron.building, Patron.needs_large_print)
_SHIPMENT = (Shipment.id, Shipment.month, Shipment.service, Shipment.shipped_on, Shipment.due_on)


def _shipments(run: ShipmentRun, *extra: Any) -> Any:
    """Shipments of the run with their patron's address, in postal-code order (labels and slips match)."""
    return (select(*_SHIPMENT, *_PATRON, *extra)
            .join(Patron, Patron.id == Shipment.patron_id)
            .where(Shipment.run_id == run.id))


def _stream(session: Session, stmt: Any) -> Any:
    return session.connection().execute(stmt, execution_options={"yield_per": STREAM})


def _postal_order() -> tuple[Any, ...]:
    return (Patron.postal_code, Shipment.id)


# reportlab keeps a document's pages in memory until it is saved: the documents of a big month come in
# files of this many shipments, so memory stays bounded whatever the size of the month. File N of the
# labels, the return labels, the slips and the pick list covers the same shipments (postal-code order).
SHIPMENTS_PER_FILE = 5_000


def document_parts(shipments: int) -> int:
    """How many files each document of a month of ``shipments`` needs."""
    return max(1, -(-shipments // SHIPMENTS_PER_FILE))


def _part(rows: Iterator[Any], part: int | None) -> Iterator[Any]:
    if part is None:
        return rows
    first = (part - 1) * SHIPMENTS_PER_FILE
    return itertools.islice(rows, first, first + SHIPMENTS_PER_FILE)


def _files(rows: Iterator[Any]) -> Iterator[list[Any]]:
    while batch := list(itertools.islice(rows, SHIPMENTS_PER_FILE)):
        yield batch


def label_data(session: Session, run: ShipmentRun, library: Library, *, return_labels: bool = False,
               home_delivery_marking: str = "", part: int | None = None) -> Iterator[LabelData]:
    """One label per shipment: to the patron at home, or a return label to the library from there.

    ``part`` (1, 2, …) gives only that file's shipments (``SHIPMENTS_PER_FILE`` each)."""
    return _part(_all_labels(session, run, library, return_labels, home_delivery_marking), part)


def label_files(session: Session, run: ShipmentRun, library: Library, *, return_labels: bool = False,
                home_delivery_marking: str = "") -> Iterator[list[LabelData]]:
    """The labels of every file in turn, from one pass over the database (for the command line)."""
    return _files(_all_labels(session, run, library, return_labels, home_delivery_marking))


def _all_labels(session: Session, run: ShipmentRun, library: Library, return_labels: bool,
                home_delivery_marking: str) -> Iterator[LabelData]:
    rows = _stream(session, _shipments(run).order_by(*_postal_order()))
    with _closing(rows):
        for row in rows:
            to = parcel_addressee(row)
            marking = postal_marking(row.service, home_delivery=home_delivery_marking)
            ref = shipment_ref(row.month, row.id)
            if return_labels:
                yield LabelData.return_to_library(library, to, marking=marking, ref=ref)
            else:
                yield LabelData.outbound(to, library, marking=marking, ref=ref)


def slip_data(session: Session, run: ShipmentRun, library: Library, *, part: int | None = None) -> Iterator[SlipData]:
    """One packing slip per shipment (large print where the patron needs it), in label order.

    ``part`` (1, 2, …) gives only that file's shipments (``SHIPMENTS_PER_FILE`` each)."""
    return _part(_all_slips(session, run, library), part)


def slip_files(session: Session, run: ShipmentRun, library: Library) -> Iterator[list[SlipData]]:
    """The slips of every file in turn, from one pass over the database (for the command line)."""
    return _files(_all_slips(session, run, library))


def _all_slips(session: Session, run: ShipmentRun, library: Library) -> Iterator[SlipData]:
    stmt = (_shipments(run, CatalogItem.barcode, CatalogItem.title, CatalogItem.material_type,
                       CatalogItem.call_number)
            .join(Loan, Loan.shipment_id == Shipment.id).join(CatalogItem, CatalogItem.id == Loan.item_id)
            .order_by(*_postal_order(), Loan.id))
    rows = _stream(session, stmt)
    with _closing(rows):
        for _sid, group in itertools.groupby(rows, key=lambda row: row.id):
            parts = list(group)
            first = parts[0]
            items = tuple(SlipItem(r.barcode, r.title, r.material_type, r.call_number) for r in parts)
            yield SlipData(patron_name=first.name, items=items, due_on=first.due_on, library=library,
                           service=first.service, shipped_on=first.shipped_on,
                           shipment_ref=shipment_ref(first.month, first.id),
                           large_print=first.needs_large_print)


def pick_lines(session: Session, run: ShipmentRun, *, part: int | None = None) -> Iterator[PickLine]:
    """Every item to fetch, already in shelf order (配架場所, then call number as shelves sort it).

    ``part`` (1, 2, …) gives the items of that file's shipments only, the same shipments as the
    labels and slips of that part, so each part can be picked and packed on its own."""
    stmt = (select(CatalogItem.shelf_location, CatalogItem.call_number, CatalogItem.barcode, CatalogItem.title,
                   CatalogItem.material_type, Shipment.month, Shipment.id)
            .join(Loan, Loan.item_id == CatalogItem.id).join(Shipment, Shipment.id == Loan.shipment_id)
            .where(Shipment.run_id == run.id))
    if part is not None:
        in_part = (select(Shipment.id).join(Patron, Patron.id == Shipment.patron_id).where(Shipment.run_id == run.id)
                   .order_by(*_postal_order()).offset((part - 1) * SHIPMENTS_PER_FILE).limit(SHIPMENTS_PER_FILE))
        stmt = stmt.where(Shipment.id.in_(in_part.scalar_subquery()))
    rows = _stream(session, stmt.order_by(CatalogItem.shelf_location, CatalogItem.call_number_key, CatalogItem.title,
                                          CatalogItem.barcode))
    with _closing(rows):
        for shelf, call_number, barcode, title, material, month, sid in rows:
            yield PickLine(shelf_location=call_number, barcode=barcode, title=title, material=material,
                           shipment_ref=shipment_ref(month, sid), library_location=shelf)


ADDRESS_HEADER = ["発送番号", "サービス", "郵便番号", "住所1", "住所2", "様方", "氏名", "区分"]


def address_rows(session: Session, run: ShipmentRun, *, home_delivery_marking: str = "") -> Iterator[list[str]]:
    """The batch's addresses for a mail merge or the post office, in postal-code order. The 様方 column
    stays for existing mail-merge layouts; it is empty while every parcel goes to the patron's home."""
    yield ADDRESS_HEADER
    rows = _stream(session, _shipments(run).order_by(*_postal_order()))
    with _closing(rows):
        for row in rows:
            to = parcel_addressee(row)
            lines = list(to.address_lines) + ["", ""]
            yield [shipment_ref(row.month, row.id), SERVICE_JA[row.service], to.postal_code,
                   lines[0], " ".join(lines[1:]).strip(), f"{to.proxy_name} 様方" if to.proxy_name else "",
                   f"{to.name} 様", postal_marking(row.service, home_delivery=home_delivery_marking)]


@contextmanager
def _closing(result: Any) -> Iterator[None]:
    """Release a streamed result (a server-side cursor on PostgreSQL) even when the reader stops early."""
    try:
        yield
    finally:
        result.close()


def run_has_shipments(session: Session, run: ShipmentRun) -> bool:
    return session.scalar(select(Shipment.id).where(Shipment.run_id == run.id).limit(1)) is not None


def printable(session: Session, run: ShipmentRun) -> bool:
    """Documents are printed for a committed run only: a run still committing (or interrupted) would
    give labels and slips for part of the month."""
    return run.state is RunState.COMMITTED and run_has_shipments(session, run)
