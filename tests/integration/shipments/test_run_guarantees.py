"""The monthly run's guarantees on a real database file (and PostgreSQL when configured):

- a commit killed with SIGKILL at any moment leaves whole chunks only, and the next run completes
  it without a single duplicate;
- two commits of the same month at once: exactly one wins, the other is told the month is busy;
- running a committed month again adds nothing; a commit in progress cannot be re-planned.

Each test works on a database of its own (a temp SQLite file, or a PostgreSQL database created
for it) because it needs real separate processes and real commits."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

import outreach.models  # noqa: F401
from outreach.catalog.models import CatalogItem
from outreach.db import make_engine, utcnow, write_intent
from outreach.enrolments.models import Approval
from outreach.loans.models import Loan, LoanRequest, LoanRequestLine
from outreach.migrate import upgrade
from outreach.patrons.models import Patron
from outreach.shipments import services
from outreach.shipments.models import PlannedItem, PlannedShipment, Shipment, ShipmentRun
from outreach.types import Channel, ItemStatus, LoanRequestState, LoanStatus, MaterialType, RunState, Service
from tests.conftest import reset_database
from tests.integration.shipments.factories import MONTH, TODAY

ROOT = Path(__file__).resolve().parents[3]
PATRONS = 240
ITEMS_EACH = 3
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("OUTREACH_TEST_DATABASE_URL", "").startswith("postgresql")
                         else [])


@pytest.fixture(params=BACKENDS)
def scratch(request, tmp_path) -> Iterator[tuple[str, Engine]]:  # type: ignore[no-untyped-def]
    """A migrated, empty database of the test's own."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'run.db'}"
    else:
        base = os.environ["OUTREACH_TEST_DATABASE_URL"]
        # named after the test database, so that two suites on one server (CI, a colleague) never share it
        name = f"{base.rsplit('/', 1)[1].split('?')[0]}_run_check"
        admin = make_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = f"{base.rsplit('/', 1)[0]}/{name}"
    engine = make_engine(url)
    reset_database(engine)
    upgrade(engine)
    yield url, engine
    engine.dispose()


def _session(engine: Engine) -> Session:
    return sessionmaker(bind=engine, class_=Session, expire_on_commit=False)()


def seed(engine: Engine) -> int:
    """240 home-delivery patrons, each asking for 3 books; the December run planned (not committed)."""
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(insert(Patron.__table__), [
            {"card_number": f"9{i:09d}", "name": f"試験 {i}", "name_kana": "シケン", "birth_date": date(1940, 1, 1),
             "postal_code": f"662-{i % 10000:04d}", "prefecture": "兵庫県", "city": "西宮市", "created_at": now,
             "updated_at": now} for i in range(PATRONS)])
        patron_ids = list(conn.scalars(select(Patron.id).order_by(Patron.id)))
        conn.execute(insert(Approval.__table__), [
            {"patron_id": pid, "service": Service.HOME_DELIVERY, "valid_from": date(2026, 4, 1),
             "valid_until": date(2029, 3, 31), "created_at": now, "updated_at": now} for pid in patron_ids])
        conn.execute(insert(CatalogItem.__table__), [
            {"barcode": f"K{n:07d}", "title": f"本 {n}", "material_type": MaterialType.BOOK, "created_at": now,
             "updated_at": now, "shelf_location": "書庫", "call_number": f"{900 + n % 90}"}
            for n in range(PATRONS * ITEMS_EACH)])
        item_ids = list(conn.scalars(select(CatalogItem.id).order_by(CatalogItem.id)))
        conn.execute(insert(LoanRequest.__table__), [
            {"patron_id": pid, "service": Service.HOME_DELIVERY, "channel": Channel.PHONE, "received_on": TODAY,
             "state": LoanRequestState.OPEN, "created_at": now, "updated_at": now} for pid in patron_ids])
        request_ids = list(conn.scalars(select(LoanRequest.id).order_by(LoanRequest.patron_id)))
        conn.execute(insert(LoanRequestLine.__table__), [
            {"request_id": rid, "item_id": item_ids[n * ITEMS_EACH + k], "created_at": now}
            for n, rid in enumerate(request_ids) for k in range(ITEMS_EACH)])
    with _session(engine) as session:
        run = services.plan_run(session, month=MONTH, today=TODAY)
        session.commit()
        assert run.shipments_planned == PATRONS and run.items_planned == PATRONS * ITEMS_EACH
        return run.id  # type: ignore[return-value]


