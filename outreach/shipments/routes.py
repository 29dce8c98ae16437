"""The monthly run: plan a month, review and adjust the plan, commit it (with a progress page),
then print labels, return labels, slips and the pick list."""

from __future__ import annotations

import csv
import io
import logging
import threading

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from forms.auth import EmptyForm
from forms.shipments import LabelPrintForm, PlannedAddItemForm, RunCommitForm, RunPlanForm
from outreach import clock, csvsafe
from outreach.audit import services as audit
from outreach.db import database, get_session
from outreach.errors import DomainError
from outreach.shipments import documents, services
from outreach.shipments.models import ShipmentRun
from outreach.types import RunState, SkipReason
from outreach.web import CASEWORK, roles_required, select_locale

log = logging.getLogger(__name__)

bp = Blueprint("shipments", __name__, url_prefix="/shipments")


def _lang() -> str:
    return str(get_locale() or "ja")


def _run_or_404(run_id: int) -> ShipmentRun:
    run = services.get_run(get_session(), run_id)
    if run is None:
        abort(404)
    return run


def _suggested_month() -> str:
    """This month while it has no run and an open day is left to ship on, else the next one."""
    return services.month_to_plan(get_session(), clock.today())


@bp.route("")
@roles_required(*CASEWORK)
def index():  # type: ignore[no-untyped-def]
    form = RunPlanForm(month=_suggested_month())
    return render_template("shipments/index.html", form=form, runs=services.list_runs(get_session()))


@bp.route("/plan", methods=["POST"])
@roles_required(*CASEWORK)
def plan():  # type: ignore[no-untyped-def]
    form = RunPlanForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            run = services.plan_run(db, month=form.month.data, today=clock.today(), shipping_on=form.shipping_date.data,
                                    actor=current_user)
            db.commit()
        except DomainError as exc:
            db.rollback()
            target = form.shipping_date if exc.code.startswith("shipments.date") else form.month
            target.errors = [*target.errors, exc.message(_lang())]
        else:
            flash(_("The plan is ready. Review it, then commit."), "success")
            return redirect(url_for("shipments.run", run_id=run.id))
    return render_template("shipments/index.html", form=form, runs=services.list_runs(get_session())), 400


