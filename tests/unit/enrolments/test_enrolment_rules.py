"""Eligibility, approval periods and the application state machine."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from outreach.enrolments.rules import (
    ALLOWED_TRANSITIONS,
    Basis,
    CareFact,
    CertificateFact,
    EligibilityFacts,
    ReasonCode,
    approval_period,
    check_transition,
    decide_eligibility,
    is_approval_in_force,
    is_renewal_due,
    renewal_period,
)
from outreach.errors import DomainError, InvalidTransitionError, NotRenewableError
from outreach.policy import DEFAULT_POLICY
from outreach.types import ApplicationState, CareLevel, CertificateKind, DisabilityCategory, Service

D = date.fromisoformat
ON = D("2026-04-01")
DAY = timedelta(days=1)

HD, ML, F2F = Service.HOME_DELIVERY, Service.MAIL_LOAN, Service.FACE_TO_FACE


def with_policy(**changes):
    return dataclasses.replace(DEFAULT_POLICY, **changes)


def cert(
    category=DisabilityCategory.LIMB, kind=CertificateKind.PHYSICAL, issued_on="2010-01-01", valid_until=None
):
    return CertificateFact(
        kind=kind,
        category=category,
        grade="2",
        valid_until=D(valid_until) if isinstance(valid_until, str) else valid_until,
        issued_on=D(issued_on),
    )


VISUAL = cert(DisabilityCategory.VISUAL)
LIMB = cert(DisabilityCategory.LIMB)


def care(level=CareLevel.CARE_2, valid_from="2025-10-01", valid_until="2027-09-30"):
    return CareFact(level, D(valid_from), D(valid_until) if isinstance(valid_until, str) else valid_until)


def facts(**changes):
    """An elderly patron who is eligible for home delivery on ON: 65 that very day, 要介護2."""
    base = EligibilityFacts(
        birth_date=D("1961-04-02"),
        lives_in_city=True,
        lives_in_facility=False,
        has_library_card=True,
        finds_visiting_difficult=True,
        certificates=(),
        care_certifications=(care(),),
        registered_for_mail_loans_since=None,
        special_approval=False,
    )
    return dataclasses.replace(base, **changes)


def young(**changes):
    """A 40-year-old without care certification: only a certificate or special approval can qualify them."""
    return facts(birth_date=D("1986-01-01"), care_certifications=(), **changes)


def failing_codes(decision):
    return {r.code for r in decision.failing}


# --- home delivery: the elderly clause ------------------------------------------------------------


def test_elderly_with_care_level_2_is_eligible_from_the_day_they_reach_65():
    decision = decide_eligibility(facts(), HD, ON)
    assert decision.eligible and decision.basis is Basis.HOME_DELIVERY_ELDERLY_CARE
    assert decision.reason(ReasonCode.MIN_AGE).ok
    assert decision.reason(ReasonCode.CARE_LEVEL).ok


def test_the_day_before_reaching_65_is_not_eligible():
    decision = decide_eligibility(facts(), HD, ON - DAY)
    assert not decision.eligible and decision.basis is None
    age = decision.reason(ReasonCode.MIN_AGE)
    assert not age.ok
    assert "64歳" in age.message_ja and "令和8年4月1日" in age.message_ja
    assert "2026-04-01" in age.message_en


def test_29_february_birthday_reaches_65_on_28_february_of_a_common_year():
    leapling = facts(birth_date=D("1960-02-29"), care_certifications=(care(valid_from="2024-01-01"),))
    assert not decide_eligibility(leapling, HD, D("2025-02-27")).eligible
    assert decide_eligibility(leapling, HD, D("2025-02-28")).eligible


@pytest.mark.parametrize("level", list(CareLevel))
def test_each_care_level(level):
    decision = decide_eligibility(facts(care_certifications=(care(level),)), HD, ON)
    expected = level in (CareLevel.CARE_2, CareLevel.CARE_3, CareLevel.CARE_4, CareLevel.CARE_5)
    assert decision.eligible is expected
    assert decision.reason(ReasonCode.CARE_LEVEL).ok is expected


def test_care_level_below_the_minimum_names_both_levels():
    reason = decide_eligibility(facts(care_certifications=(care(CareLevel.CARE_1),)), HD, ON).reason(
        ReasonCode.CARE_LEVEL
    )
    assert "要介護1" in reason.message_ja and "要介護2以上" in reason.message_ja


def test_age_and_care_thresholds_come_from_the_policy():
    policy = with_policy(home_delivery_min_age=70, home_delivery_min_care_level=CareLevel.CARE_1)
    assert not decide_eligibility(facts(), HD, ON, policy).eligible
    seventy = facts(birth_date=D("1956-01-01"), care_certifications=(care(CareLevel.CARE_1),))
    assert decide_eligibility(seventy, HD, ON, policy).eligible
    assert not decide_eligibility(seventy, HD, ON).eligible  # 要介護1 fails the default policy


@pytest.mark.parametrize(
    ("valid_until", "ok"),
    [(ON - DAY, False), (ON, True), (ON + DAY, True)],
)
def test_care_certification_lapses_after_its_last_day(valid_until, ok):
    decision = decide_eligibility(facts(care_certifications=(care(valid_until=valid_until),)), HD, ON)
    assert decision.eligible is ok
    if not ok:
        assert "令和8年3月31日で終了" in decision.reason(ReasonCode.CARE_LEVEL).message_ja


@pytest.mark.parametrize(("valid_from", "ok"), [(ON - DAY, True), (ON, True), (ON + DAY, False)])
def test_care_certification_counts_from_its_first_day(valid_from, ok):
    decision = decide_eligibility(
        facts(care_certifications=(care(valid_from=valid_from.isoformat()),)), HD, ON
    )
    assert decision.eligible is ok


def test_a_lapsed_higher_level_does_not_count_over_a_current_lower_one():
    lapsed_3 = care(CareLevel.CARE_3, valid_from="2023-01-01", valid_until="2025-09-30")
    current_1 = care(CareLevel.CARE_1)
    decision = decide_eligibility(facts(care_certifications=(lapsed_3, current_1)), HD, ON)
    assert not decision.eligible
    assert "要介護1" in decision.reason(ReasonCode.CARE_LEVEL).message_ja


def test_missing_birth_date_fails_the_age_clause_only():
    decision = decide_eligibility(facts(birth_date=None), HD, ON)
    assert not decision.eligible and failing_codes(decision) >= {ReasonCode.MIN_AGE}
    assert decide_eligibility(facts(birth_date=None, certificates=(LIMB,)), HD, ON).eligible


# --- home delivery: the disability clause ---------------------------------------------------------


@pytest.mark.parametrize(
    "certificate",
    [
        cert(DisabilityCategory.LIMB),
        cert(DisabilityCategory.HEARING),
        cert(None, kind=CertificateKind.INTELLECTUAL),
        cert(None, kind=CertificateKind.MENTAL, valid_until="2027-03-31"),
    ],
)
def test_non_visual_certificate_qualifies_at_any_age(certificate):
    decision = decide_eligibility(young(certificates=(certificate,)), HD, ON)
    assert decision.eligible and decision.basis is Basis.HOME_DELIVERY_DISABILITY


@pytest.mark.parametrize(("valid_until", "ok"), [(ON - DAY, False), (ON, True), (ON + DAY, True)])
def test_certificate_lapses_after_its_expiry_day(valid_until, ok):
    decision = decide_eligibility(young(certificates=(cert(valid_until=valid_until),)), HD, ON)
    assert decision.eligible is ok
    reason = decision.reason(ReasonCode.NON_VISUAL_CERTIFICATE)
    assert reason.ok is ok
    if not ok:
        assert "有効期限が令和8年3月31日で切れています" in reason.message_ja
        assert "expired on 2026-03-31" in reason.message_en


def test_certificate_issued_after_the_date_does_not_count():
    decision = decide_eligibility(young(certificates=(cert(issued_on="2026-04-02"),)), HD, ON)
    assert not decision.eligible
    assert "交付日" in decision.reason(ReasonCode.NON_VISUAL_CERTIFICATE).message_ja
    assert decide_eligibility(young(certificates=(cert(issued_on="2026-04-01"),)), HD, ON).eligible


def test_visual_impairment_certificate_does_not_qualify_for_home_delivery():
    decision = decide_eligibility(young(certificates=(VISUAL,)), HD, ON)
    assert not decision.eligible
    assert failing_codes(decision) >= {ReasonCode.NON_VISUAL_CERTIFICATE, ReasonCode.NOT_VISUALLY_IMPAIRED}
    assert "郵送貸出" in decision.reason(ReasonCode.NOT_VISUALLY_IMPAIRED).message_ja


def test_visually_impaired_person_with_another_certificate_is_excluded_by_default():
    # 要綱第2条(1) 「（視覚障害者を除く。）」 excludes the person.
    decision = decide_eligibility(young(certificates=(VISUAL, LIMB)), HD, ON)
    assert not decision.eligible
    assert decision.reason(ReasonCode.NON_VISUAL_CERTIFICATE).ok
    assert not decision.reason(ReasonCode.NOT_VISUALLY_IMPAIRED).ok
    # A library reading the clause per certificate can say so in the policy.
    policy = with_policy(home_delivery_excludes_visually_impaired=False)
    decision = decide_eligibility(young(certificates=(VISUAL, LIMB)), HD, ON, policy)
    assert decision.eligible and decision.basis is Basis.HOME_DELIVERY_DISABILITY
    assert decision.reason(ReasonCode.NOT_VISUALLY_IMPAIRED) is None


def test_lapsed_visual_certificate_does_not_exclude():
    lapsed_visual = cert(DisabilityCategory.VISUAL, valid_until=ON - DAY)
    assert decide_eligibility(young(certificates=(lapsed_visual, LIMB)), HD, ON).eligible


def test_visually_impaired_elderly_with_care_level_qualify_under_the_elderly_clause():
    # 第2条(2) has no visual-impairment exclusion.
    decision = decide_eligibility(facts(certificates=(VISUAL,)), HD, ON)
    assert decision.eligible and decision.basis is Basis.HOME_DELIVERY_ELDERLY_CARE


def test_disability_clause_is_preferred_when_both_apply():
    assert decide_eligibility(facts(certificates=(LIMB,)), HD, ON).basis is Basis.HOME_DELIVERY_DISABILITY


# --- home delivery: residence, facility, visiting --------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"lives_in_city": False}, ReasonCode.LIVES_IN_CITY),
        ({"lives_in_facility": True}, ReasonCode.NOT_IN_FACILITY),
        ({"finds_visiting_difficult": False}, ReasonCode.VISITING_DIFFICULT),
        ({"finds_visiting_difficult": None}, ReasonCode.VISITING_DIFFICULT),
    ],
)
def test_general_conditions_block_every_clause(changes, code):
    everything = facts(certificates=(LIMB,), special_approval=True, **changes)
    decision = decide_eligibility(everything, HD, ON)
    assert not decision.eligible and decision.basis is None
    assert failing_codes(decision) == {code}


def test_unconfirmed_visiting_difficulty_is_worded_as_unconfirmed():
    decision = decide_eligibility(facts(finds_visiting_difficult=None), HD, ON)
    assert "確認されていません" in decision.reason(ReasonCode.VISITING_DIFFICULT).message_ja


def test_special_approval_qualifies_when_nothing_else_does():
    decision = decide_eligibility(young(special_approval=True), HD, ON)
    assert decision.eligible and decision.basis is Basis.HOME_DELIVERY_SPECIAL
    assert not decide_eligibility(young(), HD, ON).eligible


def test_special_approval_can_be_switched_off_by_policy():
    policy = with_policy(special_approval_services=())
    decision = decide_eligibility(young(special_approval=True), HD, ON, policy)
    assert not decision.eligible
    assert not decision.reason(ReasonCode.SPECIAL_APPROVAL).ok


def test_every_failing_condition_is_listed():
    nobody = EligibilityFacts(
        birth_date=D("1990-01-01"),
        lives_in_city=False,
        lives_in_facility=True,
        has_library_card=False,
        finds_visiting_difficult=False,
    )
    decision = decide_eligibility(nobody, HD, ON)
    assert [r.code for r in decision.reasons] == [
        ReasonCode.LIVES_IN_CITY,
        ReasonCode.NOT_IN_FACILITY,
        ReasonCode.VISITING_DIFFICULT,
        ReasonCode.NON_VISUAL_CERTIFICATE,
        ReasonCode.NOT_VISUALLY_IMPAIRED,
        ReasonCode.MIN_AGE,
        ReasonCode.CARE_LEVEL,
        ReasonCode.SPECIAL_APPROVAL,
    ]
    assert failing_codes(decision) == {r.code for r in decision.reasons} - {ReasonCode.NOT_VISUALLY_IMPAIRED}
    assert all(r.message_ja and r.message_en for r in decision.reasons)


# --- mail loans ------------------------------------------------------------------------------------


def test_visually_impaired_resident_with_card_is_eligible_for_mail_loans():
    decision = decide_eligibility(young(certificates=(VISUAL,)), ML, ON)
    assert decision.eligible and decision.basis is Basis.MAIL_LOAN_VISUAL


def test_mail_loans_do_not_exclude_facility_residents_or_need_visiting_difficulty():
    patron = young(certificates=(VISUAL,), lives_in_facility=True, finds_visiting_difficult=False)
    assert decide_eligibility(patron, ML, ON).eligible


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"lives_in_city": False}, ReasonCode.LIVES_IN_CITY),
        ({"has_library_card": False}, ReasonCode.LIBRARY_CARD),
        ({"certificates": (LIMB,)}, ReasonCode.VISUAL_CERTIFICATE),
        ({"certificates": ()}, ReasonCode.VISUAL_CERTIFICATE),
    ],
)
def test_mail_loan_conditions(changes, code):
    decision = decide_eligibility(young(**{"certificates": (VISUAL,), **changes}), ML, ON)
    assert not decision.eligible
    assert failing_codes(decision) == {code, ReasonCode.GRANDFATHERED}


def test_library_card_requirement_comes_from_the_policy():
    policy = with_policy(mail_loan_requires_library_card=False)
    decision = decide_eligibility(young(certificates=(VISUAL,), has_library_card=False), ML, ON, policy)
    assert decision.eligible and decision.reason(ReasonCode.LIBRARY_CARD) is None


@pytest.mark.parametrize(("valid_until", "ok"), [(ON - DAY, False), (ON, True), (ON + DAY, True)])
def test_visual_certificate_lapses_after_its_expiry_day(valid_until, ok):
    visual = cert(DisabilityCategory.VISUAL, valid_until=valid_until)
    assert decide_eligibility(young(certificates=(visual,)), ML, ON).eligible is ok


@pytest.mark.parametrize(
    ("since", "ok"),
    [("2021-03-31", True), ("2021-04-01", True), ("2021-04-02", False)],
)
def test_grandfathering_includes_the_effective_day(since, ok):
    # 付則2 「令和3年4月1日以前より」: 以前 includes the day itself.
    patron = young(registered_for_mail_loans_since=D(since), lives_in_city=False, has_library_card=False)
    decision = decide_eligibility(patron, ML, ON)
    assert decision.eligible is ok
    assert decision.basis is (Basis.MAIL_LOAN_GRANDFATHERED if ok else None)


@pytest.mark.parametrize(("since", "ok"), [("2021-03-31", True), ("2021-04-01", False)])
def test_grandfathering_can_exclude_the_effective_day_by_policy(since, ok):
    policy = with_policy(mail_loan_grandfather_includes_effective_day=False)
    decision = decide_eligibility(young(registered_for_mail_loans_since=D(since)), ML, ON, policy)
    assert decision.eligible is ok


def test_grandfathering_follows_the_policy_effective_date():
    policy = with_policy(mail_loan_rules_effective_on=D("2024-04-01"))
    patron = young(registered_for_mail_loans_since=D("2023-05-01"))
    assert decide_eligibility(patron, ML, ON, policy).eligible
    assert not decide_eligibility(patron, ML, ON).eligible
    assert "令和3年4月1日" in decide_eligibility(patron, ML, ON).reason(ReasonCode.GRANDFATHERED).message_ja


def test_current_rules_win_over_grandfathering_as_basis():
    patron = young(certificates=(VISUAL,), registered_for_mail_loans_since=D("2015-01-01"))
    assert decide_eligibility(patron, ML, ON).basis is Basis.MAIL_LOAN_VISUAL


def test_special_approval_does_not_apply_to_mail_loans_by_default():
    decision = decide_eligibility(young(special_approval=True), ML, ON)
    assert not decision.eligible
    reason = decision.reason(ReasonCode.SPECIAL_APPROVAL)
    assert not reason.ok and "郵送貸出サービス" in reason.message_ja
    policy = with_policy(special_approval_services=(HD, ML))
    assert decide_eligibility(young(special_approval=True), ML, ON, policy).basis is Basis.MAIL_LOAN_SPECIAL


def test_no_special_approval_reason_when_neither_possible_nor_claimed():
    assert (
        decide_eligibility(young(certificates=(VISUAL,)), ML, ON).reason(ReasonCode.SPECIAL_APPROVAL) is None
    )


# --- face-to-face reading --------------------------------------------------------------------------


def test_face_to_face_needs_a_visual_certificate():
    decision = decide_eligibility(young(certificates=(VISUAL,), lives_in_city=False), F2F, ON)
    assert decision.eligible and decision.basis is Basis.FACE_TO_FACE_VISUAL
    decision = decide_eligibility(young(certificates=(LIMB,)), F2F, ON)
    assert not decision.eligible
    assert failing_codes(decision) == {ReasonCode.VISUAL_CERTIFICATE, ReasonCode.SPECIAL_APPROVAL}


def test_face_to_face_lapsed_visual_certificate_does_not_count():
    lapsed = cert(DisabilityCategory.VISUAL, valid_until=ON - DAY)
    assert not decide_eligibility(young(certificates=(lapsed,)), F2F, ON).eligible


def test_face_to_face_special_approval_for_print_disabled_without_certificate():
    decision = decide_eligibility(young(special_approval=True), F2F, ON)
    assert decision.eligible and decision.basis is Basis.FACE_TO_FACE_SPECIAL


def test_face_to_face_policy_switches():
    resident_only = with_policy(face_to_face_requires_city_residence=True)
    decision = decide_eligibility(young(certificates=(VISUAL,), lives_in_city=False), F2F, ON, resident_only)
    assert not decision.eligible
    assert failing_codes(decision) == {ReasonCode.LIVES_IN_CITY, ReasonCode.SPECIAL_APPROVAL}
    open_to_all = with_policy(face_to_face_requires_visual_certificate=False)
    decision = decide_eligibility(young(), F2F, ON, open_to_all)
    assert decision.eligible and decision.basis is Basis.FACE_TO_FACE_OPEN


# --- approval periods ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decided", "until"),
    [
        ("2026-11-21", "2029-11-20"),
        ("2024-02-29", "2027-02-28"),
        ("2023-03-01", "2026-02-28"),
        ("2025-03-01", "2028-02-29"),
    ],
)
def test_home_delivery_approval_lasts_three_years(decided, until):
    assert approval_period(HD, D(decided)) == (D(decided), D(until))


def test_approval_years_come_from_the_policy():
    assert approval_period(HD, D("2026-11-21"), with_policy(home_delivery_approval_years=5)) == (
        D("2026-11-21"),
        D("2031-11-20"),
    )


@pytest.mark.parametrize("service", [ML, F2F])
def test_mail_loan_and_face_to_face_approvals_have_no_end(service):
    assert approval_period(service, D("2026-11-21")) == (D("2026-11-21"), None)


@pytest.mark.parametrize(
    ("previous_until", "decided", "period"),
    [
        ("2029-11-20", None, ("2029-11-21", "2032-11-20")),
        ("2029-11-20", "2029-10-01", ("2029-11-21", "2032-11-20")),  # decided early: no overlap
        ("2029-11-20", "2029-11-21", ("2029-11-21", "2032-11-20")),
        ("2029-11-20", "2029-12-10", ("2029-12-10", "2032-12-09")),  # lapsed: not back-dated
        ("2027-02-28", None, ("2027-03-01", "2030-02-28")),  # after a 29 Feb approval
    ],
)
def test_renewal_continues_without_a_gap(previous_until, decided, period):
    result = renewal_period(D(previous_until), HD, DEFAULT_POLICY, decided_on=D(decided) if decided else None)
    assert result == (D(period[0]), D(period[1]))


def test_renewal_follows_directly_on_a_first_approval():
    _, first_until = approval_period(HD, D("2024-02-29"))
    second_from, _ = renewal_period(first_until, HD)
    assert second_from - first_until == DAY


@pytest.mark.parametrize(("until", "service"), [(None, HD), (D("2029-11-20"), ML), (D("2029-11-20"), F2F)])
def test_approvals_without_an_end_cannot_be_renewed(until, service):
    with pytest.raises(NotRenewableError) as info:
        renewal_period(until, service)
    assert isinstance(info.value, DomainError) and info.value.message_ja and info.value.message_en


@pytest.mark.parametrize(
    ("on", "due"),
    [
        ("2029-09-20", False),  # 61 days before the end
        ("2029-09-21", True),  # 60 days before
        ("2029-11-20", True),  # last day
        ("2029-11-21", True),  # lapsed: still needs renewing
    ],
)
def test_renewal_is_due_from_the_notice_period(on, due):
    assert is_renewal_due(D("2029-11-20"), D(on)) is due


def test_renewal_notice_days_come_from_the_policy():
    policy = with_policy(renewal_notice_days=30)
    assert not is_renewal_due(D("2029-11-20"), D("2029-10-20"), policy)
    assert is_renewal_due(D("2029-11-20"), D("2029-10-21"), policy)
    assert not is_renewal_due(None, D("2099-01-01"))


def test_approval_in_force_includes_both_ends():
    start, end = D("2026-11-21"), D("2029-11-20")
    assert [is_approval_in_force(start, end, d) for d in (start - DAY, start, end, end + DAY)] == [
        False,
        True,
        True,
        False,
    ]
    assert is_approval_in_force(start, None, D("2099-01-01"))


# --- application state machine ---------------------------------------------------------------------

S = ApplicationState
EXPECTED = {
    (S.RECEIVED, S.AWAITING_DECISION),
    (S.RECEIVED, S.WITHDRAWN),
    (S.AWAITING_DECISION, S.APPROVED),
    (S.AWAITING_DECISION, S.REJECTED),
    (S.AWAITING_DECISION, S.WITHDRAWN),
    (S.AWAITING_DECISION, S.RECEIVED),  # 差戻し
}


def test_allowed_transitions_table():
    assert {(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets} == EXPECTED
    assert set(ALLOWED_TRANSITIONS) == set(ApplicationState)


@pytest.mark.parametrize("from_state", list(ApplicationState))
@pytest.mark.parametrize("to_state", list(ApplicationState))
def test_check_transition(from_state, to_state):
    if (from_state, to_state) in EXPECTED:
        check_transition(from_state, to_state)
        return
    with pytest.raises(InvalidTransitionError) as info:
        check_transition(from_state, to_state)
    assert info.value.code == "application.invalid_transition"
    assert info.value.message("en") == f"An application cannot go from {from_state} to {to_state}"


def test_invalid_transition_message_in_japanese():
    with pytest.raises(InvalidTransitionError) as info:
        check_transition(S.APPROVED, S.WITHDRAWN)
    assert info.value.message("ja") == "申込を「承認」から「取下げ」にすることはできません"


def test_an_ended_approval_is_not_in_force_after_its_end_day():
    from outreach.enrolments.rules import is_approval_in_force

    assert is_approval_in_force(date(2025, 4, 1), date(2028, 3, 31), date(2026, 1, 15), ended_on=date(2026, 1, 15))
    assert not is_approval_in_force(date(2025, 4, 1), date(2028, 3, 31), date(2026, 1, 16), ended_on=date(2026, 1, 15))


def test_a_national_mail_loan_service_lends_to_readers_anywhere():
    import dataclasses

    from outreach.enrolments.rules import CertificateFact, EligibilityFacts, decide_eligibility
    from outreach.policy import DEFAULT_POLICY
    from outreach.types import CertificateKind, DisabilityCategory, Service

    facts = EligibilityFacts(
        birth_date=date(1970, 1, 1), lives_in_city=False, lives_in_facility=False, has_library_card=True,
        finds_visiting_difficult=None,
        certificates=(CertificateFact(CertificateKind.PHYSICAL, DisabilityCategory.VISUAL, "1", None, date(2000, 1, 1)),))
    on = date(2026, 11, 21)
    assert not decide_eligibility(facts, Service.MAIL_LOAN, on, DEFAULT_POLICY).eligible  # the city's own rule
    national = dataclasses.replace(DEFAULT_POLICY, mail_loan_requires_city_residence=False)
    decision = decide_eligibility(facts, Service.MAIL_LOAN, on, national)
    assert decision.eligible and decision.basis == "mail_loan.visual"
    assert all(r.code != "lives_in_city" for r in decision.reasons)
