"""Evidence, applications and decisions, approvals, review flags, the case log and letters."""

from __future__ import annotations

import io
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from forms.enrolments import (
    ApplicationReceiveForm,
    ApplicationStepForm,
    ApprovalEndForm,
    CareCertificationAddForm,
    CaseNoteAddForm,
    CaseNoteCompleteForm,
    CertificateAddForm,
    DecisionForm,
    FirstRegistrationForm,
    VisitDifficultyForm,
)
from outreach.clock import today
from outreach.correspondence import services as letters
from outreach.db import get_session
from outreach.enrolments import services
from outreach.enrolments.models import Application, Approval, CaseNote, ReviewFlag
from outreach.enrolments.rules import renewal_deadline
from outreach.errors import DomainError
from outreach.patrons import services as patron_services
from outreach.patrons.models import Patron
from outreach.system.services import current_policy
from outreach.types import CaseNoteKind, EndReason, LetterKind, Role, Service
from outreach.web import CASEWORK, roles_required, select_locale

bp = Blueprint("enrolments", __name__)


def _patron(patron_id: int) -> Patron:
    patron = patron_services.get_patron(get_session(), patron_id)
    if patron is None:
        abort(404)
    return patron


def _get(model: type, record_id: int) -> Any:
    row = get_session().get(model, record_id)
    if row is None:
        abort(404)
    return row


def _domain_error(form: Any, exc: DomainError, field: str | None = None) -> None:
    """Show a refused operation on the form (on a field when one is named), in the UI's language."""
    get_session().rollback()
    message = exc.message(select_locale())
    if field and field in form:
        form[field].errors = [*form[field].errors, message]
    else:
        form.form_errors.append(message)


def _letter_args() -> dict[str, Any]:
    cfg = current_app.config
    return {"library": letters.library_from_config(cfg), "number_prefix": cfg["LETTER_NUMBER_PREFIX"],
            "policy": current_policy(get_session())}


# ------------------------------------------------------------------------------------------------
# evidence

EVIDENCE_FORMS = {
    "certificate": (CertificateAddForm, services.add_certificate),
    "care": (CareCertificationAddForm, services.add_care_certification),
    "difficulty": (VisitDifficultyForm, services.record_visit_difficulty),
}


@bp.route("/patrons/<int:patron_id>/evidence/<kind>/new", methods=["GET", "POST"])
@roles_required(*CASEWORK)
def evidence_new(patron_id: int, kind: str):  # type: ignore[no-untyped-def]
    if kind not in EVIDENCE_FORMS:
        abort(404)
    patron = _patron(patron_id)
    form_cls, add = EVIDENCE_FORMS[kind]
    form = form_cls()
    if request.method == "GET":
        for name in ("seen_on", "assessed_on"):
            if name in form:
                form[name].data = today()
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k != "csrf_token"}
        if kind == "difficulty":
            data["is_difficult"] = data["is_difficult"] == "yes"
        if kind == "certificate" and not data.get("category"):
            data["category"] = None
        db = get_session()
        try:
            add(db, patron, data=data, actor=current_user, today=today())
            flagged = services.check_for_review(db, [patron.id], today())
            db.commit()
        except DomainError as exc:
            _domain_error(form, exc)
        else:
            flash(_("The evidence has been recorded."), "success")
            if flagged:
                flash(_("The rules no longer cover a service this patron uses: please review it."), "error")
            return redirect(url_for("patrons.show", patron_id=patron.id) + "#evidence-heading")
    return render_template("enrolments/evidence_new.html", form=form, patron=patron, kind=kind), (
        400 if form.errors or form.form_errors else 200)


@bp.route("/patrons/<int:patron_id>/evidence/<kind>/<int:evidence_id>/delete", methods=["POST"])
@roles_required(*CASEWORK)
def evidence_delete(patron_id: int, kind: str, evidence_id: int):  # type: ignore[no-untyped-def]
    patron = _patron(patron_id)
    if kind not in EVIDENCE_FORMS:
        abort(404)
    db = get_session()
    try:
        services.delete_evidence(db, patron, kind, evidence_id, current_user)
        services.check_for_review(db, [patron.id], today())
        db.commit()
    except DomainError:
        abort(404)
    flash(_("The evidence has been removed."), "success")
    return redirect(url_for("patrons.show", patron_id=patron.id) + "#evidence-heading")


# ------------------------------------------------------------------------------------------------
# applications


@bp.route("/applications")
@roles_required(*CASEWORK)
def applications():  # type: ignore[no-untyped-def]
    return render_template("enrolments/applications.html", items=services.awaiting_decision(get_session(), limit=500))


