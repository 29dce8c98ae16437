"""One measured step per process: ``python -m bench.steps STEP --url URL --today DATE``.

The runner starts each step in its own process and reads that process's peak memory (max RSS) with
``os.wait4``; the step itself times only its work (imports and app start-up are left out) and prints
one JSON line: ``{"seconds": ..., ...}``. Application steps go through the application's services;
baseline steps (``*_baseline``) do the same work with the bare driver, reportlab or SQL only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from typing import Any


def _app(url: str) -> Any:
    os.environ["DATABASE_URL"] = url
    from outreach import create_app

    return create_app()


def _month_after(today: date) -> str:
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return f"{year:04d}-{month:02d}"


# ---------------------------------------------------------------------------------------------- data

def step_synth(url: str, today: date, patrons: int, seed: int) -> dict[str, Any]:
    app = _app(url)
    from outreach.db import database
    from outreach.synth import services

    with app.app_context():
        started = time.perf_counter()
        summary = services.fill(database.session_scope, patrons=patrons, seed=seed, today=today,
                                library_prefecture=app.config["LIBRARY_PREFECTURE"],
                                library_city=app.config["LIBRARY_CITY"])
        return {"seconds": time.perf_counter() - started, "rows": summary.total_rows,
                "loans": (summary.rows or {}).get("loan", 0), "catalog_items": (summary.rows or {}).get("catalog_item", 0)}


# ------------------------------------------------------------------------------------- monthly run

def step_preview(url: str, today: date, **_: Any) -> dict[str, Any]:
    """The preview of next month's run: the whole plan computed, nothing stored (``--dry-run``)."""
    app = _app(url)
    from outreach.db import database
    from outreach.shipments import services

    with app.app_context():
        started = time.perf_counter()
        with database.session_scope(write=False) as session:
            _choice, summary = services.dry_run(session, month=_month_after(today), today=today)
        return {"seconds": time.perf_counter() - started, "shipments": summary.shipments, "items": summary.items,
                "decisions": summary.considered}


def step_run(url: str, today: date, **_: Any) -> dict[str, Any]:
    """Plan next month (stored for review), then commit it: shipments, loans, items on loan, requests settled."""
    app = _app(url)
    from outreach.db import database
    from outreach.shipments import services

    with app.app_context():
        started = time.perf_counter()
        with database.session_scope() as session:
            run = services.plan_run(session, month=_month_after(today), today=today)
            run_id = run.id
        planned = time.perf_counter()
        outcome = services.commit_run(database.session_scope, run_id, chunk_size=2000, today=today)
        done = time.perf_counter()
        return {"seconds": done - started, "plan_seconds": planned - started, "commit_seconds": done - planned,
                "shipments": outcome.shipments, "items": outcome.items}


# ---------------------------------------------------------------------------------------- documents

def step_documents(url: str, today: date, **_: Any) -> dict[str, Any]:
    """Address labels, return labels and packing slips of the committed run, as the print page makes them."""
    app = _app(url)
    from letters.labels import render_labels
    from letters.slips import render_slips
    from outreach.db import database
    from outreach.shipments import documents, services

    with app.app_context():
        library = documents.library_from_config(app.config)
        marking = app.config.get("HOME_DELIVERY_POSTAL_MARKING", "")
        started = time.perf_counter()
        sizes = {}
        with database.session_scope(write=False) as session:
            run = services.run_for_month(session, _month_after(today))
            assert run is not None
            # as the application prints them: files of documents.SHIPMENTS_PER_FILE shipments
            sizes["labels"] = sum(len(render_labels(batch, "12up")) for batch in documents.label_files(
                session, run, library, home_delivery_marking=marking))
            t1 = time.perf_counter()
            sizes["return_labels"] = sum(len(render_labels(batch, "12up")) for batch in documents.label_files(
                session, run, library, return_labels=True, home_delivery_marking=marking))
            t2 = time.perf_counter()
            sizes["slips"] = sum(len(render_slips(batch)) for batch in documents.slip_files(session, run, library))
        done = time.perf_counter()
        return {"seconds": done - started, "labels_seconds": t1 - started, "return_seconds": t2 - t1,
                "slips_seconds": done - t2, "bytes": sum(sizes.values())}


# ------------------------------------------------------------------------------------------ reports

def step_report(url: str, today: date, **_: Any) -> dict[str, Any]:
    """The annual report (both tables and the monthly breakdown) of the last complete fiscal year."""
    app = _app(url)
    from outreach.calendar import fiscal_year_of
    from outreach.db import database
    from outreach.reports.services import annual_report

    with app.app_context():
        fiscal_year = fiscal_year_of(today) - 1
        started = time.perf_counter()
        with database.session_scope(write=False) as session:
            report = annual_report(session, fiscal_year, today=today)
        seconds = time.perf_counter() - started
        figures = {s.service.value: [s.registrants, s.deliveries, s.books, s.audio_visual] for s in report.services}
        return {"seconds": seconds, "fiscal_year": fiscal_year, "figures": figures,
                "sessions": sum(lib.sessions for lib in report.libraries)}


# ---------------------------------------------------------------------------------------- baselines

def step_run_baseline(url: str, today: date, **_: Any) -> dict[str, Any]:
    from bench import baselines

    return baselines.insert_run_rows(url, _month_after(today))


def step_documents_baseline(url: str, today: date, **_: Any) -> dict[str, Any]:
    from bench import baselines

    return baselines.draw_documents(url, _month_after(today))


def step_report_baseline(url: str, today: date, **_: Any) -> dict[str, Any]:
    from bench import baselines
    from outreach.calendar import fiscal_year_of

    return baselines.annual_figures(url, fiscal_year_of(today) - 1, today)


BENCH_USER = "bench-librarian"
BENCH_PASSWORD = "bench-password-2026"


def step_user(url: str, today: date, **_: Any) -> dict[str, Any]:
    """The librarian the search benchmark logs in as (not measured)."""
    app = _app(url)
    from outreach.auth import services as auth_services
    from outreach.db import database
    from outreach.types import Role

    with app.app_context(), database.session_scope() as session:
        existing = auth_services.get_user_by_username(session, BENCH_USER)
        if existing is None:  # a second run on the same database reuses the account
            auth_services.create_user(session, username=BENCH_USER, display_name="ベンチ 司書", role=Role.LIBRARIAN,
                                      password=BENCH_PASSWORD)
        else:
            auth_services.set_password(session, existing, BENCH_PASSWORD, None)
    return {"seconds": 0.0}


STEPS = {name[5:]: fn for name, fn in globals().items() if name.startswith("step_")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=sorted(STEPS))
    parser.add_argument("--url", required=True)
    parser.add_argument("--today", required=True)
    parser.add_argument("--patrons", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = STEPS[args.step](args.url, date.fromisoformat(args.today), patrons=args.patrons, seed=args.seed)
    sys.stdout.write("BENCH-RESULT " + json.dumps(result, default=str) + "\n")


if __name__ == "__main__":
    main()
