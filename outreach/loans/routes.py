"""Loans at the desk: a patron's requests, loans and reader profile; returns; the overdue work list."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from forms.auth import EmptyForm
from forms.loans import (
    CatalogPickForm,
    LoanRequestCreateForm,
    ReaderProfileEditForm,
    RequestAddItemsForm,
    ReturnCheckInForm,
    split_barcodes,
)
from forms.patrons import PatronSearchForm
from outreach import clock
from outreach.audit import services as audit
from outreach.catalog import services as catalog_services
from outreach.db import get_session
from outreach.enrolments.services import active_approval
from outreach.errors import DomainError
from outreach.loans import services
from outreach.loans.models import Loan, LoanRequest
from outreach.patrons import services as patron_services
from outreach.patrons.models import Patron
from outreach.shipments import services as shipment_services
from outreach.shipments.documents import library_from_config
from outreach.types import LENDING_SERVICES, Channel, ItemSource, LoanRequestState, Service
from outreach.web import CASEWORK, roles_required

bp = Blueprint("loans", __name__, url_prefix="/loans")



def _lang() -> str:
    return str(get_locale() or "ja")


def _patron_or_404(patron_id: int) -> Patron:
    patron = patron_services.get_patron(get_session(), patron_id)
    if patron is None:
        abort(404)
    return patron


def _request_or_404(request_id: int) -> LoanRequest:
    loan_request = services.get_request(get_session(), request_id)
    if loan_request is None:
        abort(404)
    return loan_request


def _problems_to_form(form, exc: services.LoanInputError) -> None:  # type: ignore[no-untyped-def]
    """Each problem goes on the field it is about (barcodes, service, date ...)."""
    lang = _lang()
    for problem in exc.problems:
        field = getattr(form, problem.field, None) or getattr(form, "barcodes", None)
        if field is None:
            flash(problem.message(lang), "error")
            continue
        field.errors = [*field.errors, problem.message(lang)]


@bp.route("")
@roles_required(*CASEWORK)
def index():  # type: ignore[no-untyped-def]
    form = PatronSearchForm(request.args)
    result = waiting = None
    if form.q.data and form.validate():
        result = patron_services.search_patrons(get_session(), form.q.data, page_size=current_app.config["PAGE_SIZE"])
    else:  # the requests waiting for the monthly run, oldest first
        waiting = services.open_requests(get_session(), page=request.args.get("page", 1, type=int),
                                         page_size=current_app.config["PAGE_SIZE"])
    return render_template("loans/index.html", form=form, result=result, waiting=waiting)


@bp.route("/patrons/<int:patron_id>")
@roles_required(*CASEWORK)
def patron(patron_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    person = _patron_or_404(patron_id)
    patron_services.record_view(db, person, current_user)
    db.commit()
    today = clock.today()
    approvals = {s: active_approval(db, person.id, s, today) for s in LENDING_SERVICES}  # type: ignore[arg-type]
    return render_template(
        "loans/patron.html", patron=person, approvals=approvals, today=today,
        requests=services.requests_for(db, person.id), loans=services.open_loans(db, person.id),  # type: ignore[arg-type]
        history=services.history_of(db, person.id) if person.has_reading_history_consent else [],  # type: ignore[arg-type]
        profile=services.get_profile(db, person.id),  # type: ignore[arg-type]
        overdue=services.overdue_count(db, person.id, today),  # type: ignore[arg-type]
        shipments=shipment_services.shipments_of_patron(db, person.id),  # type: ignore[arg-type]
        empty_form=EmptyForm())


@bp.route("/patrons/<int:patron_id>/requests/new", methods=["GET", "POST"])
@roles_required(*CASEWORK)
def request_create(patron_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    person = _patron_or_404(patron_id)
    proxies = [(p.id, p.name) for p in patron_services.list_proxies(db, person)]
    form = LoanRequestCreateForm(proxies=proxies)
    if request.method == "GET":
        form.received_on.data = clock.today()
        approved = [s for s in LENDING_SERVICES if active_approval(db, person.id, s, clock.today())]  # type: ignore[arg-type]
        if approved:
            form.service.data = approved[0].value
    if form.validate_on_submit():
        try:
            loan_request = services.create_request(
                db, person, service=Service(form.service.data), channel=Channel(form.channel.data),
                received_on=form.received_on.data, proxy_id=form.proxy_id.data or None,
                choose_for_me=bool(form.choose_for_me.data), note=form.note.data or "",
                barcodes=split_barcodes(form.barcodes.data), actor=current_user, today=clock.today())
            db.commit()
        except services.LoanInputError as exc:
            db.rollback()
            _problems_to_form(form, exc)
        else:
            flash(_("The request has been taken. It goes out with the next monthly run."), "success")
            return redirect(url_for("loans.request_show", request_id=loan_request.id))
    return render_template("loans/request_new.html", form=form, patron=person), 400 if form.errors else 200


@bp.route("/requests/<int:request_id>")
@roles_required(*CASEWORK)
def request_show(request_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    loan_request = _request_or_404(request_id)
    person = _patron_or_404(loan_request.patron_id)
    pick_form = CatalogPickForm(request.args)
    found = None
    if pick_form.q.data and pick_form.validate():
        found = catalog_services.search_items(db, pick_form.q.data, available_only=True, page_size=20)
    proposals = None
    if request.args.get("propose") and loan_request.state is LoanRequestState.OPEN:
        proposals = services.propose_selection(db, loan_request)
    return render_template(
        "loans/request.html", view=services.request_view(db, loan_request), patron=person,
        add_form=RequestAddItemsForm(), pick_form=pick_form, found=found, proposals=proposals,
        profile=services.get_profile(db, person.id), empty_form=EmptyForm(), lang=_lang())  # type: ignore[arg-type]


def _render_request_with(loan_request: LoanRequest, add_form: RequestAddItemsForm, status: int = 400):  # type: ignore[no-untyped-def]
    db = get_session()
    person = _patron_or_404(loan_request.patron_id)
    return render_template(
        "loans/request.html", view=services.request_view(db, loan_request), patron=person, add_form=add_form,
        pick_form=CatalogPickForm(), found=None, proposals=None, profile=services.get_profile(db, person.id),  # type: ignore[arg-type]
        empty_form=EmptyForm(), lang=_lang()), status


@bp.route("/requests/<int:request_id>/items", methods=["POST"])
@roles_required(*CASEWORK)
def request_add(request_id: int):  # type: ignore[no-untyped-def]
    loan_request = _request_or_404(request_id)
    form = RequestAddItemsForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            added = services.add_items(db, loan_request, split_barcodes(form.barcodes.data), actor=current_user,
                                       today=clock.today())
            db.commit()
        except services.LoanInputError as exc:
            db.rollback()
            _problems_to_form(form, exc)
        else:
            flash(_("%(n)d items added.", n=added), "success")
            return redirect(url_for("loans.request_show", request_id=loan_request.id))
    return _render_request_with(loan_request, form)


@bp.route("/requests/<int:request_id>/choose", methods=["POST"])
@roles_required(*CASEWORK)
def request_choose(request_id: int):  # type: ignore[no-untyped-def]
    """Accept the items staff kept from a "choose for me" proposal into the request."""
    loan_request = _request_or_404(request_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    db = get_session()
    ids = [int(v) for v in request.form.getlist("item_id") if v.isdigit()]
    items = [i for i in (catalog_services.get_item(db, item_id) for item_id in ids[:30]) if i is not None]
    form = RequestAddItemsForm()
    if not items:
        form.barcodes.errors = [_("Tick at least one proposed item.")]
        return _render_request_with(loan_request, form)
    reasons = {i.id: request.form.get(f"reason_{i.id}", "")[:300] for i in items}
    try:
        services.add_items(db, loan_request, [i.barcode for i in items], actor=current_user, today=clock.today(),
                           source=ItemSource.CHOSEN, reasons=reasons)  # type: ignore[arg-type]
        db.commit()
    except services.LoanInputError as exc:
        db.rollback()
        _problems_to_form(form, exc)
        return _render_request_with(loan_request, form)
    flash(_("%(n)d chosen items added to the request.", n=len(items)), "success")
    return redirect(url_for("loans.request_show", request_id=loan_request.id))


@bp.route("/requests/<int:request_id>/lines/<int:line_id>/remove", methods=["POST"])
@roles_required(*CASEWORK)
def request_remove_line(request_id: int, line_id: int):  # type: ignore[no-untyped-def]
    loan_request = _request_or_404(request_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        removed = services.remove_line(db, loan_request, line_id, actor=current_user)
        db.commit()
    except services.LoanInputError as exc:
        db.rollback()
        flash(exc.message(_lang()), "error")
        removed = False
    else:
        flash(_("The item has been removed from the request.") if removed else _("There is no such item in the request."),
              "success" if removed else "error")
    return redirect(url_for("loans.request_show", request_id=loan_request.id))


@bp.route("/requests/<int:request_id>/cancel", methods=["POST"])
@roles_required(*CASEWORK)
def request_cancel(request_id: int):  # type: ignore[no-untyped-def]
    loan_request = _request_or_404(request_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        services.cancel_request(db, loan_request, actor=current_user, today=clock.today())
        db.commit()
    except services.LoanInputError as exc:
        db.rollback()
        flash(exc.message(_lang()), "error")
    else:
        flash(_("The request has been cancelled."), "success")
    return redirect(url_for("loans.patron", patron_id=loan_request.patron_id))


@bp.route("/patrons/<int:patron_id>/profile", methods=["GET", "POST"])
@roles_required(*CASEWORK)
def profile(patron_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    person = _patron_or_404(patron_id)
    current = services.get_profile(db, person.id)  # type: ignore[arg-type]
    form = ReaderProfileEditForm(obj=current)
    if request.method == "GET" and current is not None:
        form.formats.data = [f.value for f in services.profile_formats(current)]
    if form.validate_on_submit():
        services.save_profile(db, person, data=form.profile_data(), actor=current_user)
        db.commit()
        flash(_("The reader profile has been saved."), "success")
        return redirect(url_for("loans.patron", patron_id=person.id))
    return render_template("loans/profile.html", form=form, patron=person), 400 if form.errors else 200


@bp.route("/returns", methods=["GET", "POST"])
@roles_required(*CASEWORK)
def returns():  # type: ignore[no-untyped-def]
    form = ReturnCheckInForm()
    result = None
    if form.validate_on_submit():
        db = get_session()
        try:
            result = services.check_in(db, split_barcodes(form.barcodes.data), actor=current_user, today=clock.today())
            db.commit()
        except services.LoanInputError as exc:
            db.rollback()
            _problems_to_form(form, exc)
        else:
            flash(_("%(n)d items checked in.", n=len(result.returned)), "success")
            form = ReturnCheckInForm(formdata=None)
    return render_template("loans/returns.html", form=form, result=result), 400 if form.errors else 200


@bp.route("/loans/<int:loan_id>/lost", methods=["POST"])
@roles_required(*CASEWORK)
def loan_lost(loan_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    loan = db.get(Loan, loan_id)
    if loan is None or loan.patron_id is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    patron_id = loan.patron_id
    try:
        services.mark_lost(db, loan, actor=current_user, today=clock.today())
        db.commit()
    except DomainError as exc:
        db.rollback()
        flash(exc.message(_lang()), "error")
    else:
        flash(_("The item is recorded as lost and the loan is closed."), "success")
    return redirect(url_for("loans.patron", patron_id=patron_id))


@bp.route("/overdue")
@roles_required(*CASEWORK)
def overdue():  # type: ignore[no-untyped-def]
    page = request.args.get("page", 1, type=int) or 1
    rows, total = services.overdue_worklist(get_session(), clock.today(), page=page,
                                            page_size=current_app.config["PAGE_SIZE"])
    return render_template("loans/overdue.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // current_app.config["PAGE_SIZE"])), today=clock.today(),
                           empty_form=EmptyForm())


@bp.route("/overdue/letters.pdf")
@roles_required(*CASEWORK)
def overdue_letters():  # type: ignore[no-untyped-def]
    """返却のお願い for every patron on the overdue list (or one, ?patron_id=), as one PDF. Changes nothing."""
    from letters.official import render_letters

    db = get_session()
    patron_id = request.args.get("patron_id", type=int)
    letters = services.overdue_letters(db, clock.today(), library_from_config(current_app.config),
                                       patron_ids=[patron_id] if patron_id else None)
    try:
        pdf = render_letters(letters)
    except ValueError:
        flash(_("No patron has overdue items."), "error")
        return redirect(url_for("loans.overdue"))
    audit.record_export(db, current_user, "overdue_letters", f"patron {patron_id}" if patron_id else "all")
    db.commit()
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=overdue-{clock.today().isoformat()}.pdf"})


@bp.route("/overdue/reminded", methods=["POST"])
@roles_required(*CASEWORK)
def overdue_reminded():  # type: ignore[no-untyped-def]
    if not EmptyForm().validate_on_submit():
        abort(400)
    db = get_session()
    patron_id = request.form.get("patron_id", type=int)
    count = services.record_reminders(db, clock.today(), actor=current_user,
                                      patron_ids=[patron_id] if patron_id else None)
    db.commit()
    flash(_("Reminders recorded as sent today for %(n)d overdue items.", n=count), "success")
    return redirect(url_for("loans.overdue"))
