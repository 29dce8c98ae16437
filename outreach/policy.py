"""The library's configurable rules in one place.

Defaults are the values of the reference library (西宮市立図書館: 宅配サービス実施要綱, 郵送貸出サービス
実施要綱, 図書館条例施行規則 第2条・第9条). Other libraries run the same services with other numbers,
so every threshold used by the rules comes from a :class:`Policy`, never from a literal elsewhere.

A policy can be built from a plain mapping (a settings table row, JSON, environment values) with
:meth:`Policy.from_mapping` and turned back into one with :meth:`Policy.to_mapping`.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from outreach.errors import PolicyError
from outreach.types import CareLevel, MaterialType, Service

# Python's date.weekday(): Monday is 0, Sunday is 6.
MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)

# 会計年度 (地方自治法第208条): April to March. A law, not a library setting, so it is a constant here.
FISCAL_YEAR_START_MONTH = 4


class HolidayShift(StrEnum):
    """Where a weekly/monthly closed day moves when it falls on a national holiday (休日)."""

    # 規則第2条: 「法に規定する休日に当たる場合は、その翌日」: simply the next day, even if that is a holiday too.
    NEXT_DAY = "next_day"
    # The wording of many other libraries: 「その翌日以後において最も近い休日でない日」.
    NEXT_NON_HOLIDAY = "next_non_holiday"


@dataclass(frozen=True)
class ItemLimits:
    """How many items of which material types one delivery/mail loan may contain."""

    max_books: int  # printed items (図書・点訳絵本 ...): everything that is not audio-visual
    max_audio_visual: int  # CD, DAISY and other recordings (MaterialType.is_audio_visual)
    allowed_material_types: tuple[MaterialType, ...]

    def allows(self, material_type: MaterialType) -> bool:
        """Whether ``material_type`` may be lent through this service at all."""
        return material_type in self.allowed_material_types


_ALL_MATERIAL_TYPES = tuple(MaterialType)
_MAIL_LOAN_MATERIAL_TYPES = (  # 郵送貸出要綱第4条: 点訳絵本及び視聴覚資料に限る
    MaterialType.BRAILLE_PICTURE_BOOK,
    *(t for t in MaterialType if t.is_audio_visual),
)


@dataclass(frozen=True)
class Policy:
    """Every configurable threshold of the outreach rules, with the reference library's values."""

    # --- 宅配サービス (home delivery), 宅配サービス実施要綱 ---
    home_delivery_min_age: int = 65  # 第2条(2)① 満65歳以上
    home_delivery_min_care_level: CareLevel = CareLevel.CARE_2  # 第2条(2)② 要介護2以上
    # 第2条(1) 「障害者手帳を交付されている者（視覚障害者を除く。）」 excludes the *person*: someone holding a
    # valid visual-impairment certificate cannot use the disability clause even with another certificate.
    # False: only the visual certificate itself is disregarded.
    home_delivery_excludes_visually_impaired: bool = True
    home_delivery_approval_years: int | None = 3  # 第4条2 承認の期間は3年
    home_delivery_items: ItemLimits = ItemLimits(15, 2, _ALL_MATERIAL_TYPES)  # 第6条 図書15冊・視聴覚2点

    # --- 郵送貸出サービス (mail loans), 郵送貸出サービス実施要綱 ---
    mail_loan_requires_library_card: bool = True  # 第2条 借出券を交付された
    # 第2条 本市に居住している: a prefecture-wide or national service lends by post to readers anywhere.
    mail_loan_requires_city_residence: bool = True
    mail_loan_rules_effective_on: date = date(2021, 4, 1)  # 付則 令和3年4月1日
    # 付則2 「令和3年4月1日以前より」: 以前 includes the day itself. False: only strictly earlier registrations.
    mail_loan_grandfather_includes_effective_day: bool = True
    mail_loan_approval_years: int | None = None  # no approval period in the 要綱
    mail_loan_items: ItemLimits = ItemLimits(
        15, 2, _MAIL_LOAN_MATERIAL_TYPES
    )  # 第5条 点訳絵本15冊・視聴覚2点

    # --- 対面朗読 (face-to-face reading); no 要綱 in the source, so these are the house defaults ---
    face_to_face_requires_visual_certificate: bool = True  # 視覚に障害がある利用者への読書支援
    face_to_face_requires_city_residence: bool = False  # the reading happens in the library
    face_to_face_approval_years: int | None = None  # registration runs until withdrawn
    face_to_face_session_minutes: int = 120  # every session in the source statistics was 2 hours
    face_to_face_max_session_minutes: int = 180

    # Services where the section chief may approve someone "equivalent" (特に必要と認めた者).
    # 宅配要綱第2条(3) grants it for home delivery; the mail-loan 要綱 has no such clause.
    special_approval_services: tuple[Service, ...] = (Service.HOME_DELIVERY, Service.FACE_TO_FACE)

    # --- approvals and loans ---
    renewal_notice_days: int = 60  # renewal work list lead time before an approval ends
    # The renewal notice asks for the application this many days before the approval ends, so that the
    # chief can decide before it lapses (the deadline moves to the open day before it when closed).
    renewal_deadline_days: int = 30
    loan_period_months: int = 1  # 宅配第7条・郵送第6条 貸出期間は1か月
    loan_extension_allowed: bool = False  # 期間の延長は認めない
    deliveries_per_month: int = 1  # 宅配第6条2 原則として月1回
    overdue_restriction: bool = True  # 規則第9条2: no new loans while items are overdue

    # --- closed days (休館日), 図書館条例施行規則 第2条2 ---
    year_end_closure_start: tuple[int, int] = (12, 29)  # (1) 12月29日から
    year_end_closure_end: tuple[int, int] = (1, 4)  # 翌年1月4日まで
    weekly_closed_weekdays: tuple[int, ...] = (MONDAY,)  # (2) 月曜日
    monthly_closed_days: tuple[tuple[int, int], ...] = ((1, THURSDAY),)  # (3) 第1木曜日 as (nth, weekday)
    holiday_shift: HolidayShift = HolidayShift.NEXT_DAY  # 「法に規定する休日に当たる場合は、その翌日」
    branch_closed_weekdays: tuple[int, ...] = (SUNDAY,)  # (4) 日曜日（分室に限る）
    stocktaking_closures: tuple[tuple[date, date], ...] = ()  # (5) 点検期間, inclusive ranges
    stocktaking_max_days_per_year: int = 14  # 1年につき14日を超えない (checked per fiscal year)
    special_closures: tuple[tuple[date, date], ...] = ()  # 臨時休館 (市長が特に必要と認めるとき)
    special_openings: tuple[date, ...] = ()  # 臨時開館: open although a rule says closed

    def __post_init__(self) -> None:
        problems = _validate(self)
        if problems:
            raise PolicyError(
                "policy.invalid",
                "設定値に誤りがあります: " + "; ".join(ja for ja, _ in problems),
                "Invalid policy: " + "; ".join(en for _, en in problems),
            )

    # --- per-service accessors, so callers never branch on service names themselves ---

    def item_limits(self, service: Service) -> ItemLimits | None:
        """The item limits of ``service``; None for a service that lends nothing (対面朗読)."""
        return {Service.HOME_DELIVERY: self.home_delivery_items, Service.MAIL_LOAN: self.mail_loan_items}.get(
            service
        )

    def approval_years(self, service: Service) -> int | None:
        """Length of an approval in years; None when the approval has no fixed end."""
        return {
            Service.HOME_DELIVERY: self.home_delivery_approval_years,
            Service.MAIL_LOAN: self.mail_loan_approval_years,
            Service.FACE_TO_FACE: self.face_to_face_approval_years,
        }[service]

    def allows_special_approval(self, service: Service) -> bool:
        """Whether the section chief's special approval (特に必要と認めた者) can qualify a patron."""
        return service in self.special_approval_services

    # --- (de)serialisation ---

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], base: Policy | None = None) -> Policy:
        """Build a policy from plain values; keys left out keep ``base``'s value, unknown keys are errors."""
        base = base if base is not None else DEFAULT_POLICY
        problems: list[tuple[str, str]] = []
        changes: dict[str, Any] = {}
        for key, raw in values.items():
            converter = _CONVERTERS.get(key)
            if converter is None:
                problems.append((f"不明な項目 {key!r}", f"unknown setting {key!r}"))
                continue
            try:
                changes[key] = converter(raw)
            except (TypeError, ValueError) as exc:
                problems.append((f"{key}: {exc}", f"{key}: {exc}"))
        if problems:
            raise PolicyError(
                "policy.invalid",
                "設定値に誤りがあります: " + "; ".join(ja for ja, _ in problems),
                "Invalid policy: " + "; ".join(en for _, en in problems),
            )
        return dataclasses.replace(base, **changes)

    def to_mapping(self) -> dict[str, Any]:
        """Plain JSON-compatible values that :meth:`from_mapping` turns back into an equal policy."""
        return {f.name: _to_plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @staticmethod
    def value_type(name: str) -> Any:
        """The declared type of a policy value (``int``, ``int | None``, ``date``, an enumeration …), for
        forms that edit it: read from the class, so a new value is edited the right way without a list."""
        return typing.get_type_hints(Policy)[name]


# --------------------------------------------------------------------------------------------------
# conversion of plain values (JSON / settings rows / environment strings)


def _int(raw: Any) -> int:
    # bool is an int subclass; True as "65" would be a silent mistake.
    if isinstance(raw, bool):
        raise TypeError(f"expected an integer, got {raw!r}")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        return int(raw.strip())
    raise TypeError(f"expected an integer, got {raw!r}")


def _optional_int(raw: Any) -> int | None:
    return None if raw is None else _int(raw)


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise TypeError(f"expected true or false, got {raw!r}")


def _date(raw: Any) -> date:
    if isinstance(raw, date) and not isinstance(raw, datetime):  # a datetime is not a date here
        return raw
    if isinstance(raw, str):
        return date.fromisoformat(raw)
    raise TypeError(f"expected a date (YYYY-MM-DD), got {raw!r}")


def _enum(enum_cls: type[StrEnum]) -> Callable[[Any], Any]:
    def convert(raw: Any) -> Any:
        if isinstance(raw, enum_cls):
            return raw
        if isinstance(raw, str):
            try:
                return enum_cls(raw)
            except ValueError:
                pass
        choices = ", ".join(m.value for m in enum_cls)
        raise ValueError(f"expected one of {choices}, got {raw!r}")

    return convert


def _sequence(raw: Any) -> list[Any]:
    if isinstance(raw, str | bytes | Mapping) or not isinstance(raw, Iterable):
        raise TypeError(f"expected a list, got {raw!r}")
    return list(raw)


def _tuple_of(item: Callable[[Any], Any]) -> Callable[[Any], tuple[Any, ...]]:
    return lambda raw: tuple(item(x) for x in _sequence(raw))


def _pair(first: Callable[[Any], Any], second: Callable[[Any], Any]) -> Callable[[Any], tuple[Any, Any]]:
    def convert(raw: Any) -> tuple[Any, Any]:
        items = _sequence(raw)
        if len(items) != 2:
            raise ValueError(f"expected a pair, got {raw!r}")
        return first(items[0]), second(items[1])

    return convert


def _month_day(raw: Any) -> tuple[int, int]:
    if isinstance(raw, str) and "-" in raw:  # "12-29"
        raw = raw.split("-")
    return _pair(_int, _int)(raw)


def _item_limits(raw: Any) -> ItemLimits:
    if isinstance(raw, ItemLimits):
        return raw
    if not isinstance(raw, Mapping):
        raise TypeError(f"expected a mapping, got {raw!r}")
    expected = {f.name for f in dataclasses.fields(ItemLimits)}
    if set(raw) != expected:
        raise ValueError(f"expected exactly the keys {sorted(expected)}, got {sorted(raw)}")
    return ItemLimits(
        max_books=_int(raw["max_books"]),
        max_audio_visual=_int(raw["max_audio_visual"]),
        allowed_material_types=_tuple_of(_enum(MaterialType))(raw["allowed_material_types"]),
    )


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "home_delivery_min_age": _int,
    "home_delivery_min_care_level": _enum(CareLevel),
    "home_delivery_excludes_visually_impaired": _bool,
    "home_delivery_approval_years": _optional_int,
    "home_delivery_items": _item_limits,
    "mail_loan_requires_library_card": _bool,
    "mail_loan_requires_city_residence": _bool,
    "mail_loan_rules_effective_on": _date,
    "mail_loan_grandfather_includes_effective_day": _bool,
    "mail_loan_approval_years": _optional_int,
    "mail_loan_items": _item_limits,
    "face_to_face_requires_visual_certificate": _bool,
    "face_to_face_requires_city_residence": _bool,
    "face_to_face_approval_years": _optional_int,
    "face_to_face_session_minutes": _int,
    "face_to_face_max_session_minutes": _int,
    "special_approval_services": _tuple_of(_enum(Service)),
    "renewal_notice_days": _int,
    "renewal_deadline_days": _int,
    "loan_period_months": _int,
    "loan_extension_allowed": _bool,
    "deliveries_per_month": _int,
    "overdue_restriction": _bool,
    "year_end_closure_start": _month_day,
    "year_end_closure_end": _month_day,
    "weekly_closed_weekdays": _tuple_of(_int),
    "monthly_closed_days": _tuple_of(_pair(_int, _int)),
    "holiday_shift": _enum(HolidayShift),
    "branch_closed_weekdays": _tuple_of(_int),
    "stocktaking_closures": _tuple_of(_pair(_date, _date)),
    "stocktaking_max_days_per_year": _int,
    "special_closures": _tuple_of(_pair(_date, _date)),
    "special_openings": _tuple_of(_date),
}


