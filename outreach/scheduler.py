"""The scheduler process (`outreach scheduler`): the only place where triggers are declared.

APScheduler keeps its job store in the same database. The store pickles each job, so a job holds
only a textual reference to a module-level function here (``outreach.scheduler:enrolments_daily``)
and no arguments: the function finds the application itself (the one the scheduler was built with,
else one made by the app factory). Every job is idempotent and claims its run in ``job_run`` (unique
per job and period), so two scheduler processes or a manual re-run never double the work. Every job
is also a CLI command.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask

from outreach.clock import LIBRARY_TIMEZONE, today
from outreach.db import database

log = logging.getLogger(__name__)

JOBSTORE_TABLE = "apscheduler_jobs"

_app: Flask | None = None


def use_app(app: Flask | None) -> None:
    """The application the jobs of this process run in (None: the app factory makes one when needed)."""
    global _app
    _app = app


def _the_app() -> Flask:
    global _app
    if _app is None:
        from outreach import create_app

        _app = create_app()
    return _app


def _run(name: str, job: Callable[..., object], **options: object) -> None:
    with _the_app().app_context():
        try:
            with database.session_scope() as session:
                summary = job(session, today(), **options)
            log.info("%s: %s", name, summary)
        except Exception:  # a failed run is logged and retried at the next trigger
            log.exception("%s failed", name)


# The jobs: module-level functions without arguments, stored by reference ("module:function").


def enrolments_daily() -> None:
    """Expire approvals, flag changed eligibility, fill the renewal work list."""
    from outreach.enrolments.jobs import run_daily

    _run("enrolments.daily", run_daily)


def loans_overdue() -> None:
    """Overdue loans (規則第9条2) and the privacy sweep of closed loans."""
    from outreach.loans.jobs import overdue

    _run("loans.overdue", overdue)


def shipments_plan() -> None:
    """On the month's plan day (OUTREACH_PLAN_DAY, default its first open day) plan the month once."""
    from outreach.shipments.jobs import scheduled_plan

    _run("shipments.plan", scheduled_plan, day=_the_app().config.get("OUTREACH_PLAN_DAY"))


def jobs(config: Mapping[str, Any]) -> list[tuple[str, str, dict[str, object]]]:
    """(job id, function reference, trigger) of every scheduled job, with the configured plan hour."""
    return [
        # 06:00 every day: expire approvals, flag changed eligibility, fill the renewal work list.
        ("enrolments.daily", f"{__name__}:enrolments_daily", {"trigger": "cron", "hour": 6, "minute": 0}),
        # 06:10 every day: overdue loans (規則第9条2) and the privacy sweep of closed loans.
        ("loans.overdue", f"{__name__}:loans_overdue", {"trigger": "cron", "hour": 6, "minute": 10}),
        # Every day at OUTREACH_PLAN_HOUR (default 07:00): on the month's plan day plan the month once;
        # the librarian reviews and commits it. Any other day the job does nothing.
        ("shipments.plan", f"{__name__}:shipments_plan",
         {"trigger": "cron", "hour": int(config.get("OUTREACH_PLAN_HOUR", 7)), "minute": 0}),
    ]


def build_scheduler(app: Flask, scheduler_class: type | None = None):  # type: ignore[no-untyped-def]
    """A scheduler (blocking by default) whose jobs are kept in the application's database."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.blocking import BlockingScheduler

    use_app(app)
    cls = scheduler_class or BlockingScheduler
    scheduler = cls(
        jobstores={"default": SQLAlchemyJobStore(engine=database.engine, tablename=JOBSTORE_TABLE)},
        timezone=LIBRARY_TIMEZONE,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    for job_id, func_ref, trigger in jobs(app.config):
        scheduler.add_job(func_ref, id=job_id, replace_existing=True, **trigger)
    return scheduler


def run_scheduler(app: Flask) -> None:
    scheduler = build_scheduler(app)
    log.info("scheduler started with jobs: %s", ", ".join(job_id for job_id, _f, _t in jobs(app.config)))
    scheduler.start()


__all__ = ["build_scheduler", "enrolments_daily", "jobs", "loans_overdue", "run_scheduler", "shipments_plan",
           "use_app"]
