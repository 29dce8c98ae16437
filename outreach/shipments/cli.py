"""`outreach shipments ...`: plan, preview (--dry-run), commit and print a month's run."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from outreach.db import database
from outreach.errors import DomainError
from outreach.types import RunState

shipments_group = AppGroup("shipments", help="The monthly shipment run (plan, commit, labels, slips).")


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _fail(exc: DomainError, month: str = "") -> click.ClickException:
    message = exc.message("en")
    if exc.code == "shipments.stale_plan" and month:
        message += f" (outreach shipments run --month {month} --replan)"
    return click.ClickException(message)


def _outcome_line(verb: str, outcome) -> str:  # type: ignore[no-untyped-def]
    extra = [f"{n} {what}" for n, what in ((outcome.dropped, "items no longer available"),
                                           (outcome.stopped, "patrons no longer to be sent anything"),
                                           (outcome.cancelled, "request lines cancelled (the item can never go)")) if n]
    return f"{verb} {outcome.month}: {outcome.shipments} shipments, {outcome.items} items" + \
        (f", {', '.join(extra)}" if extra else "") + "."


def _echo_summary(month: str, shipping_on: date, due_on: date, shipments: int, items: int, excluded: int,
                  by_reason: dict) -> None:  # type: ignore[type-arg]
    click.echo(f"Month {month}: shipping {shipping_on.isoformat()}, due {due_on.isoformat()}")
    click.echo(f"  shipments: {shipments}, items: {items}, not sent: {excluded}")
    for reason, count in by_reason.items():
        click.echo(f"    {reason.value}: {count}")


@shipments_group.command("plan")
@click.option("--month", required=True, help="Target month, e.g. 2026-12.")
@click.option("--shipping-date", default=None, help="An open day in the month (default: the first open day).")
@click.option("--replace", is_flag=True, help="Plan again a month already planned (not yet committed).")
def plan(month: str, shipping_date: str | None, replace: bool) -> None:
    """Plan a month and store the plan for review; nothing is lent until it is committed."""
    from outreach.clock import today as local_today
    from outreach.shipments import services

    try:
        with database.session_scope() as session:
            run = services.plan_run(session, month=month, today=local_today(), shipping_on=_date(shipping_date),
                                    replace=replace)
            counts = services.plan_counts(session, run)
            _echo_summary(run.month, run.shipping_on, run.due_on, counts["shipments"], counts["items"],
                          counts["excluded"], counts["by_reason"])
    except DomainError as exc:
        raise _fail(exc) from None
    click.echo("Planned. Review it in the application, then commit.")


@shipments_group.command("run")
@click.option("--month", required=True, help="Target month, e.g. 2026-12.")
@click.option("--dry-run", is_flag=True, help="Show the plan; change nothing.")
@click.option("--replan", is_flag=True, help="Plan again first if the month was planned but not committed.")
@click.option("--shipping-date", default=None, help="An open day in the month (default: the first open day).")
@click.option("--chunk-size", default=500, show_default=True, type=click.IntRange(1, 10000),
              help="Shipments written per transaction.")
def run(month: str, dry_run: bool, replan: bool, shipping_date: str | None, chunk_size: int) -> None:
    """Plan (if needed) and commit a month. Safe to repeat: a committed month adds nothing, an
    interrupted one is completed."""
    from outreach.clock import today as local_today
    from outreach.shipments import rules, services
    from outreach.shipments.jobs import commit_month

    today = local_today()
    try:
        if dry_run:
            with database.session_scope(write=False) as session:
                choice, summary = services.dry_run(session, month=month, today=today,
                                                               shipping_on=_date(shipping_date))
            _echo_summary(choice.month, choice.shipping_on, choice.due_on, summary.shipments, summary.items,
                          summary.excluded, summary.by_reason)
            click.echo("Dry run: nothing was saved.")
            return
        with database.session_scope() as session:
            year, number = rules.parse_month(month, today)
            key = rules.month_key(year, number)
            existing = services.run_for_month(session, key)
            if existing is not None and existing.state is RunState.COMMITTED:
                click.echo(f"{key} is already committed ({existing.shipments_done} shipments): nothing added.")
                return
            if existing is None or (replan and existing.state is RunState.PLANNED):
                existing = services.plan_run(session, month=key, today=today, shipping_on=_date(shipping_date),
                                             replace=existing is not None)
            run_id = existing.id
        assert run_id is not None
        outcome = commit_month(run_id, chunk_size=chunk_size, today=today,
                               on_chunk=lambda o: click.echo(f"  ... {o.shipments} shipments written"))
    except DomainError as exc:
        raise _fail(exc, month.strip()) from None
    click.echo(_outcome_line("Completed the interrupted run of" if outcome.resumed else "Committed", outcome))


@shipments_group.command("commit")
@click.option("--month", required=True, help="A planned month, e.g. 2026-12.")
@click.option("--chunk-size", default=500, show_default=True, type=click.IntRange(1, 10000))
def commit(month: str, chunk_size: int) -> None:
    """Commit the stored plan of a month (or complete an interrupted commit). A plan whose shipping
    date has passed is refused: plan the month again first."""
    from outreach.clock import today as local_today
    from outreach.shipments import services
    from outreach.shipments.jobs import commit_month

    with database.session_scope(write=False) as session:
        existing = services.run_for_month(session, month.strip())
        run_id = existing.id if existing else None
    if run_id is None:
        raise click.ClickException(f"There is no plan for {month}: plan it first.")
    try:
        outcome = commit_month(run_id, chunk_size=chunk_size, today=local_today())
    except DomainError as exc:
        raise _fail(exc, month.strip()) from None
    click.echo(_outcome_line("Completed the interrupted run of" if outcome.resumed else "Committed", outcome))


@shipments_group.command("status")
@click.option("--month", required=True)
def status(month: str) -> None:
    """The state and progress of a month's run."""
    from outreach.shipments import services

    with database.session_scope(write=False) as session:
        existing = services.run_for_month(session, month.strip())
        if existing is None:
            raise click.ClickException(f"There is no run for {month}.")
        p = services.progress(session, existing)
        click.echo(f"{existing.month}: {p.state.value}; {p.shipments_done}/{p.shipments_planned} shipments, "
                   f"{p.items_done}/{p.items_planned} items" + (" (stopped: run commit to complete it)" if p.is_stalled else ""))