def worker(url: str, run_id: int, chunk: int = 10, pause: float = 0.0, start_at: float = 0.0) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.shipments.commit_worker", url, str(run_id), str(chunk), str(pause),
         str(start_at)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})


def finish(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err[-2000:]
    return out.strip()


def read(engine: Engine, stmt):  # type: ignore[no-untyped-def]
    token = write_intent.set(False)  # a reader must not take SQLite's write lock from the worker
    try:
        with engine.connect() as conn:
            return conn.execute(stmt).all()
    finally:
        write_intent.reset(token)


def run_state(engine: Engine, run_id: int) -> tuple[RunState, int]:
    (state, done), = read(engine, select(ShipmentRun.state, ShipmentRun.shipments_done).where(ShipmentRun.id == run_id))
    return state, done


def wait_for(engine: Engine, run_id: int, condition, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition(*run_state(engine, run_id)):
            return
        time.sleep(0.005)
    raise AssertionError("the worker never reached the expected point")


def check_consistent(engine: Engine, run_id: int) -> int:
    """What must hold at every moment, finished or not. Returns the number of shipments."""
    duplicates = read(engine, select(Shipment.patron_id, Shipment.service, Shipment.month)
                      .group_by(Shipment.patron_id, Shipment.service, Shipment.month).having(func.count() > 1))
    assert duplicates == []
    double_lent = read(engine, select(Loan.item_id).where(Loan.status == LoanStatus.ON_LOAN)
                       .group_by(Loan.item_id).having(func.count() > 1))
    assert double_lent == []
    (shipments,), = read(engine, select(func.count()).select_from(Shipment))
    (loans,), = read(engine, select(func.count()).select_from(Loan).where(Loan.status == LoanStatus.ON_LOAN))
    (on_loan,), = read(engine, select(func.count()).select_from(CatalogItem).where(CatalogItem.status == ItemStatus.ON_LOAN))
    (counted,), = read(engine, select(func.coalesce(func.sum(Shipment.books_count + Shipment.audio_visual_count), 0)))
    (marked,), = read(engine, select(func.count()).select_from(PlannedShipment).where(
        PlannedShipment.run_id == run_id, PlannedShipment.is_committed.is_(True)))
    (lines_left,), = read(engine, select(func.count()).select_from(LoanRequestLine))
    (state, done), = read(engine, select(ShipmentRun.state, ShipmentRun.shipments_done).where(ShipmentRun.id == run_id))
    # every written chunk is whole: shipments, loans, item states, plan marks, request lines and counters agree
    assert loans == on_loan == counted == shipments * ITEMS_EACH
    assert marked == shipments == done
    assert lines_left == (PATRONS - shipments) * ITEMS_EACH
    return shipments


def check_complete(engine: Engine, run_id: int) -> None:
    assert check_consistent(engine, run_id) == PATRONS
    assert run_state(engine, run_id)[0] is RunState.COMMITTED
    (requests_open,), = read(engine, select(func.count()).select_from(LoanRequest).where(
        LoanRequest.state == LoanRequestState.OPEN))
    assert requests_open == 0


KILL_POINTS = ["at_once", "just_claimed", "after_one_chunk", "half_way", "random_a", "random_b", "random_c"]


@pytest.mark.parametrize("kill_point", KILL_POINTS)
def test_a_commit_killed_at_any_moment_is_completed_by_the_next_run(scratch, kill_point):
    url, engine = scratch
    run_id = seed(engine)
    chunk_pause = 0.0 if kill_point.startswith("random") or kill_point == "at_once" else 0.05
    proc = worker(url, run_id, chunk=10, pause=chunk_pause)
    if kill_point == "just_claimed":
        wait_for(engine, run_id, lambda state, _done: state is RunState.COMMITTING)
    elif kill_point == "after_one_chunk":
        wait_for(engine, run_id, lambda _s, done: done >= 10)
    elif kill_point == "half_way":
        wait_for(engine, run_id, lambda _s, done: done >= PATRONS // 2)
    elif kill_point.startswith("random"):
        # No pause between chunks: the kill most likely lands inside the next chunk's transaction.
        target = random.Random(kill_point).randrange(1, PATRONS - 20)
        wait_for(engine, run_id, lambda _s, done: done >= target)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)  # reaps the process and closes its pipes
    assert proc.returncode == -signal.SIGKILL

    written = check_consistent(engine, run_id)
    if kill_point != "at_once" and kill_point != "just_claimed":
        assert 0 < written < PATRONS  # really interrupted half-way

    # The next run takes over the dead process's claim at once (same machine, process gone) and completes.
    result = finish(worker(url, run_id, chunk=25))
    assert result.startswith("DONE"), result
    _done, shipments, items, resumed = result.split()
    assert int(shipments) == PATRONS - written and int(items) == (PATRONS - written) * ITEMS_EACH
    if kill_point != "at_once":
        assert resumed == "1"  # the claim of the killed process was taken over
    check_complete(engine, run_id)

    # Running the same month again adds nothing.
    assert finish(worker(url, run_id)) == "COMMITTED"
    check_complete(engine, run_id)


def test_two_commits_at_once_only_one_commits(scratch):
    url, engine = scratch
    run_id = seed(engine)
    start_at = time.time() + 2.0  # both processes are up and connected before they race
    procs = [worker(url, run_id, chunk=10, pause=0.02, start_at=start_at) for _ in range(2)]
    results = sorted(finish(p).split()[0] for p in procs)
    assert results == ["BUSY", "DONE"]
    check_complete(engine, run_id)


def test_a_month_being_committed_cannot_be_replanned_or_claimed(scratch):
    url, engine = scratch
    run_id = seed(engine)
    proc = worker(url, run_id, chunk=10, pause=0.1)
    wait_for(engine, run_id, lambda _s, done: done >= 10)
    with _session(engine) as session:
        with pytest.raises(services.RunBusy):
            services.plan_run(session, month=MONTH, today=TODAY, replace=True)
        session.rollback()
        with pytest.raises(services.RunBusy):
            services.claim_run(session, run_id, owner=services.new_owner())
        session.rollback()
    assert finish(proc).startswith("DONE")
    check_complete(engine, run_id)
    with _session(engine) as session:
        with pytest.raises(services.AlreadyCommitted):
            services.plan_run(session, month=MONTH, today=TODAY, replace=True)


def test_a_claim_whose_lease_ran_out_is_taken_over(scratch):
    """A committing process on another machine that stopped renewing its claim (lease expired)."""
    url, engine = scratch
    run_id = seed(engine)
    with _session(engine) as session:
        session.execute(ShipmentRun.__table__.update().where(ShipmentRun.__table__.c.id == run_id).values(
            state=RunState.COMMITTING, lease_owner="elsewhere", lease_host="another-host", lease_pid=1,
            lease_until=utcnow().replace(year=2000)))
        session.commit()
    result = finish(worker(url, run_id, chunk=50))
    assert result == f"DONE {PATRONS} {PATRONS * ITEMS_EACH} 1"
    check_complete(engine, run_id)
    (planned_items_left,), = read(engine, select(func.count()).select_from(PlannedItem).where(
        PlannedItem.run_id == run_id, PlannedItem.is_included.is_(False)))
    assert planned_items_left == 0
