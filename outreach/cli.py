"""Command line: `outreach ...` or `flask --app wsgi outreach ...`."""

from __future__ import annotations

import os
import re
import sys

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo

from outreach.db import database

outreach_group = AppGroup("outreach", help="outreach: case management for library outreach services.")
user_group = AppGroup("user", help="Staff accounts.")
db_group = AppGroup("db", help="Database schema and data.")
outreach_group.add_command(user_group)
outreach_group.add_command(db_group)


def _hash_method() -> str:
    from outreach.auth.services import DEFAULT_HASH_METHOD

    return current_app.config.get("PASSWORD_HASH_METHOD", DEFAULT_HASH_METHOD)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@user_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "chief", "librarian", "volunteer"]), required=True)
@click.option("--display-name", default="", help="Name shown in the application (default: the user name).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--generate-password", is_flag=True, help="Generate a password and print it once.")
def user_create(username: str, role: str, display_name: str, password_stdin: bool, generate_password: bool) -> None:
    """Create a staff account with a role."""
    from outreach.auth import services
    from outreach.demo import generate_password as make_password
    from outreach.types import Role

    password = make_password() if generate_password else _read_password(password_stdin)
    try:
        with database.session_scope() as session:
            services.create_user(session, username=username, display_name=display_name or username,
                                 role=Role(role), password=password, hash_method=_hash_method())
    except services.AuthError as exc:
        raise click.ClickException(_account_error(exc.code)) from None
    click.echo(f"Created {role} account '{username}'.")
    if generate_password:
        click.echo(f"Password: {password}")


@user_group.command("reset-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--generate-password", is_flag=True, help="Generate a password and print it once.")
def user_reset_password(username: str, password_stdin: bool, generate_password: bool) -> None:
    """Set a new password, unlock the account and end its sessions."""
    from outreach.auth import services
    from outreach.demo import generate_password as make_password

    password = make_password() if generate_password else _read_password(password_stdin)
    try:
        with database.session_scope() as session:
            user = services.get_user_by_username(session, username)
            if user is None:
                raise click.ClickException(f"No account named '{username}'.")
            services.set_password(session, user, password, None, _hash_method())
    except services.AuthError as exc:
        raise click.ClickException(_account_error(exc.code)) from None
    click.echo(f"Password of '{username}' reset; its sessions have ended.")
    if generate_password:
        click.echo(f"Password: {password}")


@user_group.command("deactivate")
@click.argument("username")
def user_deactivate(username: str) -> None:
    """Deactivate an account and end its sessions at once."""
    from outreach.auth import services

    with database.session_scope() as session:
        user = services.get_user_by_username(session, username)
        if user is None:
            raise click.ClickException(f"No account named '{username}'.")
        services.update_user(session, user, display_name=user.display_name, role=user.role, is_active=False,
                             actor=None)
    click.echo(f"Account '{username}' deactivated.")


@user_group.command("list")
def user_list() -> None:
    """List staff accounts: user name, role, status."""
    from outreach.auth import services

    with database.session_scope(write=False) as session:
        users = services.list_users(session)
        click.echo(f"{'username':<24} {'role':<10} {'status':<8} display name")
        for user in users:
            status = "active" if user.is_active else "inactive"
            click.echo(f"{user.username:<24} {user.role.value:<10} {status:<8} {user.display_name}")


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (safe to repeat)."""
    from outreach.migrate import upgrade

    assert database.engine is not None
    upgrade(database.engine)
    click.echo("Database is up to date.")


@db_group.command("demo")
def db_demo() -> None:
    """Load the demo patrons and first logins if the database is empty."""
    _load_demo_if_empty(verbose=True)


def _load_demo_if_empty(verbose: bool) -> None:
    from outreach.config import INSTANCE_DIR
    from outreach.demo import load_demo

    cfg = current_app.config
    with database.session_scope() as session:
        logins = load_demo(session, cfg["LIBRARY_PREFECTURE"], cfg["LIBRARY_CITY"])
    note = INSTANCE_DIR / "first-logins.txt"
    if logins:
        lines = [f"{username} ({role.value}): {password}" for username, role, password in logins]
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(note, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("First staff logins of the demo database (change or deactivate them):\n")
            fh.write("\n".join(lines) + "\n")
        click.echo("Demo data loaded. First staff logins:")
        for line in lines:
            click.echo(f"  {line}")
    elif verbose:
        click.echo("The database already holds data; no demo data loaded.")
    elif note.exists():
        click.echo(f"First staff logins: see {note} (or `outreach user reset-password NAME`).")


@outreach_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-demo", is_flag=True, help="Do not load demo data into an empty database.")
def serve(host: str, port: int, no_demo: bool) -> None:
    """Migrate, load demo data into an empty database, print the address and serve (development server)."""
    from outreach.migrate import upgrade

    assert database.engine is not None
    upgrade(database.engine)
    if not no_demo:
        _load_demo_if_empty(verbose=False)
    click.echo(f"outreach is running at http://{host}:{port}/  (Ctrl+C to stop)")
    current_app.run(host=host, port=port, debug=False, use_reloader=False, request_handler=_request_handler())


def _without_query(text: str) -> str:
    """A request line without its query string (up to the HTTP version, or to the end)."""
    return re.sub(r"\?.*?(?= HTTP/\d|$)", "", text, flags=re.DOTALL)


def _request_handler() -> type:
    """The development server's request handler, logging paths without query strings: a patron search
    (GET /patrons?q=…) carries names and phone numbers, and the request log must not keep them."""
    from werkzeug.serving import WSGIRequestHandler

    class PathOnlyRequestHandler(WSGIRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            full = self.path
            self.path = full.split("?", 1)[0]
            try:
                super().log_request(code, size)
            finally:
                self.path = full

        def log_error(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
            # A malformed request is reported with its raw request line.
            super().log_error(format, *(_without_query(a) if isinstance(a, str) else a for a in args))

    return PathOnlyRequestHandler


@outreach_group.command("scheduler")
def scheduler() -> None:
    """Run the scheduler process (daily and monthly jobs) until stopped."""
    from outreach.scheduler import run_scheduler

    run_scheduler(current_app._get_current_object())  # type: ignore[attr-defined]


# Each area's commands (imported here, after the group exists).
from outreach.catalog.cli import catalog_group  # noqa: E402
from outreach.enrolments.cli import enrolments_group  # noqa: E402
from outreach.loans.cli import loans_group  # noqa: E402
from outreach.reading.cli import reading_group  # noqa: E402
from outreach.reports.cli import reports_group  # noqa: E402
from outreach.shipments.cli import shipments_group  # noqa: E402

for _group in (enrolments_group, catalog_group, loans_group, shipments_group, reading_group, reports_group):
    outreach_group.add_command(_group)
from outreach.synth.cli import synth_command  # noqa: E402

outreach_group.add_command(synth_command)


def main() -> None:
    """Console script `outreach`."""
    from outreach import create_app

    outreach_group.main(obj=ScriptInfo(create_app=lambda: create_app()), prog_name="outreach")


def _account_error(code: str) -> str:
    return {
        "username_taken": "This user name is already in use.",
        "username_required": "A user name is required.",
        "password_too_short": "A password needs at least 12 characters.",
        "password_too_simple": "Mix letters with digits or symbols in the password.",
    }.get(code, code)


if __name__ == "__main__":
    main()