@bp.route("/patrons/<int:patron_id>/applications/new", methods=["GET", "POST"])
@roles_required(*CASEWORK)
def application_new(patron_id: int):  # type: ignore[no-untyped-def]
    patron = _patron(patron_id)
    db = get_session()
    form = ApplicationReceiveForm()
    form.proxy_id.choices = [SelectChoice("", _("The patron")),
                             *[SelectChoice(str(p.id), f"{_('Proxy')}: {p.name}")
                               for p in patron_services.list_proxies(db, patron)]]
    if request.method == "GET":
        form.received_on.data = today()
        if request.args.get("service") in {s.value for s in Service}:
            form.service.data = request.args["service"]
    if form.validate_on_submit():
        try:
            application = services.receive_application(
                db, patron, service=Service(form.service.data), received_on=form.received_on.data,
                channel=form.channel.data, proxy_id=int(form.proxy_id.data) if form.proxy_id.data else None,
                note=form.note.data or "", actor=current_user, today=today())
            db.commit()
        except DomainError as exc:
            _domain_error(form, exc, "service")
        else:
            flash(_("The application has been received."), "success")
            return redirect(url_for("enrolments.application", application_id=application.id))
    return render_template("enrolments/application_new.html", form=form, patron=patron), (
        400 if form.errors else 200)


@bp.route("/applications/<int:application_id>")
@roles_required(*CASEWORK)
def application(application_id: int):  # type: ignore[no-untyped-def]
    app_row: Application = _get(Application, application_id)
    form = DecisionForm(received_on=app_row.received_on)
    form.decided_on.data = today()
    first_form = FirstRegistrationForm()
    first_form.first_registered_on.data = app_row.first_registered_on
    return _application_page(app_row, form, first_form)


def _application_page(app_row: Application, decision_form: DecisionForm,
                      first_registration_form: FirstRegistrationForm, status: int = 200):  # type: ignore[no-untyped-def]
    """The application with the evidence, what the rules say, its history and the forms to act on it."""
    db = get_session()
    patron = _patron(app_row.patron_id)
    _record_view(patron)
    on = app_row.decided_on or decision_form.decided_on.data or today()
    return render_template(
        "enrolments/application.html", application=app_row, patron=patron, on=on,
        decision=services.decide_application(db, app_row, on),
        evidence=services.evidence_of(db, patron.id), events=services.application_events(db, app_row.id),
        decision_form=decision_form, first_registration_form=first_registration_form,
        step_form=ApplicationStepForm(), approval=_approval_of(app_row), policy=current_policy(db),
        proxy=patron_services.get_proxy(db, patron, app_row.proxy_id) if app_row.proxy_id else None,
        letters=[lt for lt in letters.letters_of(db, patron.id) if lt.application_id == app_row.id],
    ), status


@bp.route("/applications/<int:application_id>/first-registration", methods=["POST"])
@roles_required(Role.CHIEF)
def first_registration(application_id: int):  # type: ignore[no-untyped-def]
    """郵送要綱付則2: the chief records that the patron was served before the rules took effect."""
    db = get_session()
    app_row: Application = _get(Application, application_id)
    form = FirstRegistrationForm()
    if form.validate_on_submit():
        try:
            services.record_first_registration(db, app_row, first_registered_on=form.first_registered_on.data,
                                               actor=current_user, today=today())
            db.commit()
        except DomainError as exc:
            _domain_error(form, exc, "first_registered_on")
        else:
            flash(_("The registration before the rules took effect has been recorded.") if app_row.first_registered_on
                  else _("The registration before the rules took effect has been removed."), "success")
            return redirect(url_for("enrolments.application", application_id=app_row.id) + "#first-registration-heading")
    decision_form = DecisionForm(formdata=None, received_on=app_row.received_on)
    decision_form.decided_on.data = today()
    return _application_page(app_row, decision_form, form, 400)


def _record_view(patron: Patron) -> None:
    """The application page shows the patron's evidence (要配慮個人情報): the view is audited as the
    patron page's is."""
    db = get_session()
    patron_services.record_view(db, patron, current_user)
    db.commit()


def _approval_of(application: Application) -> Approval | None:
    from sqlalchemy import select

    return get_session().scalars(select(Approval).where(Approval.application_id == application.id)).first()


STEPS = {
    "submit": (services.submit_for_decision, _l("The application is now awaiting the chief's decision.")),
    "send-back": (services.send_back, _l("The application has been sent back to the desk.")),
    "withdraw": (services.withdraw, _l("The application has been withdrawn.")),
}


