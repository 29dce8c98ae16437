"""The application page and the decision: who saw the evidence, and a decision's date."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from outreach.audit.models import AuditEvent
from outreach.enrolments import services
from outreach.enrolments.models import Application, Approval, IssuedLetter
from outreach.errors import DomainError
from outreach.types import ApplicationState, Channel, Service
from tests.conftest import login, post

RECEIVED = date(2026, 11, 10)


def _awaiting(db, users, patron):  # type: ignore[no-untyped-def]
    application = services.receive_application(db, patron, service=Service.HOME_DELIVERY, received_on=RECEIVED,
                                               channel=Channel.PHONE, proxy_id=None, note="",
                                               actor=users["librarian"], today=date(2026, 11, 21))
    services.submit_for_decision(db, application, users["librarian"])
    db.commit()
    return application


def _views(db, patron_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    return db.scalars(select(AuditEvent.actor_username).where(
        AuditEvent.action == "view", AuditEvent.entity_type == "patron", AuditEvent.entity_id == patron_id)
        .order_by(AuditEvent.id)).all()


def test_opening_an_application_records_who_saw_the_patrons_evidence(client, db, users, elderly_patron):
    application = _awaiting(db, users, elderly_patron)
    login(client, "librarian1")
    before = _views(db, elderly_patron.id)
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "要介護3" in page  # the page shows evidence (要配慮個人情報) ...
    db.expire_all()
    assert _views(db, elderly_patron.id) == [*before, "librarian1"]  # ... so the view is in the audit trail


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_decision_dated_before_the_application_was_received_is_refused(client, db, users, elderly_patron,
                                                                         decision):
    application = _awaiting(db, users, elderly_patron)
    login(client, "chief1")
    response = post(client, f"/applications/{application.id}/decide",
                    {"decision": decision, "decided_on": "2026-11-09", "special_reason": "",
                     "rejection_reason": "要件を満たしていません"}, form_url=f"/applications/{application.id}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    # The message is on the date field.
    assert '<p class="error" id="decided_on-error">決定日は申込の受付日より前にできません。</p>' in page
    db.expire_all()
    assert db.get(Application, application.id).state is ApplicationState.AWAITING_DECISION
    assert db.scalars(select(Approval)).all() == [] and db.scalars(select(IssuedLetter)).all() == []
    # English too.
    post(client, "/language", {"lang": "en"})
    response = post(client, f"/applications/{application.id}/decide",
                    {"decision": decision, "decided_on": "2026-11-09", "special_reason": "",
                     "rejection_reason": "x"}, form_url=f"/applications/{application.id}")
    assert "The decision cannot be dated before the application was received." in response.get_data(as_text=True)


def test_a_decision_on_the_day_received_is_allowed(client, db, users, elderly_patron):
    application = _awaiting(db, users, elderly_patron)
    login(client, "chief1")
    response = post(client, f"/applications/{application.id}/decide",
                    {"decision": "approve", "decided_on": RECEIVED.isoformat(), "special_reason": "",
                     "rejection_reason": ""}, form_url=f"/applications/{application.id}")
    assert response.status_code == 302
    assert db.scalars(select(Approval)).one().valid_from == RECEIVED


@pytest.mark.parametrize("decide", ["approve", "reject"])
def test_the_service_refuses_a_decision_before_receipt_too(db, users, elderly_patron, decide):
    application = _awaiting(db, users, elderly_patron)
    kwargs = {"reason": "理由"} if decide == "reject" else {}
    with pytest.raises(DomainError) as err:
        getattr(services, decide)(db, application, actor=users["chief"], decided_on=date(2026, 11, 9), **kwargs)
    assert err.value.code == "decision.before_received"
    assert "受付日より前" in err.value.message("ja") and "before the application was received" in err.value.message("en")
    db.rollback()
    db.expire_all()
    assert db.get(Application, application.id).state is ApplicationState.AWAITING_DECISION