@bp.route("/runs/<int:run_id>")
@roles_required(*CASEWORK)
def run(run_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    shipment_run = _run_or_404(run_id)
    page = request.args.get("page", 1, type=int) or 1
    size = current_app.config["PAGE_SIZE"]
    context = {"run": shipment_run, "counts": services.plan_counts(db, shipment_run), "page": page,
               "empty_form": EmptyForm(), "lang": _lang()}
    if shipment_run.state is RunState.COMMITTED:
        rows, total = services.shipments_page(db, shipment_run, page=page, page_size=size)
        context.update(shipments=rows, total=total, pages=max(1, -(-total // size)))
        return render_template("shipments/run_committed.html", **context)
    if shipment_run.state is RunState.COMMITTING:
        return redirect(url_for("shipments.status", run_id=shipment_run.id))
    view = request.args.get("view", "ship")
    reason_value = request.args.get("reason", "")
    reason = SkipReason(reason_value) if reason_value in {r.value for r in SkipReason} else None
    rows, total = services.plan_page(db, shipment_run, shipping=view != "skip", reason=reason, page=page,
                                     page_size=size)
    context.update(view="skip" if view == "skip" else "ship", reason=reason, rows=rows, total=total,
                   pages=max(1, -(-total // size)), commit_form=RunCommitForm(plan_version=shipment_run.plan_version),
                   is_stale=shipment_run.shipping_on < clock.today())
    return render_template("shipments/run_planned.html", **context)


@bp.route("/runs/<int:run_id>/replan", methods=["POST"])
@roles_required(*CASEWORK)
def replan(run_id: int):  # type: ignore[no-untyped-def]
    shipment_run = _run_or_404(run_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        today = clock.today()
        # A plan whose shipping date has passed is planned again for the month's next open day.
        keep_date = shipment_run.shipping_on if shipment_run.shipping_on >= today else None
        services.plan_run(db, month=shipment_run.month, today=today, shipping_on=keep_date, actor=current_user,
                          replace=True)
        db.commit()
    except DomainError as exc:
        db.rollback()
        flash(exc.message(_lang()), "error")
    else:
        flash(_("The month has been planned again from today's requests and records."), "success")
    return redirect(url_for("shipments.run", run_id=shipment_run.id))


def _start_commit(run_id: int, owner: str, resumed: bool) -> None:
    """Run the commit in the background (it may take minutes at scale); the status page follows it.
    Under test the commit runs at once, in the request."""
    from outreach.shipments.jobs import commit_month

    kwargs = {"owner": owner, "actor_id": current_user.id, "actor_username": current_user.username,
              "resumed": resumed, "today": clock.today()}
    if current_app.config.get("TESTING") or current_app.config.get("SHIPMENT_COMMIT_INLINE"):
        commit_month(run_id, **kwargs)  # type: ignore[arg-type]
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def work() -> None:
        with app.app_context():
            try:
                commit_month(run_id, **kwargs)  # type: ignore[arg-type]
            except Exception:  # recorded on the run; the status page offers to resume
                log.exception("background commit of run %s stopped", run_id)

    threading.Thread(target=work, name=f"shipment-commit-{run_id}", daemon=True).start()


@bp.route("/runs/<int:run_id>/commit", methods=["POST"])
@roles_required(*CASEWORK)
def commit(run_id: int):  # type: ignore[no-untyped-def]
    """Commit what the librarian reviewed: refused if the plan changed since (plan_version)."""
    shipment_run = _run_or_404(run_id)
    form = RunCommitForm()
    resume = shipment_run.state is RunState.COMMITTING
    if not resume and not form.validate_on_submit():
        abort(400)
    if resume and not EmptyForm().validate_on_submit():
        abort(400)
    db = get_session()
    owner = services.new_owner()
    try:
        resumed = services.claim_run(db, shipment_run.id, owner=owner,  # type: ignore[arg-type]
                                     expected_version=None if resume else int(form.plan_version.data),
                                     today=clock.today())
        db.commit()
    except DomainError as exc:
        db.rollback()
        flash(exc.message(_lang()), "error")
        return redirect(url_for("shipments.run", run_id=shipment_run.id))
    try:
        _start_commit(shipment_run.id, owner, resumed)  # type: ignore[arg-type]
    except DomainError as exc:
        flash(exc.message(_lang()), "error")
    return redirect(url_for("shipments.status", run_id=shipment_run.id))


@bp.route("/runs/<int:run_id>/status")
@roles_required(*CASEWORK)
def status(run_id: int):  # type: ignore[no-untyped-def]
    shipment_run = _run_or_404(run_id)
    progress = services.progress(get_session(), shipment_run)
    return render_template("shipments/status.html", run=shipment_run, progress=progress, empty_form=EmptyForm())


@bp.route("/runs/<int:run_id>/status.json")
@roles_required(*CASEWORK)
def status_json(run_id: int):  # type: ignore[no-untyped-def]
    shipment_run = _run_or_404(run_id)
    p = services.progress(get_session(), shipment_run)
    return jsonify({"state": p.state.value, "state_label": str(_state_label(p.state)), "percent": p.percent,
                    "shipments_done": p.shipments_done, "shipments_planned": p.shipments_planned,
                    "items_done": p.items_done, "items_planned": p.items_planned, "stalled": p.is_stalled,
                    "text": _("%(done)d of %(total)d shipments written (%(items)d items)",
                              done=p.shipments_done, total=p.shipments_planned, items=p.items_done)})


def _state_label(state: RunState):  # type: ignore[no-untyped-def]
    from outreach.labels import label

    return label(state)


# --------------------------------------------------------------------------------------------------
# adjusting one patron's planned shipment


def _planned_or_404(shipment_run: ShipmentRun, planned_id: int) -> services.PlanRow:
    row = services.get_planned(get_session(), shipment_run, planned_id)
    if row is None:
        abort(404)
    return row


@bp.route("/runs/<int:run_id>/planned/<int:planned_id>")
@roles_required(*CASEWORK)
def planned(run_id: int, planned_id: int):  # type: ignore[no-untyped-def]
    shipment_run = _run_or_404(run_id)
    row = _planned_or_404(shipment_run, planned_id)
    return render_template("shipments/planned.html", run=shipment_run, row=row, add_form=PlannedAddItemForm(),
                           empty_form=EmptyForm(), lang=_lang())


def _adjusted(shipment_run: ShipmentRun, planned_id: int, action) -> Response:  # type: ignore[no-untyped-def]
    db = get_session()
    try:
        action(db)
        db.commit()
    except DomainError as exc:
        db.rollback()
        flash(exc.message(_lang()), "error")
    else:
        flash(_("The plan has been changed."), "success")
    return redirect(url_for("shipments.planned", run_id=shipment_run.id, planned_id=planned_id))


@bp.route("/runs/<int:run_id>/planned/<int:planned_id>/items/<int:item_id>/remove", methods=["POST"])
@roles_required(*CASEWORK)
def planned_remove(run_id: int, planned_id: int, item_id: int):  # type: ignore[no-untyped-def]
    shipment_run = _run_or_404(run_id)
    row = _planned_or_404(shipment_run, planned_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return _adjusted(shipment_run, planned_id, lambda db: services.remove_planned_item(
        db, shipment_run, row.planned, item_id, actor=current_user))


@bp.route("/runs/<int:run_id>/planned/<int:planned_id>/add", methods=["POST"])
@roles_required(*CASEWORK)
def planned_add(run_id: int, planned_id: int):  # type: ignore[no-untyped-def]
    shipment_run = _run_or_404(run_id)
    row = _planned_or_404(shipment_run, planned_id)
    form = PlannedAddItemForm()
    if not form.validate_on_submit():
        return render_template("shipments/planned.html", run=shipment_run, row=row, add_form=form,
                               empty_form=EmptyForm(), lang=_lang()), 400
    db = get_session()
    try:
        services.add_planned_item(db, shipment_run, row.planned, form.barcode.data, actor=current_user)
        db.commit()
    except DomainError as exc:
        db.rollback()
        form.barcode.errors = [exc.message(_lang())]
        row = _planned_or_404(shipment_run, planned_id)
        return render_template("shipments/planned.html", run=shipment_run, row=row, add_form=form,
                               empty_form=EmptyForm(), lang=_lang()), 400
    flash(_("The item has been added to the plan."), "success")
    return redirect(url_for("shipments.planned", run_id=shipment_run.id, planned_id=planned_id))


@bp.route("/runs/<int:run_id>/planned/<int:planned_id>/hold", methods=["POST"])
@roles_required(*CASEWORK)
def planned_hold(run_id: int, planned_id: int):  # type: ignore[no-untyped-def]
    shipment_run = _run_or_404(run_id)
    row = _planned_or_404(shipment_run, planned_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return _adjusted(shipment_run, planned_id, lambda db: services.hold_planned(
        db, shipment_run, row.planned, actor=current_user))


# --------------------------------------------------------------------------------------------------
# printing (GET: printing changes nothing)


def _committed_or_404(run_id: int) -> ShipmentRun:
    shipment_run = _run_or_404(run_id)
    if not documents.printable(get_session(), shipment_run):
        abort(404)
    return shipment_run


def _label_form(shipment_run: ShipmentRun, args=None) -> LabelPrintForm:  # type: ignore[no-untyped-def]
    from letters.labels import LABEL_TEMPLATES

    form = LabelPrintForm(args, templates=LABEL_TEMPLATES, parts=documents.document_parts(shipment_run.shipments_done),
                          per_file=documents.SHIPMENTS_PER_FILE, shipments=shipment_run.shipments_done)
    if args is None or "marking" not in args:
        form.marking.data = current_app.config.get("HOME_DELIVERY_POSTAL_MARKING", "")
    return form


@bp.route("/runs/<int:run_id>/print")
@roles_required(*CASEWORK)
def print_page(run_id: int):  # type: ignore[no-untyped-def]
    shipment_run = _committed_or_404(run_id)
    return _print_page(shipment_run, _label_form(shipment_run))


def _print_page(shipment_run: ShipmentRun, form: LabelPrintForm, checks: dict[str, list[str]] | None = None) -> str:
    return render_template("shipments/print.html", run=shipment_run, form=form,
                           parts=documents.document_parts(shipment_run.shipments_done),
                           per_file=documents.SHIPMENTS_PER_FILE, checks=checks)


def _part_or_404(shipment_run: ShipmentRun) -> int:
    part = request.args.get("part", 1, type=int) or 1
    if not 1 <= part <= documents.document_parts(shipment_run.shipments_done):
        abort(404)
    return part


def _audit_export(db, what: str, shipment_run: ShipmentRun) -> None:  # type: ignore[no-untyped-def]
    """Downloads with names and addresses are recorded in the audit trail (who, when, which run)."""
    audit.record_export(db, current_user, what, f"run {shipment_run.id} ({shipment_run.month})")
    db.commit()


def _pdf(data: bytes, name: str) -> Response:
    return Response(data, mimetype="application/pdf", headers={"Content-Disposition": f"inline; filename={name}"})


@bp.route("/runs/<int:run_id>/labels.pdf")
@roles_required(*CASEWORK)
def labels(run_id: int):  # type: ignore[no-untyped-def]
    from letters.labels import LabelReport, render_calibration_sheet, render_labels

    shipment_run = _committed_or_404(run_id)
    form = _label_form(shipment_run, request.args)
    if not form.validate():
        return _print_page(shipment_run, form), 400
    offset = (form.offset_x.data or 0.0, form.offset_y.data or 0.0)
    kind = request.args.get("kind", "outbound")
    if kind == "calibration":
        return _pdf(render_calibration_sheet(form.template.data, offset), f"calibration-{form.template.data}.pdf")
    library = documents.library_from_config(current_app.config)
    db = get_session()
    part = form.part.data
    if kind == "check":  # which labels of this file will need a look (text cut or set very small), before printing
        checks = {}
        for label_kind, is_return in (("outbound", False), ("return", True)):
            report = LabelReport()
            render_labels(documents.label_data(db, shipment_run, library, return_labels=is_return,
                                               home_delivery_marking=form.marking.data or "", part=part),
                          form.template.data, form.start.data, offset, report=report)
            checks[label_kind] = report.messages(select_locale())
        _audit_export(db, "label_check", shipment_run)  # the page names labels by shipment and may quote names
        return _print_page(shipment_run, form, checks=checks)
    data = documents.label_data(db, shipment_run, library, return_labels=kind == "return",
                                home_delivery_marking=form.marking.data or "", part=part)
    pdf = render_labels(data, form.template.data, form.start.data, offset)
    _audit_export(db, f"{kind}_labels", shipment_run)
    prefix = "return-labels" if kind == "return" else "labels"
    return _pdf(pdf, f"{prefix}-{shipment_run.month}-{part}.pdf")


@bp.route("/runs/<int:run_id>/slips.pdf")
@roles_required(*CASEWORK)
def slips(run_id: int):  # type: ignore[no-untyped-def]
    from letters.slips import render_slips

    shipment_run = _committed_or_404(run_id)
    library = documents.library_from_config(current_app.config)
    db = get_session()
    part = _part_or_404(shipment_run)
    pdf = render_slips(documents.slip_data(db, shipment_run, library, part=part))
    _audit_export(db, "packing_slips", shipment_run)
    return _pdf(pdf, f"slips-{shipment_run.month}-{part}.pdf")


@bp.route("/runs/<int:run_id>/pick-list.pdf")
@roles_required(*CASEWORK)
def pick_list(run_id: int):  # type: ignore[no-untyped-def]
    from letters.slips import render_pick_list

    shipment_run = _committed_or_404(run_id)
    part = _part_or_404(shipment_run)
    pdf = render_pick_list(documents.pick_lines(get_session(), shipment_run, part=part), presorted=True,
                           printed_on=clock.today(), month=shipment_run.month, shipped_on=shipment_run.shipping_on)
    return _pdf(pdf, f"pick-list-{shipment_run.month}-{part}.pdf")


@bp.route("/runs/<int:run_id>/addresses.csv")
@roles_required(*CASEWORK)
def addresses(run_id: int):  # type: ignore[no-untyped-def]
    shipment_run = _committed_or_404(run_id)
    marking = request.args.get("marking", current_app.config.get("HOME_DELIVERY_POSTAL_MARKING", ""))[:20]
    run_id = shipment_run.id
    _audit_export(get_session(), "address_list", shipment_run)

    def rows():  # type: ignore[no-untyped-def]
        # Streamed after the view returns: a read-only unit of work of its own.
        with database.session_scope(write=False) as session:
            streamed_run = session.get(ShipmentRun, run_id)
            buf = io.StringIO()
            buf.write("\ufeff")  # Excel opens UTF-8 with a BOM correctly
            writer = csv.writer(buf)
            for row in documents.address_rows(session, streamed_run, home_delivery_marking=marking):
                writer.writerow(csvsafe.row(row))
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()

    return Response(rows(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=addresses-{shipment_run.month}.csv"})


