"""The application deadline a renewal notice states: before the approval ends, on an open day."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from outreach.enrolments.rules import renewal_deadline
from outreach.errors import PolicyError
from outreach.policy import DEFAULT_POLICY, Policy


def test_the_deadline_is_thirty_days_before_the_approval_ends_by_default():
    assert renewal_deadline(date(2026, 11, 19), date(2026, 9, 25)) == date(2026, 10, 20)


def test_a_deadline_on_a_closed_day_is_brought_forward_to_the_open_day_before():
    # 30 days before 2026-11-18 is Monday 2026-10-19 (休館日): the Sunday before.
    assert renewal_deadline(date(2026, 11, 18), date(2026, 9, 25)) == date(2026, 10, 18)


def test_the_number_of_days_is_a_policy_value():
    policy = dataclasses.replace(DEFAULT_POLICY, renewal_deadline_days=45)
    assert renewal_deadline(date(2026, 11, 19), date(2026, 9, 25), policy) == date(2026, 10, 4)  # 10-05 is a Monday
    assert Policy.from_mapping({"renewal_deadline_days": "14"}).renewal_deadline_days == 14
    with pytest.raises(PolicyError, match="renewal_deadline_days"):
        Policy.from_mapping({"renewal_deadline_days": -1})


def test_a_notice_sent_after_the_deadline_asks_for_the_application_by_the_last_day():
    assert renewal_deadline(date(2026, 11, 19), date(2026, 11, 1)) == date(2026, 11, 19)
    assert renewal_deadline(date(2026, 11, 19), date(2026, 10, 20)) == date(2026, 11, 19)
