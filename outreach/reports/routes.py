"""Reports: the annual tables, the monthly breakdown, charts, exports, historical figures, case lists."""

from __future__ import annotations

import base64
import csv
import io
from decimal import Decimal

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forms.reports import HistoricalFiguresForm
from letters.charts import ChartData, bar_chart, to_svg
from outreach import csvsafe
from outreach.calendar import fiscal_year_label, fiscal_year_of
from outreach.clock import today
from outreach.db import get_session
from outreach.errors import DomainError
from outreach.reading.services import reading_figures
from outreach.reports import exports, services
from outreach.types import LENDING_SERVICES, Role, Service
from outreach.web import CASEWORK, roles_required, select_locale

bp = Blueprint("reports", __name__, url_prefix="/reports")

REPORT_ROLES = (Role.CHIEF, Role.LIBRARIAN, Role.ADMIN)  # aggregate figures, no personal data
FORMATS = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "pdf": "application/pdf", "json": "application/json"}


def _year_arg() -> int:
    current = fiscal_year_of(today())
    year = request.args.get("year", type=int)
    return year if year is not None and 1950 <= year <= current else current


def _years(db) -> list[int]:  # type: ignore[no-untyped-def]
    return services.report_years(db, today=today())


def _chart_uri(data: ChartData) -> str:
    """A chart drawn from figures already computed, as an image inside the page (no second computation)."""
    svg = to_svg(bar_chart(data), title=data.title)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


@bp.route("")
@roles_required(*REPORT_ROLES)
def index():  # type: ignore[no-untyped-def]
    db = get_session()
    year = _year_arg()
    lang = select_locale()
    try:
        report, trend = services.report_and_trend(db, year, today=today())
    except DomainError as exc:
        flash(exc.message(lang), "error")
        return redirect(url_for("reports.index"))
    charts = {}
    if report.monthly:
        charts["monthly"] = _chart_uri(exports.monthly_chart(report, lang))
    if len(trend) > 1:
        charts["trend"] = _chart_uri(exports.trend_chart(trend, lang))
    return render_template(
        "reports/index.html", report=report, year=year, years=_years(db), lang=lang,
        tables=exports.tables(report, lang, trend), trend=trend, charts=charts,
        fy_label=fiscal_year_label,
    )


