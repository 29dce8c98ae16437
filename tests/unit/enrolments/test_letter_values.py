"""The values the application gives the letter wording: every line a template asks for is supplied."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from letters import wording
from letters.data import Addressee, ApplicantDetails, LetterData, LetterKind, Library
from letters.official import render_letter
from outreach.correspondence.services import grandfathering_facts, wording_values
from outreach.policy import DEFAULT_POLICY
from outreach.types import Service

LIBRARY = Library(name="西宮市立中央図書館", section="読書振興課", postal_code="662-0914", address="西宮市川添町15-26",
                  phone="0798-33-0183", head_title="西宮市立中央図書館長")
ADDRESSEE = Addressee(postal_code="662-0911", address_lines=("西宮市池田町1-1",), name="宅配 花子")
_lenient = wording.applies


def _strict(entry, values):  # type: ignore[no-untyped-def]
    unknown = [k for k in (*entry.get("requires", ()), *entry.get("unless", ())) if k not in values]
    if unknown:
        raise wording.WordingError(f"the wording names values nobody supplies: {', '.join(unknown)}")
    return _lenient(entry, values)


@pytest.fixture(autouse=True)
def strict_wording(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(wording, "applies", _strict)


def _facts(kind: LetterKind, service: Service) -> dict:
    """The facts outreach.enrolments.routes gives issue_letter for each kind."""
    valid_until = date(2029, 11, 19) if DEFAULT_POLICY.approval_years(service) else None
    return {
        LetterKind.APPROVAL: dict(applied_on=date(2026, 11, 10), valid_from=date(2026, 11, 20),
                                  valid_until=valid_until),
        LetterKind.REJECTION: dict(applied_on=date(2026, 11, 10), rejection_reason="要件を満たしていません。"),
        LetterKind.RENEWAL_NOTICE: dict(valid_from=date(2023, 11, 20), valid_until=date(2026, 11, 19),
                                        renewal_deadline=date(2026, 10, 20)),
        LetterKind.SERVICE_ENDED: dict(ended_on=date(2026, 11, 30), ending_reason="転出"),
    }[kind]


def _text(data: LetterData) -> str:
    trace: list = []
    render_letter(data, trace=trace)
    return "".join(op.text for _page, op in trace)


# A renewal notice exists only for a service whose approvals run for a fixed period.
LETTERS_OF_SERVICES = [
    (kind, service)
    for service in Service
    for kind in (LetterKind.APPROVAL, LetterKind.REJECTION, LetterKind.RENEWAL_NOTICE, LetterKind.SERVICE_ENDED)
    if kind is not LetterKind.RENEWAL_NOTICE or DEFAULT_POLICY.approval_years(service) is not None
]


@pytest.mark.parametrize(("kind", "service"), LETTERS_OF_SERVICES)
def test_every_value_a_letter_template_names_is_supplied(kind, service):
    data = LetterData(kind=kind, library=LIBRARY, service=service, issued_on=date(2026, 11, 20),
                      document_number="西図読第1号", addressee=ADDRESSEE,
                      extra_values=wording_values(DEFAULT_POLICY, service), **_facts(kind, service))
    assert _text(data)


@pytest.mark.parametrize("service", [Service.HOME_DELIVERY, Service.MAIL_LOAN])
def test_the_approval_letter_states_the_loan_period_from_the_policy(service):
    data = LetterData(kind=LetterKind.APPROVAL, library=LIBRARY, service=service, issued_on=date(2026, 11, 20),
                      addressee=ADDRESSEE, extra_values=wording_values(DEFAULT_POLICY, service),
                      **_facts(LetterKind.APPROVAL, service))
    text = _text(data)
    assert "貸出期間" in text and "１か月です。期間の延長はできません。" in text
    two_months = dataclasses.replace(DEFAULT_POLICY, loan_period_months=2)
    assert "２か月です。" in _text(dataclasses.replace(data, extra_values=wording_values(two_months, service)))


@pytest.mark.parametrize("service", list(Service))
def test_the_application_form_names_only_supplied_values(service):
    applicant = ApplicantDetails(name="宅配 花子", proxy_name="宅配 一郎", proxy_relation="家族")
    data = LetterData(kind=LetterKind.APPLICATION_FORM, library=LIBRARY, service=service, applicant=applicant,
                      extra_values=wording_values(DEFAULT_POLICY, service))
    assert _text(data)


def test_a_template_naming_a_value_nobody_supplies_is_an_error(tmp_path):
    (tmp_path / "ja").mkdir()
    (tmp_path / "ja" / "rejection.toml").write_text(
        'title = "不承認"\n[[paragraphs]]\ntext = "x"\nrequires = ["no_such_value"]\n', encoding="utf-8")
    data = LetterData(kind=LetterKind.REJECTION, library=LIBRARY, service=Service.HOME_DELIVERY,
                      issued_on=date(2026, 11, 20), addressee=ADDRESSEE, rejection_reason="理由")
    with pytest.raises(wording.WordingError, match="no_such_value"):
        render_letter(data, template_dir=tmp_path)


def test_a_grandfathered_registration_says_so_in_its_letter():
    facts = grandfathering_facts("mail_loan.grandfathered", date(2019, 6, 1))
    data = LetterData(kind=LetterKind.APPROVAL, library=LIBRARY, service=Service.MAIL_LOAN, issued_on=date(2026, 11, 20),
                      addressee=ADDRESSEE, extra_values=wording_values(DEFAULT_POLICY, Service.MAIL_LOAN, facts),
                      **_facts(LetterKind.APPROVAL, Service.MAIL_LOAN))
    text = _text(data)
    assert "付則第２項（令和3年4月1日以前からご利用の方の経過措置）" in text and "令和元年6月1日からご利用" in text
    ordinary = dataclasses.replace(data, extra_values=wording_values(DEFAULT_POLICY, Service.MAIL_LOAN,
                                                                     grandfathering_facts("mail_loan.visual", None)))
    assert "付則" not in _text(ordinary)
