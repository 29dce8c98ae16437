"""The scheduler process: its jobs are kept in the database by reference, and a stored job runs."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from sqlalchemy import select, text

from outreach import create_app, scheduler
from outreach.clock import today
from outreach.config import _int_setting
from outreach.db import database
from outreach.system.models import JobRun

JOB_IDS = ["enrolments.daily", "loans.overdue", "shipments.plan"]


def _app(database_url: str, **config):  # type: ignore[no-untyped-def]
    return create_app(testing=True, DATABASE_URL=database_url, CONFIGURE_DATABASE=False,
                      SECRET_KEY="test-secret-key-not-for-production", **config)


def _drop_store(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {scheduler.JOBSTORE_TABLE}"))


def _start_and_read(app):  # type: ignore[no-untyped-def]
    """Start a scheduler (paused, in the background) as the process would, and read back the stored jobs."""
    from apscheduler.schedulers.background import BackgroundScheduler

    sched = scheduler.build_scheduler(app, BackgroundScheduler)
    sched.start(paused=True)  # paused: the jobs go into the store, none is run
    try:
        return {job.id: job for job in sched.get_jobs()}
    finally:
        sched.shutdown(wait=False)


def test_the_scheduler_starts_keeps_its_jobs_in_the_database_and_a_stored_job_runs(
        engine, database_url, monkeypatch, request):
    monkeypatch.setattr(database, "engine", engine)
    monkeypatch.setattr(scheduler, "_app", None)
    app = _app(database_url, OUTREACH_PLAN_HOUR=5, OUTREACH_PLAN_DAY=10)
    _drop_store(engine)
    try:
        stored = _start_and_read(app)
        with engine.connect() as conn:
            ids = conn.execute(text(f"SELECT id FROM {scheduler.JOBSTORE_TABLE} ORDER BY id")).scalars().all()
        assert ids == JOB_IDS
        # Only a textual reference and no arguments are pickled: nothing of the app.
        assert {job.func_ref for job in stored.values()} == {
            "outreach.scheduler:enrolments_daily", "outreach.scheduler:loans_overdue",
            "outreach.scheduler:shipments_plan"}
        assert all(job.args == () and job.kwargs == {} for job in stored.values())
        plan_trigger = {f.name: str(f) for f in stored["shipments.plan"].trigger.fields}
        assert plan_trigger["hour"] == "5" and plan_trigger["minute"] == "0"
        daily_trigger = {f.name: str(f) for f in stored["enrolments.daily"].trigger.fields}
        assert daily_trigger["hour"] == "6"

        # A restart (a second process, or the same one again) replaces the stored jobs, and a changed
        # plan hour takes effect.
        stored = _start_and_read(_app(database_url, OUTREACH_PLAN_HOUR=8))
        assert sorted(stored) == JOB_IDS
        assert {f.name: str(f) for f in stored["shipments.plan"].trigger.fields}["hour"] == "8"
    finally:
        _drop_store(engine)

    # The job as loaded from the store runs in the test's rolled-back transaction.
    request.getfixturevalue("connection")
    daily = stored["enrolments.daily"].func
    assert daily is scheduler.enrolments_daily
    daily()
    with database.session_scope() as session:
        run = session.scalars(select(JobRun).where(JobRun.job == "enrolments.daily",
                                                   JobRun.period == today().isoformat())).one()
        assert run.finished_at is not None and "expired" in run.summary


def test_the_plan_job_is_given_the_configured_plan_day(database_url, monkeypatch, connection):
    from outreach.shipments import jobs as shipment_jobs

    calls: list[tuple[date, dict]] = []

    def fake_plan(session, on, **options):  # type: ignore[no-untyped-def]
        calls.append((on, options))
        return "planned"

    monkeypatch.setattr(shipment_jobs, "scheduled_plan", fake_plan)
    monkeypatch.setattr(scheduler, "_app", None)
    scheduler.use_app(_app(database_url, OUTREACH_PLAN_DAY=10))
    scheduler.shipments_plan()
    assert calls == [(today(), {"day": 10})]


def test_a_failed_job_is_logged_and_does_not_stop_the_scheduler(database_url, monkeypatch, connection, caplog):
    from outreach.loans import jobs as loan_jobs

    def broken(session, on):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    monkeypatch.setattr(loan_jobs, "overdue", broken)
    monkeypatch.setattr(scheduler, "_app", None)
    scheduler.use_app(_app(database_url))
    with caplog.at_level(logging.ERROR, logger="outreach.scheduler"):
        scheduler.loans_overdue()
    assert "loans.overdue failed" in caplog.text


def test_plan_settings_default_and_bad_values_name_the_setting(monkeypatch):
    monkeypatch.delenv("OUTREACH_PLAN_HOUR", raising=False)
    assert _int_setting("OUTREACH_PLAN_HOUR", 7, 0, 23) == 7
    monkeypatch.setenv("OUTREACH_PLAN_HOUR", "6")
    assert _int_setting("OUTREACH_PLAN_HOUR", 7, 0, 23) == 6
    for bad in ("24", "seven"):
        monkeypatch.setenv("OUTREACH_PLAN_HOUR", bad)
        with pytest.raises(ValueError, match="OUTREACH_PLAN_HOUR must be a whole number from 0 to 23"):
            _int_setting("OUTREACH_PLAN_HOUR", 7, 0, 23)
    assert [hour for job_id, _ref, trigger in scheduler.jobs({}) for hour in [trigger["hour"]]
            if job_id == "shipments.plan"] == [7]
