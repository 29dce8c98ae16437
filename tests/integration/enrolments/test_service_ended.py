"""Ending a service: no notice by default when the patron has died, and then only to their proxy."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from outreach.enrolments import services
from outreach.enrolments.models import Approval, IssuedLetter
from outreach.patrons import services as patron_services
from outreach.types import ApprovalStatus, Channel, Service
from tests.conftest import login, post


@pytest.fixture()
def approval(db, users, elderly_patron):  # type: ignore[no-untyped-def]
    decided = date(2026, 11, 20)
    application = services.receive_application(db, elderly_patron, service=Service.HOME_DELIVERY, received_on=decided,
                                               channel=Channel.COUNTER, proxy_id=None, note="",
                                               actor=users["librarian"], today=decided)
    services.submit_for_decision(db, application, users["librarian"])
    approval = services.approve(db, application, actor=users["chief"], decided_on=decided)
    db.commit()
    return approval


def _end(client, approval, reason: str, send_letter: bool = True):  # type: ignore[no-untyped-def]
    data = {"reason": reason, "ended_on": "2026-11-30", "note": ""}
    if send_letter:
        data["send_letter"] = "y"
    return post(client, f"/approvals/{approval.id}/end", data, form_url=f"/approvals/{approval.id}/end")


def _checkbox(page: str) -> str:
    return re.search(r'<input[^>]*id="send_letter"[^>]*>', page).group(0)


def _text(letter: IssuedLetter) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(letter.pdf)).pages).replace(" ", "")


def test_the_notice_is_ticked_by_default_but_not_for_a_patron_who_has_died(client, users, approval):
    login(client, "librarian1")
    assert "checked" in _checkbox(client.get(f"/approvals/{approval.id}/end").get_data(as_text=True))
    page = client.get(f"/approvals/{approval.id}/end?reason=deceased").get_data(as_text=True)
    assert "checked" not in _checkbox(page)
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "<" not in title and page.count("approval_end.js") == 1  # the script once, in the body
    assert re.search(r'<option[^>]*selected[^>]*value="deceased"|<option[^>]*value="deceased"[^>]*selected', page)


def test_a_notice_for_a_patron_who_has_died_without_a_proxy_is_refused_and_nothing_ends(client, db, users, approval):
    login(client, "librarian1")
    response = _end(client, approval, "deceased")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = page[page.index('id="send_letter-error"'):][:400]
    assert "亡くなった方には終了のお知らせを送れません" in error
    db.expire_all()
    assert db.get(Approval, approval.id).status is ApprovalStatus.ACTIVE
    assert db.scalars(select(IssuedLetter)).all() == []
    post(client, "/language", {"lang": "en"})
    assert "cannot go to a patron who has died" in _end(client, approval, "deceased").get_data(as_text=True)


def test_without_a_notice_the_service_of_a_patron_who_has_died_ends(client, db, users, approval):
    login(client, "librarian1")
    assert _end(client, approval, "deceased", send_letter=False).status_code == 302
    db.expire_all()
    assert db.get(Approval, approval.id).status is ApprovalStatus.ENDED
    assert db.scalars(select(IssuedLetter)).all() == []


def test_a_notice_for_a_patron_who_has_died_goes_to_the_proxy_by_name(client, db, users, elderly_patron, approval):
    elderly_patron.needs_large_print = True
    patron_services.add_proxy(db, elderly_patron, actor=users["librarian"], data={
        "name": "宅配 一郎", "relation": "family", "postal_code": "6620001", "address": "西宮市甲山町1-2"})
    db.commit()
    login(client, "librarian1")
    assert _end(client, approval, "deceased").status_code == 302
    letter = db.scalars(select(IssuedLetter)).one()
    text = _text(letter)
    assert "宅配一郎\u3000様" in text or "宅配一郎様" in text
    assert "様方" not in text and "宅配花子\u3000様" not in text
    assert "宅配花子様の宅配サービスの利用について" in text and "ご逝去" in text
    assert "改めてお申し込みください" not in text
    assert not letter.is_large_print  # large print is the patron's need, not the proxy's


def test_the_reason_is_written_in_japanese_whatever_the_screen_language(client, db, users, approval):
    login(client, "librarian1")
    post(client, "/language", {"lang": "en"})
    assert _end(client, approval, "moved_away").status_code == 302
    text = _text(db.scalars(select(IssuedLetter)).one())
    assert "市外への転出" in text and "Moved" not in text
