"""`outreach reports annual --year 2026 --format csv|xlsx|pdf|json [--output FILE]`."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from outreach.calendar import fiscal_year_of
from outreach.clock import today
from outreach.db import database

reports_group = AppGroup("reports", help="Statistics.")


@reports_group.command("annual")
@click.option("--year", type=int, default=None, help="Fiscal year (the western year of its April); default: the last one.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "pdf", "json"]), default="csv", show_default=True)
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file (default: standard output; xlsx and pdf need a file).")
def annual(year: int | None, fmt: str, lang: str, output: str | None) -> None:
    """The annual outreach report of a fiscal year, as the Reports page shows it."""
    from outreach.errors import DomainError
    from outreach.reports import exports, services

    on = today()
    fiscal_year = year if year is not None else fiscal_year_of(on) - 1
    if fmt in ("xlsx", "pdf") and output is None:
        raise click.UsageError(f"--format {fmt} needs --output FILE")
    with database.session_scope(write=False) as session:
        try:
            report, trend = services.report_and_trend(session, fiscal_year, today=on)
        except DomainError as exc:
            raise click.ClickException(exc.message(lang)) from None
    body = exports.render(fmt, report, library_name=current_app.config["LIBRARY_NAME"], lang=lang, trend=trend)
    if output:
        with open(output, "wb") as fh:
            fh.write(body)
        click.echo(f"Wrote {output} ({len(body):,} bytes).", err=True)
    else:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
