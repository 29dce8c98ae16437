"""The catalogue: search, add and edit items, import the main system's CSV, the chief's mark."""

from __future__ import annotations

import csv
import io

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from forms.catalog import (
    MAX_IMPORT_BYTES,
    CatalogImportForm,
    CatalogItemEditForm,
    CatalogSearchForm,
    ItemStatusForm,
    ItemUnsuitableForm,
)
from outreach import csvsafe
from outreach.catalog import services
from outreach.catalog.models import CatalogItem
from outreach.db import database, get_session
from outreach.errors import DomainError
from outreach.types import ItemStatus, MaterialType, Role
from outreach.web import STAFF, roles_required

bp = Blueprint("catalog", __name__, url_prefix="/catalog")

OUTCOMES = ("rejected", "added", "updated", "unchanged")


def _lang() -> str:
    return str(get_locale() or "ja")


def _item_or_404(item_id: int) -> CatalogItem:
    item = services.get_item(get_session(), item_id)
    if item is None:
        abort(404)
    return item


def _barcode_unique(form: CatalogItemEditForm, exclude_id: int | None) -> bool:
    if form.barcode.data and services.barcode_taken(get_session(), form.barcode.data, exclude_id):
        form.barcode.errors = [*form.barcode.errors, _("Another item already has this barcode.")]
        return False
    return True


@bp.route("")
@roles_required(*STAFF)
def index():  # type: ignore[no-untyped-def]
    form = CatalogSearchForm(request.args)
    page = request.args.get("page", 1, type=int) or 1
    result = None
    if request.args and form.validate():
        result = services.search_items(
            get_session(), form.q.data or "",
            material_type=MaterialType(form.material_type.data) if form.material_type.data else None,
            available_only=bool(form.available.data), page=page, page_size=current_app.config["PAGE_SIZE"])
    imports = services.list_imports(get_session(), limit=5)
    return render_template("catalog/index.html", form=form, result=result, imports=imports)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def create():  # type: ignore[no-untyped-def]
    form = CatalogItemEditForm()
    if form.validate_on_submit() and _barcode_unique(form, None):
        db = get_session()
        try:
            item = services.create_item(db, data=form.item_data(), actor=current_user)
            db.commit()
        except IntegrityError:
            db.rollback()
            form.barcode.errors = [_("Another item already has this barcode.")]
        else:
            flash(_("The item has been added."), "success")
            return redirect(url_for("catalog.show", item_id=item.id))
    return render_template("catalog/edit.html", form=form, item=None), 400 if form.errors else 200


@bp.route("/<int:item_id>")
@roles_required(*STAFF)
def show(item_id: int):  # type: ignore[no-untyped-def]
    item = _item_or_404(item_id)
    unsuitable_form = ItemUnsuitableForm(is_unsuitable=item.is_unsuitable, reason=item.unsuitable_reason)
    status_form = ItemStatusForm(status=item.status.value)
    return render_template("catalog/show.html", item=item, unsuitable_form=unsuitable_form, status_form=status_form)


