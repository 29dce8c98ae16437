"""Every read and write of evidence, applications, approvals, review flags, case notes and letters."""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import Select, and_, or_, select
from sqlmodel import Session

from outreach.enrolments.models import Approval
from outreach.types import Service

log = logging.getLogger(__name__)


def in_force_condition(on: date):  # type: ignore[no-untyped-def]
    """SQL condition: an approval that is in force on ``on`` (started, not past its end, not ended)."""
    return and_(
        Approval.valid_from <= on,
        or_(Approval.valid_until.is_(None), Approval.valid_until >= on),
        or_(Approval.ended_on.is_(None), Approval.ended_on >= on),
    )


def active_approval(session: Session, patron_id: int, service: Service, on: date) -> Approval | None:
    """The patron's approval or registration for ``service`` in force on ``on``, if any."""
    return session.scalars(
        select(Approval)
        .where(Approval.patron_id == patron_id, Approval.service == service, in_force_condition(on))
        .order_by(Approval.valid_from.desc(), Approval.id.desc())
    ).first()


def active_approvals_stmt(service: Service, on: date) -> Select:  # type: ignore[type-arg]
    """Set-based: every approval for ``service`` in force on ``on`` (for batches and statistics)."""
    return select(Approval).where(Approval.service == service, in_force_condition(on)).order_by(Approval.patron_id)