def _to_plain(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, ItemLimits):
        return {f.name: _to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_to_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------------
# validation of a whole policy


def _validate(p: Policy) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []

    def bad(ja: str, en: str) -> None:
        problems.append((ja, en))

    for name in (
        "home_delivery_min_age",
        "face_to_face_session_minutes",
        "face_to_face_max_session_minutes",
        "loan_period_months",
        "deliveries_per_month",
    ):
        if getattr(p, name) < 1:
            bad(f"{name} は1以上にしてください", f"{name} must be at least 1")
    for name in ("renewal_notice_days", "renewal_deadline_days", "stocktaking_max_days_per_year"):
        if getattr(p, name) < 0:
            bad(f"{name} は0以上にしてください", f"{name} must not be negative")
    for service in Service:
        years = p.approval_years(service)
        if years is not None and years < 1:
            bad(
                f"{service} の承認期間は1年以上にしてください",
                f"approval years of {service} must be at least 1",
            )
    if p.face_to_face_max_session_minutes < p.face_to_face_session_minutes:
        bad(
            "対面朗読の最長時間が標準時間より短くなっています",
            "face-to-face maximum is below the default length",
        )
    for name in ("home_delivery_items", "mail_loan_items"):
        limits: ItemLimits = getattr(p, name)
        if limits.max_books < 0 or limits.max_audio_visual < 0:
            bad(f"{name} の上限は0以上にしてください", f"{name} limits must not be negative")
        if not limits.allowed_material_types:
            bad(f"{name} に貸出可能な資料種別がありません", f"{name} allows no material type")
    for name in ("year_end_closure_start", "year_end_closure_end"):
        month, day = getattr(p, name)
        try:
            date(2000, month, day)  # a leap year, so 2/29 is accepted
        except ValueError:
            bad(f"{name} の月日が正しくありません", f"{name} is not a valid month and day")
    for name in ("weekly_closed_weekdays", "branch_closed_weekdays"):
        if any(not 0 <= wd <= 6 for wd in getattr(p, name)):
            bad(f"{name} の曜日は0（月）〜6（日）です", f"{name} weekdays must be 0 (Mon) to 6 (Sun)")
    for nth, weekday in p.monthly_closed_days:
        if not 1 <= nth <= 5 or not 0 <= weekday <= 6:
            bad("monthly_closed_days は（第n週 1〜5, 曜日 0〜6）です", "monthly_closed_days need (1-5, 0-6)")
    for name in ("stocktaking_closures", "special_closures"):
        for start, end in getattr(p, name):
            if end < start:
                bad(f"{name} の期間の終わりが始まりより前です", f"{name}: a range ends before it starts")
    per_fiscal_year: dict[int, set[date]] = {}
    for start, end in p.stocktaking_closures:
        day = start
        while day <= end:
            fy = day.year if day.month >= FISCAL_YEAR_START_MONTH else day.year - 1
            per_fiscal_year.setdefault(fy, set()).add(day)
            day += timedelta(days=1)
    for fy, days in sorted(per_fiscal_year.items()):
        if len(days) > p.stocktaking_max_days_per_year:
            bad(
                f"{fy}年度の点検休館が{len(days)}日で上限{p.stocktaking_max_days_per_year}日を超えています",
                f"stock-taking closure in FY{fy} is {len(days)} days, over {p.stocktaking_max_days_per_year}",
            )
    return problems


DEFAULT_POLICY = Policy()

# Every field must be convertible from plain values; fail at import rather than at a customer's site.
if set(_CONVERTERS) != {f.name for f in dataclasses.fields(Policy)}:
    raise RuntimeError("every Policy field needs a converter in _CONVERTERS")

__all__ = [
    "DEFAULT_POLICY",
    "FISCAL_YEAR_START_MONTH",
    "HolidayShift",
    "ItemLimits",
    "Policy",
]
