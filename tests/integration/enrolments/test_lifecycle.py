"""Evidence refusals, expiry and the daily job, review flags, ending a service, the case log, letters."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from outreach.enrolments import services
from outreach.enrolments.jobs import run_daily
from outreach.enrolments.models import (
    Approval,
    CareCertification,
    DisabilityCertificate,
    IssuedLetter,
    ReviewFlag,
)
from outreach.errors import DomainError
from outreach.system.models import JobRun
from outreach.types import ApprovalStatus, CaseNoteKind, Channel, EndReason, Service
from tests.conftest import login, post


def _approve(db, users, patron, decided_on=date(2026, 11, 20), service=Service.HOME_DELIVERY):  # type: ignore[no-untyped-def]
    application = services.receive_application(db, patron, service=service, received_on=decided_on,
                                               channel=Channel.COUNTER, proxy_id=None, note="",
                                               actor=users["librarian"], today=decided_on)
    services.submit_for_decision(db, application, users["librarian"])
    approval = services.approve(db, application, actor=users["chief"], decided_on=decided_on)
    db.commit()
    return approval


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize(("field_values", "message"), [
    ({"valid_from": "2026-04-01", "valid_until": "2026-03-31"}, "有効期間の終わりが始まりより前"),
    ({"seen_on": "2099-01-01"}, "未来の日付"),
])
def test_bad_care_certification_is_refused(client, db, users, make_patron, field_values, message):
    patron = make_patron()
    login(client, "librarian1")
    data = {"level": "care_3", "valid_from": "2026-04-01", "valid_until": "2027-03-31",
            "document_seen": "被保険者証", "seen_on": "2026-11-01", **field_values}
    response = post(client, f"/patrons/{patron.id}/evidence/care/new", data,
                    form_url=f"/patrons/{patron.id}/evidence/care/new")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(db, CareCertification) == 0


@pytest.mark.parametrize(("field_values", "message"), [
    ({"issued_on": "2099-01-01"}, "未来の日付"),
    ({"category": ""}, "障害の種別を選んでください"),
    ({"valid_until": "2000-01-01"}, "有効期限が交付日より前"),
])
def test_bad_certificate_is_refused(client, db, users, make_patron, field_values, message):
    patron = make_patron()
    login(client, "librarian1")
    data = {"kind": "physical", "category": "limb", "grade": "2級", "number": "", "issued_on": "2015-01-01",
            "valid_until": "", "document_seen": "手帳原本", "seen_on": "2026-11-01", **field_values}
    response = post(client, f"/patrons/{patron.id}/evidence/certificate/new", data,
                    form_url=f"/patrons/{patron.id}/evidence/certificate/new")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(db, DisabilityCertificate) == 0


def test_certificate_dated_in_the_future_is_refused_by_the_service_too(db, users, make_patron):
    patron = make_patron()
    with pytest.raises(DomainError):
        services.add_certificate(db, patron, actor=users["librarian"], today=date(2026, 11, 21), data=dict(
            kind="intellectual", issued_on=date(2026, 11, 22), valid_until=None, document_seen="x",
            seen_on=date(2026, 11, 21)))


def test_evidence_is_shown_to_case_staff_and_records_who_saw_it(client, db, users, elderly_patron):
    login(client, "librarian1")
    page = client.get(f"/patrons/{elderly_patron.id}").get_data(as_text=True)
    assert "要介護3" in page and "介護保険被保険者証" in page
    certification = db.scalars(select(CareCertification)).one()
    assert certification.seen_by_id == users["librarian"].id


def test_admin_does_not_see_patron_records(client, users, elderly_patron):
    login(client, "admin1")
    assert client.get(f"/patrons/{elderly_patron.id}").status_code == 403


def test_daily_job_expires_approvals_and_is_idempotent(db, users, elderly_patron):
    approval = _approve(db, users, elderly_patron, decided_on=date(2023, 11, 20))
    assert approval.valid_until == date(2026, 11, 19)
    first = run_daily(db, date(2026, 11, 21))
    db.commit()
    assert first.ran and first.expired == 1
    db.expire_all()
    assert db.get(Approval, approval.id).status is ApprovalStatus.EXPIRED
    assert [w.record_id for w in services.expired_without_renewal(db, date(2026, 11, 21))] == [approval.id]
    events_before = _count(db, ReviewFlag), _count(db, JobRun)
    again = run_daily(db, date(2026, 11, 21))
    db.commit()
    assert not again.ran
    assert (_count(db, ReviewFlag), _count(db, JobRun)) == events_before
    # No shipments: nothing in force any more.
    assert services.active_approval(db, elderly_patron.id, Service.HOME_DELIVERY, date(2026, 11, 21)) is None
    assert services.active_approval(db, elderly_patron.id, Service.HOME_DELIVERY, date(2026, 11, 19)) is not None


def test_moving_away_flags_the_patron_for_review(client, db, users, elderly_patron):
    _approve(db, users, elderly_patron)
    login(client, "librarian1")
    form = {"card_number": elderly_patron.card_number, "name": elderly_patron.name, "name_kana": elderly_patron.name_kana,
            "birth_date": "1950-04-02", "postal_code": "660-0881", "prefecture": "兵庫県", "city": "尼崎市",
            "town": "昭和通", "block": "1", "contact_preference": "phone"}
    response = post(client, f"/patrons/{elderly_patron.id}/edit", form, form_url=f"/patrons/{elderly_patron.id}/edit")
    assert response.status_code == 302
    flag = db.scalars(select(ReviewFlag)).one()
    assert "lives_in_city" in flag.reason_codes
    page = client.get(f"/patrons/{elderly_patron.id}").get_data(as_text=True)
    assert "再確認が必要です" in page
    dashboard = client.get("/").get_data(as_text=True)
    assert elderly_patron.name in dashboard
    # The daily job does not flag the same approval twice.
    run_daily(db, date(2026, 11, 22))
    assert _count(db, ReviewFlag) == 1


def test_ending_a_service_records_reason_and_date_and_issues_a_notice(client, db, users, elderly_patron):
    approval = _approve(db, users, elderly_patron)
    login(client, "librarian1")
    response = post(client, f"/approvals/{approval.id}/end",
                    {"reason": "entered_facility", "ended_on": "2026-11-30", "note": "", "send_letter": "y"},
                    form_url=f"/approvals/{approval.id}/end")
    assert response.status_code == 302
    db.expire_all()
    ended = db.get(Approval, approval.id)
    assert ended.status is ApprovalStatus.ENDED and ended.end_reason is EndReason.ENTERED_FACILITY
    assert ended.ended_on == date(2026, 11, 30)
    assert services.active_approval(db, elderly_patron.id, Service.HOME_DELIVERY, date(2026, 12, 1)) is None
    letter = db.scalars(select(IssuedLetter).where(IssuedLetter.kind == "service_ended")).one()
    assert letter.approval_id == approval.id
    with pytest.raises(DomainError):
        services.end_approval(db, ended, reason=EndReason.WITHDREW, ended_on=date(2026, 12, 1), note="",
                              actor=users["librarian"])


def test_case_log_planned_visit_on_dashboard_until_done(client, db, users, elderly_patron):
    with pytest.raises(DomainError):
        services.add_case_note(db, elderly_patron, kind=CaseNoteKind.HOME_VISIT, occurs_on=date(2026, 11, 1),
                               is_planned=True, note="", actor=users["librarian"], today=date(2026, 11, 21))
    note = services.add_case_note(db, elderly_patron, kind=CaseNoteKind.READING_CONSULTATION,
                                  occurs_on=date(2026, 12, 3), is_planned=True, note="時代小説の相談",
                                  actor=users["librarian"], today=date(2026, 11, 21))
    db.commit()
    assert [v.record_id for v in services.planned_visits(db, date(2026, 11, 21))] == [note.id]
    services.complete_planned(db, note, done_on=date(2026, 11, 21), note="大活字本を希望", actor=users["librarian"],
                              today=date(2026, 11, 21))
    db.commit()
    assert services.planned_visits(db, date(2026, 11, 21)) == []
    assert "大活字本を希望" in note.note


def test_large_print_letter_for_patrons_who_need_it(db, users, app, make_patron, elderly_patron):
    from outreach.correspondence import services as letters
    from outreach.system.services import current_policy
    from outreach.types import LetterKind

    elderly_patron.needs_large_print = True
    db.commit()
    approval = _approve(db, users, elderly_patron)
    letter = letters.issue_letter(db, patron=elderly_patron, kind=LetterKind.APPROVAL, service=Service.HOME_DELIVERY,
                                  on=date(2026, 11, 20), actor=users["chief"], valid_from=approval.valid_from,
                                  valid_until=approval.valid_until, library=letters.library_from_config(app.config),
                                  number_prefix="西図読", policy=current_policy(db))
    assert letter.is_large_print
    sizes = set()

    def visitor(text, cm, tm, font_dict, font_size):  # type: ignore[no-untyped-def]
        if text.strip():
            sizes.add(round(font_size * tm[0], 1))

    for page in PdfReader(io.BytesIO(letter.pdf)).pages:
        page.extract_text(visitor_text=visitor)
    assert min(sizes) >= 18


def test_document_numbers_count_up_within_the_fiscal_year(db, users, app, elderly_patron, visual_patron):
    from outreach.correspondence import services as letters

    assert letters.next_serial(db, 2026) == 1
    _approve(db, users, visual_patron, service=Service.MAIL_LOAN)
    from outreach.system.services import current_policy
    from outreach.types import LetterKind

    kwargs = dict(library=letters.library_from_config(app.config), number_prefix="西図読", policy=current_policy(db))
    one = letters.issue_letter(db, patron=visual_patron, kind=LetterKind.APPROVAL, service=Service.MAIL_LOAN,
                               on=date(2026, 11, 20), actor=users["chief"], valid_from=date(2026, 11, 20), **kwargs)
    two = letters.issue_letter(db, patron=elderly_patron, kind=LetterKind.REJECTION, service=Service.HOME_DELIVERY,
                               on=date(2026, 11, 21), actor=users["chief"], rejection_reason="x", **kwargs)
    april = letters.issue_letter(db, patron=elderly_patron, kind=LetterKind.REJECTION, service=Service.HOME_DELIVERY,
                                 on=date(2027, 4, 1), actor=users["chief"], rejection_reason="y", **kwargs)
    assert (one.document_number, two.document_number, april.document_number) == ("西図読第1号", "西図読第2号", "西図読第1号")


def test_blank_and_prefilled_application_forms(client, users, elderly_patron):
    login(client, "librarian1")
    blank = client.get("/application-form.pdf?service=home_delivery")
    assert blank.status_code == 200 and blank.mimetype == "application/pdf"
    filled = client.get(f"/application-form.pdf?service=home_delivery&patron_id={elderly_patron.id}")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(filled.data)).pages).replace(" ", "")
    assert "宅配花子" in text and "タクハイハナコ" in text
    assert "宅配花子" not in "".join(p.extract_text() for p in PdfReader(io.BytesIO(blank.data)).pages)


def test_a_second_approval_over_the_same_period_is_refused(db, users, elderly_patron):
    first = _approve(db, users, elderly_patron, decided_on=date(2026, 11, 20))
    # An application slipped through as new (not a renewal) while the first approval is in force.
    from outreach.enrolments.models import Application
    from outreach.types import ApplicationState

    stray = Application(patron_id=elderly_patron.id, service=Service.HOME_DELIVERY, received_on=date(2026, 11, 21),
                        channel=Channel.PHONE, state=ApplicationState.AWAITING_DECISION)
    db.add(stray)
    db.commit()
    with pytest.raises(DomainError) as err:
        services.approve(db, stray, actor=users["chief"], decided_on=date(2026, 11, 21))
    assert err.value.code == "decision.overlap"
    db.rollback()
    assert db.scalars(select(Approval).where(Approval.patron_id == elderly_patron.id)).all() == [first]


def test_special_approval_is_refused_where_the_policy_has_none(db, users, make_patron):
    patron = make_patron("3000000009", birth_date=date(1990, 1, 1))
    application = services.receive_application(db, patron, service=Service.MAIL_LOAN, received_on=date(2026, 11, 20),
                                               channel=Channel.PHONE, proxy_id=None, note="",
                                               actor=users["librarian"], today=date(2026, 11, 21))
    services.submit_for_decision(db, application, users["librarian"])
    db.commit()
    with pytest.raises(DomainError) as err:
        services.approve(db, application, actor=users["chief"], decided_on=date(2026, 11, 21),
                         special_reason="読書に困難があるため")
    assert err.value.code == "decision.special_not_allowed"


def test_an_end_date_before_the_approval_began_is_refused(db, users, elderly_patron):
    approval = _approve(db, users, elderly_patron, decided_on=date(2026, 11, 20))
    with pytest.raises(DomainError) as err:
        services.end_approval(db, approval, reason=EndReason.WITHDREW, ended_on=date(2026, 1, 1), note="",
                              actor=users["librarian"])
    assert err.value.code == "approval.end_before_start"
    db.rollback()
    db.expire_all()
    assert db.get(Approval, approval.id).status is ApprovalStatus.ACTIVE


def test_machine_readable_dates_stay_iso_in_the_japanese_ui(client, users, elderly_patron):
    import re

    login(client, "librarian1")
    page = client.get(f"/patrons/{elderly_patron.id}").get_data(as_text=True)
    stamps = re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', page)
    assert stamps, "the page shows dates"
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso) and shown.startswith(("令和", "平成", "昭和"))
               for iso, shown in stamps)
