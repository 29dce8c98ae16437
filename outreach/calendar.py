"""Pure date rules: fiscal years, Japanese era dates, legal ages and periods, library open days.

No "today" in here: every function takes the dates it needs. Closed days follow the policy
(図書館条例施行規則 第2条2); national holidays come from ``jpholiday``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from enum import StrEnum
from typing import NamedTuple

import jpholiday

from outreach.errors import PolicyError
from outreach.policy import DEFAULT_POLICY, FISCAL_YEAR_START_MONTH, HolidayShift, Policy

_ONE_DAY = timedelta(days=1)

# How far next_open_day looks before deciding that the policy closes everything.
_MAX_SEARCH_DAYS = 366


# --------------------------------------------------------------------------------------------------
# months and legal periods


def days_in_month(year: int, month: int) -> int:
    """Number of days in ``month`` of ``year``."""
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return (first_of_next - _ONE_DAY).day


def add_months(d: date, n: int) -> date:
    """The same day ``n`` months later (or earlier), clamped to the end of a shorter month (1/31 + 1 → 2/28)."""
    year, month0 = divmod(d.year * 12 + (d.month - 1) + n, 12)
    month = month0 + 1
    return date(year, month, min(d.day, days_in_month(year, month)))


def period_end(start: date, *, years: int = 0, months: int = 0) -> date:
    """Last day of a period of years/months that includes ``start`` (民法第143条).

    The period ends on the day before the corresponding day (応当日) of the last month; when the
    last month has no such day (a 29 Feb start in a common year, 31 Jan + 1 month), it ends on the
    last day of that month. So 2024-02-29 + 3 years ends 2027-02-28, + 4 years ends 2028-02-28.
    """
    total = years * 12 + months
    if total < 1:
        raise ValueError("a period must be at least one month long")
    year, month0 = divmod(start.year * 12 + (start.month - 1) + total, 12)
    month = month0 + 1
    if start.day > days_in_month(year, month):
        return date(year, month, days_in_month(year, month))
    return date(year, month, start.day) - _ONE_DAY


# --------------------------------------------------------------------------------------------------
# age (年齢計算ニ関スル法律)


def age_attained_on(birth: date, age: int) -> date:
    """The day at whose end a person born on ``birth`` attains ``age`` (年齢到達日: the day before the birthday).

    Age counts from the day of birth (年齢計算ニ関スル法律第1項) and ends like any period in years
    (民法第143条): at the end of the day before the birthday. Someone born on 29 Feb therefore
    attains every age at the end of 28 Feb, in common and leap years alike (in a common year there is
    no 応当日, so the period ends on the last day of February; in a leap year the day before 29 Feb
    is 28 Feb).
    """
    if age < 1:
        raise ValueError("age must be at least 1")
    return period_end(birth, years=age)


def age_on(birth: date, on: date) -> int:
    """Age (満年齢) reached by the end of ``on``: someone born 1961-04-02 is 65 on 2026-04-01.

    This is the administrative reading used for age limits (e.g. 介護保険の第1号被保険者 from the
    day before the 65th birthday): a person counts as N years old on the day they attain N, which is
    the day before the birthday (see :func:`age_attained_on`). A 29 Feb baby is N on 28 Feb.
    """
    if on < birth:
        raise ValueError("the date is before the birth date")
    age = on.year - birth.year + 1  # one more than possible, stepped down below
    while age >= 1 and age_attained_on(birth, age) > on:
        age -= 1
    return max(age, 0)


# --------------------------------------------------------------------------------------------------
# fiscal year (会計年度)


def fiscal_year_of(d: date) -> int:
    """Fiscal year (April–March) containing ``d``, named by the year it starts in: 2021-03-31 → 2020."""
    return d.year if d.month >= FISCAL_YEAR_START_MONTH else d.year - 1


def fiscal_year_range(fy: int) -> tuple[date, date]:
    """First and last day of fiscal year ``fy``: 2020 → (2020-04-01, 2021-03-31)."""
    start = date(fy, FISCAL_YEAR_START_MONTH, 1)
    return start, add_months(start, 12) - _ONE_DAY


# --------------------------------------------------------------------------------------------------
# Japanese era (和暦)


class Era(NamedTuple):
    name_ja: str
    name_en: str
    starts_on: date  # first day of year 1 (元年) in the Gregorian calendar


# Newest first. Before 1873-01-01 Japan used a lunisolar calendar, so Gregorian dates cannot be
# written as era dates by simple arithmetic: those dates are refused.
ERAS: tuple[Era, ...] = (
    Era("令和", "Reiwa", date(2019, 5, 1)),
    Era("平成", "Heisei", date(1989, 1, 8)),
    Era("昭和", "Showa", date(1926, 12, 25)),
    Era("大正", "Taisho", date(1912, 7, 30)),
    Era("明治", "Meiji", date(1868, 1, 25)),
)
_GREGORIAN_ADOPTED_ON = date(1873, 1, 1)  # 明治6年1月1日


def era_of(d: date) -> tuple[Era, int]:
    """The era in force on ``d`` and the year within it (1 = 元年)."""
    if d < _GREGORIAN_ADOPTED_ON:
        raise ValueError("era dates before 1873-01-01 (太陰太陽暦) are not supported")
    for era in ERAS:
        if d >= era.starts_on:
            return era, d.year - era.starts_on.year + 1
    raise AssertionError("unreachable: ERAS covers every date from 1873")  # pragma: no cover


def _era_year_ja(year: int) -> str:
    return "元" if year == 1 else str(year)  # 元年, never 1年, in official writing


def format_wareki(d: date, *, with_western: bool = False) -> str:
    """Date in the Japanese era as on official letters: 令和8年11月21日 (令和元年5月1日 for year 1)."""
    era, year = era_of(d)
    western = f"（{d.year}年）" if with_western else ""
    return f"{era.name_ja}{_era_year_ja(year)}年{western}{d.month}月{d.day}日"


def fiscal_year_label(fy: int, lang: str = "ja") -> str:
    """Name of a fiscal year: 令和2年度（2020年度） / FY2020 (Reiwa 2).

    The era is the one in force at the end of calendar year ``fy``, as officially used: FY2019
    (started under 平成31年) is 令和元年度, while FY1988 (平成 began 1989-01-08) stays 昭和63年度.
    """
    era, year = era_of(date(fy, 12, 31))
    if lang.lower().startswith("en"):
        return f"FY{fy} ({era.name_en} {year})"
    return f"{era.name_ja}{_era_year_ja(year)}年度（{fy}年度）"


# --------------------------------------------------------------------------------------------------
# open and closed days (休館日)


class ClosedReason(StrEnum):
    """Why a library is closed on a day, in the order :func:`closed_reason` checks them."""

    SPECIAL = "special"  # 臨時休館
    YEAR_END = "year_end"  # 年末年始 (第2条2(1))
    STOCKTAKING = "stocktaking"  # 特別整理期間・点検 (第2条2(5))
    WEEKLY = "weekly"  # 毎週の休館日 (第2条2(2) 月曜日)
    WEEKLY_HOLIDAY_SHIFT = "weekly_holiday_shift"  # 休館日が祝日に当たるための振替
    MONTHLY = "monthly"  # 第1木曜日 (第2条2(3))
    MONTHLY_HOLIDAY_SHIFT = "monthly_holiday_shift"
    BRANCH_WEEKLY = "branch_weekly"  # 分室の日曜休室 (第2条2(4))

    def label(self, lang: str = "ja") -> str:
        """Human-readable reason for calendars and error messages."""
        ja, en = _CLOSED_REASON_LABELS[self]
        return en if lang.lower().startswith("en") else ja


_CLOSED_REASON_LABELS: dict[ClosedReason, tuple[str, str]] = {
    ClosedReason.SPECIAL: ("臨時休館日", "special closure"),
    ClosedReason.YEAR_END: ("年末年始の休館日", "year-end closure"),
    ClosedReason.STOCKTAKING: ("蔵書点検のための休館日", "stock-taking closure"),
    ClosedReason.WEEKLY: ("定例休館日", "weekly closing day"),
    ClosedReason.WEEKLY_HOLIDAY_SHIFT: (
        "休館日が祝日に当たるための振替休館日",
        "weekly closing day moved after a holiday",
    ),
    ClosedReason.MONTHLY: ("毎月の休館日（第1木曜日など）", "monthly closing day"),
    ClosedReason.MONTHLY_HOLIDAY_SHIFT: (
        "毎月の休館日が祝日に当たるための振替休館日",
        "monthly closing day moved after a holiday",
    ),
    ClosedReason.BRANCH_WEEKLY: ("分室の休室日", "branch room closing day"),
}


def is_national_holiday(d: date) -> bool:
    """Whether ``d`` is a 休日 under 国民の祝日に関する法律 (祝日, 振替休日 and 国民の休日)."""
    return jpholiday.is_holiday(d)


def _in_ranges(d: date, ranges: tuple[tuple[date, date], ...]) -> bool:
    return any(start <= d <= end for start, end in ranges)


def _in_year_end(d: date, policy: Policy) -> bool:
    md = (d.month, d.day)
    start, end = policy.year_end_closure_start, policy.year_end_closure_end
    if start <= end:  # a closure within one calendar year
        return start <= md <= end
    return md >= start or md <= end  # wraps over New Year: 12/29 .. 1/4


def _is_nth_weekday(d: date, nth: int, weekday: int) -> bool:
    return d.weekday() == weekday and (d.day - 1) // 7 + 1 == nth


def _shifted_closure(d: date, weekday_rule: Callable[[date], bool], shift: HolidayShift) -> str | None:
    """'base' when ``d`` is a rule's day and not a holiday, 'shift' when a holiday pushed the rule onto ``d``.

    規則第2条2(2)(3): 「…（法に規定する休日に当たる場合は、その翌日）」.
    """
    holiday = is_national_holiday(d)
    if weekday_rule(d) and not holiday:
        return "base"
    previous = d - _ONE_DAY
    if shift is HolidayShift.NEXT_DAY:
        # The day after a holiday closing day is closed, whether or not it is a holiday itself.
        return "shift" if weekday_rule(previous) and is_national_holiday(previous) else None
    # NEXT_NON_HOLIDAY: walk back over the run of holidays just before d.
    if holiday:
        return None
    while is_national_holiday(previous):
        if weekday_rule(previous):
            return "shift"
        previous -= _ONE_DAY
    return None


def closed_reason(d: date, policy: Policy = DEFAULT_POLICY, branch: bool = False) -> ClosedReason | None:
    """Why the library (or, with ``branch``, a branch room 分室) is closed on ``d``; None when it is open.

    National holidays are open days unless a rule closes them. ``ClosedReason`` is a ``str``.
    """
    if d in policy.special_openings:
        return None
    if _in_ranges(d, policy.special_closures):
        return ClosedReason.SPECIAL
    if _in_year_end(d, policy):
        return ClosedReason.YEAR_END
    if _in_ranges(d, policy.stocktaking_closures):
        return ClosedReason.STOCKTAKING
    for weekday in policy.weekly_closed_weekdays:
        kind = _shifted_closure(d, lambda x, wd=weekday: x.weekday() == wd, policy.holiday_shift)
        if kind:
            return ClosedReason.WEEKLY if kind == "base" else ClosedReason.WEEKLY_HOLIDAY_SHIFT
    for nth, weekday in policy.monthly_closed_days:
        kind = _shifted_closure(
            d, lambda x, n=nth, wd=weekday: _is_nth_weekday(x, n, wd), policy.holiday_shift
        )
        if kind:
            return ClosedReason.MONTHLY if kind == "base" else ClosedReason.MONTHLY_HOLIDAY_SHIFT
    # 分室 are closed on Sundays with no holiday shift (山口分室 is the exception: the caller passes branch=False).
    if branch and d.weekday() in policy.branch_closed_weekdays:
        return ClosedReason.BRANCH_WEEKLY
    return None


def is_open(d: date, policy: Policy = DEFAULT_POLICY, branch: bool = False) -> bool:
    """Whether the library (or a branch room) is open on ``d``."""
    return closed_reason(d, policy, branch) is None


def next_open_day(d: date, policy: Policy = DEFAULT_POLICY, branch: bool = False) -> date:
    """``d`` itself when open, else the first open day after it."""
    day = d
    for _ in range(_MAX_SEARCH_DAYS):
        if is_open(day, policy, branch):
            return day
        day += _ONE_DAY
    raise PolicyError(
        "policy.no_open_day",
        f"{format_wareki(d)}から1年以内に開館日がありません",
        f"no open day within a year after {d.isoformat()}",
    )


def due_date(shipped_on: date, policy: Policy = DEFAULT_POLICY) -> date:
    """Return date of a loan: the loan period (1か月, no extension) after shipping, moved to the next open day."""
    return next_open_day(add_months(shipped_on, policy.loan_period_months), policy)


def first_open_day_of_month(
    year: int, month: int, policy: Policy = DEFAULT_POLICY, branch: bool = False
) -> date:
    """The first open day of a month (e.g. for the monthly delivery run); an error if the month has none."""
    day = next_open_day(date(year, month, 1), policy, branch)
    if (day.year, day.month) != (year, month):
        raise PolicyError(
            "policy.no_open_day",
            f"{year}年{month}月に開館日がありません",
            f"no open day in {year}-{month:02d}",
        )
    return day
