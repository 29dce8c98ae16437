"""Shared fixtures: a real database (SQLite file, or PostgreSQL from OUTREACH_TEST_DATABASE_URL),
migrated once per run; every test runs inside a transaction that is rolled back."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("OUTREACH_TEST_DATABASE_URL", "")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def reset_database(engine: Engine) -> None:
    """Start from an empty database: drop every table (PostgreSQL: the whole public schema)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        from sqlmodel import SQLModel

        with engine.begin() as conn:
            SQLModel.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    from outreach.db import make_engine
    from outreach.migrate import upgrade

    eng = make_engine(database_url)
    reset_database(eng)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture()
def connection(engine: Engine) -> Iterator:
    """A connection in an outer transaction; sessions join it with savepoints; rolled back at the end."""
    from outreach.db import database

    conn = engine.connect()
    outer = conn.begin()
    previous = database.factory.kw.copy()
    database.engine = engine
    database.factory.configure(bind=conn, join_transaction_mode="create_savepoint")
    try:
        yield conn
    finally:
        database.factory.kw.clear()
        database.factory.kw.update(previous)
        outer.rollback()
        conn.close()


@pytest.fixture()
def db(connection):  # type: ignore[no-untyped-def]
    """A session for arranging and checking data directly."""
    from outreach.db import database

    session = database.factory()
    yield session
    session.close()


@pytest.fixture()
def app(connection, database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    from outreach import create_app

    application = create_app(testing=True, DATABASE_URL=database_url, CONFIGURE_DATABASE=False,
                             SECRET_KEY="test-secret-key-not-for-production")
    return application


@pytest.fixture()
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


TEST_PASSWORD = "correct-horse-battery-9"


def make_user(db, username: str, role: str, password: str = TEST_PASSWORD):  # type: ignore[no-untyped-def]
    from outreach.auth import services
    from outreach.types import Role

    user = services.create_user(db, username=username, display_name=username.title(), role=Role(role),
                                password=password, hash_method="pbkdf2:sha256:1000")
    db.commit()
    return user


@pytest.fixture()
def users(db):  # type: ignore[no-untyped-def]
    return {role: make_user(db, f"{role}1", role) for role in ("admin", "chief", "librarian", "volunteer")}


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url: str = "/login") -> str:  # type: ignore[no-untyped-def]
    """The CSRF token of the client's session, read from a page as a browser would."""
    response = client.get(url)
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({response.status_code})"
    return match.group(1)


def login(client, username: str, password: str = TEST_PASSWORD):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def post(client, url: str, data: dict | None = None, form_url: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
    """POST like a browser: with the CSRF token taken from the form's page (or any page)."""
    token = csrf_token(client, form_url or "/")
    return client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)


@pytest.fixture()
def as_role(client, users):  # type: ignore[no-untyped-def]
    """Log the test client in as the given role: as_role('librarian')."""

    def _login(role: str):  # type: ignore[no-untyped-def]
        response = login(client, users[role].username)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return users[role]

    return _login
