"""From application to decision and letter; the refusals that keep the records right."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from outreach.enrolments import services
from outreach.enrolments.models import Application, ApplicationEvent, Approval, IssuedLetter
from outreach.errors import DomainError
from outreach.types import ApplicationState, Channel, DifficultyBasis, Service
from tests.conftest import login, post


def _pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).replace(" ", "")


def _receive(db, patron, librarian, service=Service.HOME_DELIVERY, received_on=date(2026, 11, 2)):  # type: ignore[no-untyped-def]
    application = services.receive_application(db, patron, service=service, received_on=received_on,
                                               channel=Channel.PHONE, proxy_id=None, note="", actor=librarian,
                                               today=date(2026, 11, 21))
    db.commit()
    return application


def _awaiting(db, patron, librarian, **kw):  # type: ignore[no-untyped-def]
    application = _receive(db, patron, librarian, **kw)
    services.submit_for_decision(db, application, librarian)
    db.commit()
    return application


def test_librarian_takes_an_application_and_the_chief_approves_it_on_screen(client, app, db, users, elderly_patron):
    login(client, "librarian1")
    response = post(client, f"/patrons/{elderly_patron.id}/applications/new",
                    {"service": "home_delivery", "received_on": "2026-11-02", "channel": "phone", "proxy_id": "",
                     "note": ""}, form_url=f"/patrons/{elderly_patron.id}/applications/new")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    application = db.scalars(select(Application)).one()
    post(client, f"/applications/{application.id}/submit", {"note": ""}, form_url=f"/applications/{application.id}")

    chief = app.test_client()
    login(chief, "chief1")
    page = chief.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "The rules are met" in page or "要件を満たしています" in page or "満たして" in page
    response = post(chief, f"/applications/{application.id}/decide",
                    {"decision": "approve", "decided_on": "2026-11-20", "special_reason": "", "rejection_reason": ""},
                    form_url=f"/applications/{application.id}")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]

    approval = db.scalars(select(Approval)).one()
    # Three years from the decision, to the day before the same date.
    assert (approval.valid_from, approval.valid_until) == (date(2026, 11, 20), date(2029, 11, 19))
    assert approval.basis == "home_delivery.elderly_care" and not approval.is_special
    # The decided application names the clause in words, never the stored code.
    decided = chief.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "home_delivery.elderly_care" not in decided
    assert decided.count("第2条(2)") + decided.count("art. 2 (2)") >= 2  # the approval and the rules' view
    states = db.scalars(select(ApplicationEvent.to_state).order_by(ApplicationEvent.id)).all()
    assert states == [ApplicationState.RECEIVED, ApplicationState.AWAITING_DECISION, ApplicationState.APPROVED]

    letter = db.scalars(select(IssuedLetter)).one()
    text = _pdf_text(letter.pdf)
    assert "宅配花子" in text and "令和8年11月20日" in text and "令和11年11月19日" in text
    assert letter.document_number in text and letter.document_number.startswith("西図読第")
    # The letter can be downloaded again exactly as issued.
    download = chief.get(f"/letters/{letter.id}.pdf")
    assert download.status_code == 200 and download.data == letter.pdf
    download.headers["Content-Disposition"].encode("latin-1")  # what a real server must be able to send


def test_only_the_chief_decides(client, db, users, elderly_patron):
    application = _awaiting(db, elderly_patron, users["librarian"])
    login(client, "librarian1")
    response = post(client, f"/applications/{application.id}/decide", {"decision": "approve", "decided_on": "2026-11-20"},
                    form_url=f"/applications/{application.id}")
    assert response.status_code == 403
    with pytest.raises(DomainError) as err:
        services.approve(db, application, actor=users["librarian"], decided_on=date(2026, 11, 20))
    assert err.value.code == "decision.chief_only"
    with pytest.raises(DomainError):
        services.approve(db, application, actor=None, decided_on=date(2026, 11, 20))  # type: ignore[arg-type]
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Approval)) == 0


def test_rejection_needs_a_reason_and_the_letter_states_it(client, db, users, elderly_patron):
    application = _awaiting(db, elderly_patron, users["librarian"])
    login(client, "chief1")
    response = post(client, f"/applications/{application.id}/decide",
                    {"decision": "reject", "decided_on": "2026-11-20", "rejection_reason": ""},
                    form_url=f"/applications/{application.id}")
    assert response.status_code == 400
    assert "理由" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Application, application.id).state is ApplicationState.AWAITING_DECISION

    response = post(client, f"/applications/{application.id}/decide",
                    {"decision": "reject", "decided_on": "2026-11-20", "rejection_reason": "市外に転出予定のため"},
                    form_url=f"/applications/{application.id}")
    assert response.status_code == 302
    letter = db.scalars(select(IssuedLetter)).one()
    assert "市外に転出予定のため" in _pdf_text(letter.pdf)


def test_a_decided_application_cannot_be_decided_again(db, users, elderly_patron):
    application = _awaiting(db, elderly_patron, users["librarian"])
    services.approve(db, application, actor=users["chief"], decided_on=date(2026, 11, 20))
    db.commit()
    with pytest.raises(DomainError) as err:
        services.reject(db, application, actor=users["chief"], decided_on=date(2026, 11, 21), reason="x")
    assert err.value.code == "decision.already_decided"
    assert "決定済み" in err.value.message("ja")


def test_an_invalid_transition_is_refused_with_a_message(db, users, elderly_patron):
    application = _awaiting(db, elderly_patron, users["librarian"])
    services.approve(db, application, actor=users["chief"], decided_on=date(2026, 11, 20))
    db.commit()
    with pytest.raises(DomainError) as err:
        services.withdraw(db, application, users["librarian"])
    assert "取下げ" in err.value.message("ja")


def test_patron_outside_the_rules_needs_a_special_approval_with_a_reason(client, db, users, make_patron):
    patron = make_patron(birth_date=date(1990, 1, 1))  # young, no certificate: not covered
    services.record_visit_difficulty(db, patron, actor=users["librarian"], today=date(2026, 11, 1), data=dict(
        is_difficult=True, basis=DifficultyBasis.HOME_VISIT, assessed_on=date(2026, 11, 1)))
    application = _awaiting(db, patron, users["librarian"])
    with pytest.raises(DomainError) as err:
        services.approve(db, application, actor=users["chief"], decided_on=date(2026, 11, 20))
    assert err.value.code == "decision.not_eligible"
    db.rollback()
    login(client, "chief1")
    response = post(client, f"/applications/{application.id}/decide",
                    {"decision": "approve", "decided_on": "2026-11-20", "special_reason": ""},
                    form_url=f"/applications/{application.id}")
    assert response.status_code == 400
    assert db.scalar(select(func.count()).select_from(Approval)) == 0

    response = post(client, f"/applications/{application.id}/decide",
                    {"decision": "approve", "decided_on": "2026-11-20",
                     "special_reason": "難病により外出が困難なため（主治医意見書を確認）"},
                    form_url=f"/applications/{application.id}")
    assert response.status_code == 302, response.get_data(as_text=True)[response.get_data(as_text=True).find("error-summary"):][:800]
    approval = db.scalars(select(Approval)).one()
    assert approval.is_special and "難病" in approval.special_reason
    page = client.get(f"/patrons/{patron.id}").get_data(as_text=True)
    assert "特別承認" in page


def test_mail_loan_registration_has_no_end(db, users, visual_patron):
    application = _awaiting(db, visual_patron, users["librarian"], service=Service.MAIL_LOAN)
    approval = services.approve(db, application, actor=users["chief"], decided_on=date(2026, 11, 20))
    assert approval.valid_until is None and approval.basis == "mail_loan.visual"


def test_visually_impaired_patron_is_not_approved_for_home_delivery(db, users, visual_patron):
    application = _awaiting(db, visual_patron, users["librarian"])
    with pytest.raises(DomainError):
        services.approve(db, application, actor=users["chief"], decided_on=date(2026, 11, 20))


def test_one_open_application_per_service(db, users, elderly_patron):
    _receive(db, elderly_patron, users["librarian"])
    with pytest.raises(DomainError) as err:
        _receive(db, elderly_patron, users["librarian"])
    assert err.value.code == "application.already_open"


def test_received_date_in_the_future_is_refused(client, db, users, elderly_patron):
    login(client, "librarian1")
    response = post(client, f"/patrons/{elderly_patron.id}/applications/new",
                    {"service": "home_delivery", "received_on": "2099-01-01", "channel": "phone", "proxy_id": ""},
                    form_url=f"/patrons/{elderly_patron.id}/applications/new")
    assert response.status_code == 400
    assert db.scalar(select(func.count()).select_from(Application)) == 0


def test_renewal_continues_without_a_gap(db, users, elderly_patron):
    first = _awaiting(db, elderly_patron, users["librarian"], received_on=date(2023, 12, 1))
    old = services.approve(db, first, actor=users["chief"], decided_on=date(2023, 12, 10))
    db.commit()
    assert old.valid_until == date(2026, 12, 9)
    # Within the lead time it is on the renewal work list.
    assert [w.record_id for w in services.ending_soon(db, date(2026, 11, 21))] == [old.id]
    renewal = _awaiting(db, elderly_patron, users["librarian"], received_on=date(2026, 11, 15))
    assert renewal.is_renewal
    assert services.ending_soon(db, date(2026, 11, 21)) == []  # a renewal is under way
    new = services.approve(db, renewal, actor=users["chief"], decided_on=date(2026, 11, 20))
    assert (new.valid_from, new.valid_until) == (date(2026, 12, 10), date(2029, 12, 9))
    assert new.previous_approval_id == old.id
