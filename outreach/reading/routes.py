"""Face-to-face reading: staff pages (volunteers, rooms, requests, bookings, calendar, figures) and the
volunteer's own pages (/reading/my: own sessions only, confirm or decline, availability, the log)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from forms.auth import EmptyForm
from forms.reading import (
    DAY_KIND_LABELS,
    NEW_ACCOUNT,
    AbsenceForm,
    AvailabilityForm,
    BookForm,
    CalendarForm,
    CancelForm,
    DeclineForm,
    FiguresForm,
    ReadingRequestForm,
    ReassignForm,
    SeriesForm,
    SessionLogForm,
    SlotForm,
    VolunteerCreateForm,
    VolunteerEditForm,
    room_hours_form,
    select_choices,
)
from outreach.auth import services as auth_services
from outreach.calendar import fiscal_year_label, fiscal_year_of
from outreach.clock import today
from outreach.db import get_session
from outreach.patrons.models import Patron
from outreach.reading import rules, services
from outreach.reading.models import ReadingSession, Volunteer
from outreach.reading.rules import ConflictCode, ReadingError
from outreach.system.services import current_policy
from outreach.types import CancelledBy, ReadingKind, ReadingSessionState, Role
from outreach.web import CASEWORK, display_date, roles_required, select_locale

bp = Blueprint("reading", __name__, url_prefix="/reading")

ACCOUNT_ERRORS = {
    "username_taken": _l("This user name is already in use."),
    "username_required": _l("Enter a user name."),
    "password_too_short": _l("A password needs at least 12 characters."),
    "password_too_simple": _l("Mix letters with digits or symbols in the password."),
}


@bp.app_template_global("hhmm")
def _hhmm(value: Any) -> str:
    return rules.hhmm(value) if value is not None else ""


@bp.app_template_global("reading_hours")
def _reading_hours(minutes: int | None) -> str:
    return "" if minutes is None else f"{rules.reading_hours(minutes):g}"


@bp.app_template_global("weekday_label")
def _weekday_label(day_kind: int) -> str:
    """Monday … Sunday, or national holidays (7), in the UI's language."""
    return str(DAY_KIND_LABELS[day_kind])


@bp.app_template_global("weekday_name")
def _weekday_name(d: date) -> str:
    return rules.weekday_words(d.weekday(), select_locale())


def _lang() -> str:
    return select_locale()


def _messages(exc: ReadingError) -> list[str]:
    return [c.message(_lang()) for c in exc.conflicts]


def _hash_method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD", auth_services.DEFAULT_HASH_METHOD)


def _rooms(active_only: bool = True) -> list[tuple[int, str]]:
    return [(r.id, r.library_name) for r in services.list_rooms(get_session(), active_only=active_only)]


def _room_choices(active_only: bool = True) -> list[Any]:
    return select_choices(_rooms(active_only))


def _volunteer_or_404(volunteer_id: int) -> Volunteer:
    volunteer = services.get_volunteer(get_session(), volunteer_id)
    if volunteer is None:
        abort(404)
    return volunteer


def _session_or_404(session_id: int) -> ReadingSession:
    reading_session = services.get_session(get_session(), session_id)
    if reading_session is None:
        abort(404)
    return reading_session


def _attach(exc: ReadingError, fields: dict[str, Any], fallback: Any = None) -> list[str]:
    """Put each conflict on the form field it is about; return the ones that belong to no field."""
    rest = []
    for conflict in exc.conflicts:
        target = fields.get(conflict.code, fallback)
        if target is None:
            rest.append(conflict.message(_lang()))
        else:
            target.errors = [*target.errors, conflict.message(_lang())]
    return rest


# ==================================================================================================
# staff: overview


@bp.route("")
@roles_required(*CASEWORK)
def index():  # type: ignore[no-untyped-def]
    db = get_session()
    return render_template("reading/index.html", requests=services.list_requests(db, today=today()),
                           summary=services.dashboard_summary(db, today=today(), user=current_user))


# ==================================================================================================
# staff: volunteers


@bp.route("/volunteers")
@roles_required(*CASEWORK)
def volunteers():  # type: ignore[no-untyped-def]
    db = get_session()
    return render_template("reading/volunteers.html", volunteers=services.list_volunteers(db),
                           rooms=dict(_rooms(active_only=False)))


