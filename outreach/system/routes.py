"""Settings: the library's policy values (the chief's and the administrator's)."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from forms.auth import EmptyForm
from outreach.db import get_session
from outreach.errors import DomainError
from outreach.labels import label
from outreach.policy import DEFAULT_POLICY, Policy
from outreach.system import services
from outreach.types import Role
from outreach.web import roles_required, select_locale

bp = Blueprint("system", __name__, url_prefix="/settings")

# What each policy value means, for the people who set it. Values not listed here (extension of loans,
# deliveries per month) are fixed by how the system works (one run a month, no extension) and not offered.
DESCRIPTIONS = {
    "home_delivery_min_age": _l("Home delivery: minimum age for the elderly clause (years)"),
    "home_delivery_min_care_level": _l("Home delivery: lowest qualifying care level"),
    "home_delivery_excludes_visually_impaired": _l(
        "Home delivery: a patron with a visual impairment certificate is not covered by art. 2 (1), "
        "even with another certificate"),
    "home_delivery_approval_years": _l("Home delivery: years an approval runs (empty: no end)"),
    "home_delivery_items": _l("Home delivery: items per delivery (books, audio-visual, material types)"),
    "mail_loan_requires_library_card": _l("Mail loans: a library card is required"),
    "mail_loan_requires_city_residence": _l("Mail loans: only residents of the city (no for a prefecture-wide "
                                            "or national service)"),
    "mail_loan_rules_effective_on": _l("Mail loans: date the rules took effect (grandfathering)"),
    "mail_loan_grandfather_includes_effective_day": _l("Mail loans: patrons registered on that day are grandfathered"),
    "mail_loan_approval_years": _l("Mail loans: years a registration runs (empty: no end)"),
    "mail_loan_items": _l("Mail loans: items per loan (braille picture books, audio-visual)"),
    "face_to_face_requires_visual_certificate": _l("Face-to-face reading: a visual impairment certificate is required"),
    "face_to_face_requires_city_residence": _l("Face-to-face reading: city residence is required"),
    "face_to_face_approval_years": _l("Face-to-face reading: years a registration runs (empty: no end)"),
    "face_to_face_session_minutes": _l("Face-to-face reading: usual session length (minutes)"),
    "face_to_face_max_session_minutes": _l("Face-to-face reading: longest session allowed (minutes)"),
    "special_approval_services": _l("Services the chief may approve specially"),
    "renewal_notice_days": _l("Days before an approval ends that renewal work starts"),
    "renewal_deadline_days": _l("Renewal notice: days before an approval ends by which the patron should apply "
                                "(time for the chief to decide)"),
    "loan_period_months": _l("Loan period (months)"),
    "overdue_restriction": _l("No new shipment while items are overdue (rules art. 9-2)"),
    "year_end_closure_start": _l("Year-end closure starts (month, day)"),
    "year_end_closure_end": _l("Year-end closure ends (month, day)"),
    "weekly_closed_weekdays": _l("Weekly closed days (0 = Monday … 6 = Sunday)"),
    "monthly_closed_days": _l("Monthly closed days ([nth, weekday], e.g. [1, 3] = first Thursday)"),
    "holiday_shift": _l("When a weekly or monthly closed day falls on a national holiday, close instead on"),
    "branch_closed_weekdays": _l("Extra closed weekdays of branch rooms"),
    "stocktaking_closures": _l("Stock-taking closures ([[first day, last day], …])"),
    "stocktaking_max_days_per_year": _l("Most stock-taking days per fiscal year"),
    "special_closures": _l("Special closures ([[first day, last day], …])"),
    "special_openings": _l("Special openings on otherwise closed days ([day, …])"),
}


def _text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


# How each value is edited, from its declared type (Policy.value_type): a yes/no choice, a choice of
# words, a number, a number or nothing ("no end"), a date, or (lists and limits) the written form shown
# in the default column.
def _kind(key: str) -> str:
    declared = Policy.value_type(key)
    if isinstance(declared, type) and issubclass(declared, StrEnum):
        return "choice"
    return {bool: "bool", int: "int", int | None: "optional_int", date: "date"}.get(declared, "json")


def _shown(kind: str, value: object) -> str:
    """The value as its control shows it."""
    if kind == "bool":
        return "true" if value else "false"
    if kind in ("choice", "date"):
        return str(value)
    if kind in ("int", "optional_int"):
        return "" if value is None else str(value)
    return _text(value)


def _parsed(kind: str, raw: str) -> object:
    """The control's text as a policy value (raises ValueError). The written (JSON) form is accepted for
    every kind, so scripts that post JSON keep working."""
    if kind == "json" or raw in ("null", "true", "false") or raw.startswith('"'):
        return json.loads(raw)
    if kind == "bool":
        raise ValueError(raw)
    if kind in ("int", "optional_int"):
        if raw == "" and kind == "optional_int":
            return None
        return int(raw)
    return raw  # choice, date: checked by the policy itself


@bp.route("/policy", methods=["GET", "POST"])
@roles_required(Role.CHIEF, Role.ADMIN)
def policy():  # type: ignore[no-untyped-def]
    """Every rule value on one page; a change is validated as a whole and recorded in the audit trail."""
    db = get_session()
    current = services.current_policy(db).to_mapping()
    defaults = DEFAULT_POLICY.to_mapping()
    form = EmptyForm()
    kinds = {key: _kind(key) for key in DESCRIPTIONS}
    values = {key: _shown(kinds[key], value) for key, value in current.items() if key in DESCRIPTIONS}
    errors: dict[str, str] = {}
    general_error = ""
    if request.method == "POST" and form.validate_on_submit():
        changes = {}
        for key in values:
            raw = request.form.get(key, "").strip()
            values[key] = raw
            try:
                parsed = _parsed(kinds[key], raw)
            except ValueError:
                errors[key] = {
                    "int": _("Write a whole number."),
                    "optional_int": _("Write a whole number of years, or leave it empty for no end."),
                    "bool": _("Choose yes or no."),
                }.get(kinds[key], _("Write the value as shown in the default column (numbers, true/false, "
                                    "\"text\", [lists])."))
                continue
            if parsed != current[key]:
                changes[key] = parsed
        if not errors and changes:
            try:
                services.save_policy_values(db, changes, current_user)
                db.commit()
            except DomainError as exc:
                db.rollback()
                general_error = exc.message(select_locale())
            else:
                flash(_("The rules have been saved: %(count)d value(s) changed.", count=len(changes)), "success")
                return redirect(url_for("system.policy"))
        elif not errors:
            flash(_("Nothing was changed."), "success")
            return redirect(url_for("system.policy"))
    status = 400 if errors or general_error else 200
    shown_defaults = {}
    for key, kind in kinds.items():
        value = defaults[key]
        if kind == "bool":
            shown_defaults[key] = _("yes") if value else _("no")
        elif kind == "choice":
            shown_defaults[key] = str(label(Policy.value_type(key)(value)))
        elif kind == "optional_int" and value is None:
            shown_defaults[key] = _("no end")
        else:
            shown_defaults[key] = _shown(kind, value)
    choices = {key: [(m.value, str(label(m))) for m in Policy.value_type(key)] for key, kind in kinds.items()
               if kind == "choice"}
    return render_template("system/policy.html", form=form, values=values, defaults=shown_defaults, kinds=kinds,
                           choices=choices, descriptions=DESCRIPTIONS, errors=errors, general_error=general_error,
                           can_edit=True), status