@bp.route("/applications/<int:application_id>/<step>", methods=["POST"])
@roles_required(*CASEWORK)
def application_step(application_id: int, step: str):  # type: ignore[no-untyped-def]
    if step not in STEPS:
        abort(404)
    app_row: Application = _get(Application, application_id)
    form = ApplicationStepForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("enrolments.application", application_id=application_id))
    action, message = STEPS[step]
    db = get_session()
    try:
        action(db, app_row, current_user, form.note.data or "")
        db.commit()
    except DomainError as exc:
        db.rollback()
        flash(exc.message(select_locale()), "error")
    else:
        flash(str(message), "success")
    return redirect(url_for("enrolments.application", application_id=application_id))


# The field a refused decision is shown on.
DECISION_ERROR_FIELDS = {"decision.not_eligible": "special_reason", "decision.before_received": "decided_on"}


@bp.route("/applications/<int:application_id>/decide", methods=["POST"])
@roles_required(Role.CHIEF)
def decide(application_id: int):  # type: ignore[no-untyped-def]
    """Only the section chief decides; the letter is issued with the decision."""
    db = get_session()
    app_row: Application = _get(Application, application_id)
    patron = _patron(app_row.patron_id)
    form = DecisionForm(received_on=app_row.received_on)
    if form.validate_on_submit():
        try:
            if form.decision.data == "approve":
                approval = services.approve(db, app_row, actor=current_user, decided_on=form.decided_on.data,
                                            special_reason=form.special_reason.data or "")
                letters.issue_letter(db, patron=patron, kind=LetterKind.APPROVAL, service=app_row.service,
                                     on=form.decided_on.data, actor=current_user, application_id=app_row.id,
                                     approval_id=approval.id, applied_on=app_row.received_on,
                                     valid_from=approval.valid_from, valid_until=approval.valid_until,
                                     wording_facts=letters.grandfathering_facts(approval.basis,
                                                                                app_row.first_registered_on),
                                     **_letter_args())
                message = _("Approved. The approval letter has been issued.")
            else:
                services.reject(db, app_row, actor=current_user, decided_on=form.decided_on.data,
                                reason=form.rejection_reason.data or "")
                letters.issue_letter(db, patron=patron, kind=LetterKind.REJECTION, service=app_row.service,
                                     on=form.decided_on.data, actor=current_user, application_id=app_row.id,
                                     applied_on=app_row.received_on, rejection_reason=app_row.decision_reason,
                                     **_letter_args())
                message = _("Rejected. The rejection letter has been issued.")
            db.commit()
        except DomainError as exc:
            _domain_error(form, exc, DECISION_ERROR_FIELDS.get(exc.code))
        else:
            flash(message, "success")
            return redirect(url_for("enrolments.application", application_id=app_row.id))
    first_form = FirstRegistrationForm(formdata=None)
    first_form.first_registered_on.data = app_row.first_registered_on
    return _application_page(app_row, form, first_form, 400)


# ------------------------------------------------------------------------------------------------
# approvals and reviews


