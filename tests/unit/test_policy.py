"""The policy: source defaults, building from plain values, validation; and the domain error base."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime

import pytest

from outreach.errors import DomainError, PolicyError
from outreach.policy import DEFAULT_POLICY, MONDAY, SUNDAY, THURSDAY, HolidayShift, ItemLimits, Policy
from outreach.types import CareLevel, MaterialType, Service


def test_defaults_are_the_source_values():
    p = DEFAULT_POLICY
    assert p.home_delivery_min_age == 65
    assert p.home_delivery_min_care_level is CareLevel.CARE_2
    assert p.home_delivery_approval_years == 3
    assert p.renewal_notice_days == 60
    assert p.mail_loan_rules_effective_on == date(2021, 4, 1)
    assert (p.home_delivery_items.max_books, p.home_delivery_items.max_audio_visual) == (15, 2)
    assert (p.mail_loan_items.max_books, p.mail_loan_items.max_audio_visual) == (15, 2)
    assert p.loan_period_months == 1 and p.loan_extension_allowed is False
    assert p.deliveries_per_month == 1
    assert p.year_end_closure_start == (12, 29) and p.year_end_closure_end == (1, 4)
    assert p.weekly_closed_weekdays == (MONDAY,)
    assert p.monthly_closed_days == ((1, THURSDAY),)
    assert p.branch_closed_weekdays == (SUNDAY,)
    assert p.holiday_shift is HolidayShift.NEXT_DAY
    assert p.stocktaking_max_days_per_year == 14
    assert p.face_to_face_session_minutes == 120 and p.face_to_face_max_session_minutes == 180
    assert p.overdue_restriction is True


def test_mail_loans_allow_only_braille_picture_books_and_audio_visual():
    allowed = set(DEFAULT_POLICY.mail_loan_items.allowed_material_types)
    assert allowed == {
        MaterialType.BRAILLE_PICTURE_BOOK,
        MaterialType.AUDIO_CD,
        MaterialType.DAISY,
        MaterialType.OTHER_AV,
    }
    assert set(DEFAULT_POLICY.home_delivery_items.allowed_material_types) == set(MaterialType)


def test_per_service_accessors():
    p = DEFAULT_POLICY
    assert p.item_limits(Service.HOME_DELIVERY) is p.home_delivery_items
    assert p.item_limits(Service.MAIL_LOAN) is p.mail_loan_items
    assert p.item_limits(Service.FACE_TO_FACE) is None
    assert [p.approval_years(s) for s in Service] == [3, None, None]
    assert p.allows_special_approval(Service.HOME_DELIVERY)
    assert not p.allows_special_approval(Service.MAIL_LOAN)


def test_policy_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_POLICY.home_delivery_min_age = 70  # type: ignore[misc]


def test_empty_mapping_gives_the_default():
    assert Policy.from_mapping({}) == DEFAULT_POLICY


def test_to_mapping_round_trips_through_json():
    custom = dataclasses.replace(
        DEFAULT_POLICY,
        stocktaking_closures=((date(2026, 6, 9), date(2026, 6, 13)),),
        special_openings=(date(2026, 6, 15),),
        holiday_shift=HolidayShift.NEXT_NON_HOLIDAY,
    )
    plain = json.loads(json.dumps(custom.to_mapping()))
    assert Policy.from_mapping(plain) == custom


def test_from_mapping_converts_strings_from_a_settings_table_or_environment():
    p = Policy.from_mapping(
        {
            "home_delivery_min_age": "70",
            "home_delivery_min_care_level": "care_3",
            "mail_loan_rules_effective_on": "2022-04-01",
            "overdue_restriction": "false",
            "year_end_closure_start": "12-28",
            "home_delivery_approval_years": None,
            "home_delivery_items": {
                "max_books": 10,
                "max_audio_visual": 3,
                "allowed_material_types": ["book", "daisy"],
            },
        }
    )
    assert p.home_delivery_min_age == 70
    assert p.home_delivery_min_care_level is CareLevel.CARE_3
    assert p.mail_loan_rules_effective_on == date(2022, 4, 1)
    assert p.overdue_restriction is False
    assert p.year_end_closure_start == (12, 28)
    assert p.home_delivery_approval_years is None
    assert p.home_delivery_items == ItemLimits(10, 3, (MaterialType.BOOK, MaterialType.DAISY))
    assert p.mail_loan_items == DEFAULT_POLICY.mail_loan_items  # untouched keys keep the default


def test_from_mapping_starts_from_a_given_base():
    base = dataclasses.replace(DEFAULT_POLICY, renewal_notice_days=30)
    assert Policy.from_mapping({"home_delivery_min_age": 70}, base=base).renewal_notice_days == 30


def test_unknown_keys_are_errors_not_ignored():
    with pytest.raises(PolicyError) as info:
        Policy.from_mapping({"home_delivery_min_agee": 70})
    assert "home_delivery_min_agee" in info.value.message_en
    assert info.value.code == "policy.invalid"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("home_delivery_min_age", True),  # a bool is not an age
        ("home_delivery_min_age", 65.5),
        ("home_delivery_min_age", "sixty"),
        ("home_delivery_min_care_level", "care_9"),
        ("home_delivery_min_care_level", 3),
        ("mail_loan_rules_effective_on", "2021/04/01"),
        ("mail_loan_rules_effective_on", datetime(2021, 4, 1)),
        ("overdue_restriction", "yes"),
        ("overdue_restriction", 1),
        ("weekly_closed_weekdays", "0"),
        ("monthly_closed_days", [[1, 3, 5]]),
        ("home_delivery_items", {"max_books": 15, "max_audio_visual": 2}),
        ("home_delivery_items", {"max_books": 15, "max_audio_visual": 2, "allowed_material_types": ["vhs"]}),
        ("special_approval_services", ["home_delivery", "bookmobile"]),
        ("holiday_shift", "previous_day"),
    ],
)
def test_wrong_types_are_rejected(key, value):
    with pytest.raises(PolicyError) as info:
        Policy.from_mapping({key: value})
    assert key in info.value.message_en


def test_all_problems_are_reported_at_once():
    with pytest.raises(PolicyError) as info:
        Policy.from_mapping({"home_delivery_min_age": "x", "renewal_notice_days": "y", "nope": 1})
    for word in ("home_delivery_min_age", "renewal_notice_days", "nope"):
        assert word in info.value.message_en
        assert word in info.value.message_ja


@pytest.mark.parametrize(
    "changes",
    [
        {"home_delivery_min_age": 0},
        {"renewal_notice_days": -1},
        {"home_delivery_approval_years": 0},
        {"face_to_face_max_session_minutes": 90},  # below the 120-minute default session
        {"weekly_closed_weekdays": (7,)},
        {"monthly_closed_days": ((6, THURSDAY),)},
        {"year_end_closure_start": (2, 30)},
        {"special_closures": ((date(2026, 6, 2), date(2026, 6, 1)),)},
        {"home_delivery_items": ItemLimits(15, 2, ())},
        {"mail_loan_items": ItemLimits(-1, 2, (MaterialType.DAISY,))},
    ],
)
def test_out_of_range_values_are_rejected(changes):
    with pytest.raises(PolicyError):
        dataclasses.replace(DEFAULT_POLICY, **changes)


def test_stocktaking_is_limited_to_14_days_per_fiscal_year():
    fourteen = ((date(2026, 6, 1), date(2026, 6, 14)),)
    assert dataclasses.replace(DEFAULT_POLICY, stocktaking_closures=fourteen).stocktaking_closures == fourteen
    with pytest.raises(PolicyError) as info:
        dataclasses.replace(DEFAULT_POLICY, stocktaking_closures=((date(2026, 6, 1), date(2026, 6, 15)),))
    assert "FY2026" in info.value.message_en
    # 10 days in March (FY2025) and 10 in April (FY2026) are within the limit of each year.
    split = ((date(2026, 3, 20), date(2026, 3, 29)), (date(2026, 4, 1), date(2026, 4, 10)))
    dataclasses.replace(DEFAULT_POLICY, stocktaking_closures=split)
    # Overlapping ranges count each day once.
    overlap = ((date(2026, 6, 1), date(2026, 6, 10)), (date(2026, 6, 5), date(2026, 6, 14)))
    dataclasses.replace(DEFAULT_POLICY, stocktaking_closures=overlap)


def test_domain_error_messages_in_both_languages():
    error = DomainError("x.code", "日本語", "English")
    assert (error.code, error.message(), error.message("ja"), error.message("en")) == (
        "x.code",
        "日本語",
        "日本語",
        "English",
    )
    assert DomainError("x", message_ja="だけ").message("en") == "だけ"  # falls back to the other language
    assert str(error) == "English"
    assert isinstance(PolicyError("p", "あ", "a"), ValueError)
    assert PolicyError().code == "policy.invalid"
