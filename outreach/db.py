"""Engine, session per request, SQLite pragmas and the metadata naming convention."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, Table, create_engine, event
from sqlalchemy.orm import sessionmaker
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel

log = logging.getLogger(__name__)

# Stable constraint names so that Alembic migrations are reproducible on every database.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Whether the current unit of work intends to write: SQLite then starts it with BEGIN IMMEDIATE,
# so that two writers queue on the busy timeout instead of failing on a lock upgrade half-way.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the engine; on SQLite set WAL, foreign keys, a busy timeout and immediate write transactions.

    SQL parameters are hidden from error messages: they can pair a patron with an item (who read what),
    and errors end up in logs and on status pages.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True, **kwargs)
        _configure_sqlite(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, hide_parameters=True, **kwargs)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA cache_size=-32768")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


class Database:
    """Holds the engine and the session factory of one application."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.factory: sessionmaker[Session] = sessionmaker(class_=Session, expire_on_commit=False)

    def configure(self, url: str) -> None:
        self.engine = make_engine(url)
        self.factory.configure(bind=self.engine)

    @contextmanager
    def session_scope(self, write: bool = True) -> Iterator[Session]:
        """One unit of work outside a request (CLI, jobs): commit at the end, roll back on error."""
        token = write_intent.set(write)
        session = self.factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            write_intent.reset(token)


database = Database()


def get_session() -> Session:
    """The session of the current request (created on first use, closed at teardown)."""
    from flask import g

    if "db_session" not in g:
        g.db_session = database.factory()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    from flask import g

    session = g.pop("db_session", None)
    if session is not None:
        # Anything not committed explicitly by the view is discarded: nothing half-saved.
        session.rollback()
        session.close()


def bulk_insert(session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                constants: Mapping[str, Any] | None = None) -> None:
    """INSERT many rows through the driver's own executemany, in the session's transaction.

    For the batch paths (the monthly plan and commit): SQLAlchemy's executemany converts every value of
    every row through its parameter machinery, which costs several times the insert itself. Here the
    rows must hold values the driver takes as they are (ints, str, StrEnum members, bools, None); the
    ``constants`` (dates, timestamps, the same for every row) go through their column type once.
    """
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    fixed = {name: _db_value(table, name, value, dialect) for name, value in (constants or {}).items()}
    names = [*columns, *fixed]
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
           f"VALUES ({', '.join([mark] * len(names))})")
    tail = tuple(fixed.values())
    if dialect.name == "postgresql":
        # COPY: no statement per row, no parameter parsing; in the session's transaction.
        columns_sql = ", ".join(quote(n) for n in names)
        with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy(f"COPY {quote(table.name)} ({columns_sql}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, *tail) if tail else row)
        return
    conn.exec_driver_sql(sql, [(*row, *tail) for row in rows] if tail else list(rows))


def bulk_update(session: Session, table: Table, key: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                constants: Mapping[str, Any] | None = None) -> None:
    """UPDATE many rows by key through the driver's executemany (see bulk_insert for the values).

    Each row holds the new values of ``columns`` followed by the key; ``constants`` are set on every row.
    """
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    fixed = {name: _db_value(table, name, value, dialect) for name, value in (constants or {}).items()}
    names = [*columns, *fixed]
    tail = tuple(fixed.values())
    assignments = ", ".join(f"{quote(n)} = {mark}" for n in names)
    if dialect.name == "postgresql" and not columns:
        # the same values for every key (e.g. items put on loan): one statement per thousands of keys
        sql = f"UPDATE {quote(table.name)} SET {assignments} WHERE {quote(key)} = ANY({mark})"
        keys = [row[-1] for row in rows]
        for start in range(0, len(keys), 10_000):
            conn.exec_driver_sql(sql, (*tail, keys[start:start + 10_000]))
        return
    sql = f"UPDATE {quote(table.name)} SET {assignments} WHERE {quote(key)} = {mark}"
    conn.exec_driver_sql(sql, [(*row[:-1], *tail, row[-1]) for row in rows] if tail else list(rows))


def _db_value(table: Table, name: str, value: Any, dialect: Any) -> Any:
    process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process is not None and value is not None else value


def stream_rows(session: Session, stmt: Any, batch: int = 2000) -> Iterator[tuple[Any, ...]]:
    """The rows of a Core SELECT as the driver's plain tuples, fetched in batches (a server-side cursor
    on PostgreSQL). No type conversion: for large scans whose columns are ints and text."""
    conn = session.connection()
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    # Per statement: Connection.execution_options() would change the session's connection for good. Read
    # through the result, not its DBAPI cursor: a streamed result has already buffered its first row.
    # The batch is given to partitions() itself: a "yield_per" execution option on exec_driver_sql does
    # not reach the result, which then fetched one row per call (a round trip per row on PostgreSQL).
    result = conn.exec_driver_sql(sql, execution_options={"stream_results": True})
    try:
        for rows in result.partitions(batch):
            yield from rows
    finally:
        result.close()


def enum_type(enum_cls: type) -> Any:
    """Store a StrEnum by its value in a plain VARCHAR (no native ENUM: migrations stay simple)."""
    from sqlalchemy import Enum as SAEnum

    return SAEnum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
