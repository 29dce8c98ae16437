"""Staff accounts, passwords, login throttling and server-side sessions."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session
from werkzeug.security import check_password_hash, generate_password_hash

from outreach.audit import services as audit
from outreach.auth.models import StaffSession, StaffUser
from outreach.db import utcnow
from outreach.types import Role

log = logging.getLogger(__name__)

DEFAULT_HASH_METHOD = "scrypt"  # memory-hard and slow on purpose
MIN_PASSWORD_LENGTH = 12
# A real hash of a random password, checked when the username is unknown, so that the answer
# takes as long for a wrong name as for a wrong password.
_DUMMY_HASH_CACHE: dict[str, str] = {}


class AuthError(Exception):
    """A login or account operation that was refused; ``code`` selects the message shown."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int
    lockout: timedelta
    inactivity_timeout: timedelta
    hash_method: str = DEFAULT_HASH_METHOD


def hash_password(password: str, method: str = DEFAULT_HASH_METHOD) -> str:
    return generate_password_hash(password, method=method)


def check_password_strength(password: str) -> str | None:
    """Return an error code when the password is too weak, else None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "password_too_short"
    if password.isdigit() or password.isalpha():
        return "password_too_simple"
    return None


def get_user(session: Session, user_id: int) -> StaffUser | None:
    return session.get(StaffUser, user_id)


def get_user_by_username(session: Session, username: str) -> StaffUser | None:
    return session.scalars(select(StaffUser).where(StaffUser.username == username.strip())).first()


def list_users(session: Session) -> Sequence[StaffUser]:
    """All accounts, by role then username."""
    return session.scalars(select(StaffUser).order_by(StaffUser.role, StaffUser.username)).all()


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    actor: StaffUser | None = None,
    hash_method: str = DEFAULT_HASH_METHOD,
) -> StaffUser:
    """Create an account; usernames are unique and passwords must be strong enough."""
    username = username.strip()
    if not username:
        raise AuthError("username_required")
    if get_user_by_username(session, username) is not None:
        raise AuthError("username_taken")
    weakness = check_password_strength(password)
    if weakness:
        raise AuthError(weakness)
    user = StaffUser(
        username=username,
        display_name=display_name.strip() or username,
        role=Role(role),
        password_hash=hash_password(password, hash_method),
    )
    session.add(user)
    session.flush()
    _audit(session, actor, "create", user, ["username", "display_name", "role"])
    return user


def update_user(
    session: Session, user: StaffUser, *, display_name: str, role: Role, is_active: bool, actor: StaffUser | None
) -> None:
    """Change an account; deactivating it ends all its sessions at once."""
    changed = []
    if user.display_name != display_name:
        user.display_name = display_name
        changed.append("display_name")
    if user.role != role:
        user.role = Role(role)
        changed.append("role")
    if user.is_active != is_active:
        user.is_active = is_active
        changed.append("is_active")
        if not is_active:
            end_all_sessions(session, user)
    if changed:
        user.updated_at = utcnow()
        _audit(session, actor, "update", user, changed)


def set_password(
    session: Session, user: StaffUser, password: str, actor: StaffUser | None, hash_method: str = DEFAULT_HASH_METHOD
) -> None:
    """Set a new password, clear any lockout and end the user's other sessions."""
    weakness = check_password_strength(password)
    if weakness:
        raise AuthError(weakness)
    user.password_hash = hash_password(password, hash_method)
    user.failed_login_count = 0
    user.locked_until = None
    user.updated_at = utcnow()
    end_all_sessions(session, user)
    _audit(session, actor, "password_reset", user, ["password"])


def authenticate(
    session: Session, username: str, password: str, policy: LoginPolicy, now: datetime | None = None
) -> StaffUser:
    """Check a login; after ``max_failures`` wrong passwords the account is locked for a while."""
    now = now or utcnow()
    user = get_user_by_username(session, username)
    if user is None:
        dummy = _DUMMY_HASH_CACHE.setdefault(policy.hash_method, hash_password(secrets.token_hex(8), policy.hash_method))
        check_password_hash(dummy, password)
        audit.record(session, actor_id=None, actor_username="-", action="login_failed", entity_type="staff_user")
        raise AuthError("invalid_credentials")
    if user.locked_until is not None and user.locked_until > now:
        _audit(session, user, "login_locked", user)
        raise AuthError("locked")
    if not check_password_hash(user.password_hash, password):
        user.failed_login_count += 1
        if user.failed_login_count >= policy.max_failures:
            user.locked_until = now + policy.lockout
            user.failed_login_count = 0
        _audit(session, user, "login_failed", user)
        raise AuthError("invalid_credentials")
    if not user.is_active:
        _audit(session, user, "login_inactive", user)
        raise AuthError("invalid_credentials")
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    return user


def start_session(session: Session, user: StaffUser) -> str:
    """Open a new server-side session (a fresh token at every login) and return its token."""
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(token=token, user_id=user.id))
    _audit(session, user, "login", user)
    user._session_token = token  # type: ignore[attr-defined]
    return token


def load_session_user(
    session: Session, token: str, policy: LoginPolicy, now: datetime | None = None
) -> StaffUser | None:
    """The user of a live session, or None when it ended, timed out or the account is inactive."""
    now = now or utcnow()
    # One query for the session and its user: this runs on every request.
    found = session.execute(
        select(StaffSession, StaffUser).join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.token == token)
    ).first()
    if found is None:
        return None
    staff_session, user = found
    if staff_session.ended_at is not None:
        return None
    if now - staff_session.last_seen_at > policy.inactivity_timeout:
        staff_session.ended_at = now
        return None
    if not user.is_active:
        return None
    # Refresh at most once a minute: a read-only page need not write on every request.
    if now - staff_session.last_seen_at > timedelta(minutes=1):
        staff_session.last_seen_at = now
    user._session_token = token  # type: ignore[attr-defined]
    return user


def end_session(session: Session, token: str) -> None:
    staff_session = session.get(StaffSession, token)
    if staff_session is not None and staff_session.ended_at is None:
        staff_session.ended_at = utcnow()


def end_all_sessions(session: Session, user: StaffUser) -> None:
    session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def _audit(
    session: Session, actor: StaffUser | None, action: str, user: StaffUser, fields: list[str] | None = None
) -> None:
    audit.record(
        session,
        actor_id=actor.id if actor else None,
        actor_username=actor.username if actor else "system",
        action=action,
        entity_type="staff_user",
        entity_id=user.id,
        fields=fields or (),
    )
