"""The start page after login."""

from __future__ import annotations

from flask import Blueprint, render_template

from outreach.types import Role
from outreach.web import roles_required

bp = Blueprint("main", __name__)


@bp.route("/")
@roles_required(*Role)
def dashboard():  # type: ignore[no-untyped-def]
    return render_template("main/dashboard.html")
