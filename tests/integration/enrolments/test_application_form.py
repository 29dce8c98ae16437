"""The prefilled application form (様式第1号) carries the proxy's details."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from outreach.patrons import services as patron_services
from tests.conftest import login


def _text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).replace(" ", "")


@pytest.mark.parametrize("service", ["home_delivery", "mail_loan"])
def test_the_prefilled_form_names_the_proxy_with_relation_and_address(client, db, users, elderly_patron, service):
    # A proxy with an address and no phone, who does not receive the letters: still the patron's proxy.
    patron_services.add_proxy(db, elderly_patron, actor=users["librarian"], data={
        "name": "宅配 一郎", "relation": "family", "postal_code": "6620001", "address": "西宮市甲山町1-2",
        "receives_letters": False})
    db.commit()
    login(client, "librarian1")
    text = _text(client.get(f"/application-form.pdf?service={service}&patron_id={elderly_patron.id}").data)
    assert "宅配一郎（家族）" in text and "（）" not in text
    assert "〒662-0001西宮市甲山町1-2" in text


def test_a_care_manager_is_named_with_the_office(client, db, users, elderly_patron):
    patron_services.add_proxy(db, elderly_patron, actor=users["librarian"], data={
        "name": "介護 三郎", "relation": "care_manager", "organisation": "甲山ケアプランセンター",
        "phone": "0798-00-1111", "receives_letters": True})
    db.commit()
    login(client, "librarian1")
    text = _text(client.get(f"/application-form.pdf?service=home_delivery&patron_id={elderly_patron.id}").data)
    assert "介護三郎（ケアマネジャー・甲山ケアプランセンター）" in text and "電話0798-00-1111" in text


def test_without_a_proxy_the_rows_are_left_to_write_in(client, db, users, elderly_patron):
    login(client, "librarian1")
    text = _text(client.get(f"/application-form.pdf?service=home_delivery&patron_id={elderly_patron.id}").data)
    assert "（続柄" in text