@bp.route("/volunteers/new", methods=["GET", "POST"])
@roles_required(*CASEWORK)
def volunteer_create():  # type: ignore[no-untyped-def]
    db = get_session()
    form = VolunteerCreateForm()
    form.room_ids.choices = _room_choices()
    form.account_id.choices = select_choices([(NEW_ACCOUNT, _("Create a new account"))] + [
        (u.id, f"{u.username}（{u.display_name}）") for u in services.unlinked_volunteer_accounts(db)])
    if form.validate_on_submit():
        new = form.account_id.data == NEW_ACCOUNT
        try:
            volunteer = services.register_volunteer(
                db, data=form.volunteer_data(), room_ids=form.room_ids.data,
                kinds=[ReadingKind(k) for k in form.kinds.data], actor=current_user,
                username=form.username.data if new else None, password=form.password.data if new else None,
                user_id=None if new else form.account_id.data, hash_method=_hash_method())
            db.commit()
        except auth_services.AuthError as exc:
            db.rollback()
            target = form.username if exc.code.startswith("username") else form.password
            target.errors = [*target.errors, str(ACCOUNT_ERRORS[exc.code])]
        except ReadingError as exc:
            db.rollback()
            form.account_id.errors = [*form.account_id.errors, *_messages(exc)]
        else:
            flash(_("The volunteer reader has been registered. They can log in with their user name."), "success")
            return redirect(url_for("reading.volunteer_show", volunteer_id=volunteer.id))
    return render_template("reading/volunteer_edit.html", form=form, volunteer=None), 400 if form.errors else 200