@bp.route("/<int:item_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit(item_id: int):  # type: ignore[no-untyped-def]
    item = _item_or_404(item_id)
    form = CatalogItemEditForm(obj=item)
    if request.method == "GET":
        form.material_type.data = item.material_type.value
    if form.validate_on_submit() and _barcode_unique(form, item.id):
        db = get_session()
        try:
            changed = services.update_item(db, item, data=form.item_data(), actor=current_user)
            db.commit()
        except IntegrityError:
            db.rollback()
            form.barcode.errors = [_("Another item already has this barcode.")]
        else:
            flash(_("The changes have been saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("catalog.show", item_id=item.id))
    return render_template("catalog/edit.html", form=form, item=item), 400 if form.errors else 200


@bp.route("/<int:item_id>/unsuitable", methods=["POST"])
@roles_required(Role.CHIEF)
def unsuitable(item_id: int):  # type: ignore[no-untyped-def]
    """Only the section chief judges an item unsuitable for delivery (宅配要綱第6条)."""
    item = _item_or_404(item_id)
    form = ItemUnsuitableForm()
    if not form.validate_on_submit():
        return render_template("catalog/show.html", item=item, unsuitable_form=form,
                               status_form=ItemStatusForm(status=item.status.value)), 400
    db = get_session()
    services.mark_unsuitable(db, item, unsuitable=bool(form.is_unsuitable.data), reason=form.reason.data or "",
                             actor=current_user)
    db.commit()
    flash(_("The item is marked unsuitable for sending.") if item.is_unsuitable
          else _("The item may be sent again."), "success")
    return redirect(url_for("catalog.show", item_id=item.id))


@bp.route("/<int:item_id>/status", methods=["POST"])
@roles_required(*STAFF)
def status(item_id: int):  # type: ignore[no-untyped-def]
    item = _item_or_404(item_id)
    form = ItemStatusForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            services.set_status(db, item, ItemStatus(form.status.data), current_user)
            db.commit()
        except DomainError as exc:
            db.rollback()
            form.status.errors = [exc.message(_lang())]
        else:
            flash(_("The status has been saved."), "success")
            return redirect(url_for("catalog.show", item_id=item.id))
    unsuitable_form = ItemUnsuitableForm(is_unsuitable=item.is_unsuitable, reason=item.unsuitable_reason)
    return render_template("catalog/show.html", item=item, unsuitable_form=unsuitable_form, status_form=form), 400


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*STAFF)
def import_csv():  # type: ignore[no-untyped-def]
    form = CatalogImportForm()
    if form.validate_on_submit():
        data = form.file.data.read(MAX_IMPORT_BYTES + 1)
        if len(data) > MAX_IMPORT_BYTES:
            form.file.errors = [_("The file is larger than 20 MB. Import it with the command `outreach catalog import`.")]
        else:
            db = get_session()
            record = services.import_csv(db, data, filename=form.file.data.filename or "", actor=current_user)
            db.commit()
            return redirect(url_for("catalog.import_report", import_id=record.id))
    return render_template("catalog/import.html", form=form), 400 if form.errors else 200


@bp.route("/imports/<int:import_id>")
@roles_required(*STAFF)
def import_report(import_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    record = services.get_import(db, import_id)
    if record is None:
        abort(404)
    outcome = request.args.get("outcome", "")
    if outcome not in OUTCOMES:
        outcome = ""
    page = request.args.get("page", 1, type=int) or 1
    rows, total = services.import_rows(db, record, outcome=outcome or None, page=page, page_size=200)
    return render_template("catalog/import_report.html", record=record, rows=rows, total=total, page=page,
                           pages=max(1, -(-total // 200)), outcome=outcome, outcomes=OUTCOMES, lang=_lang())


@bp.route("/imports/<int:import_id>/report.csv")
@roles_required(*STAFF)
def import_report_csv(import_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    record = services.get_import(db, import_id)
    if record is None:
        abort(404)
    lang = _lang()
    import_id = record.id
    header = [_("Line"), _("Barcode"), _("Outcome"), _("Detail")]

    def rows():  # type: ignore[no-untyped-def]
        # Streamed after the view returns: a read-only unit of work of its own.
        with database.session_scope(write=False) as session:
            yield from _report_lines(session, import_id, header, lang)

    return Response(rows(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=catalog-import-{record.id}.csv"})


def _report_lines(session, import_id: int, header: list[str], lang: str):  # type: ignore[no-untyped-def]
    """The import report as CSV text, a row at a time."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write("\ufeff")
    writer.writerow(header)
    record = services.get_import(session, import_id)
    for row in services.iter_import_rows(session, record):
        detail = "; ".join(p[lang if lang in ("ja", "en") else "ja"] for p in row.problems) or ", ".join(row.fields)
        # The barcode and the detail echo what the imported file held: never let a spreadsheet run it.
        writer.writerow(csvsafe.row([row.row_number, row.barcode, row.outcome, detail]))
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    yield buf.getvalue()
