"""`outreach enrolments daily [--date YYYY-MM-DD]`."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from outreach.clock import today
from outreach.db import database

enrolments_group = AppGroup("enrolments", help="Approvals: the daily expiry and review job.")


@enrolments_group.command("daily")
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day to run for (default: today at the library).")
def daily(on: object) -> None:
    """Expire approvals past their end and flag patrons for review. Safe to repeat."""
    from outreach.enrolments.jobs import run_daily

    day: date = on.date() if on is not None else today()  # type: ignore[attr-defined]
    with database.session_scope() as session:
        summary = run_daily(session, day)
    click.echo(f"{day.isoformat()}: {summary}")
