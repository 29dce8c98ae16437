"""The run's documents as plain data for the ``letters`` package: address labels, return labels,
packing slips, the pick list and the address CSV. Every function streams rows from the database
(``yield_per``) and yields one document part at a time, so memory does not grow with the batch."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from letters.data import Addressee, LabelData, Library, PickLine, SlipData, SlipItem, postal_marking
from outreach.catalog.models import CatalogItem
from outreach.loans.models import Loan
from outreach.patrons.models import Patron, Proxy
from outreach.shipments.models import Shipment, ShipmentRun, shipment_ref
from outreach.types import Service

STREAM = 1000
SERVICE_JA = {Service.HOME_DELIVERY: "宅配", Service.MAIL_LOAN: "郵送貸出", Service.FACE_TO_FACE: "対面朗読"}


def library_from_config(config: Mapping[str, Any]) -> Library:
    """The sender (差出人) as configured (LIBRARY_NAME, LIBRARY_POSTAL_CODE, LIBRARY_ADDRESS ...)."""
    return Library(name=config["LIBRARY_NAME"], section=config.get("LIBRARY_SECTION", ""),
                   postal_code=config["LIBRARY_POSTAL_CODE"], address=config["LIBRARY_ADDRESS"],
                   phone=config.get("LIBRARY_PHONE", ""), fax=config.get("LIBRARY_FAX", ""))


def addressee_for(patron: Patron, proxy: Proxy | None) -> Addressee:
    """The patron at home, or care of the proxy who receives their mail (○○様方)."""
    if proxy is not None and proxy.postal_code and proxy.address:
        return Addressee(proxy.postal_code, (proxy.address,), patron.name, proxy_name=proxy.name)
    return Addressee(patron.postal_code, tuple(patron.address_lines), patron.name)


def _letter_proxy() -> Any:
    return (select(Proxy.patron_id, func.min(Proxy.id).label("proxy_id"))
            .where(Proxy.receives_letters.is_(True)).group_by(Proxy.patron_id).subquery())


def _shipments(run: ShipmentRun, *extra: Any) -> Any:
    """Shipments of the run with patron and letter proxy, in postal-code order (labels and slips match)."""
    proxy_sq = _letter_proxy()
    return (select(Shipment, Patron, Proxy, *extra)
            .join(Patron, Patron.id == Shipment.patron_id)
            .outerjoin(proxy_sq, proxy_sq.c.patron_id == Patron.id)
            .outerjoin(Proxy, Proxy.id == proxy_sq.c.proxy_id)
            .where(Shipment.run_id == run.id))


def _postal_order() -> tuple[Any, ...]:
    return (func.coalesce(func.nullif(Proxy.postal_code, ""), Patron.postal_code), Shipment.id)


def label_data(session: Session, run: ShipmentRun, library: Library, *, return_labels: bool = False,
               home_delivery_marking: str = "") -> Iterator[LabelData]:
    """One label per shipment: to the patron (or 様方 the proxy), or a return label to the library."""
    rows = session.execute(_shipments(run).order_by(*_postal_order()).execution_options(yield_per=STREAM))
    with _closing(rows):
        for shipment, patron, proxy in rows:
            to = addressee_for(patron, proxy)
            marking = postal_marking(shipment.service, home_delivery=home_delivery_marking)
            ref = shipment_ref(shipment.month, shipment.id)
            if return_labels:
                yield LabelData.return_to_library(library, to, marking=marking, ref=ref)
            else:
                yield LabelData.outbound(to, library, marking=marking, ref=ref)


# reportlab keeps a document's pages in memory until it is saved: slips (a page or more each) come in
# files of this many shipments, so memory stays bounded whatever the size of the month.
SLIPS_PER_FILE = 5_000


def slip_parts(shipments: int) -> int:
    """How many slip files a month of ``shipments`` needs."""
    return max(1, -(-shipments // SLIPS_PER_FILE))


def slip_data(session: Session, run: ShipmentRun, library: Library, *, part: int | None = None) -> Iterator[SlipData]:
    """One packing slip per shipment (large print where the patron needs it), in label order.

    ``part`` (1, 2, …) gives only that file's shipments (``SLIPS_PER_FILE`` each)."""
    slips = _all_slips(session, run, library)
    if part is None:
        return slips
    first = (part - 1) * SLIPS_PER_FILE
    return itertools.islice(slips, first, first + SLIPS_PER_FILE)


