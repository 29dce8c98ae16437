"""Cross-cutting web concerns: login, roles, CSRF, security headers, language, no-store."""

from __future__ import annotations

import functools
import importlib.util
import logging
from collections.abc import Callable
from contextvars import ContextVar
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import Babel, get_translations, gettext
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from outreach.audit.services import PATRON_KEYED
from outreach.auth import services as auth_services
from outreach.calendar import age_on, format_wareki
from outreach.clock import today
from outreach.db import close_session, get_session, write_intent
from outreach.labels import audit_word, basis_label, label
from outreach.types import Role, Service

log = logging.getLogger(__name__)

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()

F = TypeVar("F", bound=Callable[..., Any])

# The screen fonts served from letters/fonts (public: the login page needs them too; no personal data).
FONT_DIR = Path(importlib.util.find_spec("letters").origin).parent / "fonts"  # type: ignore[union-attr,arg-type]
UI_FONTS = frozenset({"BIZUDGothic-Regular.ttf", "BIZUDGothic-Bold.ttf"})
UI_FONT_MAX_AGE = 365 * 24 * 3600

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Allow the view only to logged-in staff with one of the roles (checked on every request)."""

    def decorator(view: F) -> F:
        view._roles = roles  # type: ignore[attr-defined]  # read by the URL-map test

        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


STAFF = (Role.ADMIN, Role.CHIEF, Role.LIBRARIAN)  # staff, not volunteers (no patron records for admins)
CASEWORK = (Role.CHIEF, Role.LIBRARIAN)  # may see patron records and what they borrow


def login_policy() -> auth_services.LoginPolicy:
    cfg = current_app.config
    return auth_services.LoginPolicy(
        max_failures=cfg["LOGIN_MAX_FAILURES"],
        lockout=cfg["LOGIN_LOCKOUT"],
        inactivity_timeout=cfg["INACTIVITY_TIMEOUT"],
        hash_method=cfg.get("PASSWORD_HASH_METHOD", auth_services.DEFAULT_HASH_METHOD),
    )


def _attrs(**kwargs: Any) -> dict[str, Any]:
    """HTML attributes without the ones set to None or False (templates pass optional attributes)."""
    return {key: value for key, value in kwargs.items() if value is not None and value is not False}


def display_date(value: date | None) -> str:
    """令和8年11月21日 in the Japanese UI, 2026-11-21 in English (templates: the ``wareki`` filter)."""
    if value is None:
        return ""
    return format_wareki(value) if select_locale() == "ja" else value.isoformat()


# The request's language, worked out once per request: templates ask for it for every message and date.
_request_locale: ContextVar[str | None] = ContextVar("outreach_request_locale", default=None)


def select_locale() -> str:
    cached = _request_locale.get()
    if cached is not None:
        return cached
    lang = session.get("lang")
    if lang not in current_app.config["LANGUAGES"]:
        lang = current_app.config["BABEL_DEFAULT_LOCALE"]
    _request_locale.set(lang)
    return lang


def _install_template_gettext(app: Flask) -> None:
    """Templates translate through the request's catalogue, looked up once per language.

    Flask-Babel's own callables find the request context, the domain and the locale again for every
    message (a page has dozens); the catalogues do not change while the application runs.
    """
    catalogues: dict[str, Any] = {}

    def current() -> Any:
        lang = select_locale()
        found = catalogues.get(lang)
        if found is None:
            found = catalogues[lang] = get_translations()
        return found

    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda message: current().ugettext(message),
        ngettext=lambda singular, plural, n: current().ungettext(singular, plural, n),
        newstyle=True,
    )


def init_web(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = None  # our own server-side sessions do this job

    @login_manager.unauthorized_handler
    def _to_login() -> Any:
        """To the login page, saying why in the staff's language, and back to the page after login."""
        if g.get("session_ended"):
            flash(gettext("Your session has ended (no activity for a while, or ended by an administrator). "
                          "Please log in again."), "info")
        else:
            flash(gettext("Please log in to see this page."), "info")
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for(login_manager.login_view, next=target))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    _install_template_gettext(app)

    @login_manager.user_loader
    def load_user(token: str) -> Any:
        db = get_session()
        user = auth_services.load_session_user(db, token, login_policy())
        if db.dirty:
            db.commit()  # session bookkeeping (last seen, timed out) only
        if user is None:
            session.pop("_user_id", None)
            g.session_ended = True
        return user

    @app.before_request
    def _write_intent() -> None:
        g._write_token = write_intent.set(request.method not in ("GET", "HEAD", "OPTIONS"))

    @app.teardown_request
    def _teardown(exc: BaseException | None) -> None:
        close_session(exc)
        # Always forget the request's language: it may have been worked out before any of our
        # before-request hooks ran (a CSRF refusal renders its error page from Flask-WTF's own hook).
        _request_locale.set(None)
        token = g.pop("_write_token", None)
        if token is not None:
            try:
                write_intent.reset(token)
            except ValueError:
                write_intent.set(True)

    @app.route("/fonts/<name>")
    def fonts(name: str) -> Any:
        """The bundled BIZ UD Gothic, for screens without a Japanese font (a Linux desk or kiosk): the
        stylesheet asks for the installed fonts first, so a browser fetches this only when it has none."""
        if name not in UI_FONTS:
            abort(404)
        return send_from_directory(FONT_DIR, name, mimetype="font/ttf", max_age=UI_FONT_MAX_AGE)

    @app.after_request
    def _headers(response: Any) -> Any:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.endpoint not in ("static", "fonts"):
            # Pages may carry personal data: never keep them in a browser or proxy cache.
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response

    app.jinja_env.globals["attrs"] = _attrs
    app.jinja_env.globals["age"] = lambda birth: age_on(birth, today())
    app.jinja_env.globals["basis_label"] = basis_label
    app.jinja_env.globals["audit_word"] = audit_word
    app.jinja_env.globals["PATRON_KEYED"] = PATRON_KEYED
    app.jinja_env.globals["label_service"] = lambda value: label(Service(value)) if value else ""

    @app.template_filter("localtime")
    def _localtime(value: datetime | None) -> str:
        if value is None:
            return ""
        local = value.astimezone(ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"]))
        return f"{display_date(local.date())} {local:%H:%M}"  # 令和8年11月30日 09:00 / 2026-11-30 09:00

    app.add_template_filter(display_date, "wareki")

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"current_lang": select_locale(), "Role": Role, "STAFF": STAFF, "CASEWORK": CASEWORK, "label": label}
