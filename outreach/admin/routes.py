"""Administration: staff accounts and the audit trail (read-only)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from forms.admin import PasswordResetForm, UserCreateForm, UserEditForm
from outreach.audit import services as audit_services
from outreach.auth import services as auth_services
from outreach.db import get_session
from outreach.types import Role
from outreach.web import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")

ACCOUNT_ERRORS = {
    "username_taken": _l("This user name is already in use."),
    "username_required": _l("Enter a user name."),
    "password_too_short": _l("A password needs at least 12 characters."),
    "password_too_simple": _l("Mix letters with digits or symbols in the password."),
}


def _hash_method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD", auth_services.DEFAULT_HASH_METHOD)


@bp.route("/users")
@roles_required(Role.ADMIN)
def users():  # type: ignore[no-untyped-def]
    return render_template("admin/users.html", users=auth_services.list_users(get_session()))


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def user_create():  # type: ignore[no-untyped-def]
    form = UserCreateForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            auth_services.create_user(db, username=form.username.data, display_name=form.display_name.data,
                                      role=Role(form.role.data), password=form.password.data, actor=current_user,
                                      hash_method=_hash_method())
            db.commit()
        except auth_services.AuthError as exc:
            db.rollback()
            target = form.username if exc.code.startswith("username") else form.password
            target.errors = [*target.errors, str(ACCOUNT_ERRORS[exc.code])]
        else:
            flash(_("The account has been created."), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_new.html", form=form), 400 if form.errors else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def user_edit(user_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    user = auth_services.get_user(db, user_id)
    if user is None:
        abort(404)
    form = UserEditForm(obj=user)
    reset_form = PasswordResetForm(prefix="reset")
    if form.validate_on_submit():
        if user.id == current_user.id and (not form.is_active.data or form.role.data != Role.ADMIN):
            form.role.errors = [*form.role.errors, _("You cannot remove your own administrator access.")]
        else:
            auth_services.update_user(db, user, display_name=form.display_name.data, role=Role(form.role.data),
                                      is_active=form.is_active.data, actor=current_user)
            db.commit()
            flash(_("The account has been saved."), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_edit.html", form=form, reset_form=reset_form, user=user), (
        400 if form.errors else 200)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@roles_required(Role.ADMIN)
def user_password(user_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    user = auth_services.get_user(db, user_id)
    if user is None:
        abort(404)
    reset_form = PasswordResetForm(prefix="reset")
    if reset_form.validate_on_submit():
        try:
            auth_services.set_password(db, user, reset_form.password.data, current_user, _hash_method())
            db.commit()
        except auth_services.AuthError as exc:
            db.rollback()
            reset_form.password.errors = [*reset_form.password.errors, str(ACCOUNT_ERRORS[exc.code])]
        else:
            flash(_("The password has been reset and the user's sessions have ended."), "success")
            return redirect(url_for("admin.users"))
    form = UserEditForm(obj=user, formdata=None)
    return render_template("admin/user_edit.html", form=form, reset_form=reset_form, user=user), 400


@bp.route("/audit")
@roles_required(Role.ADMIN)
def audit():  # type: ignore[no-untyped-def]
    page = request.args.get("page", 1, type=int) or 1
    entity_type = request.args.get("entity_type", "").strip()
    actor = request.args.get("actor", "").strip()
    entity_id = request.args.get("entity_id", type=int)
    events, total = audit_services.list_events(
        get_session(), entity_types=(entity_type,) if entity_type else (), entity_id=entity_id,
        actor_username=actor or None, page=page, page_size=100)
    pages = max(1, -(-total // 100))
    return render_template("admin/audit.html", events=events, total=total, page=page, pages=pages,
                           entity_type=entity_type, actor=actor, entity_id=entity_id)
