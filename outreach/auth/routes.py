"""Login, logout and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from forms.auth import EmptyForm, LoginForm
from outreach.auth import services
from outreach.db import get_session
from outreach.types import Role
from outreach.web import login_policy

bp = Blueprint("auth", __name__)

LOGIN_ERRORS = {
    "invalid_credentials": _l("The user name or password is wrong."),
    "locked": _l("Too many failed attempts. This account is locked for a while; try again later or ask an administrator."),
}


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(role: Role) -> str:
    return url_for("main.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(home_for(current_user.role))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        db = get_session()
        try:
            user = services.authenticate(db, form.username.data, form.password.data, login_policy())
        except services.AuthError as exc:
            db.commit()  # keep the failure count and the audit record
            error = str(LOGIN_ERRORS.get(exc.code, LOGIN_ERRORS["invalid_credentials"]))
        else:
            lang = session.get("lang")
            session.clear()  # a new session at login: nothing carried over from before
            if lang:
                session["lang"] = lang
            services.start_session(db, user)
            db.commit()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or home_for(user.role))
    status = 200 if error is None and not form.errors else 400
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():  # type: ignore[no-untyped-def]
    db = get_session()
    token = current_user.get_id()
    if token:
        services.end_session(db, token)
        db.commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def set_language():  # type: ignore[no-untyped-def]
    """Switch the interface language (Japanese / English); allowed before login too."""
    form = EmptyForm()
    lang = request.form.get("lang", "")
    if form.validate_on_submit() and lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")) or url_for("main.dashboard"))
