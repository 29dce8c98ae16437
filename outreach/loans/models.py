"""Loan requests (貸出申込), reader profiles (読書プロフィール) and loans (貸出).

Privacy (図書館の自由に関する宣言): a loan names the patron and the item only while it is open, or
for patrons who consented to a reading history. Closing any other loan removes both; the
statistics need only the counts, which live on the shipment row and on the anonymised loan
(service, material type, dates).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, text
from sqlmodel import Field, SQLModel

from outreach.db import UTCDateTime, enum_type, utcnow
from outreach.types import Channel, ItemSource, LoanRequestState, LoanStatus, MaterialType, Service


class LoanRequest(SQLModel, table=True):
    """What a patron (or their proxy) asked for, for the next delivery of a service."""

    __tablename__ = "loan_request"
    __table_args__ = (Index("ix_loan_request_open", "state", "service", "patron_id"),)

    id: int | None = Field(default=None, primary_key=True)
    patron_id: int = Field(foreign_key="patron.id", index=True, ondelete="CASCADE")
    service: Service = Field(sa_type=enum_type(Service))
    channel: Channel = Field(sa_type=enum_type(Channel))  # 電話・FAX・インターネット・郵送・窓口
    proxy_id: int | None = Field(default=None, foreign_key="patron_proxy.id", ondelete="SET NULL")  # made by a proxy
    received_on: date
    choose_for_me: bool = Field(default=False)  # おまかせ: staff choose from the reader profile
    note: str = Field(default="", max_length=1000)
    state: LoanRequestState = Field(default=LoanRequestState.OPEN, sa_type=enum_type(LoanRequestState))
    # Counts survive when the lines are removed at closing (what was asked for is not kept).
    items_shipped: int = Field(default=0)
    items_cancelled: int = Field(default=0)
    closed_on: date | None = Field(default=None)
    created_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class LoanRequestLine(SQLModel, table=True):
    """One item asked for (or chosen and accepted by staff). Removed when it is sent or cancelled."""

    __tablename__ = "loan_request_line"
    __table_args__ = (
        Index("ix_loan_request_line_item", "item_id", "request_id"),
        Index("ix_loan_request_line_request", "request_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="loan_request.id", ondelete="CASCADE")
    item_id: int = Field(foreign_key="catalog_item.id")
    source: ItemSource = Field(default=ItemSource.NAMED, sa_type=enum_type(ItemSource))
    reason: str = Field(default="", max_length=300)  # why it was chosen (おまかせ)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ReaderProfile(SQLModel, table=True):
    """What a patron likes to read, for "choose for me" (おまかせ選書)."""

    __tablename__ = "reader_profile"

    id: int | None = Field(default=None, primary_key=True)
    patron_id: int = Field(foreign_key="patron.id", unique=True, ondelete="CASCADE")
    subjects: str = Field(default="", max_length=500)  # 好きな件名・ジャンル, separated by 「、」
    authors: str = Field(default="", max_length=500)  # 好きな著者
    formats: str = Field(default="", max_length=200)  # MaterialType values, comma-separated (大活字, デイジー ...)
    exclusions: str = Field(default="", max_length=500)  # words that rule an item out (件名・書名・著者)
    items_per_month: int = Field(default=5)  # how many items they like each month
    is_monthly: bool = Field(default=False)  # choose every month without a request (定期おまかせ)
    updated_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Loan(SQLModel, table=True):
    """One item sent in one shipment, until it comes back (or is lost)."""

    __tablename__ = "loan"
    __table_args__ = (
        # An item is on at most one open loan, whatever the code does: the database says so.
        Index("ix_loan_item_open", "item_id", unique=True,
              sqlite_where=text("status = 'on_loan'"), postgresql_where=text("status = 'on_loan'")),
        Index("ix_loan_patron_status", "patron_id", "status", "due_on"),
        Index("ix_loan_status_due", "status", "due_on"),
        Index("ix_loan_shipment", "shipment_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipment.id", ondelete="CASCADE")
    # NULL once closed for a patron without reading-history consent (who-read-what is forgotten).
    patron_id: int | None = Field(default=None, foreign_key="patron.id", ondelete="SET NULL")
    item_id: int | None = Field(default=None, foreign_key="catalog_item.id", ondelete="SET NULL")
    service: Service = Field(sa_type=enum_type(Service))
    material_type: MaterialType = Field(sa_type=enum_type(MaterialType))
    source: ItemSource = Field(default=ItemSource.NAMED, sa_type=enum_type(ItemSource))
    shipped_on: date
    due_on: date
    status: LoanStatus = Field(default=LoanStatus.ON_LOAN, sa_type=enum_type(LoanStatus))
    closed_on: date | None = Field(default=None)  # returned or reported lost
    overdue_since: date | None = Field(default=None)  # set by the daily overdue job
    reminded_on: date | None = Field(default=None)  # last 返却のお願い recorded as sent
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
