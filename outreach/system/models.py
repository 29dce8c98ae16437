"""Installation-wide records: changed policy values and the runs of scheduled jobs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from outreach.db import UTCDateTime, utcnow


class LibrarySetting(SQLModel, table=True):
    """Policy values changed from the defaults (key → JSON value); see outreach.policy."""

    __tablename__ = "library_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_by_id: int | None = Field(default=None, foreign_key="staff_user.id")


class JobRun(SQLModel, table=True):
    """A scheduled job's run for a day or month: the unique key makes re-runs and rivals harmless."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=40)
    period: str = Field(max_length=20)  # e.g. 2026-11-21 or 2026-11
    started_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    summary: str = Field(default="", max_length=1000)
