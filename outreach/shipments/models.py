"""The monthly shipment run (月次発送): its record and claim, the stored plan, and the shipments.

One run per month covers both lending services. The plan is stored so that what the librarian
reviewed (and adjusted) is exactly what is committed; committing turns planned rows into
shipments and loans chunk by chunk, each chunk in its own transaction, so an interrupted run
is completed by the next one and never duplicated (unique patron × service × month).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from outreach.db import UTCDateTime, enum_type, utcnow
from outreach.types import ItemSource, RunState, Service, SkipReason


class ShipmentRun(SQLModel, table=True):
    """The run of one month: its state, the claim of the process committing it, and its progress."""

    __tablename__ = "shipment_run"

    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(max_length=7, unique=True)  # 2026-12
    shipping_on: date  # 発送日: the first open day of the month unless chosen otherwise
    due_on: date  # 返却期限: one month later, on an open day
    state: RunState = Field(default=RunState.PLANNED, sa_type=enum_type(RunState))
    plan_version: int = Field(default=1)  # bumped by every re-plan or adjustment
    planned_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    planned_by_id: int | None = Field(default=None, foreign_key="staff_user.id")  # None: the scheduler
    committed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    committed_by_id: int | None = Field(default=None, foreign_key="staff_user.id")

    # The claim: only the owner may write shipments; a dead owner's claim can be taken over.
    lease_owner: str = Field(default="", max_length=64)
    lease_host: str = Field(default="", max_length=100)
    lease_pid: int | None = Field(default=None)
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))

    # Counts of the plan, and the progress of the commit (read by the status page).
    patrons_considered: int = Field(default=0)
    shipments_planned: int = Field(default=0)
    items_planned: int = Field(default=0)
    excluded: int = Field(default=0)
    shipments_done: int = Field(default=0)
    items_done: int = Field(default=0)
    items_dropped: int = Field(default=0)  # no longer available when the commit reached them
    last_error: str = Field(default="", max_length=500)


class PlannedShipment(SQLModel, table=True):
    """The planner's decision for one patron and service: ship (with items) or not (with the reason)."""

    __tablename__ = "planned_shipment"
    __table_args__ = (
        UniqueConstraint("run_id", "patron_id", "service"),
        Index("ix_planned_shipment_work", "run_id", "will_ship", "is_committed", "id"),
        Index("ix_planned_shipment_reason", "run_id", "skip_reason", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="shipment_run.id", ondelete="CASCADE")
    patron_id: int = Field(foreign_key="patron.id", ondelete="CASCADE")
    service: Service = Field(sa_type=enum_type(Service))
    will_ship: bool
    skip_reason: SkipReason | None = Field(default=None, sa_type=enum_type(SkipReason), nullable=True)
    detail: str = Field(default="", max_length=300)  # the reason in words (Japanese)
    detail_en: str = Field(default="", max_length=300)
    books_count: int = Field(default=0)
    audio_visual_count: int = Field(default=0)
    is_committed: bool = Field(default=False)  # the commit is done with it: shipment written, or requests settled
    shipment_id: int | None = Field(default=None, foreign_key="shipment.id", ondelete="SET NULL")


class PlannedItem(SQLModel, table=True):
    """One item in a planned shipment, or a requested item that cannot go (with the rule it breaks)."""

    __tablename__ = "planned_item"
    __table_args__ = (
        Index("ix_planned_item_shipment", "planned_shipment_id", "id"),
        # deleting a sent request line sets its planned items' reference to NULL: find them by index
        Index("ix_planned_item_request_line", "request_line_id"),
        # an item goes to at most one patron in a run, even after manual adjustments
        Index("ix_planned_item_run_item", "run_id", "item_id", unique=True,
              sqlite_where=text("is_included"), postgresql_where=text("is_included")),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="shipment_run.id", ondelete="CASCADE")
    planned_shipment_id: int = Field(foreign_key="planned_shipment.id", ondelete="CASCADE")
    item_id: int = Field(foreign_key="catalog_item.id")
    source: ItemSource = Field(sa_type=enum_type(ItemSource))
    request_line_id: int | None = Field(default=None, foreign_key="loan_request_line.id", ondelete="SET NULL")
    is_included: bool = Field(default=True)
    reason: str = Field(default="", max_length=300)  # why chosen (おまかせ)
    problem_code: str = Field(default="", max_length=40)  # the broken rule when not included
    problem: str = Field(default="", max_length=300)  # its wording (Japanese)
    problem_en: str = Field(default="", max_length=300)
    carry_over: bool = Field(default=False)  # the request line stays open for next month


class Shipment(SQLModel, table=True):
    """One delivery or mail loan (1回の発送): the unit of the statistics (回数, 冊数, 点数).

    The counts stay here for the statistics when the loans are closed and anonymised; the patron
    reference goes (SET NULL) only if the patron record itself is deleted.
    """

    __tablename__ = "shipment"
    __table_args__ = (
        UniqueConstraint("patron_id", "service", "month"),  # one delivery a month (宅配要綱第6条2)
        Index("ix_shipment_month", "month", "service", "id"),
        Index("ix_shipment_run", "run_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(default=None, foreign_key="shipment_run.id", ondelete="SET NULL")
    patron_id: int | None = Field(default=None, foreign_key="patron.id", ondelete="SET NULL")
    service: Service = Field(sa_type=enum_type(Service))
    month: str = Field(max_length=7)
    shipped_on: date
    due_on: date
    books_count: int = Field(default=0)  # 貸出冊数 (printed items, 点訳絵本 included)
    audio_visual_count: int = Field(default=0)  # 貸出CD数 (CD, DAISY and other recordings)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))

    @property
    def ref(self) -> str:
        return shipment_ref(self.month, self.id or 0)


def shipment_ref(month: str, shipment_id: int) -> str:
    """発送番号 printed on labels, slips and the pick list: 2612-000042 (no personal data)."""
    return f"{month[2:4]}{month[5:7]}-{shipment_id:06d}"
