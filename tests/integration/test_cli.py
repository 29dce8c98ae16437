"""The `outreach user ...` commands."""

from __future__ import annotations

from sqlalchemy import select

from outreach.auth.models import StaffUser
from outreach.cli import outreach_group


def _run(app, *args, input=None):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(outreach_group, list(args), input=input)


def test_create_list_and_reset(app, db):
    result = _run(app, "user", "create", "hanako", "--role", "chief", "--password-stdin", input="a-long-password-42\n")
    assert result.exit_code == 0, result.output
    user = db.scalars(select(StaffUser).where(StaffUser.username == "hanako")).one()
    assert user.role == "chief"
    old_hash = user.password_hash

    listing = _run(app, "user", "list")
    assert "hanako" in listing.output and "chief" in listing.output

    reset = _run(app, "user", "reset-password", "hanako", "--generate-password")
    assert reset.exit_code == 0 and "Password: " in reset.output
    db.expire_all()
    assert db.get(StaffUser, user.id).password_hash != old_hash


def test_create_refuses_a_duplicate_and_a_weak_password(app, db):
    _run(app, "user", "create", "taro", "--role", "librarian", "--password-stdin", input="a-long-password-42\n")
    dup = _run(app, "user", "create", "taro", "--role", "librarian", "--password-stdin", input="a-long-password-43\n")
    assert dup.exit_code != 0 and "already in use" in dup.output
    weak = _run(app, "user", "create", "jiro", "--role", "librarian", "--password-stdin", input="short\n")
    assert weak.exit_code != 0 and "12 characters" in weak.output
    assert db.scalars(select(StaffUser).where(StaffUser.username == "jiro")).first() is None


def test_bad_role_is_refused(app):
    result = _run(app, "user", "create", "x", "--role", "boss", "--generate-password")
    assert result.exit_code != 0 and "boss" in result.output


def test_reset_unknown_user(app):
    result = _run(app, "user", "reset-password", "ghost", "--generate-password")
    assert result.exit_code != 0 and "No account named 'ghost'" in result.output
