"""Items the outreach desk lends (資料) and the record of each catalogue import."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from outreach.db import UTCDateTime, enum_type, utcnow
from outreach.types import ItemStatus, MaterialType


class CatalogItem(SQLModel, table=True):
    """One copy the desk can send: identified by its barcode (資料番号) in the library's main system."""

    __tablename__ = "catalog_item"
    __table_args__ = (
        # "choose for me" and the planner read available items by type, newest first
        Index("ix_catalog_item_selectable", "status", "material_type", "id"),
        Index("ix_catalog_item_title_key", "title_key", "id"),
        Index("ix_catalog_item_title_kana_key", "title_kana_key", "id"),
        Index("ix_catalog_item_author_key", "author_key", "id"),
        Index("ix_catalog_item_shelf", "shelf_location", "call_number_key", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    barcode: str = Field(max_length=32, unique=True)  # 資料番号
    title: str = Field(max_length=300)  # 書名
    title_kana: str = Field(default="", max_length=300)  # 書名ヨミ
    author: str = Field(default="", max_length=200)  # 著者
    material_type: MaterialType = Field(sa_type=enum_type(MaterialType))  # 資料種別
    subjects: str = Field(default="", max_length=500)  # 件名・ジャンル, separated by 「;」
    shelf_location: str = Field(default="", max_length=60)  # 配架場所 (e.g. 中央 大活字コーナー)
    call_number: str = Field(default="", max_length=60)  # 請求記号 (e.g. 913.6/フシ)
    is_lendable: bool = Field(default=True)  # 館外貸出可 (規則第7条)
    is_unsuitable: bool = Field(default=False)  # 課長が宅配・郵送に適さないと判断
    unsuitable_reason: str = Field(default="", max_length=300)
    unsuitable_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    status: ItemStatus = Field(default=ItemStatus.AVAILABLE, sa_type=enum_type(ItemStatus))

    # Normalised keys (maintained by catalog.rules): search and the profile matching of "choose for me".
    title_key: str = Field(default="", max_length=300)
    title_kana_key: str = Field(default="", max_length=300)
    author_key: str = Field(default="", max_length=200)
    subject_keys: str = Field(default="", max_length=600)  # "|key|key|", so a key is found with LIKE '%|k|%'
    call_number_key: str = Field(default="", max_length=120)  # sorts like a shelf (913.12 before 913.6, 95 before 913)

    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class CatalogImport(SQLModel, table=True):
    """One CSV import from the main system, with its counts; rows that changed something or were
    rejected are kept in :class:`CatalogImportRow` so the librarian sees exactly what happened."""

    __tablename__ = "catalog_import"

    id: int | None = Field(default=None, primary_key=True)
    filename: str = Field(default="", max_length=200)
    encoding: str = Field(default="", max_length=20)
    rows_total: int = Field(default=0)
    rows_added: int = Field(default=0)
    rows_updated: int = Field(default=0)
    rows_unchanged: int = Field(default=0)
    rows_rejected: int = Field(default=0)
    problem: str = Field(default="", max_length=500)  # a whole-file problem (no header, wrong columns ...)
    imported_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class CatalogImportRow(SQLModel, table=True):
    """What happened to one row of an import: added, updated (which fields) or rejected (why)."""

    __tablename__ = "catalog_import_row"
    __table_args__ = (Index("ix_catalog_import_row_import", "import_id", "outcome", "row_number"),)

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="catalog_import.id", ondelete="CASCADE")
    row_number: int  # line in the file, the header being line 1
    barcode: str = Field(default="", max_length=64)
    outcome: str = Field(max_length=10)  # added / updated / rejected
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
