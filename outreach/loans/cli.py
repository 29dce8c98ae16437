"""`outreach loans ...`: the daily overdue job by hand."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

loans_group = AppGroup("loans", help="Loans: the daily overdue job.")


@loans_group.command("overdue")
@click.option("--date", "on", default=None, help="The day to check (default: today in Japan).")
def overdue(on: str | None) -> None:
    """Find overdue loans (no new shipment until returned), anonymise closed loans without consent."""
    from outreach.clock import today
    from outreach.db import database
    from outreach.loans.jobs import overdue as overdue_job

    try:
        day = date.fromisoformat(on) if on else today()
    except ValueError:
        raise click.BadParameter(f"{on!r} is not a date (YYYY-MM-DD)") from None
    with database.session_scope() as session:
        summary = overdue_job(session, day)
    click.echo(summary)
