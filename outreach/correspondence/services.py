"""Issuing letters: the facts come from the records, the PDF from the letters package, and the
issued PDF is kept so that it can be printed again exactly as it went out."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import defer
from sqlmodel import Session

import letters.data as ld
from letters.official import render_letter
from outreach.audit import services as audit
from outreach.auth.models import StaffUser
from outreach.calendar import fiscal_year_of, format_wareki
from outreach.enrolments.models import Approval, IssuedLetter
from outreach.enrolments.rules import Basis
from outreach.errors import DomainError
from outreach.patrons.models import Patron, Proxy
from outreach.patrons.services import letter_recipient
from outreach.policy import Policy
from outreach.types import CareLevel, EndReason, LetterKind, ProxyRelation, Service

log = logging.getLogger(__name__)

# The kinds as the letters package names them.
_LETTER_KIND = {
    LetterKind.APPLICATION_FORM: ld.LetterKind.APPLICATION_FORM,
    LetterKind.APPROVAL: ld.LetterKind.APPROVAL,
    LetterKind.REJECTION: ld.LetterKind.REJECTION,
    LetterKind.RENEWAL_NOTICE: ld.LetterKind.RENEWAL_NOTICE,
    LetterKind.SERVICE_ENDED: ld.LetterKind.SERVICE_ENDED,
    LetterKind.OVERDUE: ld.LetterKind.OVERDUE_REMINDER,
}


CARE_LEVEL_JA = {
    CareLevel.SUPPORT_1: "要支援１", CareLevel.SUPPORT_2: "要支援２", CareLevel.CARE_1: "要介護１",
    CareLevel.CARE_2: "要介護２", CareLevel.CARE_3: "要介護３", CareLevel.CARE_4: "要介護４", CareLevel.CARE_5: "要介護５",
}


def library_from_config(config: Mapping[str, Any]) -> ld.Library:
    """The sending library as configured (LIBRARY_* settings)."""
    return ld.Library(
        name=config["LIBRARY_NAME"], section=config["LIBRARY_SECTION"], postal_code=config["LIBRARY_POSTAL_CODE"],
        address=config["LIBRARY_ADDRESS"], phone=config["LIBRARY_PHONE"], fax=config.get("LIBRARY_FAX", ""),
        head_title=config.get("LIBRARY_HEAD_TITLE", ""),
    )


def addressee_for(patron: Patron, proxy: Proxy | None) -> ld.Addressee:
    """The patron at home, or the proxy who receives the letters (○○様方 / 事業所 気付)."""
    if proxy is not None:
        return ld.Addressee(
            postal_code=proxy.postal_code, address_lines=(proxy.address,), name=patron.name,
            proxy_name=proxy.organisation or proxy.name,
            proxy_is_organisation=bool(proxy.organisation) and proxy.relation is ProxyRelation.CARE_MANAGER,
        )
    return ld.Addressee(postal_code=patron.postal_code, address_lines=tuple(patron.address_lines), name=patron.name)


_FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def _full_width(number: int) -> str:
    """Numbers in the running text of official letters are written full-width (１か月)."""
    return str(number).translate(_FULL_WIDTH_DIGITS)


def policy_values(policy: Policy, service: Service) -> dict[str, object]:
    """Numbers the wording may quote (limits, loan period), from the policy in force."""
    limits = policy.item_limits(service)
    values: dict[str, object] = {"loan_period_months": policy.loan_period_months,
                                 "loan_period": f"{_full_width(policy.loan_period_months)}か月",
                                 "approval_years": policy.approval_years(service) or "",
                                 "min_age": policy.home_delivery_min_age,
                                 "min_care_level": CARE_LEVEL_JA[policy.home_delivery_min_care_level]}
    # Empty for a service that lends nothing (対面朗読): the wording leaves the limits out on purpose.
    values.update(max_books=limits.max_books if limits else "", max_av=limits.max_audio_visual if limits else "")
    values["mail_loan_rules_effective_on"] = format_wareki(policy.mail_loan_rules_effective_on)
    return values


# Facts of one letter that the wording may name; empty unless the caller gives them.
LETTER_FACT_DEFAULTS: dict[str, object] = {"grandfathered": "", "first_registered_on": "", "deceased_name": ""}


def wording_values(policy: Policy, service: Service, facts: Mapping[str, object] | None = None) -> dict[str, object]:
    """Every value the wording may name besides the letter's own fields: the policy's, and this letter's facts."""
    return {**policy_values(policy, service), **LETTER_FACT_DEFAULTS, **(facts or {})}


