"""`outreach synth --patrons 100000 --seed 1`: fill a demo or empty database with synthetic data."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from outreach.db import database
from outreach.errors import DomainError


@click.command("synth")
@with_appcontext
@click.option("--patrons", required=True, type=int, help="How many synthetic patrons to add (e.g. 100000).")
@click.option("--seed", default=1, show_default=True, type=int, help="The same seed gives the same data.")
@click.option("--today", "today_text", default=None, help="The day the data is built around (YYYY-MM-DD; default today).")
def synth_command(patrons: int, seed: int, today_text: str | None) -> None:
    """Fill the database with realistic synthetic data (refused over real patrons)."""
    from datetime import date

    from outreach.clock import today as local_today
    from outreach.synth import services

    try:
        today = date.fromisoformat(today_text) if today_text else local_today()
    except ValueError:
        raise click.BadParameter(f"{today_text!r} is not a date (YYYY-MM-DD)", param_hint="--today") from None
    cfg = current_app.config
    started = time.perf_counter()
    try:
        summary = services.fill(database.session_scope, patrons=patrons, seed=seed, today=today,
                                library_prefecture=cfg["LIBRARY_PREFECTURE"], library_city=cfg["LIBRARY_CITY"],
                                on_progress=lambda n: click.echo(f"  ... {n} patrons"))
    except DomainError as exc:
        raise click.ClickException(exc.message("en")) from None
    rows = summary.rows or {}
    click.echo(f"Added {summary.patrons} synthetic patrons ({summary.total_rows} rows) in "
               f"{time.perf_counter() - started:.1f} s:")
    for table in services.TABLE_ORDER:
        if rows.get(table):
            click.echo(f"  {table}: {rows[table]}")
