"""The audit trail: who saw or changed which record, and when. Append-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from outreach.db import UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_entity", "entity_type", "entity_id"),
        Index("ix_audit_event_occurred_at", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # No foreign key: the trail must outlive accounts and records it mentions.
    actor_id: int | None = Field(default=None)
    actor_username: str = Field(max_length=64)
    action: str = Field(max_length=32)  # create, update, delete, view, login, login_failed, ...
    entity_type: str = Field(max_length=32)
    entity_id: int | None = Field(default=None)
    # Names of the fields that changed, comma-separated; never their values.
    fields: str = Field(default="", max_length=2000)
    detail: str = Field(default="", max_length=500)
