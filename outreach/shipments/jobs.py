"""Scheduled and command-line work of the monthly run, safe to repeat.

``scheduled_plan(session, on)`` has the scheduler's job shape (one unit of work, a summary back):
the lead's trigger runs it every morning and it plans the month on its plan day only.
``commit_month`` is the commit: a resumable series of units of work of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from sqlmodel import Session

from outreach.calendar import first_open_day_of_month, next_open_day
from outreach.db import database
from outreach.policy import Policy
from outreach.shipments import rules, services
from outreach.system.services import claim_job_run, current_policy, finish_job_run

log = logging.getLogger(__name__)

PLAN_JOB = "shipments.plan"


def plan_day(year: int, month: int, policy: Policy, day: int | None = None) -> date:
    """The day the scheduler plans a month: its first open day (default), or the first open day
    from the configured day of the month."""
    if day is None:
        return first_open_day_of_month(year, month, policy)
    return next_open_day(date(year, month, max(1, min(day, 28))), policy)


def scheduled_plan(session: Session, on: date, *, day: int | None = None) -> str:
    """Every morning: on the month's plan day, plan the month once (the librarian reviews and
    commits it). Any other day, or a second call on the plan day, changes nothing."""
    policy = current_policy(session)
    if on != plan_day(on.year, on.month, policy, day):
        return f"{on.isoformat()} is not the plan day"
    month = rules.month_key(on.year, on.month)
    claim = claim_job_run(session, PLAN_JOB, month)
    if claim is None:
        return f"{month}: already planned by the scheduler"
    if services.run_for_month(session, month) is not None:
        finish_job_run(claim, "planned by staff before the scheduler")
        return f"{month}: already planned by staff"
    run = services.plan_run(session, month=month, today=on)
    summary = f"{run.shipments_planned} shipments, {run.items_planned} items, {run.excluded} not sent"
    finish_job_run(claim, summary)
    log.info("scheduled plan of %s: %s", month, summary)
    return f"{month}: {summary}"


def commit_month(run_id: int, *, owner: str | None = None, actor_id: int | None = None,
                 actor_username: str = "system", chunk_size: int = services.DEFAULT_CHUNK,
                 expected_version: int | None = None,
                 on_chunk: Callable[[services.CommitOutcome], None] | None = None,
                 today: date | None = None, resumed: bool = False) -> services.CommitOutcome:
    """Commit (or complete an interrupted commit of) a planned month, chunk by chunk; a plan whose
    shipping date is before ``today`` (default: the library's today) is refused."""
    return services.commit_run(database.session_scope, run_id, owner=owner, actor_id=actor_id,
                               actor_username=actor_username, chunk_size=chunk_size,
                               expected_version=expected_version, on_chunk=on_chunk, today=today, resumed=resumed)
