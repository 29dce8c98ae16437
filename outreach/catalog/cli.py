"""`outreach catalog import FILE`: load the main system's CSV export (large files welcome)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import click
from flask.cli import AppGroup

from outreach import csvsafe
from outreach.db import database

catalog_group = AppGroup("catalog", help="The catalogue of items the outreach desk lends.")


@catalog_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--report", "report_path", default=None, type=click.Path(dir_okay=False, writable=True),
              help="Write the per-row report (added, updated, rejected and why) as CSV.")
def import_command(path: str, report_path: str | None) -> None:
    """Add and update items from a CSV (UTF-8 or Shift_JIS); rejected rows are reported, never half-applied."""
    from outreach.catalog import services

    data = Path(path).read_bytes()
    with database.session_scope() as session:
        record = services.import_csv(session, data, filename=Path(path).name, actor=None)
        if report_path:
            with open(report_path, "w", newline="", encoding="utf-8-sig") as fh:
                writer = csv.writer(fh)
                writer.writerow(["row", "barcode", "outcome", "detail"])
                for row in services.iter_import_rows(session, record):
                    detail = "; ".join(p["ja"] for p in row.problems) or ", ".join(row.fields)
                    # What the imported file held, defused: a spreadsheet must not run it as a formula.
                    writer.writerow(csvsafe.row([row.row_number, row.barcode, row.outcome, detail]))
        summary = {"rows": record.rows_total, "added": record.rows_added, "updated": record.rows_updated,
                   "unchanged": record.rows_unchanged, "rejected": record.rows_rejected}
        problem = record.problem
    click.echo(json.dumps(summary))
    if problem:
        raise click.ClickException(problem)