def grandfathering_facts(basis: str, first_registered_on: date | None) -> dict[str, object]:
    """An approval under 郵送要綱付則2 says so in its letter, with the day of first registration when recorded."""
    if basis != Basis.MAIL_LOAN_GRANDFATHERED:
        return {}
    return {"grandfathered": "1",
            "first_registered_on": format_wareki(first_registered_on) if first_registered_on else ""}


def next_serial(session: Session, fiscal_year: int) -> int:
    """The next 文書番号 serial in the fiscal year (the unique key guards against two at once)."""
    current = session.scalar(select(func.max(IssuedLetter.serial)).where(IssuedLetter.fiscal_year == fiscal_year))
    return (current or 0) + 1


def issue_letter(
    session: Session,
    *,
    patron: Patron,
    kind: LetterKind,
    service: Service,
    on: date,
    actor: StaffUser | None,
    library: ld.Library,
    number_prefix: str,
    policy: Policy,
    application_id: int | None = None,
    approval_id: int | None = None,
    wording_facts: Mapping[str, object] | None = None,
    addressee: ld.Addressee | None = None,
    **facts: Any,
) -> IssuedLetter:
    """Render and keep a letter for the patron, with the next document number of the fiscal year.

    ``facts`` are the kind's own fields of :class:`letters.data.LetterData` (valid_from, rejection_reason …);
    ``wording_facts`` further values the wording names (see ``LETTER_FACT_DEFAULTS``); ``addressee`` someone
    other than the patron (or the proxy who receives the patron's letters).
    """
    fiscal_year = fiscal_year_of(on)
    serial = next_serial(session, fiscal_year)
    document_number = f"{number_prefix}第{serial}号"
    data = ld.LetterData(
        kind=_LETTER_KIND[kind], library=library, service=service, issued_on=on, document_number=document_number,
        addressee=addressee or addressee_for(patron, letter_recipient(session, patron)),
        large_print=patron.needs_large_print and addressee is None,
        contact_person=actor.display_name if actor else "", extra_values=wording_values(policy, service, wording_facts),
        **facts,
    )
    pdf = render_letter(data)
    letter = IssuedLetter(patron_id=patron.id, kind=kind, service=service, fiscal_year=fiscal_year, serial=serial,
                          document_number=document_number, issued_on=on, issued_by_id=actor.id if actor else None,
                          application_id=application_id, approval_id=approval_id,
                          is_large_print=data.large_print, pdf=pdf)
    session.add(letter)
    session.flush()
    audit.record(session, actor_id=actor.id if actor else None, actor_username=actor.username if actor else "system",
                 action="issue_letter", entity_type="patron", entity_id=patron.id, fields=(kind.value,),
                 detail=f"letter {letter.id}")
    return letter


# Why a service ended, as the letter says it (Japanese whatever the language of the screen).
END_REASON_JA = {
    EndReason.MOVED_AWAY: "市外への転出", EndReason.ENTERED_FACILITY: "施設への入所", EndReason.DECEASED: "ご逝去",
    EndReason.WITHDREW: "利用の辞退", EndReason.ELIGIBILITY_LOST: "対象要件に該当しなくなったため",
}


class LetterError(DomainError):
    """A letter that cannot be issued as asked; nothing was issued."""


