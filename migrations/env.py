"""Alembic environment: targets SQLModel.metadata with every area's models loaded."""

from __future__ import annotations

import logging.config

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import outreach.models  # noqa: F401  (registers every table)
from outreach.config import Config
from outreach.db import make_engine

config = context.config
if config.config_file_name and config.attributes.get("configure_logger", True):
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Render our column types as plain SQLAlchemy types in new revisions."""
    from outreach.db import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, sa.Enum) and not obj.native_enum:
        return f"sa.String(length={obj.length})"  # enums are plain VARCHARs; values are checked in Python
    if type_ == "type" and obj.__class__.__module__.startswith("sqlmodel"):
        return f"sa.String(length={getattr(obj, 'length', None)})"
    return False


def _include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """APScheduler manages its own job table; migrations leave it alone."""
    return not (type_ == "table" and name == "apscheduler_jobs")


def _configure(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include_object,
        render_as_batch=True,  # SQLite needs table rebuilds for most ALTERs
        compare_type=True,
        render_item=_render_item,
    )


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url") or Config.DATABASE_URL,
                      target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or Config.DATABASE_URL
    engine = make_engine(url)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
