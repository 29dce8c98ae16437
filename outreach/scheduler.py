"""The scheduler process (`outreach scheduler`): the only place where triggers are declared.

APScheduler keeps its job store in the same database. Every job is idempotent and claims its run
in ``job_run`` (unique per job and period), so two scheduler processes or a manual re-run never
double the work. Every job is also a CLI command.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask

from outreach.clock import LIBRARY_TIMEZONE, today
from outreach.db import database

log = logging.getLogger(__name__)


def _run(app: Flask, job: Callable[..., object], name: str) -> None:
    with app.app_context():
        try:
            with database.session_scope() as session:
                summary = job(session, today())
            log.info("%s: %s", name, summary)
        except Exception:  # a failed run is logged and retried at the next trigger
            log.exception("%s failed", name)


def enrolments_daily(app: Flask) -> None:
    from outreach.enrolments.jobs import run_daily

    _run(app, run_daily, "enrolments.daily")


def loans_overdue(app: Flask) -> None:
    from outreach.loans.jobs import overdue

    _run(app, overdue, "loans.overdue")


def shipments_plan(app: Flask) -> None:
    from outreach.shipments.jobs import scheduled_plan

    _run(app, scheduled_plan, "shipments.plan")


JOBS: list[tuple[str, Callable[[Flask], None], dict[str, object]]] = [
    # 06:00 every day: expire approvals, flag changed eligibility, fill the renewal work list.
    ("enrolments.daily", enrolments_daily, {"trigger": "cron", "hour": 6, "minute": 0}),
    # 06:10 every day: overdue loans (規則第9条2) and the privacy sweep of closed loans.
    ("loans.overdue", loans_overdue, {"trigger": "cron", "hour": 6, "minute": 10}),
    # 07:00 every day: on the month's plan day (default: its first open day) plan the month once;
    # the librarian reviews and commits it. Any other day the job does nothing.
    ("shipments.plan", shipments_plan, {"trigger": "cron", "hour": 7, "minute": 0}),
]


def build_scheduler(app: Flask):  # type: ignore[no-untyped-def]
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=database.engine, tablename="apscheduler_jobs")},
        timezone=LIBRARY_TIMEZONE,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    for job_id, func, trigger in JOBS:
        scheduler.add_job(func, args=[app], id=job_id, replace_existing=True, **trigger)
    return scheduler


def run_scheduler(app: Flask) -> None:
    scheduler = build_scheduler(app)
    log.info("scheduler started with jobs: %s", ", ".join(job_id for job_id, _f, _t in JOBS))
    scheduler.start()


__all__ = ["JOBS", "build_scheduler", "run_scheduler"]