DOCUMENT_KINDS = ("labels", "return-labels", "slips", "pick-list", "addresses")


@shipments_group.command("print")
@click.option("--month", required=True)
@click.option("--kind", type=click.Choice(DOCUMENT_KINDS), required=True)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--template", default="12up", show_default=True, help="Label sheet: 12up, 18up or 24up.")
@click.option("--start", default=1, show_default=True, type=int, help="First label position on the sheet.")
@click.option("--offset-x", default=0.0, type=float, help="Printer calibration, mm to the right.")
@click.option("--offset-y", default=0.0, type=float, help="Printer calibration, mm down.")
def print_documents(month: str, kind: str, out_path: str, template: str, start: int, offset_x: float,
                    offset_y: float) -> None:
    """Write a committed month's labels, return labels, slips, pick list (PDF) or addresses (CSV).

    A month of more shipments than fit one file (documents.SHIPMENTS_PER_FILE) is written as
    OUT-1.pdf, OUT-2.pdf …; file N of every document covers the same shipments. Every file with
    names and addresses is recorded in the audit trail."""
    from letters.labels import LABEL_TEMPLATES, LabelReport, UnknownTemplate, render_labels
    from letters.slips import render_pick_list, render_slips
    from outreach import csvsafe
    from outreach.audit import services as audit
    from outreach.clock import today as local_today
    from outreach.shipments import documents, services

    if kind in ("labels", "return-labels") and template not in LABEL_TEMPLATES:
        raise click.ClickException(f"There is no label template {template!r} (use {', '.join(LABEL_TEMPLATES)}).")
    cfg = current_app.config
    marking = cfg.get("HOME_DELIVERY_POSTAL_MARKING", "")
    written: list[Path] = []
    with database.session_scope(write=False) as session:
        existing = services.run_for_month(session, month.strip())
        if existing is not None and existing.state is not RunState.COMMITTED:
            raise click.ClickException(
                f"{existing.month} is not committed ({existing.state.value}): commit it first "
                f"(outreach shipments commit --month {existing.month}); documents of a partly written month would "
                "leave shipments out.")
        if existing is None or not documents.printable(session, existing):
            raise click.ClickException(f"{month} has no committed shipments to print.")
        run_id, run_month = existing.id, existing.month
        library = documents.library_from_config(cfg)
        split = documents.document_parts(existing.shipments_done) > 1
        out = Path(out_path)

        def path_of(part: int) -> Path:
            return out.with_name(f"{out.stem}-{part}{out.suffix or '.pdf'}") if split else out

        try:
            if kind in ("labels", "return-labels"):
                files = documents.label_files(session, existing, library, return_labels=kind == "return-labels",
                                              home_delivery_marking=marking)
                for part, batch in enumerate(files, start=1):
                    # the start position uses up a partly used sheet: only the first file's first sheet
                    report = LabelReport()
                    data = render_labels(batch, template, start if part == 1 else 1, (offset_x, offset_y),
                                         report=report)
                    path_of(part).write_bytes(data)
                    written.append(path_of(part))
                    for message in report.messages("en"):  # cut, very small or unprintable: look first
                        click.echo(f"{path_of(part).name}: {message}")
            elif kind == "slips":
                for part, batch in enumerate(documents.slip_files(session, existing, library), start=1):
                    path_of(part).write_bytes(render_slips(batch))
                    written.append(path_of(part))
            elif kind == "pick-list":
                for part in range(1, documents.document_parts(existing.shipments_done) + 1):
                    lines = documents.pick_lines(session, existing, part=part if split else None)
                    path_of(part).write_bytes(render_pick_list(lines, presorted=True, printed_on=local_today(),
                                                               month=run_month, shipped_on=existing.shipping_on))
                    written.append(path_of(part))
            else:
                buf = io.StringIO()
                csv.writer(buf).writerows(csvsafe.row(row) for row in
                                          documents.address_rows(session, existing, home_delivery_marking=marking))
                out.write_bytes(buf.getvalue().encode("utf-8-sig"))
                written.append(out)
        except (UnknownTemplate, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
    if kind != "pick-list":  # as on the web: names and addresses leave the system, so it is recorded
        what = {"labels": "outbound_labels", "return-labels": "return_labels", "slips": "packing_slips",
                "addresses": "address_list"}[kind]
        with database.session_scope() as session:
            audit.record(session, actor_id=None, actor_username="command line", action="export", entity_type=what,
                         detail=f"run {run_id} ({run_month}), {len(written)} file(s)")
    for path in written:
        click.echo(f"Wrote {path} ({path.stat().st_size} bytes).")
