"""What one delivery or mail loan may contain, and the overdue restriction."""

from __future__ import annotations

import dataclasses

import pytest

from outreach.errors import ServiceHasNoLoansError
from outreach.loans.rules import ItemFact, ViolationCode, check_overdue_restriction, check_request_limits
from outreach.policy import DEFAULT_POLICY, ItemLimits
from outreach.types import ItemStatus, MaterialType, Service

HD, ML = Service.HOME_DELIVERY, Service.MAIL_LOAN
M = MaterialType


def item(barcode, material_type=M.BOOK, *, lendable=True, unsuitable=False, status=ItemStatus.AVAILABLE):
    return ItemFact(barcode, material_type, lendable, unsuitable, status)


def books(n, material_type=M.BOOK, prefix="B"):
    return [item(f"{prefix}{i}", material_type) for i in range(1, n + 1)]


def avs(n, material_type=M.DAISY):
    return [item(f"AV{i}", material_type) for i in range(1, n + 1)]


def codes(violations):
    return [v.code for v in violations]


def test_empty_request_is_fine():
    assert check_request_limits(HD, []) == []


def test_fifteen_books_and_two_audio_visual_items_are_allowed():
    assert check_request_limits(HD, books(15) + avs(2), DEFAULT_POLICY) == []


def test_sixteenth_book_is_named():
    violations = check_request_limits(HD, books(16), DEFAULT_POLICY)
    assert codes(violations) == [ViolationCode.TOO_MANY_BOOKS]
    (v,) = violations
    assert v.barcode == "B16"
    assert v.message_ja == "図書は1回の宅配につき15冊までです（16冊目：B16）"
    assert v.message_en == "At most 15 books per delivery (16th: B16)"


def test_each_item_over_the_limit_is_named_in_request_order():
    violations = check_request_limits(HD, books(17))
    assert [v.barcode for v in violations] == ["B16", "B17"]


def test_large_print_and_braille_count_as_books():
    request = books(10) + books(3, M.LARGE_PRINT, "L") + books(3, M.BRAILLE_BOOK, "R")
    assert [v.barcode for v in check_request_limits(HD, request)] == ["R3"]


@pytest.mark.parametrize("material_type", [M.AUDIO_CD, M.DAISY, M.OTHER_AV])
def test_third_audio_visual_item_is_named(material_type):
    violations = check_request_limits(HD, avs(3, material_type))
    assert codes(violations) == [ViolationCode.TOO_MANY_AUDIO_VISUAL]
    assert violations[0].message_ja == "視聴覚資料は1回の宅配につき2点までです（3点目：AV3）"
    assert violations[0].message_en == "At most 2 audio-visual items per delivery (3rd: AV3)"


def test_limits_come_from_the_policy():
    policy = dataclasses.replace(DEFAULT_POLICY, home_delivery_items=ItemLimits(10, 5, tuple(MaterialType)))
    assert [v.barcode for v in check_request_limits(HD, books(11) + avs(5), policy)] == ["B11"]


# --- mail loans ------------------------------------------------------------------------------------


def test_mail_loans_allow_fifteen_braille_picture_books_and_two_audio_visual():
    request = books(15, M.BRAILLE_PICTURE_BOOK) + avs(1, M.AUDIO_CD) + [item("D1", M.DAISY)]
    assert check_request_limits(ML, request) == []


def test_mail_loan_book_limit_is_worded_for_braille_picture_books():
    (v,) = check_request_limits(ML, books(16, M.BRAILLE_PICTURE_BOOK))
    assert v.message_ja == "点訳絵本は1回の郵送貸出につき15冊までです（16冊目：B16）"
    assert v.message_en == "At most 15 braille picture books per mail loan (16th: B16)"


@pytest.mark.parametrize("material_type", [M.BOOK, M.LARGE_PRINT, M.BRAILLE_BOOK])
def test_mail_loans_refuse_other_printed_material(material_type):
    violations = check_request_limits(ML, [item("X1", material_type)])
    assert codes(violations) == [ViolationCode.MATERIAL_TYPE_NOT_ALLOWED]
    assert "点訳絵本" in violations[0].message_ja and "X1" in violations[0].message_ja
    assert check_request_limits(HD, [item("X1", material_type)]) == []


# --- per-item exclusions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"lendable": False}, ViolationCode.NOT_LENDABLE),
        ({"unsuitable": True}, ViolationCode.UNSUITABLE),
        ({"status": ItemStatus.ON_LOAN}, ViolationCode.NOT_AVAILABLE),
        ({"status": ItemStatus.LOST}, ViolationCode.NOT_AVAILABLE),
        ({"status": ItemStatus.WITHDRAWN}, ViolationCode.NOT_AVAILABLE),
    ],
)
def test_excluded_items_are_named_and_do_not_count_towards_the_limit(kwargs, code):
    request = books(15) + [item("X1", **kwargs)]
    violations = check_request_limits(HD, request)
    assert codes(violations) == [code]
    assert violations[0].barcode == "X1"
    assert "X1" in violations[0].message_ja and "X1" in violations[0].message_en


def test_status_is_named_in_the_message():
    (v,) = check_request_limits(HD, [item("X1", status=ItemStatus.ON_LOAN)])
    assert "貸出中" in v.message_ja and "on loan" in v.message_en


def test_an_item_with_several_problems_reports_each():
    bad = item("X1", M.BOOK, lendable=False, unsuitable=True, status=ItemStatus.LOST)
    assert codes(check_request_limits(ML, [bad])) == [
        ViolationCode.MATERIAL_TYPE_NOT_ALLOWED,
        ViolationCode.NOT_LENDABLE,
        ViolationCode.UNSUITABLE,
        ViolationCode.NOT_AVAILABLE,
    ]


def test_the_same_item_twice_is_reported_and_counted_once():
    request = books(15) + [item("B1")]
    violations = check_request_limits(HD, request)
    assert codes(violations) == [ViolationCode.DUPLICATE_ITEM]
    assert violations[0].barcode == "B1"


def test_face_to_face_reading_lends_nothing():
    with pytest.raises(ServiceHasNoLoansError):
        check_request_limits(Service.FACE_TO_FACE, books(1))


# --- overdue restriction (規則第9条2) ---------------------------------------------------------------


def test_overdue_items_block_a_new_loan():
    assert check_overdue_restriction(0) == []
    (v,) = check_overdue_restriction(2)
    assert v.code is ViolationCode.OVERDUE_RESTRICTION
    assert "2点" in v.message_ja and "2 items are overdue" in v.message_en
    assert v.message("en") == v.message_en


def test_overdue_restriction_can_be_switched_off():
    assert check_overdue_restriction(3, dataclasses.replace(DEFAULT_POLICY, overdue_restriction=False)) == []