@bp.route("/<int:year>.<fmt>")
@roles_required(*REPORT_ROLES)
def download(year: int, fmt: str):  # type: ignore[no-untyped-def]
    if fmt not in FORMATS:
        abort(404)
    db = get_session()
    lang = select_locale()
    try:
        report, trend = services.report_and_trend(db, year, today=today())
    except DomainError:
        abort(404)
    body = exports.render(fmt, report, library_name=current_app.config["LIBRARY_NAME"], lang=lang, trend=trend)
    response = Response(body, mimetype=FORMATS[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="outreach-statistics-FY{year}.{fmt}"'
    return response


@bp.route("/<int:year>/chart-<kind>.svg")
@roles_required(*REPORT_ROLES)
def chart(year: int, kind: str):  # type: ignore[no-untyped-def]
    """A chart as an SVG file of its own (the Reports page draws the same charts inside the page)."""
    if kind not in ("monthly", "trend"):
        abort(404)
    db = get_session()
    lang = select_locale()
    try:
        report, trend = services.report_and_trend(db, year, today=today())
    except DomainError:  # a fiscal year that has not begun
        abort(404)
    data = exports.monthly_chart(report, lang) if kind == "monthly" else exports.trend_chart(trend, lang)
    response = Response(to_svg(bar_chart(data), title=data.title), mimetype="image/svg+xml")
    # reportlab writes presentation styles inline; this image has no scripts of its own.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@bp.route("/volunteers")
@roles_required(*REPORT_ROLES)
def volunteers():  # type: ignore[no-untyped-def]
    year = _year_arg()
    figures = reading_figures(get_session(), year)
    return render_template("reports/volunteers.html", figures=figures, year=year, years=_years(get_session()),
                           fy_label=fiscal_year_label)


@bp.route("/case-list.csv")
@roles_required(*CASEWORK)
def case_list():  # type: ignore[no-untyped-def]
    """Active patrons of a service (personal data: case staff only; the download is audited)."""
    service = request.args.get("service", "")
    if service not in {s.value for s in Service}:
        abort(404)
    db = get_session()
    on = today()
    rows = services.case_list(db, Service(service), on)
    from outreach.audit import services as audit

    audit.record(db, actor_id=current_user.id, actor_username=current_user.username, action="export",
                 entity_type="case_list", fields=("name", "address", "phone", "approval"), detail=service)
    db.commit()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["利用者カード番号", "氏名", "フリガナ", "郵便番号", "住所", "電話", "承認開始", "承認期限", "特別承認"])
    for patron, approval in rows:
        writer.writerow(csvsafe.row([patron.card_number, patron.name, patron.name_kana, patron.postal_code,
                                     " ".join(patron.address_lines), patron.phone, approval.valid_from.isoformat(),
                                     approval.valid_until.isoformat() if approval.valid_until else "",
                                     "○" if approval.is_special else ""]))
    response = Response(("\ufeff" + out.getvalue()).encode("utf-8"), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="case-list-{service}-{on.isoformat()}.csv"'
    return response


@bp.route("/historical", methods=["GET", "POST"])
@roles_required(Role.CHIEF, Role.ADMIN)
def historical():  # type: ignore[no-untyped-def]
    """Figures of fiscal years before the system was in use, entered by hand (marked as such everywhere)."""
    db = get_session()
    libraries = services.library_names(db)
    first_real, current = services.first_real_year(db), fiscal_year_of(today())
    form = HistoricalFiguresForm()
    if request.method == "GET":
        form.fiscal_year.data = request.args.get("year", type=int) or min(first_real or current, current) - 1
        existing = services.historical_report(db, form.fiscal_year.data)
        by_service = {s.service.value: s for s in (existing.services if existing else ())}
        by_library = {lib.library: lib for lib in (existing.libraries if existing else ())}
        for service in LENDING_SERVICES:
            s = by_service.get(service.value)
            form.services.append_entry({"row_key": service.value, "registrants": s.registrants if s else 0,
                                        "deliveries": s.deliveries if s else 0, "books": s.books if s else 0,
                                        "audio_visual": s.audio_visual if s else 0})
        for name in libraries:
            lib = by_library.get(name)
            form.libraries.append_entry({"row_key": name, "registrants": lib.registrants if lib else 0,
                                         "sessions": lib.sessions if lib else 0,
                                         "hours": lib.hours if lib else Decimal("0")})
    if form.validate_on_submit():
        rows = [services.HistoricalRow(1, entry.row_key.data, entry.registrants.data, entry.deliveries.data,
                                       entry.books.data, entry.audio_visual.data, note=form.note.data or "")
                for entry in form.services if entry.row_key.data in {s.value for s in LENDING_SERVICES}]
        rows += [services.HistoricalRow(2, entry.row_key.data, entry.registrants.data, sessions=entry.sessions.data,
                                        minutes=int(Decimal(entry.hours.data) * 60), note=form.note.data or "")
                 for entry in form.libraries if entry.row_key.data in libraries]
        try:
            services.save_historical(db, form.fiscal_year.data, rows, actor=current_user, today=today())
            db.commit()
        except DomainError as exc:
            db.rollback()
            form.fiscal_year.errors = [*form.fiscal_year.errors, exc.message(select_locale())]
        else:
            flash(_("The historical figures have been saved."), "success")
            return redirect(url_for("reports.index", year=form.fiscal_year.data))
    return render_template("reports/historical.html", form=form, fy_label=fiscal_year_label, first_real=first_real), (
        400 if form.errors else 200)