def issue_service_ended(
    session: Session, *, patron: Patron, approval: Approval, on: date, actor: StaffUser | None, library: ld.Library,
    number_prefix: str, policy: Policy,
) -> IssuedLetter:
    """サービス終了のお知らせ. When the patron has died it goes to their proxy by name (never to the deceased);
    with no proxy whose address is on record it is refused."""
    assert approval.end_reason is not None and approval.ended_on is not None
    reason = EndReason(approval.end_reason)
    addressee = None
    wording_facts: dict[str, object] = {}
    if reason is EndReason.DECEASED:
        # The proxy who receives the letters first, else the first one on record, if their address is known.
        proxies = session.scalars(select(Proxy).where(Proxy.patron_id == patron.id)
                                  .order_by(Proxy.receives_letters.desc(), Proxy.id)).all()
        proxy = next((p for p in proxies if p.address.strip()), None)
        if proxy is None:
            raise LetterError(
                "letter.deceased_without_proxy",
                "亡くなった方には終了のお知らせを送れません。送付先となる代理人（住所のあるもの）が登録されていません。"
                "お知らせを出さずに終了するか、先に代理人を登録してください。",
                "A service-ended notice cannot go to a patron who has died, and no proxy with an address is on "
                "record. End the service without a notice, or record a proxy first.")
        lines = (proxy.address, proxy.organisation) if proxy.organisation else (proxy.address,)
        addressee = ld.Addressee(postal_code=proxy.postal_code, address_lines=lines, name=proxy.name)
        wording_facts["deceased_name"] = patron.name
    return issue_letter(session, patron=patron, kind=LetterKind.SERVICE_ENDED, service=approval.service, on=on,
                        actor=actor, library=library, number_prefix=number_prefix, policy=policy,
                        approval_id=approval.id, ended_on=approval.ended_on, ending_reason=END_REASON_JA[reason],
                        wording_facts=wording_facts, addressee=addressee)


def application_form(
    *, library: ld.Library, service: Service, policy: Policy, patron: Patron | None = None,
    proxy: Proxy | None = None, large_print: bool = False,
) -> bytes:
    """様式第1号: blank, or prefilled with what the records already hold (not kept: it is a form)."""
    applicant = None
    if patron is not None:
        applicant = ld.ApplicantDetails(
            name=patron.name, name_kana=patron.name_kana, birth_date=patron.birth_date,
            postal_code=patron.postal_code, address=" ".join(patron.address_lines), phone=patron.phone,
            fax=patron.fax, email=patron.email, card_number=patron.card_number,
            proxy_name=proxy.name if proxy else "", proxy_relation=_proxy_relation(proxy),
            proxy_phone=proxy.phone if proxy else "", proxy_address=_proxy_address(proxy),
            contact_preference=patron.contact_preference.value,
        )
        large_print = large_print or patron.needs_large_print
    return render_letter(ld.LetterData(kind=ld.LetterKind.APPLICATION_FORM, library=library, service=service,
                                       applicant=applicant, large_print=large_print,
                                       extra_values=wording_values(policy, service)))


# 続柄 as written on the form (Japanese whatever the language of the screen).
PROXY_RELATION_JA = {
    ProxyRelation.FAMILY: "家族", ProxyRelation.CARER: "介護者", ProxyRelation.CARE_MANAGER: "ケアマネジャー",
    ProxyRelation.OTHER: "その他",
}


def _proxy_relation(proxy: Proxy | None) -> str:
    if proxy is None:
        return ""
    relation = PROXY_RELATION_JA[ProxyRelation(proxy.relation)]
    return f"{relation}・{proxy.organisation}" if proxy.organisation else relation


def _proxy_address(proxy: Proxy | None) -> str:
    if proxy is None:
        return ""
    postal = f"〒{ld.format_postal_code(proxy.postal_code)} " if proxy.postal_code else ""
    return f"{postal}{proxy.address}".strip()


def letters_of(session: Session, patron_id: int) -> Sequence[IssuedLetter]:
    """The patron's issued letters, newest first (without loading the PDFs)."""
    return session.scalars(select(IssuedLetter).options(defer(IssuedLetter.pdf))
                           .where(IssuedLetter.patron_id == patron_id)
                           .order_by(IssuedLetter.issued_on.desc(), IssuedLetter.id.desc())).all()


def get_letter(session: Session, letter_id: int) -> IssuedLetter | None:
    return session.get(IssuedLetter, letter_id)
