"""Patron records: search, view, register, edit, delete; proxies; postal-code look-up."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from forms.auth import EmptyForm
from forms.patrons import PatronEditForm, PatronSearchForm, ProxyEditForm
from outreach.audit import services as audit_services
from outreach.clock import today
from outreach.db import get_session
from outreach.enrolments import services as enrolment_services
from outreach.errors import DomainError
from outreach.patrons import services
from outreach.patrons.models import Patron
from outreach.web import CASEWORK, roles_required, select_locale

bp = Blueprint("patrons", __name__, url_prefix="/patrons")


def _library_place() -> dict[str, str]:
    cfg = current_app.config
    return {"library_prefecture": cfg["LIBRARY_PREFECTURE"], "library_city": cfg["LIBRARY_CITY"]}


def _patron_or_404(patron_id: int) -> Patron:
    patron = services.get_patron(get_session(), patron_id)
    if patron is None:
        abort(404)
    return patron


def _card_number_unique(form: PatronEditForm, exclude_id: int | None) -> bool:
    if form.card_number.data and services.card_number_taken(get_session(), form.card_number.data, exclude_id):
        form.card_number.errors = [*form.card_number.errors, _("This library card number is already registered.")]
        return False
    return True


@bp.route("")
@roles_required(*CASEWORK)
def index():  # type: ignore[no-untyped-def]
    form = PatronSearchForm(request.args)
    page = request.args.get("page", 1, type=int) or 1
    result = None
    if form.validate():
        result = services.search_patrons(get_session(), form.q.data or "", page=page,
                                         page_size=current_app.config["PAGE_SIZE"])
    return render_template("patrons/index.html", form=form, result=result)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*CASEWORK)
def create():  # type: ignore[no-untyped-def]
    form = PatronEditForm()
    if form.validate_on_submit() and _card_number_unique(form, None):
        db = get_session()
        try:
            patron = services.create_patron(db, data=form.patron_data(), actor=current_user, **_library_place())
            db.commit()
        except IntegrityError:  # another librarian took the card number a moment ago
            db.rollback()
            form.card_number.errors = [_("This library card number is already registered.")]
        else:
            flash(_("The patron has been registered."), "success")
            return redirect(url_for("patrons.show", patron_id=patron.id))
    status = 400 if form.errors else 200
    return render_template("patrons/edit.html", form=form, patron=None), status


@bp.route("/<int:patron_id>")
@roles_required(*CASEWORK)
def show(patron_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    patron = _patron_or_404(patron_id)
    services.record_view(db, patron, current_user)
    db.commit()
    proxies = services.list_proxies(db, patron)
    case = enrolment_services.patron_case(db, patron, today(), select_locale())
    return render_template("patrons/show.html", patron=patron, proxies=proxies, delete_form=EmptyForm(), case=case)


@bp.route("/<int:patron_id>/edit", methods=["GET", "POST"])
@roles_required(*CASEWORK)
def edit(patron_id: int):  # type: ignore[no-untyped-def]
    patron = _patron_or_404(patron_id)
    form = PatronEditForm(obj=patron)
    if form.validate_on_submit() and _card_number_unique(form, patron.id):
        db = get_session()
        try:
            changed = services.update_patron(db, patron, data=form.patron_data(), actor=current_user,
                                             **_library_place())
            flagged = enrolment_services.check_for_review(db, [patron.id], today()) if changed else 0
            db.commit()
        except IntegrityError:
            db.rollback()
            form.card_number.errors = [_("This library card number is already registered.")]
        else:
            flash(_("The changes have been saved.") if changed else _("Nothing was changed."), "success")
            if flagged:
                flash(_("The rules no longer cover a service this patron uses: please review it."), "error")
            return redirect(url_for("patrons.show", patron_id=patron.id))
    status = 400 if form.errors else 200
    return render_template("patrons/edit.html", form=form, patron=patron), status


@bp.route("/<int:patron_id>/delete", methods=["POST"])
@roles_required(*CASEWORK)
def delete(patron_id: int):  # type: ignore[no-untyped-def]
    patron = _patron_or_404(patron_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    db = get_session()
    try:
        services.delete_patron(db, patron, current_user)
    except DomainError as exc:
        db.rollback()
        flash(exc.message(select_locale()), "error")
        return redirect(url_for("patrons.show", patron_id=patron_id))
    db.commit()
    flash(_("The patron record has been deleted."), "success")
    return redirect(url_for("patrons.index"))


@bp.route("/<int:patron_id>/history")
@roles_required(*CASEWORK)
def history(patron_id: int):  # type: ignore[no-untyped-def]
    """Who opened or changed this record (field names only)."""
    patron = _patron_or_404(patron_id)
    events, _total = audit_services.list_events(
        get_session(), entity_types=audit_services.PATRON_KEYED, entity_id=patron.id, page_size=200
    )
    return render_template("patrons/history.html", patron=patron, events=events)


@bp.route("/<int:patron_id>/proxies/new", methods=["GET", "POST"])
@roles_required(*CASEWORK)
def proxy_create(patron_id: int):  # type: ignore[no-untyped-def]
    patron = _patron_or_404(patron_id)
    form = ProxyEditForm()
    if form.validate_on_submit():
        db = get_session()
        services.add_proxy(db, patron, data=form.proxy_data(), actor=current_user)
        db.commit()
        flash(_("The proxy has been added."), "success")
        return redirect(url_for("patrons.show", patron_id=patron.id))
    status = 400 if form.errors else 200
    return render_template("patrons/proxy_edit.html", form=form, patron=patron, proxy=None), status


@bp.route("/<int:patron_id>/proxies/<int:proxy_id>/edit", methods=["GET", "POST"])
@roles_required(*CASEWORK)
def proxy_edit(patron_id: int, proxy_id: int):  # type: ignore[no-untyped-def]
    patron = _patron_or_404(patron_id)
    db = get_session()
    proxy = services.get_proxy(db, patron, proxy_id)
    if proxy is None:
        abort(404)
    form = ProxyEditForm(obj=proxy)
    if form.validate_on_submit():
        services.update_proxy(db, patron, proxy, data=form.proxy_data(), actor=current_user)
        db.commit()
        flash(_("The changes have been saved."), "success")
        return redirect(url_for("patrons.show", patron_id=patron.id))
    status = 400 if form.errors else 200
    return render_template("patrons/proxy_edit.html", form=form, patron=patron, proxy=proxy), status


@bp.route("/<int:patron_id>/proxies/<int:proxy_id>/delete", methods=["POST"])
@roles_required(*CASEWORK)
def proxy_delete(patron_id: int, proxy_id: int):  # type: ignore[no-untyped-def]
    patron = _patron_or_404(patron_id)
    db = get_session()
    proxy = services.get_proxy(db, patron, proxy_id)
    if proxy is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.delete_proxy(db, patron, proxy, current_user)
    db.commit()
    flash(_("The proxy has been removed."), "success")
    return redirect(url_for("patrons.show", patron_id=patron.id))


@bp.route("/postal-code/<code>")
@roles_required(*CASEWORK)
def postal_code(code: str):  # type: ignore[no-untyped-def]
    """Prefecture, city and town for a postal code (offline data), for the address form."""
    address = services.lookup_postal_code(code)
    if address is None:
        return jsonify({"error": _("This postal code does not exist.")}), 404
    return jsonify({"postal_code": address.postal_code, "prefecture": address.prefecture,
                    "city": address.city, "town": address.town})
