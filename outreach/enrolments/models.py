"""Evidence, applications, decisions and approvals (the enrolment of a patron in a service)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from outreach.db import UTCDateTime, enum_type, utcnow
from outreach.types import (
    ApplicationState,
    ApprovalStatus,
    CareLevel,
    CaseNoteKind,
    CertificateKind,
    Channel,
    DifficultyBasis,
    DisabilityCategory,
    EndReason,
    LetterKind,
    Service,
)


def _created() -> datetime:
    return utcnow()


class DisabilityCertificate(SQLModel, table=True):
    """障害者手帳 as seen by staff. 要配慮個人情報: only staff who need it see it."""

    __tablename__ = "disability_certificate"

    id: int | None = Field(default=None, primary_key=True)
    patron_id: int = Field(foreign_key="patron.id", index=True, ondelete="CASCADE")
    kind: CertificateKind = Field(sa_type=enum_type(CertificateKind))
    category: DisabilityCategory | None = Field(default=None, sa_type=enum_type(DisabilityCategory), nullable=True)
    grade: str = Field(default="", max_length=10)  # 等級: 1級〜6級, A, B1 ...
    number: str = Field(default="", max_length=30)
    issued_on: date
    valid_until: date | None = Field(default=None)  # 有効期限・再認定日 where the kind has one
    document_seen: str = Field(max_length=100)  # e.g. 手帳原本, 手帳の写し
    seen_on: date
    seen_by_id: int = Field(foreign_key="staff_user.id")
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime(), nullable=False))


class CareCertification(SQLModel, table=True):
    """要介護・要支援認定 and its validity period."""

    __tablename__ = "care_certification"

    id: int | None = Field(default=None, primary_key=True)
    patron_id: int = Field(foreign_key="patron.id", index=True, ondelete="CASCADE")
    level: CareLevel = Field(sa_type=enum_type(CareLevel))
    valid_from: date
    valid_until: date
    document_seen: str = Field(max_length=100)  # e.g. 介護保険被保険者証
    seen_on: date
    seen_by_id: int = Field(foreign_key="staff_user.id")
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime(), nullable=False))


class VisitDifficulty(SQLModel, table=True):
    """Whether the patron finds it difficult to visit the library (来館困難), and how that was established.

    The newest assessment counts; older ones stay as the record of what was known when.
    """

    __tablename__ = "visit_difficulty"

    id: int | None = Field(default=None, primary_key=True)
    patron_id: int = Field(foreign_key="patron.id", index=True, ondelete="CASCADE")
    is_difficult: bool
    basis: DifficultyBasis = Field(sa_type=enum_type(DifficultyBasis))
    note: str = Field(default="", max_length=500)
    assessed_on: date
    assessed_by_id: int = Field(foreign_key="staff_user.id")
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime(), nullable=False))


class Application(SQLModel, table=True):
    """An application (申込) for one service, from receipt to decision."""

    __tablename__ = "application"
    __table_args__ = (Index("ix_application_state", "state", "received_on"),)

    id: int | None = Field(default=None, primary_key=True)
    patron_id: int = Field(foreign_key="patron.id", index=True, ondelete="CASCADE")
    service: Service = Field(sa_type=enum_type(Service))
    received_on: date
    channel: Channel = Field(sa_type=enum_type(Channel))
    proxy_id: int | None = Field(default=None, foreign_key="patron_proxy.id", ondelete="SET NULL")  # made by a proxy
    state: ApplicationState = Field(default=ApplicationState.RECEIVED, sa_type=enum_type(ApplicationState))
    is_renewal: bool = Field(default=False)  # 更新: the approval continues the current one without a gap
    # 郵送要綱付則2: the chief recorded that the patron already received mail loans before the rules took
    # effect, from this day (the patron's first registration); grandfathering then covers them.
    first_registered_on: date | None = Field(default=None)
    note: str = Field(default="", max_length=1000)
    decided_on: date | None = Field(default=None)
    decided_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    is_special: bool = Field(default=False)  # その他特に必要と認めた者
    decision_reason: str = Field(default="", max_length=1000)  # rejection reason or special-approval reason
    # What the rules said when the chief decided (basis code and failing reason codes).
    rule_basis: str = Field(default="", max_length=40)
    rule_failing: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime(), nullable=False))


class ApplicationEvent(SQLModel, table=True):
    """Every state transition of an application: who, when, from and to."""

    __tablename__ = "application_event"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True, ondelete="CASCADE")
    from_state: ApplicationState | None = Field(default=None, sa_type=enum_type(ApplicationState), nullable=True)
    to_state: ApplicationState = Field(sa_type=enum_type(ApplicationState))
    at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime(), nullable=False))
    by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    note: str = Field(default="", max_length=1000)


class Approval(SQLModel, table=True):
    """An approval (承認) or registration (登録) of a patron for a service, with its period."""

    __tablename__ = "approval"
    __table_args__ = (
        Index("ix_approval_service_period", "service", "valid_from", "valid_until"),
        Index("ix_approval_patron_service", "patron_id", "service"),
        # "has this approval been renewed?" is asked for every approval on the renewal work list
        Index("ix_approval_previous_approval_id", "previous_approval_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    patron_id: int = Field(foreign_key="patron.id", ondelete="CASCADE")
    service: Service = Field(sa_type=enum_type(Service))
    application_id: int | None = Field(default=None, foreign_key="application.id", unique=True)
    valid_from: date
    valid_until: date | None = Field(default=None)  # None: no fixed end (mail loans)
    status: ApprovalStatus = Field(default=ApprovalStatus.ACTIVE, sa_type=enum_type(ApprovalStatus))
    is_special: bool = Field(default=False)
    special_reason: str = Field(default="", max_length=1000)
    basis: str = Field(default="", max_length=40)  # the rule clause (rules.Basis) it was granted under
    approved_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    previous_approval_id: int | None = Field(default=None, foreign_key="approval.id")  # the one this renews
    ended_on: date | None = Field(default=None)  # last day of service when ended early
    end_reason: EndReason | None = Field(default=None, sa_type=enum_type(EndReason), nullable=True)
    end_note: str = Field(default="", max_length=500)
    ended_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    renewal_notice_on: date | None = Field(default=None)  # when the renewal notice went out
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime(), nullable=False))


class ReviewFlag(SQLModel, table=True):
    """A patron whose circumstances changed what the rules say: a librarian keeps or ends the service."""

    __tablename__ = "review_flag"
    __table_args__ = (Index("ix_review_flag_open", "resolved_on", "raised_on"),)

    id: int | None = Field(default=None, primary_key=True)
    patron_id: int = Field(foreign_key="patron.id", index=True, ondelete="CASCADE")
    approval_id: int = Field(foreign_key="approval.id", ondelete="CASCADE")
    reason_codes: str = Field(max_length=300)  # failing rules.ReasonCode values, comma-separated
    raised_on: date
    resolved_on: date | None = Field(default=None)
    resolved_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    resolution: str = Field(default="", max_length=20)  # kept / ended


class CaseNote(SQLModel, table=True):
    """The case log: contacts and home visits for reading consultation (読書相談, 宅配要綱第10条)."""

    __tablename__ = "case_note"
    __table_args__ = (Index("ix_case_note_planned", "is_planned", "occurs_on"),)

    id: int | None = Field(default=None, primary_key=True)
    patron_id: int = Field(foreign_key="patron.id", index=True, ondelete="CASCADE")
    kind: CaseNoteKind = Field(sa_type=enum_type(CaseNoteKind))
    occurs_on: date
    is_planned: bool = Field(default=False)  # a planned visit, shown on the dashboard until done
    staff_id: int = Field(foreign_key="staff_user.id")
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime(), nullable=False))


class IssuedLetter(SQLModel, table=True):
    """A letter as issued: the PDF is kept so it can be printed again exactly."""

    __tablename__ = "issued_letter"
    __table_args__ = (UniqueConstraint("fiscal_year", "serial"), Index("ix_issued_letter_patron", "patron_id", "issued_on"))

    id: int | None = Field(default=None, primary_key=True)
    patron_id: int = Field(foreign_key="patron.id", ondelete="CASCADE")
    kind: LetterKind = Field(sa_type=enum_type(LetterKind))
    service: Service | None = Field(default=None, sa_type=enum_type(Service), nullable=True)
    fiscal_year: int
    serial: int  # 文書番号の連番 within the fiscal year
    document_number: str = Field(max_length=40)
    issued_on: date
    issued_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    application_id: int | None = Field(default=None, foreign_key="application.id", ondelete="SET NULL")
    approval_id: int | None = Field(default=None, foreign_key="approval.id", ondelete="SET NULL")
    is_large_print: bool = Field(default=False)
    pdf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=_created, sa_column=Column(UTCDateTime(), nullable=False))