def slip_files(session: Session, run: ShipmentRun, library: Library) -> Iterator[list[SlipData]]:
    """The slips of every file in turn, from one pass over the database (for the command line)."""
    slips = _all_slips(session, run, library)
    while batch := list(itertools.islice(slips, SLIPS_PER_FILE)):
        yield batch


def _all_slips(session: Session, run: ShipmentRun, library: Library) -> Iterator[SlipData]:
    stmt = (_shipments(run, Loan, CatalogItem)
            .join(Loan, Loan.shipment_id == Shipment.id).join(CatalogItem, CatalogItem.id == Loan.item_id)
            .order_by(*_postal_order(), Loan.id).execution_options(yield_per=STREAM))
    rows = session.execute(stmt)
    with _closing(rows):
        for _sid, group in itertools.groupby(rows, key=lambda row: row[0].id):
            parts = list(group)
            shipment, patron = parts[0][0], parts[0][1]
            items = tuple(SlipItem(item.barcode, item.title, item.material_type, item.call_number)
                          for _s, _p, _x, _loan, item in parts)
            yield SlipData(patron_name=patron.name, items=items, due_on=shipment.due_on, library=library,
                           service=shipment.service, shipped_on=shipment.shipped_on,
                           shipment_ref=shipment_ref(shipment.month, shipment.id),
                           large_print=patron.needs_large_print)


def pick_lines(session: Session, run: ShipmentRun) -> Iterator[PickLine]:
    """Every item to fetch, already in shelf order (配架場所, then call number as shelves sort it)."""
    rows = session.execute(
        select(CatalogItem.shelf_location, CatalogItem.call_number, CatalogItem.barcode, CatalogItem.title,
               CatalogItem.material_type, Shipment.month, Shipment.id)
        .join(Loan, Loan.item_id == CatalogItem.id).join(Shipment, Shipment.id == Loan.shipment_id)
        .where(Shipment.run_id == run.id)
        .order_by(CatalogItem.shelf_location, CatalogItem.call_number_key, CatalogItem.title, CatalogItem.barcode)
        .execution_options(yield_per=STREAM)
    )
    with _closing(rows):
        for shelf, call_number, barcode, title, material, month, sid in rows:
            yield PickLine(shelf_location=call_number, barcode=barcode, title=title, material=material,
                           shipment_ref=shipment_ref(month, sid), library_location=shelf)


ADDRESS_HEADER = ["発送番号", "サービス", "郵便番号", "住所1", "住所2", "様方", "氏名", "区分"]


def address_rows(session: Session, run: ShipmentRun, *, home_delivery_marking: str = "") -> Iterator[list[str]]:
    """The batch's addresses for a mail merge or the post office, in postal-code order."""
    yield ADDRESS_HEADER
    rows = session.execute(_shipments(run).order_by(*_postal_order()).execution_options(yield_per=STREAM))
    with _closing(rows):
        for shipment, patron, proxy in rows:
            to = addressee_for(patron, proxy)
            lines = list(to.address_lines) + ["", ""]
            yield [shipment_ref(shipment.month, shipment.id), SERVICE_JA[shipment.service], to.postal_code,
                   lines[0], " ".join(lines[1:]).strip(), f"{to.proxy_name} 様方" if to.proxy_name else "",
                   f"{to.name} 様", postal_marking(shipment.service, home_delivery=home_delivery_marking)]


@contextmanager
def _closing(result: Any) -> Iterator[None]:
    """Release a streamed result (a server-side cursor on PostgreSQL) even when the reader stops early."""
    try:
        yield
    finally:
        result.close()


def run_has_shipments(session: Session, run: ShipmentRun) -> bool:
    return session.scalar(select(Shipment.id).where(Shipment.run_id == run.id).limit(1)) is not None