@bp.route("/approvals/<int:approval_id>/end", methods=["GET", "POST"])
@roles_required(*CASEWORK)
def approval_end(approval_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    approval: Approval = _get(Approval, approval_id)
    patron = _patron(approval.patron_id)
    form = ApprovalEndForm()
    if request.method == "GET":
        form.ended_on.data = today()
        if request.args.get("reason") in {r.value for r in EndReason}:
            form.reason.data = request.args["reason"]
            # No notice by default to a patron who has died (it would go to their proxy).
            form.send_letter.data = form.reason.data != EndReason.DECEASED
    if form.validate_on_submit():
        try:
            services.end_approval(db, approval, reason=form.reason.data, ended_on=form.ended_on.data,
                                  note=form.note.data or "", actor=current_user)
            if form.send_letter.data:
                letters.issue_service_ended(db, patron=patron, approval=approval, on=today(), actor=current_user,
                                            **_letter_args())
            db.commit()
        except DomainError as exc:
            _domain_error(form, exc, "send_letter" if exc.code.startswith("letter.") else "ended_on")
        else:
            flash(_("The service has been ended."), "success")
            return redirect(url_for("patrons.show", patron_id=patron.id))
    return render_template("enrolments/approval_end.html", form=form, approval=approval, patron=patron), (
        400 if form.errors or form.form_errors else 200)


@bp.route("/approvals/<int:approval_id>/renewal-notice", methods=["POST"])
@roles_required(*CASEWORK)
def renewal_notice(approval_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    approval: Approval = _get(Approval, approval_id)
    patron = _patron(approval.patron_id)
    if not ApplicationStepForm().validate_on_submit() or approval.valid_until is None:
        abort(400)
    letters.issue_letter(db, patron=patron, kind=LetterKind.RENEWAL_NOTICE, service=approval.service, on=today(),
                         actor=current_user, approval_id=approval.id, valid_from=approval.valid_from,
                         valid_until=approval.valid_until,
                         renewal_deadline=renewal_deadline(approval.valid_until, today(), current_policy(db)),
                         **_letter_args())
    approval.renewal_notice_on = today()
    db.commit()
    flash(_("The renewal notice has been issued."), "success")
    return redirect(url_for("patrons.show", patron_id=patron.id) + "#letters-heading")


@bp.route("/review-flags/<int:flag_id>/keep", methods=["POST"])
@roles_required(*CASEWORK)
def review_keep(flag_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    flag: ReviewFlag = _get(ReviewFlag, flag_id)
    if not ApplicationStepForm().validate_on_submit():
        abort(400)
    try:
        services.keep_after_review(db, flag, current_user, today())
        db.commit()
    except DomainError as exc:
        db.rollback()
        flash(exc.message(select_locale()), "error")
    else:
        flash(_("Reviewed: the service continues."), "success")
    return redirect(url_for("patrons.show", patron_id=flag.patron_id))


# ------------------------------------------------------------------------------------------------
# case log


@bp.route("/patrons/<int:patron_id>/case-notes/new", methods=["GET", "POST"])
@roles_required(*CASEWORK)
def case_note_new(patron_id: int):  # type: ignore[no-untyped-def]
    patron = _patron(patron_id)
    form = CaseNoteAddForm()
    if request.method == "GET":
        form.occurs_on.data = today()
    if form.validate_on_submit():
        db = get_session()
        try:
            services.add_case_note(db, patron, kind=CaseNoteKind(form.kind.data), occurs_on=form.occurs_on.data,
                                   is_planned=form.is_planned.data, note=form.note.data or "", actor=current_user,
                                   today=today())
            db.commit()
        except DomainError as exc:
            _domain_error(form, exc, "occurs_on")
        else:
            flash(_("The case log has been updated."), "success")
            return redirect(url_for("patrons.show", patron_id=patron.id) + "#case-heading")
    return render_template("enrolments/case_note_new.html", form=form, patron=patron), (
        400 if form.errors else 200)


@bp.route("/case-notes/<int:note_id>/complete", methods=["GET", "POST"])
@roles_required(*CASEWORK)
def case_note_complete(note_id: int):  # type: ignore[no-untyped-def]
    note: CaseNote = _get(CaseNote, note_id)
    patron = _patron(note.patron_id)
    form = CaseNoteCompleteForm()
    if request.method == "GET":
        form.done_on.data = today()
    if form.validate_on_submit():
        db = get_session()
        try:
            services.complete_planned(db, note, done_on=form.done_on.data, note=form.note.data or "",
                                      actor=current_user, today=today())
            db.commit()
        except DomainError as exc:
            _domain_error(form, exc, "done_on")
        else:
            flash(_("The visit has been recorded as done."), "success")
            return redirect(url_for("patrons.show", patron_id=patron.id) + "#case-heading")
    return render_template("enrolments/case_note_complete.html", form=form, note=note, patron=patron), (
        400 if form.errors else 200)


# ------------------------------------------------------------------------------------------------
# letters


@bp.route("/letters/<int:letter_id>.pdf")
@roles_required(*CASEWORK)
def letter_pdf(letter_id: int):  # type: ignore[no-untyped-def]
    """An issued letter, exactly as it was issued."""
    db = get_session()
    letter = letters.get_letter(db, letter_id)
    if letter is None:
        abort(404)
    patron_services.record_view(db, _patron(letter.patron_id), current_user)
    db.commit()
    return _pdf_response(letter.pdf, f"letter-{letter.document_number}.pdf")


@bp.route("/application-form.pdf")
@roles_required(*CASEWORK)
def application_form_pdf():  # type: ignore[no-untyped-def]
    """様式第1号, blank (?service=...) or prefilled for a patron (&patron_id=...)."""
    service = request.args.get("service", Service.HOME_DELIVERY.value)
    if service not in {s.value for s in Service}:
        abort(404)
    db = get_session()
    patron = proxy = None
    patron_id = request.args.get("patron_id", type=int)
    if patron_id is not None:
        patron = _patron(patron_id)
        # The proxy who receives the letters, else the first one on record (the form has one proxy row).
        proxy = patron_services.letter_recipient(db, patron) or next(iter(patron_services.list_proxies(db, patron)),
                                                                     None)
        patron_services.record_view(db, patron, current_user)
        db.commit()
    pdf = letters.application_form(library=letters.library_from_config(current_app.config), service=Service(service),
                                   policy=current_policy(db), patron=patron, proxy=proxy,
                                   large_print=request.args.get("large") == "1")
    return _pdf_response(pdf, f"application-form-{service}.pdf")


def _pdf_response(pdf: bytes, filename: str) -> Response:
    """Inline PDF; send_file writes a Japanese file name the RFC 5987 way (filename*=UTF-8'')."""
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", download_name=filename, as_attachment=False,
                     max_age=0)

