"""The start page after login: the work lists of the day."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from outreach.clock import today
from outreach.db import get_session
from outreach.enrolments import services as enrolments
from outreach.reading import services as reading
from outreach.shipments import services as shipments
from outreach.types import Role
from outreach.web import CASEWORK, roles_required

bp = Blueprint("main", __name__)


@bp.route("/")
@roles_required(*Role)
def dashboard():  # type: ignore[no-untyped-def]
    lists = {}
    db = get_session()
    on = today()
    reading_summary = reading.dashboard_summary(db, today=on, user=current_user)
    shipments_summary = None
    if current_user.role in CASEWORK:
        shipments_summary = shipments.dashboard_summary(db, on)
        lists = {
            "awaiting": enrolments.awaiting_decision(db),
            "ending": enrolments.ending_soon(db, on),
            "expired": enrolments.expired_without_renewal(db, on),
            "flags": enrolments.open_review_flags(db, on),
            "visits": enrolments.planned_visits(db, on),
        }
    return render_template("main/dashboard.html", lists=lists, on=on, reading_summary=reading_summary,
                           shipments_summary=shipments_summary)


@bp.route("/work-lists/<name>")
@roles_required(*CASEWORK)
def work_list(name: str):  # type: ignore[no-untyped-def]
    """A work list on its own page, for printing."""
    db = get_session()
    on = today()
    loaders = {
        "awaiting": lambda: enrolments.awaiting_decision(db, limit=5000),
        "ending": lambda: enrolments.ending_soon(db, on, limit=5000),
        "expired": lambda: enrolments.expired_without_renewal(db, on, limit=5000),
    }
    if name not in loaders:
        from flask import abort

        abort(404)
    return render_template("main/work_list.html", name=name, items=loaders[name](), on=on)
