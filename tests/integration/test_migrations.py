"""The migrations build exactly the models' schema, from scratch, on this run's database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import outreach.models  # noqa: F401
from outreach.db import make_engine
from outreach.migrate import upgrade
from tests.conftest import reset_database


def _diff(conn):  # type: ignore[no-untyped-def]
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return compare_metadata(context, SQLModel.metadata)


def test_upgrade_from_empty_matches_the_models(database_url, tmp_path):
    # A database of its own, so the shared test schema is not disturbed.
    url = database_url
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        engine = make_engine(url)
    else:
        from sqlalchemy import text

        admin = make_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS outreach_migration_check"))
            conn.execute(text("CREATE DATABASE outreach_migration_check"))
        admin.dispose()
        engine = make_engine(url.rsplit("/", 1)[0] + "/outreach_migration_check")
    try:
        reset_database(engine)
        upgrade(engine)
        with engine.connect() as conn:
            assert _diff(conn) == []
        upgrade(engine)  # a second run is a no-op
    finally:
        engine.dispose()


def test_downgrade_to_base_and_up_again(database_url, tmp_path):
    from alembic import command

    from outreach.migrate import alembic_config

    if not database_url.startswith("sqlite"):
        url = database_url.rsplit("/", 1)[0] + "/outreach_migration_check"
    else:
        url = f"sqlite:///{tmp_path / 'updown.db'}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            command.downgrade(alembic_config(connection=conn), "base")
        upgrade(engine)
        with engine.connect() as conn:
            assert _diff(conn) == []
    finally:
        engine.dispose()
