"""Which approvals in force need a review, and when a kept review is settled."""

from __future__ import annotations

import dataclasses
from datetime import date

from outreach.enrolments.rules import EligibilityFacts, ReasonCode, is_review_settled, review_reasons
from outreach.policy import DEFAULT_POLICY
from outreach.types import Service

ON = date(2026, 11, 21)
SPECIAL_ONLY = EligibilityFacts(birth_date=date(1975, 1, 1), lives_in_city=True, lives_in_facility=False,
                                has_library_card=True, finds_visiting_difficult=True)


def _codes(reasons) -> list[ReasonCode]:  # type: ignore[no-untyped-def]
    return [r.code for r in reasons]


def test_a_special_approval_needs_no_review_while_residence_and_home_hold():
    assert review_reasons(SPECIAL_ONLY, Service.HOME_DELIVERY, ON, is_special=True) == ()


def test_an_ordinary_approval_of_the_same_patron_would_be_reviewed():
    assert review_reasons(SPECIAL_ONLY, Service.HOME_DELIVERY, ON) != ()


def test_a_special_approval_is_reviewed_on_moving_away_or_entering_a_facility_for_that_reason_only():
    moved = dataclasses.replace(SPECIAL_ONLY, lives_in_city=False)
    assert _codes(review_reasons(moved, Service.HOME_DELIVERY, ON, is_special=True)) == [ReasonCode.LIVES_IN_CITY]
    facility = dataclasses.replace(SPECIAL_ONLY, lives_in_facility=True)
    assert _codes(review_reasons(facility, Service.HOME_DELIVERY, ON, is_special=True)) == [
        ReasonCode.NOT_IN_FACILITY]


def test_a_special_approval_is_reviewed_when_the_policy_no_longer_allows_one():
    policy = dataclasses.replace(DEFAULT_POLICY, special_approval_services=())
    assert _codes(review_reasons(SPECIAL_ONLY, Service.HOME_DELIVERY, ON, policy, is_special=True)) == [
        ReasonCode.SPECIAL_APPROVAL]


def test_a_kept_review_is_settled_for_the_same_or_fewer_reasons_but_not_for_a_new_one():
    assert not is_review_settled(["lives_in_city"], None)
    assert is_review_settled(["lives_in_city"], ["lives_in_city"])
    assert is_review_settled(["lives_in_city"], ["lives_in_city", "care_level"])
    assert not is_review_settled(["lives_in_city", "not_in_facility"], ["lives_in_city"])
