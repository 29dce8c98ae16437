"""Calendar rules: fiscal years, era dates, legal age and periods, open days and due dates."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from outreach.calendar import (
    ClosedReason,
    add_months,
    age_attained_on,
    age_on,
    closed_reason,
    due_date,
    era_of,
    first_open_day_of_month,
    fiscal_year_label,
    fiscal_year_of,
    fiscal_year_range,
    format_wareki,
    is_national_holiday,
    is_open,
    next_open_day,
    period_end,
)
from outreach.errors import PolicyError
from outreach.policy import DEFAULT_POLICY, HolidayShift

D = date.fromisoformat


def with_policy(**changes):
    return dataclasses.replace(DEFAULT_POLICY, **changes)


# --- fiscal year -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "fy"),
    [
        ("2020-03-31", 2019),
        ("2020-04-01", 2020),
        ("2020-12-31", 2020),
        ("2021-01-01", 2020),
        ("2021-03-31", 2020),
        ("2021-04-01", 2021),
    ],
)
def test_fiscal_year_runs_april_to_march(day, fy):
    assert fiscal_year_of(D(day)) == fy


def test_fiscal_year_range():
    assert fiscal_year_range(2020) == (D("2020-04-01"), D("2021-03-31"))
    assert fiscal_year_range(2023) == (D("2023-04-01"), D("2024-03-31"))


@pytest.mark.parametrize(
    ("fy", "label"),
    [
        (2020, "令和2年度（2020年度）"),
        (2019, "令和元年度（2019年度）"),  # began as 平成31年度; officially 令和元年度
        (2018, "平成30年度（2018年度）"),
        (1989, "平成元年度（1989年度）"),
        (1988, "昭和63年度（1988年度）"),  # 平成 began 1989-01-08, inside FY1988, which stays 昭和63年度
        (2026, "令和8年度（2026年度）"),
    ],
)
def test_fiscal_year_label_ja(fy, label):
    assert fiscal_year_label(fy) == label


def test_fiscal_year_label_en():
    assert fiscal_year_label(2020, "en") == "FY2020 (Reiwa 2)"
    assert fiscal_year_label(2019, lang="en") == "FY2019 (Reiwa 1)"


# --- Japanese era ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "text"),
    [
        ("2026-11-21", "令和8年11月21日"),
        ("2019-05-01", "令和元年5月1日"),
        ("2019-04-30", "平成31年4月30日"),
        ("2020-01-01", "令和2年1月1日"),
        ("1989-01-08", "平成元年1月8日"),
        ("1989-01-07", "昭和64年1月7日"),
        ("1926-12-25", "昭和元年12月25日"),
        ("1926-12-24", "大正15年12月24日"),
        ("1912-07-30", "大正元年7月30日"),
        ("1912-07-29", "明治45年7月29日"),
        ("1873-01-01", "明治6年1月1日"),
    ],
)
def test_format_wareki_across_era_boundaries(day, text):
    assert format_wareki(D(day)) == text


def test_format_wareki_with_western_year():
    assert format_wareki(D("2026-11-21"), with_western=True) == "令和8年（2026年）11月21日"


def test_era_before_gregorian_calendar_is_refused():
    with pytest.raises(ValueError):
        format_wareki(D("1872-12-31"))


def test_era_of_returns_year_number():
    era, year = era_of(D("2019-05-01"))
    assert (era.name_ja, era.name_en, year) == ("令和", "Reiwa", 1)


# --- age (年齢計算ニ関スル法律) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        # The brief's example: 65 is attained at the end of the day before the birthday.
        ("1961-04-02", "2026-03-31", 64),
        ("1961-04-02", "2026-04-01", 65),
        ("1961-04-02", "2026-04-02", 65),
        ("1961-04-01", "2026-03-30", 64),
        ("1961-04-01", "2026-03-31", 65),
        # 1 March birthday: the day before is 29 Feb in a leap year.
        ("1963-03-01", "2028-02-28", 64),
        ("1963-03-01", "2028-02-29", 65),
        # 29 Feb birthday, 65th in a common year: attained at the end of 28 Feb.
        ("1960-02-29", "2025-02-27", 64),
        ("1960-02-29", "2025-02-28", 65),
        ("1960-02-29", "2025-03-01", 65),
        # 29 Feb birthday, 64th in a leap year: also attained on 28 Feb (day before 29 Feb).
        ("1960-02-29", "2024-02-27", 63),
        ("1960-02-29", "2024-02-28", 64),
        ("1960-02-29", "2024-02-29", 64),
        ("2000-02-29", "2001-02-28", 1),
        ("2000-02-29", "2001-02-27", 0),
        # Day of birth is age 0; born 1 Jan is 1 on 31 Dec of the same year.
        ("2000-01-01", "2000-01-01", 0),
        ("2000-01-01", "2000-12-30", 0),
        ("2000-01-01", "2000-12-31", 1),
    ],
)
def test_age_on(birth, on, age):
    assert age_on(D(birth), D(on)) == age


@pytest.mark.parametrize(
    ("birth", "age", "attained"),
    [
        ("1961-04-02", 65, "2026-04-01"),
        ("1960-02-29", 65, "2025-02-28"),
        ("1960-02-29", 64, "2024-02-28"),
        ("1963-03-01", 65, "2028-02-29"),
    ],
)
def test_age_attained_on(birth, age, attained):
    assert age_attained_on(D(birth), age) == D(attained)


def test_age_before_birth_is_an_error():
    with pytest.raises(ValueError):
        age_on(D("2000-01-02"), D("2000-01-01"))


# --- months and legal periods ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "result"),
    [
        ("2026-01-31", 1, "2026-02-28"),
        ("2024-01-31", 1, "2024-02-29"),
        ("2026-03-31", -1, "2026-02-28"),
        ("2026-12-15", 1, "2027-01-15"),
        ("2026-01-15", -13, "2024-12-15"),
        ("2026-05-31", 12, "2027-05-31"),
        ("2026-05-10", 0, "2026-05-10"),
    ],
)
def test_add_months_clamps_to_month_end(start, n, result):
    assert add_months(D(start), n) == D(result)


@pytest.mark.parametrize(
    ("start", "years", "months", "end"),
    [
        ("2026-11-21", 3, 0, "2029-11-20"),
        ("2024-02-29", 3, 0, "2027-02-28"),  # no 29 Feb in 2027: last day of February
        ("2024-02-29", 4, 0, "2028-02-28"),  # the day before 29 Feb 2028
        ("2026-01-31", 0, 1, "2026-02-28"),
        ("2026-01-28", 0, 1, "2026-02-27"),
        ("2026-03-01", 0, 1, "2026-03-31"),
    ],
)
def test_period_end(start, years, months, end):
    assert period_end(D(start), years=years, months=months) == D(end)


def test_period_must_be_positive():
    with pytest.raises(ValueError):
        period_end(D("2026-01-01"))


# --- closed days -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        ("2024-12-28", None),  # Saturday before the closure
        ("2024-12-29", ClosedReason.YEAR_END),
        ("2025-01-01", ClosedReason.YEAR_END),
        ("2025-01-04", ClosedReason.YEAR_END),
        ("2025-01-05", None),  # Sunday, open at the central library
        ("2026-11-16", ClosedReason.WEEKLY),  # plain Monday
        ("2026-11-17", None),  # plain Tuesday
        ("2026-11-05", ClosedReason.MONTHLY),  # first Thursday of November 2026
        ("2026-11-12", None),  # second Thursday
        ("2026-03-05", ClosedReason.MONTHLY),
        ("2026-05-07", ClosedReason.MONTHLY),  # 1 May is a Friday: the first Thursday is the 7th
        ("2026-05-14", None),
        ("2026-11-03", None),  # 文化の日 on a Tuesday: holidays are open days
    ],
)
def test_closed_days_of_the_central_library(day, reason):
    assert closed_reason(D(day), DEFAULT_POLICY) == reason
    assert is_open(D(day), DEFAULT_POLICY) is (reason is None)


def test_holiday_monday_is_open_and_tuesday_closed_instead():
    assert is_national_holiday(D("2026-11-23"))  # 勤労感謝の日, a Monday
    assert is_open(D("2026-11-23"))
    assert closed_reason(D("2026-11-24")) == ClosedReason.WEEKLY_HOLIDAY_SHIFT
    assert is_open(D("2026-11-25"))


def test_holiday_monday_followed_by_holiday_tuesday_closes_that_tuesday():
    # 規則第2条2(2) 「その翌日」: the next day, even though 5 May is itself a holiday.
    assert [is_national_holiday(D(f"2026-05-0{d}")) for d in (4, 5, 6)] == [True, True, True]
    assert is_open(D("2026-05-04"))
    assert closed_reason(D("2026-05-05")) == ClosedReason.WEEKLY_HOLIDAY_SHIFT
    assert is_open(D("2026-05-06"))


def test_next_non_holiday_shift_skips_a_run_of_holidays():
    policy = with_policy(holiday_shift=HolidayShift.NEXT_NON_HOLIDAY)
    # Silver week 2015: Mon 21 敬老の日, Tue 22 国民の休日, Wed 23 秋分の日.
    assert [is_open(D(f"2015-09-{d}"), policy) for d in (21, 22, 23, 24)] == [True, True, True, False]
    assert closed_reason(D("2015-09-24"), policy) == ClosedReason.WEEKLY_HOLIDAY_SHIFT
    # The same week under the source's literal rule closes Tuesday 22.
    assert closed_reason(D("2015-09-22")) == ClosedReason.WEEKLY_HOLIDAY_SHIFT
    assert is_open(D("2015-09-24"))


def test_holiday_first_thursday_moves_to_friday():
    assert is_national_holiday(D("2022-11-03"))  # 文化の日, the first Thursday of November 2022
    assert is_open(D("2022-11-03"))
    assert closed_reason(D("2022-11-04")) == ClosedReason.MONTHLY_HOLIDAY_SHIFT
    assert is_open(D("2022-11-10"))  # the second Thursday stays open


def test_branch_rooms_close_on_sundays_including_holiday_sundays():
    assert is_open(D("2026-11-22"))
    assert closed_reason(D("2026-11-22"), branch=True) == ClosedReason.BRANCH_WEEKLY
    assert is_national_holiday(D("2026-05-03"))
    assert closed_reason(D("2026-05-03"), branch=True) == ClosedReason.BRANCH_WEEKLY
    assert is_open(D("2026-11-21"), branch=True)  # Saturday
    # Branch rooms keep the other rules.
    assert closed_reason(D("2026-11-16"), branch=True) == ClosedReason.WEEKLY


def test_stocktaking_and_special_closures_and_openings():
    policy = with_policy(
        stocktaking_closures=((D("2026-06-09"), D("2026-06-13")),),
        special_closures=((D("2026-07-01"), D("2026-07-01")),),
        special_openings=(D("2026-06-15"),),
    )
    assert is_open(D("2026-06-08"), policy) is False  # Monday anyway
    assert closed_reason(D("2026-06-09"), policy) == ClosedReason.STOCKTAKING
    assert closed_reason(D("2026-06-13"), policy) == ClosedReason.STOCKTAKING
    assert is_open(D("2026-06-14"), policy)
    assert is_open(D("2026-06-15"), policy)  # a Monday opened specially
    assert closed_reason(D("2026-07-01"), policy) == ClosedReason.SPECIAL
    assert is_open(D("2026-06-09"))  # without the policy entries it is an ordinary Tuesday


def test_year_end_closure_is_configurable():
    policy = with_policy(year_end_closure_start=(12, 28))
    assert closed_reason(D("2024-12-28"), policy) == ClosedReason.YEAR_END
    assert is_open(D("2024-12-28"))


def test_closed_reason_has_labels():
    assert ClosedReason.YEAR_END.label() == "年末年始の休館日"
    assert ClosedReason.YEAR_END.label("en") == "year-end closure"
    assert all(reason.label() and reason.label("en") for reason in ClosedReason)


# --- next open day, due dates ----------------------------------------------------------------------


def test_next_open_day_returns_the_day_itself_when_open():
    assert next_open_day(D("2026-11-17"), DEFAULT_POLICY) == D("2026-11-17")


def test_next_open_day_skips_year_end_and_the_following_monday():
    # 29 Dec 2025 .. 4 Jan 2026 year-end, 5 Jan Monday.
    assert next_open_day(D("2025-12-29"), DEFAULT_POLICY) == D("2026-01-06")


def test_next_open_day_at_a_branch_skips_sunday_and_monday():
    assert next_open_day(D("2026-11-22"), DEFAULT_POLICY) == D("2026-11-22")
    assert next_open_day(D("2026-11-15"), DEFAULT_POLICY, branch=True) == D("2026-11-17")


def test_next_open_day_fails_when_the_policy_closes_everything():
    policy = with_policy(special_closures=((D("2026-01-01"), D("2027-12-31")),))
    with pytest.raises(PolicyError):
        next_open_day(D("2026-06-01"), policy)


@pytest.mark.parametrize(
    ("shipped", "due"),
    [
        ("2026-10-17", "2026-11-17"),  # open Tuesday: exactly one month
        ("2026-10-16", "2026-11-17"),  # one month later is Monday 16 Nov: next day
        ("2026-10-05", "2026-11-06"),  # 5 Nov is the first Thursday
        ("2026-10-23", "2026-11-23"),  # 23 Nov is a holiday Monday, so open: not pushed
        ("2025-12-05", "2026-01-06"),  # lands on 5 Jan, a Monday after the year-end closure
        ("2026-11-28", "2027-01-05"),  # 28 Dec Monday, then year-end to 4 Jan
        ("2026-01-31", "2026-02-28"),  # month end clamp; Saturday is open
    ],
)
def test_due_date_is_one_month_later_on_an_open_day(shipped, due):
    assert due_date(D(shipped), DEFAULT_POLICY) == D(due)


def test_due_date_follows_the_policy_loan_period():
    assert due_date(D("2026-10-17"), with_policy(loan_period_months=2)) == D("2026-12-17")


@pytest.mark.parametrize(
    ("year", "month", "branch", "first"),
    [
        (2026, 1, False, "2026-01-06"),
        (2026, 11, False, "2026-11-01"),  # Sunday: open at the central library
        (2026, 11, True, "2026-11-03"),  # branch: Sunday and Monday closed, Tuesday is a holiday but open
        (2027, 1, False, "2027-01-05"),
    ],
)
def test_first_open_day_of_month(year, month, branch, first):
    assert first_open_day_of_month(year, month, DEFAULT_POLICY, branch=branch) == D(first)


def test_first_open_day_of_month_fails_when_the_month_is_closed():
    policy = with_policy(special_closures=((D("2026-08-01"), D("2026-08-31")),))
    with pytest.raises(PolicyError):
        first_open_day_of_month(2026, 8, policy)


def test_closed_days_of_november_2026():
    # Mondays 2, 9, 16, 30; holiday Monday 23 moves to Tuesday 24; first Thursday 5.
    days = [D("2026-11-01") + timedelta(days=i) for i in range(30)]
    closed = [d.day for d in days if not is_open(d)]
    assert closed == [2, 5, 9, 16, 24, 30]
    assert all(is_open(d) is (closed_reason(d) is None) for d in days)
