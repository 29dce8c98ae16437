"""The renewal notice asks for the application in time for the chief to decide before the approval lapses."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader
from sqlalchemy import select

from outreach.enrolments import services
from outreach.enrolments.models import IssuedLetter
from outreach.system.services import save_policy_values
from outreach.types import Channel, Service
from tests.conftest import login, post


def _approval(db, users, patron):  # type: ignore[no-untyped-def]
    decided = date(2023, 11, 20)
    application = services.receive_application(db, patron, service=Service.HOME_DELIVERY, received_on=decided,
                                               channel=Channel.COUNTER, proxy_id=None, note="",
                                               actor=users["librarian"], today=decided)
    services.submit_for_decision(db, application, users["librarian"])
    approval = services.approve(db, application, actor=users["chief"], decided_on=decided)
    db.commit()
    return approval


def _notice_text(client, db, approval) -> str:  # type: ignore[no-untyped-def]
    response = post(client, f"/approvals/{approval.id}/renewal-notice", {}, form_url=f"/patrons/{approval.patron_id}")
    assert response.status_code == 302
    letter = db.scalars(select(IssuedLetter).where(IssuedLetter.kind == "renewal_notice")
                        .order_by(IssuedLetter.id.desc())).first()
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(letter.pdf)).pages).replace(" ", "")


def test_the_deadline_comes_before_the_approval_ends(client, db, users, elderly_patron, monkeypatch):
    approval = _approval(db, users, elderly_patron)
    assert approval.valid_until == date(2026, 11, 19)
    monkeypatch.setattr("outreach.enrolments.routes.today", lambda: date(2026, 9, 25))
    login(client, "librarian1")
    text = _notice_text(client, db, approval)
    assert "更新の申込期限令和8年10月20日" in text
    assert "現在の承認期間令和5年11月20日から令和8年11月19日まで" in text


def test_the_chief_sets_the_number_of_days(client, db, users, elderly_patron, monkeypatch):
    approval = _approval(db, users, elderly_patron)
    save_policy_values(db, {"renewal_deadline_days": 45}, users["chief"])
    db.commit()
    monkeypatch.setattr("outreach.enrolments.routes.today", lambda: date(2026, 9, 25))
    login(client, "librarian1")
    assert "更新の申込期限令和8年10月4日" in _notice_text(client, db, approval)
