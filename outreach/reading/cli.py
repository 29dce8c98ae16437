"""`outreach reading ...`: face-to-face reading figures from the command line (e.g. for the annual report)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from outreach.db import database

reading_group = AppGroup("reading", help="Face-to-face reading (対面朗読).")


@reading_group.command("figures")
@click.option("--fiscal-year", "fiscal_year", type=click.IntRange(1990, 2200), default=None,
              help="Fiscal year by its starting year (2020 = 令和2年度). Default: the current one.")
def figures(fiscal_year: int | None) -> None:
    """Registrants, sessions held and reading hours per library; sessions and hours per volunteer."""
    from outreach.calendar import fiscal_year_label, fiscal_year_of
    from outreach.clock import today
    from outreach.reading.services import reading_figures

    fy = fiscal_year if fiscal_year is not None else fiscal_year_of(today())
    with database.session_scope(write=False) as session:
        result = reading_figures(session, fy)
    click.echo(f"{fiscal_year_label(fy)} 対面朗読")
    click.echo(f"{'library':<16}{'registrants':>12}{'sessions':>10}{'hours':>8}")
    for row in result.libraries:
        click.echo(f"{row.library_name:<16}{row.registrants:>12}{row.sessions:>10}{row.hours:>8g}")
    if result.unassigned_registrants:
        click.echo(f"{'(no request yet)':<16}{result.unassigned_registrants:>12}")
    click.echo(f"{'total':<16}{result.total_registrants:>12}{result.total_sessions:>10}{result.total_hours:>8g}")
    click.echo("")
    click.echo(f"{'volunteer':<16}{'sessions':>10}{'hours':>8}")
    for v in result.volunteers:
        click.echo(f"{v.name:<16}{v.sessions:>10}{v.hours:>8g}")
