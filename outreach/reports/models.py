"""Figures of fiscal years before the system was in use, entered by hand so the trend starts earlier."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from outreach.db import UTCDateTime, utcnow


class HistoricalFigure(SQLModel, table=True):
    """One row of table (1) (a service) or table (2) (a library) for a past fiscal year."""

    __tablename__ = "historical_figure"
    __table_args__ = (UniqueConstraint("fiscal_year", "table_no", "row_key"),)

    id: int | None = Field(default=None, primary_key=True)
    fiscal_year: int
    table_no: int  # 1: home delivery and mail loans, 2: face-to-face reading
    row_key: str = Field(max_length=100)  # a Service value for table 1, the library's name for table 2
    registrants: int = Field(default=0)
    deliveries: int = Field(default=0)
    books: int = Field(default=0)
    audio_visual: int = Field(default=0)
    sessions: int = Field(default=0)
    minutes: int = Field(default=0)  # reading time, kept in minutes like the logged sessions
    note: str = Field(default="", max_length=300)  # e.g. the source of the figure (図書館の概要 令和2年度版)
    entered_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    entered_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
