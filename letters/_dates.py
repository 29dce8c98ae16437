"""Japanese-era dates for letters.

``outreach.calendar.format_wareki`` is the one formatter of the application.  While that module
is not importable (letters used alone, or the calendar not written yet) a small private fallback
with the same output ("令和8年11月21日") keeps letters working.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

WEEKDAYS = "月火水木金土日"

# (first day, era name), newest first.  明治 before 1873 used the lunisolar calendar: not needed here.
_ERAS: tuple[tuple[date, str], ...] = (
    (date(2019, 5, 1), "令和"),
    (date(1989, 1, 8), "平成"),
    (date(1926, 12, 25), "昭和"),
    (date(1912, 7, 30), "大正"),
    (date(1873, 1, 1), "明治"),
)


def _fallback_format_wareki(d: date) -> str:
    for start, era in _ERAS:
        if d >= start:
            year = d.year - start.year + 1
            return f"{era}{'元' if year == 1 else year}年{d.month}月{d.day}日"
    raise ValueError(f"date before 1873 cannot be written in a Japanese era: {d.isoformat()}")


def _load() -> Callable[[date], str]:
    try:
        from outreach.calendar import format_wareki
    except ImportError:
        return _fallback_format_wareki
    return format_wareki


format_wareki: Callable[[date], str] = _load()


def wareki(d: date, *, western: bool = False, weekday: bool = False) -> str:
    """``令和8年11月21日``; with ``western`` ``令和8年（2026年）11月21日``; with ``weekday`` ``…日（土）``."""
    text = format_wareki(d)
    if western:
        head, sep, tail = text.partition("年")
        text = f"{head}年（{d.year}年）{tail}" if sep else f"{text}（{d.year}年）"
    if weekday:
        text += f"（{WEEKDAYS[d.weekday()]}）"
    return text


def era_year_month(d: date) -> str:
    """``令和8年11月`` (for "…年…月分" phrases)."""
    text = format_wareki(d)
    return text[: text.index("月") + 1]
