"""The daily case-management job: expire approvals, flag patrons whose eligibility changed.

Re-running it on the same day changes nothing: the run is claimed once per day in ``job_run``,
expiry is a set-based UPDATE of what has passed, and an open review flag is never repeated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from outreach.enrolments import services
from outreach.enrolments.models import Approval
from outreach.system.services import claim_job_run, finish_job_run
from outreach.types import ApprovalStatus

log = logging.getLogger(__name__)

JOB_NAME = "enrolments.daily"


@dataclass(frozen=True)
class DailySummary:
    ran: bool
    expired: int = 0
    flagged: int = 0
    ending_soon: int = 0

    def __str__(self) -> str:
        if not self.ran:
            return "already ran for this day; nothing changed"
        return f"expired {self.expired}, flagged for review {self.flagged}, ending soon {self.ending_soon}"


def run_daily(session: Session, on: date, *, force: bool = False) -> DailySummary:
    """Expire approvals past their end and flag patrons the rules no longer cover (once per day)."""
    run = claim_job_run(session, JOB_NAME, on.isoformat())
    if run is None and not force:
        return DailySummary(ran=False)
    expired = services.expire_approvals(session, on)
    patron_ids = session.scalars(select(Approval.patron_id).where(
        Approval.status == ApprovalStatus.ACTIVE, services.in_force_condition(on)).distinct()).all()
    flagged = services.check_for_review(session, patron_ids, on)
    summary = DailySummary(True, expired, flagged, services.ending_soon_count(session, on))
    if run is not None:
        finish_job_run(run, str(summary))
    log.info("enrolments daily job for %s: %s", on.isoformat(), summary)
    return summary