@bp.route("/volunteers/<int:volunteer_id>")
@roles_required(*CASEWORK)
def volunteer_show(volunteer_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    volunteer = _volunteer_or_404(volunteer_id)
    return _volunteer_page(volunteer, "reading/volunteer_show.html",
                           account=auth_services.get_user(db, volunteer.user_id),
                           sessions=services.volunteer_sessions(db, volunteer.id, from_on=today()))


def _volunteer_page(volunteer: Volunteer, template: str, availability_form: AvailabilityForm | None = None,
                    absence_form: AbsenceForm | None = None, status: int = 200, **context: Any):  # type: ignore[no-untyped-def]
    db = get_session()
    room_ids = services.volunteer_room_ids(db, volunteer.id)
    rooms = dict(_rooms(active_only=False))
    availability_form = availability_form or AvailabilityForm(prefix="slot")
    availability_form.room_id.choices = select_choices((rid, rooms[rid]) for rid in room_ids if rid in rooms)
    return render_template(
        template, volunteer=volunteer, rooms=rooms, room_ids=room_ids, kinds=services.volunteer_kinds(db, volunteer.id),
        availability=services.list_availability(db, volunteer.id),
        absences=services.list_absences(db, volunteer.id, from_on=today() - timedelta(days=30)),
        availability_form=availability_form, absence_form=absence_form or AbsenceForm(prefix="away"),
        delete_form=EmptyForm(), **context), status


@bp.route("/volunteers/<int:volunteer_id>/edit", methods=["GET", "POST"])
@roles_required(*CASEWORK)
def volunteer_edit(volunteer_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    volunteer = _volunteer_or_404(volunteer_id)
    form = VolunteerEditForm(obj=volunteer)
    form.room_ids.choices = _room_choices(active_only=False)
    if request.method == "GET":
        form.room_ids.data = services.volunteer_room_ids(db, volunteer.id)
        form.kinds.data = [k.value for k in services.volunteer_kinds(db, volunteer.id)]
    if form.validate_on_submit():
        try:
            changed = services.update_volunteer(db, volunteer, data=form.volunteer_data(), room_ids=form.room_ids.data,
                                                kinds=[ReadingKind(k) for k in form.kinds.data], actor=current_user,
                                                today=today())
            db.commit()
        except ReadingError as exc:
            db.rollback()
            form.retired_on.errors = [*form.retired_on.errors, *_messages(exc)]
        else:
            flash(_("The changes have been saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("reading.volunteer_show", volunteer_id=volunteer.id))
    return render_template("reading/volunteer_edit.html", form=form, volunteer=volunteer), 400 if form.errors else 200


def _add_availability(volunteer: Volunteer, done_url: str, template: str, **context: Any):  # type: ignore[no-untyped-def]
    db = get_session()
    form = AvailabilityForm(prefix="slot")
    form.room_id.choices = _room_choices(active_only=False)
    if form.validate_on_submit():
        try:
            services.add_availability(db, volunteer, room_id=form.room_id.data, weekday=form.weekday.data,
                                      start=form.start_time.data, end=form.end_time.data, actor=current_user)
            db.commit()
        except ReadingError as exc:
            db.rollback()
            form.room_id.errors = [*form.room_id.errors, *_messages(exc)]
        else:
            flash(_("The available time has been added."), "success")
            return redirect(done_url)
    return _volunteer_page(volunteer, template, availability_form=form, status=400, **context)


def _add_absence(volunteer: Volunteer, done_url: str, template: str, **context: Any):  # type: ignore[no-untyped-def]
    db = get_session()
    form = AbsenceForm(prefix="away")
    if form.validate_on_submit():
        try:
            services.add_absence(db, volunteer, starts_on=form.starts_on.data, ends_on=form.ends_on.data,
                                 note=form.note.data or "", actor=current_user)
            db.commit()
        except ReadingError as exc:
            db.rollback()
            form.ends_on.errors = [*form.ends_on.errors, *_messages(exc)]
        else:
            flash(_("The days away have been added."), "success")
            return redirect(done_url)
    return _volunteer_page(volunteer, template, absence_form=form, status=400, **context)


def _remove(volunteer: Volunteer, remover: Any, item_id: int, done_url: str):  # type: ignore[no-untyped-def]
    if not EmptyForm().validate_on_submit():
        abort(400)
    db = get_session()
    if not remover(db, volunteer, item_id, current_user):
        abort(404)
    db.commit()
    flash(_("Removed."), "success")
    return redirect(done_url)


@bp.route("/volunteers/<int:volunteer_id>/availability", methods=["POST"])
@roles_required(*CASEWORK)
def availability_add(volunteer_id: int):  # type: ignore[no-untyped-def]
    volunteer = _volunteer_or_404(volunteer_id)
    db = get_session()
    return _add_availability(volunteer, url_for("reading.volunteer_show", volunteer_id=volunteer.id),
                             "reading/volunteer_show.html", account=auth_services.get_user(db, volunteer.user_id),
                             sessions=services.volunteer_sessions(db, volunteer.id, from_on=today()))


@bp.route("/volunteers/<int:volunteer_id>/availability/<int:slot_id>/delete", methods=["POST"])
@roles_required(*CASEWORK)
def availability_delete(volunteer_id: int, slot_id: int):  # type: ignore[no-untyped-def]
    volunteer = _volunteer_or_404(volunteer_id)
    return _remove(volunteer, services.remove_availability, slot_id,
                   url_for("reading.volunteer_show", volunteer_id=volunteer.id))


@bp.route("/volunteers/<int:volunteer_id>/absences", methods=["POST"])
@roles_required(*CASEWORK)
def absence_add(volunteer_id: int):  # type: ignore[no-untyped-def]
    volunteer = _volunteer_or_404(volunteer_id)
    db = get_session()
    return _add_absence(volunteer, url_for("reading.volunteer_show", volunteer_id=volunteer.id),
                        "reading/volunteer_show.html", account=auth_services.get_user(db, volunteer.user_id),
                        sessions=services.volunteer_sessions(db, volunteer.id, from_on=today()))


@bp.route("/volunteers/<int:volunteer_id>/absences/<int:absence_id>/delete", methods=["POST"])
@roles_required(*CASEWORK)
def absence_delete(volunteer_id: int, absence_id: int):  # type: ignore[no-untyped-def]
    volunteer = _volunteer_or_404(volunteer_id)
    return _remove(volunteer, services.remove_absence, absence_id,
                   url_for("reading.volunteer_show", volunteer_id=volunteer.id))


# ==================================================================================================
# staff: rooms


@bp.route("/rooms")
@roles_required(*CASEWORK)
def rooms():  # type: ignore[no-untyped-def]
    db = get_session()
    return render_template("reading/rooms.html", rooms=services.list_rooms(db), hours=services.room_hours(db))


@bp.route("/rooms/<int:room_id>/hours", methods=["GET", "POST"])
@roles_required(*CASEWORK)
def room_hours(room_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    room = services.get_room(db, room_id)
    if room is None:
        abort(404)
    current = services.room_hours(db, [room.id]).get(room.id, {})
    form = room_hours_form(request.form if request.method == "POST" else None, current)
    if form.validate_on_submit():
        try:
            changed = services.set_room_hours(db, room, form.hours(), current_user)
            db.commit()
        except ReadingError as exc:
            db.rollback()
            form.closes_0.errors = [*form.closes_0.errors, *_messages(exc)]
        else:
            flash(_("The opening hours have been saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("reading.rooms"))
    return render_template("reading/room_hours.html", form=form, room=room), 400 if form.errors else 200


# ==================================================================================================
# staff: requests and bookings


@bp.route("/requests/new", methods=["GET", "POST"])
@roles_required(*CASEWORK)
def request_create():  # type: ignore[no-untyped-def]
    db = get_session()
    form = ReadingRequestForm()
    form.room_id.choices = _room_choices()
    if request.method == "GET":
        form.received_on.data = today()
        form.duration_minutes.data = current_policy(db).face_to_face_session_minutes
        form.card_number.data = request.args.get("card", "")
    if form.validate_on_submit():
        patron = services.find_patron_by_card(db, form.card_number.data)
        room = services.get_room(db, form.room_id.data)
        assert patron is not None and room is not None
        try:
            created = services.create_request(db, patron=patron, room=room, data=form.request_data(),
                                              actor=current_user)
            db.commit()
        except ReadingError as exc:
            db.rollback()
            _attach(exc, {ConflictCode.NOT_REGISTERED: form.card_number, ConflictCode.TOO_LONG: form.duration_minutes,
                          ConflictCode.ROOM_CLOSED: form.room_id}, fallback=form.card_number)
        else:
            flash(_("The request has been recorded. Now pick a day and time."), "success")
            return redirect(url_for("reading.request_show", request_id=created.id))
    return render_template("reading/request_new.html", form=form), 400 if form.errors else 200


def _request_page(reading_request: Any, *, book_form: BookForm | None = None, series_form: SeriesForm | None = None,
                  conflicts: list[str] | None = None, clashes: list[services.Occurrence] | None = None,
                  status: int = 200):  # type: ignore[no-untyped-def]
    db = get_session()
    if book_form is not None:  # after a refused booking, show the slot that was tried
        slot_form = SlotForm(formdata=None, data={name: book_form[name].data
                                                  for name in ("session_on", "start_time", "end_time")})
    else:
        slot_form = SlotForm(request.args)
    check = None
    if book_form is None and request.args and slot_form.validate():
        check = services.check_slot(db, request=reading_request, on=slot_form.session_on.data,
                                    start=slot_form.start_time.data, end=slot_form.end_time.data, today=today())
        book_form = BookForm(data={"session_on": slot_form.session_on.data, "start_time": slot_form.start_time.data,
                                   "end_time": slot_form.end_time.data})
        book_form.volunteer_id.choices = select_choices((f.volunteer_id, f.name) for f in check.offered)
    if series_form is None:
        series_form = SeriesForm(prefix="series")
        series_form.volunteer_id.choices = _series_choices(reading_request)
    patron = db.get(Patron, reading_request.patron_id)
    return render_template(
        "reading/request_show.html", reading_request=reading_request, patron=patron,
        room=services.get_room(db, reading_request.room_id), sessions=services.list_sessions(db, request_id=reading_request.id),
        registered=services.is_registered(db, reading_request.patron_id, today()),
        slot_form=slot_form, check=check, book_form=book_form, series_form=series_form, conflicts=conflicts or [],
        clashes=clashes, close_form=EmptyForm(prefix="close")), status


def _series_choices(reading_request: Any) -> list[Any]:
    return select_choices((f.volunteer_id, f.name)
                          for f in services.series_candidates(get_session(), reading_request, today()))


def _request_or_404(request_id: int) -> Any:
    reading_request = services.get_request(get_session(), request_id)
    if reading_request is None:
        abort(404)
    return reading_request


@bp.route("/requests/<int:request_id>")
@roles_required(*CASEWORK)
def request_show(request_id: int):  # type: ignore[no-untyped-def]
    return _request_page(_request_or_404(request_id))


@bp.route("/requests/<int:request_id>/book", methods=["POST"])
@roles_required(*CASEWORK)
def request_book(request_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    reading_request = _request_or_404(request_id)
    form = BookForm()
    # Any volunteer id is accepted here: the service decides whether that volunteer may take the slot.
    form.volunteer_id.choices = select_choices((int(v), v) for v in request.form.getlist("volunteer_id") if v.isdigit())
    if form.validate_on_submit():
        try:
            booked = services.book_session(db, request=reading_request, on=form.session_on.data,
                                           start=form.start_time.data, end=form.end_time.data,
                                           volunteer_id=form.volunteer_id.data, actor=current_user, today=today())
            db.commit()
        except ReadingError as exc:
            db.rollback()
            form.volunteer_id.choices = []
            return _request_page(reading_request, book_form=form, conflicts=_messages(exc), status=409)
        flash(_("The session on %(day)s has been booked. The volunteer is asked to confirm it.",
                day=display_date(booked.session_on)), "success")
        return redirect(url_for("reading.request_show", request_id=reading_request.id))
    form.volunteer_id.choices = []
    return _request_page(reading_request, book_form=form, status=400)


@bp.route("/requests/<int:request_id>/series", methods=["POST"])
@roles_required(*CASEWORK)
def request_series(request_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    reading_request = _request_or_404(request_id)
    form = SeriesForm(prefix="series")
    form.volunteer_id.choices = _series_choices(reading_request)
    if form.validate_on_submit():
        try:
            result = services.book_series(db, request=reading_request, first_on=form.first_on.data,
                                          start=form.start_time.data, end=form.end_time.data,
                                          occurrences=form.occurrences.data, volunteer_id=form.volunteer_id.data,
                                          actor=current_user, today=today(), accept_clashes=form.accept_clashes.data)
            db.commit()
        except services.SeriesClashError as exc:
            db.rollback()
            return _request_page(reading_request, series_form=form, conflicts=_messages(exc),
                                 clashes=list(exc.occurrences), status=409)
        except ReadingError as exc:
            db.rollback()
            return _request_page(reading_request, series_form=form, conflicts=_messages(exc), status=409)
        message = _("%(booked)d sessions have been booked.", booked=len(result.booked))
        if result.clashes:
            message += " " + _("Not booked because of a clash: %(days)s.",
                               days=", ".join(display_date(o.on) for o in result.clashes))
        flash(message, "success")
        return redirect(url_for("reading.request_show", request_id=reading_request.id))
    return _request_page(reading_request, series_form=form, status=400)


@bp.route("/requests/<int:request_id>/close", methods=["POST"])
@roles_required(*CASEWORK)
def request_close(request_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    reading_request = _request_or_404(request_id)
    if not EmptyForm(prefix="close").validate_on_submit():
        abort(400)
    try:
        services.close_request(db, reading_request, actor=current_user, today=today())
        db.commit()
    except ReadingError as exc:
        db.rollback()
        return _request_page(reading_request, conflicts=_messages(exc), status=409)
    flash(_("The request has been closed."), "success")
    return redirect(url_for("reading.index"))


# ==================================================================================================
# staff: one session


def _session_page(reading_session: ReadingSession, *, cancel_form: CancelForm | None = None,
                  reassign_form: ReassignForm | None = None, conflicts: list[str] | None = None,
                  status: int = 200):  # type: ignore[no-untyped-def]
    db = get_session()
    reading_request = services.get_request(db, reading_session.request_id)
    if reassign_form is None:
        reassign_form = ReassignForm(prefix="reassign")
    check = services.check_slot(db, request=reading_request, on=reading_session.session_on,
                                start=reading_session.start_time, end=reading_session.end_time, today=today(),
                                exclude_session_id=reading_session.id)
    reassign_form.volunteer_id.choices = select_choices(
        (f.volunteer_id, f.name) for f in check.offered if f.volunteer_id != reading_session.volunteer_id)
    row = next(r for r in services.list_sessions(db, request_id=reading_request.id) if r.session.id == reading_session.id)
    return render_template(
        "reading/session_show.html", row=row, reading_session=reading_session, reading_request=reading_request,
        patron=db.get(Patron, reading_session.patron_id), cancel_form=cancel_form or CancelForm(prefix="cancel"),
        reassign_form=reassign_form, no_show_form=EmptyForm(prefix="noshow"), conflicts=conflicts or [],
        today=today()), status


@bp.route("/sessions/<int:session_id>")
@roles_required(*CASEWORK)
def session_show(session_id: int):  # type: ignore[no-untyped-def]
    return _session_page(_session_or_404(session_id))


@bp.route("/sessions/<int:session_id>/cancel", methods=["POST"])
@roles_required(*CASEWORK)
def session_cancel(session_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    reading_session = _session_or_404(session_id)
    form = CancelForm(prefix="cancel")
    if form.validate_on_submit():
        try:
            services.cancel_session(db, reading_session, cancelled_by=CancelledBy(form.cancelled_by.data),
                                    reason=form.reason.data, actor=current_user)
            db.commit()
        except ReadingError as exc:
            db.rollback()
            return _session_page(reading_session, cancel_form=form, conflicts=_messages(exc), status=409)
        flash(_("The session has been cancelled."), "success")
        return redirect(url_for("reading.session_show", session_id=reading_session.id))
    return _session_page(reading_session, cancel_form=form, status=400)


@bp.route("/sessions/<int:session_id>/no-show", methods=["POST"])
@roles_required(*CASEWORK)
def session_no_show(session_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    reading_session = _session_or_404(session_id)
    if not EmptyForm(prefix="noshow").validate_on_submit():
        abort(400)
    try:
        services.mark_no_show(db, reading_session, actor=current_user, today=today())
        db.commit()
    except ReadingError as exc:
        db.rollback()
        return _session_page(reading_session, conflicts=_messages(exc), status=409)
    flash(_("The session has been recorded as a no-show."), "success")
    return redirect(url_for("reading.session_show", session_id=reading_session.id))


@bp.route("/sessions/<int:session_id>/reassign", methods=["POST"])
@roles_required(*CASEWORK)
def session_reassign(session_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    reading_session = _session_or_404(session_id)
    form = ReassignForm(prefix="reassign")
    form.volunteer_id.choices = select_choices(
        (int(v), v) for v in request.form.getlist("reassign-volunteer_id") if v.isdigit())
    if form.validate_on_submit():
        try:
            services.reassign_session(db, reading_session, volunteer_id=form.volunteer_id.data, actor=current_user,
                                      today=today())
            db.commit()
        except ReadingError as exc:
            db.rollback()
            return _session_page(reading_session, conflicts=_messages(exc), status=409)
        flash(_("The session has been given to another volunteer, who is asked to confirm it."), "success")
        return redirect(url_for("reading.session_show", session_id=reading_session.id))
    return _session_page(reading_session, reassign_form=form, status=400)


def _log(reading_session: ReadingSession, done_url: str, *, patron_consents: bool, heading_context: dict[str, Any]):  # type: ignore[no-untyped-def]
    db = get_session()
    form = SessionLogForm()
    if request.method == "GET":
        form.actual_start_time.data = reading_session.actual_start_time or reading_session.start_time
        form.actual_end_time.data = reading_session.actual_end_time or reading_session.end_time
        form.titles.data = reading_session.material_titles
        form.note.data = reading_session.log_note
    conflicts: list[str] = []
    if form.validate_on_submit():
        try:
            services.log_session(db, reading_session, actual_start=form.actual_start_time.data,
                                 actual_end=form.actual_end_time.data, titles=rules.split_titles(form.titles.data or ""),
                                 note=form.note.data or "", actor=current_user, today=today())
            db.commit()
        except ReadingError as exc:
            db.rollback()
            conflicts = _attach(exc, {ConflictCode.END_BEFORE_START: form.actual_end_time,
                                      ConflictCode.TOO_LONG: form.actual_end_time})
        else:
            flash(_("The session has been logged."), "success")
            return redirect(done_url)
    status = 400 if form.errors else (409 if conflicts else 200)
    return render_template("reading/session_log.html", form=form, conflicts=conflicts, reading_session=reading_session,
                           patron_consents=patron_consents, **heading_context), status


@bp.route("/sessions/<int:session_id>/log", methods=["GET", "POST"])
@roles_required(*CASEWORK)
def session_log(session_id: int):  # type: ignore[no-untyped-def]
    reading_session = _session_or_404(session_id)
    db = get_session()
    patron = db.get(Patron, reading_session.patron_id)
    room = services.get_room(db, reading_session.room_id)
    return _log(reading_session, url_for("reading.session_show", session_id=reading_session.id),
                patron_consents=bool(patron and patron.has_reading_history_consent),
                heading_context={"library_name": room.library_name if room else "",
                                 "back_url": url_for("reading.session_show", session_id=session_id)})


# ==================================================================================================
# staff: calendar and figures


@bp.route("/calendar")
@roles_required(*CASEWORK)
def calendar():  # type: ignore[no-untyped-def]
    db = get_session()
    form = CalendarForm(request.args)
    form.room_id.choices = select_choices([(0, _("All libraries"))] + _rooms(active_only=False))
    form.volunteer_id.choices = select_choices([(0, _("All volunteers"))] + [
        (s.volunteer.id, s.volunteer.name) for s in services.list_volunteers(db)])
    if not form.validate():
        form.start.data, form.view.data = None, "week"
    return _calendar_page(form, room_id=form.room_id.data or None, volunteer_id=form.volunteer_id.data or None,
                          endpoint="reading.calendar")


def _calendar_page(form: CalendarForm, *, room_id: int | None, volunteer_id: int | None, endpoint: str,
                   own: bool = False):  # type: ignore[no-untyped-def]
    db = get_session()
    view = form.view.data if form.view.data in ("day", "week") else "week"
    start = form.start.data or today()
    if view == "week":
        start -= timedelta(days=start.weekday())  # weeks start on Monday
    days = 7 if view == "week" else 1
    step = timedelta(days=days)
    room = services.get_room(db, room_id) if room_id else None
    volunteer = services.get_volunteer(db, volunteer_id) if volunteer_id else None
    args = {"view": view}
    if not own:
        args.update(room_id=room_id or 0, volunteer_id=volunteer_id or 0)
    return render_template(
        "reading/calendar.html", form=form, view=view, days=services.calendar_days(
            db, first_on=start, days=days, room_id=room_id, volunteer_id=volunteer_id),
        first_on=start, last_on=start + step - timedelta(days=1), room=room, volunteer=volunteer, own=own,
        prev_url=url_for(endpoint, start=(start - step).isoformat(), **args),
        next_url=url_for(endpoint, start=(start + step).isoformat(), **args),
        today_url=url_for(endpoint, start=today().isoformat(), **args), endpoint=endpoint)


@bp.route("/figures")
@roles_required(*CASEWORK)
def figures():  # type: ignore[no-untyped-def]
    form = FiguresForm(request.args)
    fiscal_year = fiscal_year_of(today())
    if form.validate() and form.fiscal_year.data:
        fiscal_year = form.fiscal_year.data
    else:
        form.fiscal_year.data = fiscal_year
    result = services.reading_figures(get_session(), fiscal_year)
    return render_template("reading/figures.html", form=form, figures=result,
                           fy_label=fiscal_year_label(fiscal_year, _lang())), 400 if form.errors else 200


# ==================================================================================================
# the volunteer's own pages


def _me() -> Volunteer | None:
    # From the retirement day on the pages refuse, even before the daily job deactivates the account.
    return services.volunteer_for_user(get_session(), current_user.id, on=today())


def _my_session_or_404(session_id: int) -> tuple[Volunteer, ReadingSession]:
    me = _me()
    reading_session = services.get_session(get_session(), session_id)
    if me is None or reading_session is None or reading_session.volunteer_id != me.id:
        abort(404)  # somebody else's session does not exist for this volunteer
    return me, reading_session


@bp.route("/my")
@roles_required(Role.VOLUNTEER)
def my_sessions():  # type: ignore[no-untyped-def]
    db = get_session()
    me = _me()
    if me is None:
        record = services.volunteer_for_user(db, current_user.id)
        return render_template("reading/my.html", me=None, retired_on=record.retired_on if record else None)
    return render_template(
        "reading/my.html", me=me,
        upcoming=services.volunteer_sessions(db, me.id, from_on=today(), states=(ReadingSessionState.SCHEDULED,
                                                                                 ReadingSessionState.CONFIRMED)),
        to_log=services.to_log(db, me.id, today()),
        recent=services.volunteer_sessions(db, me.id, from_on=today() - timedelta(days=60), to_on=today(),
                                           states=(ReadingSessionState.HELD,)),
        confirm_form=EmptyForm(prefix="confirm"), decline_form=DeclineForm(prefix="decline"), today=today())


@bp.route("/my/calendar")
@roles_required(Role.VOLUNTEER)
def my_calendar():  # type: ignore[no-untyped-def]
    me = _me()
    if me is None:
        abort(404)
    form = CalendarForm(request.args)
    form.room_id.choices, form.volunteer_id.choices = select_choices([(0, "")]), select_choices([(0, "")])
    if not form.validate():
        form.start.data, form.view.data = None, "week"
    return _calendar_page(form, room_id=None, volunteer_id=me.id, endpoint="reading.my_calendar", own=True)


@bp.route("/my/sessions/<int:session_id>/confirm", methods=["POST"])
@roles_required(Role.VOLUNTEER)
def my_confirm(session_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    me, reading_session = _my_session_or_404(session_id)
    if not EmptyForm(prefix="confirm").validate_on_submit():
        abort(400)
    try:
        services.confirm_session(db, reading_session, volunteer=me, actor=current_user, today=today())
        db.commit()
    except ReadingError as exc:
        db.rollback()
        for message in _messages(exc):
            flash(message, "error")
    else:
        flash(_("Thank you. The session on %(day)s is confirmed.", day=display_date(reading_session.session_on)), "success")
    return redirect(url_for("reading.my_sessions"))


@bp.route("/my/sessions/<int:session_id>/decline", methods=["POST"])
@roles_required(Role.VOLUNTEER)
def my_decline(session_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    me, reading_session = _my_session_or_404(session_id)
    form = DeclineForm(prefix="decline")
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(url_for("reading.my_sessions"))
    try:
        services.decline_session(db, reading_session, volunteer=me, reason=form.reason.data or "", actor=current_user,
                                 today=today())
        db.commit()
    except ReadingError as exc:
        db.rollback()
        for message in _messages(exc):
            flash(message, "error")
    else:
        flash(_("You have declined the session on %(day)s. The library will arrange another reader.",
                day=display_date(reading_session.session_on)), "success")
    return redirect(url_for("reading.my_sessions"))


@bp.route("/my/sessions/<int:session_id>/log", methods=["GET", "POST"])
@roles_required(Role.VOLUNTEER)
def my_log(session_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    me, reading_session = _my_session_or_404(session_id)
    view = services.volunteer_session_view(db, me.id, reading_session.id)
    patron = db.get(Patron, reading_session.patron_id)
    return _log(reading_session, url_for("reading.my_sessions"),
                patron_consents=bool(patron and patron.has_reading_history_consent),
                heading_context={"library_name": view.library_name if view else "",
                                 "back_url": url_for("reading.my_sessions")})


@bp.route("/my/availability")
@roles_required(Role.VOLUNTEER)
def my_availability():  # type: ignore[no-untyped-def]
    me = _me()
    if me is None:
        abort(404)
    return _volunteer_page(me, "reading/my_availability.html")


@bp.route("/my/availability", methods=["POST"])
@roles_required(Role.VOLUNTEER)
def my_availability_add():  # type: ignore[no-untyped-def]
    me = _me()
    if me is None:
        abort(404)
    return _add_availability(me, url_for("reading.my_availability"), "reading/my_availability.html")


@bp.route("/my/availability/<int:slot_id>/delete", methods=["POST"])
@roles_required(Role.VOLUNTEER)
def my_availability_delete(slot_id: int):  # type: ignore[no-untyped-def]
    me = _me()
    if me is None:
        abort(404)
    return _remove(me, services.remove_availability, slot_id, url_for("reading.my_availability"))


@bp.route("/my/absences", methods=["POST"])
@roles_required(Role.VOLUNTEER)
def my_absence_add():  # type: ignore[no-untyped-def]
    me = _me()
    if me is None:
        abort(404)
    return _add_absence(me, url_for("reading.my_availability"), "reading/my_availability.html")


@bp.route("/my/absences/<int:absence_id>/delete", methods=["POST"])
@roles_required(Role.VOLUNTEER)
def my_absence_delete(absence_id: int):  # type: ignore[no-untyped-def]
    me = _me()
    if me is None:
        abort(404)
    return _remove(me, services.remove_absence, absence_id, url_for("reading.my_availability"))
