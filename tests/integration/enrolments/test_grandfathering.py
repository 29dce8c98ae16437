"""郵送要綱付則2: the chief records that a mail-loan patron was served before the rules took effect."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from outreach.audit.models import AuditEvent
from outreach.enrolments import services
from outreach.enrolments.models import Application, Approval, IssuedLetter
from outreach.errors import DomainError
from outreach.types import ApplicationState, Channel, Service
from tests.conftest import login, post

RECEIVED = date(2026, 11, 10)


@pytest.fixture()
def long_time_patron(db, users, make_patron):  # type: ignore[no-untyped-def]
    """A mail-loan reader since 2019 with no visual-impairment certificate on record: only 付則2 covers them."""
    return make_patron("3000000030", name="昔 から子", name_kana="ムカシ カラコ", birth_date=date(1940, 5, 5))


@pytest.fixture()
def application(db, users, long_time_patron):  # type: ignore[no-untyped-def]
    application = services.receive_application(db, long_time_patron, service=Service.MAIL_LOAN, received_on=RECEIVED,
                                               channel=Channel.MAIL, proxy_id=None, note="",
                                               actor=users["librarian"], today=date(2026, 11, 21))
    services.submit_for_decision(db, application, users["librarian"])
    db.commit()
    return application


def _record(client, application, value: str):  # type: ignore[no-untyped-def]
    return post(client, f"/applications/{application.id}/first-registration", {"first_registered_on": value},
                form_url=f"/applications/{application.id}")


def _pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).replace(" ", "")


def test_without_the_record_the_patron_cannot_be_approved(db, users, application):
    with pytest.raises(DomainError) as err:
        services.approve(db, application, actor=users["chief"], decided_on=date(2026, 11, 20))
    assert err.value.code == "decision.not_eligible"


def test_the_chief_records_the_first_registration_and_approves_under_the_transitional_clause(
        client, db, users, application, long_time_patron):
    login(client, "chief1")
    response = _record(client, application, "2019-06-01")
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Application, application.id).first_registered_on == date(2019, 6, 1)
    audit = db.scalars(select(AuditEvent).where(AuditEvent.action == "update", AuditEvent.entity_type == "application",
                                                AuditEvent.entity_id == long_time_patron.id)).one()
    assert audit.actor_username == "chief1" and audit.fields == "first_registered_on"
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "令和元年6月1日から利用登録されています" in page and "要件を満たしています" in page

    response = post(client, f"/applications/{application.id}/decide",
                    {"decision": "approve", "decided_on": "2026-11-20", "special_reason": "", "rejection_reason": ""},
                    form_url=f"/applications/{application.id}")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    approval = db.scalars(select(Approval).where(Approval.patron_id == long_time_patron.id)).one()
    assert approval.basis == "mail_loan.grandfathered" and not approval.is_special
    letter = db.scalars(select(IssuedLetter).where(IssuedLetter.approval_id == approval.id)).one()
    text = _pdf_text(letter.pdf)
    assert "登録の根拠" in text and "付則第２項" in text and "令和元年6月1日からご利用" in text
    assert "経過措置" in client.get(f"/patrons/{long_time_patron.id}").get_data(as_text=True)
    # The daily review knows the clause too: no flag the next morning.
    assert services.check_for_review(db, [long_time_patron.id], date(2026, 11, 21)) == 0


def test_the_effective_day_itself_counts_under_the_default_policy(client, db, users, application):
    login(client, "chief1")
    assert _record(client, application, "2021-04-01").status_code == 302


@pytest.mark.parametrize(("value", "message"), [
    ("2021-04-02", "経過措置の対象は令和3年4月1日以前から利用している方です。"),
    ("2099-01-01", "未来"),
])
def test_a_registration_after_the_effective_date_or_in_the_future_is_refused(client, db, users, application,
                                                                              value, message):
    login(client, "chief1")
    response = _record(client, application, value)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = page[page.index('id="first_registered_on-error"'):]
    assert message in error[:300]
    db.expire_all()
    assert db.get(Application, application.id).first_registered_on is None
    assert db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "application",
                                               AuditEvent.action == "update")).all() == []


def test_the_refusal_is_in_english_too(client, db, users, application):
    login(client, "chief1")
    post(client, "/language", {"lang": "en"})
    page = _record(client, application, "2022-01-01").get_data(as_text=True)
    assert "The transitional right covers patrons registered on or before 2021-04-01." in page


def test_only_the_chief_records_it(client, db, users, application):
    login(client, "librarian1")
    assert _record(client, application, "2019-06-01").status_code == 403
    with pytest.raises(DomainError) as err:
        services.record_first_registration(db, application, first_registered_on=date(2019, 6, 1),
                                           actor=users["librarian"], today=date(2026, 11, 21))
    assert err.value.code == "first_registration.chief_only"


def test_the_service_refuses_other_services_a_future_date_and_decided_applications(db, users, elderly_patron,
                                                                                   application):
    chief = users["chief"]
    with pytest.raises(DomainError) as err:
        services.record_first_registration(db, application, first_registered_on=date(2026, 11, 22), actor=chief,
                                           today=date(2026, 11, 21))
    assert err.value.code == "first_registration.in_future"
    home = services.receive_application(db, elderly_patron, service=Service.HOME_DELIVERY, received_on=RECEIVED,
                                        channel=Channel.PHONE, proxy_id=None, note="", actor=users["librarian"],
                                        today=date(2026, 11, 21))
    with pytest.raises(DomainError) as err:
        services.record_first_registration(db, home, first_registered_on=date(2019, 6, 1), actor=chief,
                                           today=date(2026, 11, 21))
    assert err.value.code == "first_registration.mail_loans_only"
    services.withdraw(db, application, users["librarian"])
    assert application.state is ApplicationState.WITHDRAWN
    with pytest.raises(DomainError) as err:
        services.record_first_registration(db, application, first_registered_on=date(2019, 6, 1), actor=chief,
                                           today=date(2026, 11, 21))
    assert err.value.code == "decision.already_decided"
