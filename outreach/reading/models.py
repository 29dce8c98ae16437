"""Face-to-face reading (対面朗読): reading rooms, volunteer readers, requests and sessions with their log."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from outreach.db import UTCDateTime, enum_type, utcnow
from outreach.types import CancelledBy, ReadingKind, ReadingRequestStatus, ReadingSessionState


class ReadingRoom(SQLModel, table=True):
    """The reading room (対面朗読室) of one library. The defaults are seeded by migration 0003."""

    __tablename__ = "reading_room"

    id: int | None = Field(default=None, primary_key=True)
    library_name: str = Field(max_length=100, unique=True)  # 中央図書館
    room_name: str = Field(default="対面朗読室", max_length=100)
    is_branch: bool = Field(default=False)  # 分室: also closed on Sundays (calendar.is_open(branch=True))
    is_active: bool = Field(default=True)
    sort_order: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ReadingRoomHours(SQLModel, table=True):
    """Opening hours of a room for one kind of day; no row means the room does not open that day."""

    __tablename__ = "reading_room_hours"
    __table_args__ = (UniqueConstraint("room_id", "day_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="reading_room.id", ondelete="CASCADE")
    day_kind: int  # 0 = Monday … 6 = Sunday, 7 = national holiday (休日: 土日祝の開館時間)
    opens: time
    closes: time


class Volunteer(SQLModel, table=True):
    """A volunteer reader (対面朗読協力者) with a staff account of role ``volunteer``."""

    __tablename__ = "reading_volunteer"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="staff_user.id", unique=True)
    name: str = Field(max_length=100)
    name_kana: str = Field(max_length=100)
    phone: str = Field(default="", max_length=20)
    email: str = Field(default="", max_length=254)
    postal_code: str = Field(default="", max_length=8)
    address: str = Field(default="", max_length=200)
    pledge_signed_on: date | None = Field(default=None)  # 利用者の秘密を守る誓約の日
    retired_on: date | None = Field(default=None)  # 退任: no longer offered or bookable from this day
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class VolunteerRoom(SQLModel, table=True):
    """A library whose reading room the volunteer serves."""

    __tablename__ = "reading_volunteer_room"

    volunteer_id: int = Field(foreign_key="reading_volunteer.id", primary_key=True, ondelete="CASCADE")
    room_id: int = Field(foreign_key="reading_room.id", primary_key=True, ondelete="CASCADE")


class VolunteerSkill(SQLModel, table=True):
    """A kind of text the volunteer can read (一般・英語・専門書・点訳校正)."""

    __tablename__ = "reading_volunteer_skill"

    volunteer_id: int = Field(foreign_key="reading_volunteer.id", primary_key=True, ondelete="CASCADE")
    kind: ReadingKind = Field(sa_type=enum_type(ReadingKind), primary_key=True)


class VolunteerAvailability(SQLModel, table=True):
    """A weekly recurring slot when the volunteer can read at one library."""

    __tablename__ = "reading_availability"
    __table_args__ = (Index("ix_reading_availability_room_weekday", "room_id", "weekday"),)

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int = Field(foreign_key="reading_volunteer.id", index=True, ondelete="CASCADE")
    room_id: int = Field(foreign_key="reading_room.id", ondelete="CASCADE")
    weekday: int  # date.weekday(): Monday is 0
    start_time: time
    end_time: time


class VolunteerAbsence(SQLModel, table=True):
    """Days the volunteer is away (both ends included)."""

    __tablename__ = "reading_absence"

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int = Field(foreign_key="reading_volunteer.id", index=True, ondelete="CASCADE")
    starts_on: date
    ends_on: date
    note: str = Field(default="", max_length=200)


class ReadingRequest(SQLModel, table=True):
    """A patron's request for face-to-face reading at one library; its sessions are booked against it.

    The request's library is also where the patron counts as a registrant in the statistics.
    """

    __tablename__ = "reading_request"
    __table_args__ = (Index("ix_reading_request_status", "status", "received_on"),)

    id: int | None = Field(default=None, primary_key=True)
    patron_id: int = Field(foreign_key="patron.id", index=True, ondelete="CASCADE")
    room_id: int = Field(foreign_key="reading_room.id")
    received_on: date
    address_as: str = Field(max_length=100)  # the name the reader uses in the room (e.g. 山田さん)
    preferred_times: str = Field(default="", max_length=500)  # 希望日時, as the patron said it
    duration_minutes: int
    material_kind: ReadingKind = Field(sa_type=enum_type(ReadingKind))
    material_description: str = Field(default="", max_length=1000)  # what is to be read
    brings_own_material: bool = Field(default=False)  # 持参資料
    status: ReadingRequestStatus = Field(default=ReadingRequestStatus.OPEN, sa_type=enum_type(ReadingRequestStatus))
    note: str = Field(default="", max_length=1000)  # staff only
    closed_on: date | None = Field(default=None)
    created_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ReadingSeries(SQLModel, table=True):
    """A recurring booking (e.g. every Tuesday 10:00–12:00 for eight weeks); each occurrence is a session."""

    __tablename__ = "reading_series"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="reading_request.id", index=True, ondelete="CASCADE")
    first_on: date
    occurrences: int  # asked for; the sessions booked may be fewer when some clashed
    start_time: time
    end_time: time
    created_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ReadingSession(SQLModel, table=True):
    """One session: who reads to whom, where and when; its state; and the log once held."""

    __tablename__ = "reading_session"
    __table_args__ = (
        Index("ix_reading_session_room_day", "room_id", "session_on"),
        Index("ix_reading_session_volunteer_day", "volunteer_id", "session_on"),
        Index("ix_reading_session_patron_day", "patron_id", "session_on"),
        Index("ix_reading_session_state_day", "state", "session_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="reading_request.id", index=True, ondelete="CASCADE")
    patron_id: int = Field(foreign_key="patron.id", ondelete="CASCADE")  # the request's, for conflict checks
    room_id: int = Field(foreign_key="reading_room.id")
    volunteer_id: int | None = Field(default=None, foreign_key="reading_volunteer.id")  # None after a decline
    series_id: int | None = Field(default=None, foreign_key="reading_series.id", ondelete="SET NULL")
    session_on: date
    start_time: time
    end_time: time
    state: ReadingSessionState = Field(default=ReadingSessionState.SCHEDULED, sa_type=enum_type(ReadingSessionState))
    booked_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    declined_volunteer_id: int | None = Field(default=None, foreign_key="reading_volunteer.id")
    decline_reason: str = Field(default="", max_length=500)
    cancelled_by: CancelledBy | None = Field(default=None, sa_type=enum_type(CancelledBy), nullable=True)
    cancel_reason: str = Field(default="", max_length=500)
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    cancelled_by_user_id: int | None = Field(default=None, foreign_key="staff_user.id")
    # The log (実施記録), written by the volunteer (or staff) once the session was held.
    actual_start_time: time | None = Field(default=None)
    actual_end_time: time | None = Field(default=None)
    reading_minutes: int | None = Field(default=None)
    material_titles: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))  # consent only
    material_count: int | None = Field(default=None)  # what survives without consent: how many items
    log_note: str = Field(default="", max_length=1000)
    logged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    logged_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
