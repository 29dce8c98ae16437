"""Pure rules of the annual outreach statistics: what each figure means and how the tables are shaped.

The shape follows 「６ 高齢者・障害者サービス」 of the source annual report: table (1) one row per service
(registrants, deliveries, books, CDs), table (2) one row per library (registrants, sessions, hours).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from outreach.calendar import fiscal_year_label, fiscal_year_range
from outreach.reading.rules import reading_hours
from outreach.types import Service

NOTHING = "―"  # the source prints a dash where a service lent no books

# Definitions printed under each table, in the report and in docs/reports.md.
DEFINITIONS = {
    "ja": {
        "registrants": "登録者：年度末（3月31日）現在、そのサービスの承認・登録が有効な人数。",
        "deliveries": "回数：年度内に発送した回数（発送日で計上）。",
        "books": "貸出冊数：年度内に発送した図書の冊数（大活字本・点訳絵本・点字図書を含む）。",
        "audio_visual": "貸出ＣＤ数：年度内に発送した視聴覚資料の点数（CD・デイジー・その他の録音資料）。",
        "reading_registrants": "登録者：年度末現在、対面朗読の登録が有効な人数（最新の依頼の図書館で計上）。",
        "sessions": "回数：年度内に実施した対面朗読の回数。",
        "hours": "朗読時間：実施した対面朗読の記録された朗読時間の合計（時間）。",
        "historical": "＊ システム導入前の年度は、手入力した過去の実績です。",
    },
    "en": {
        "registrants": "Registrants: persons whose approval or registration for the service was in force on the "
                       "last day of the fiscal year (31 March).",
        "deliveries": "Deliveries: shipments dispatched in the fiscal year (counted by dispatch date).",
        "books": "Books lent: printed items shipped in the year (large print, braille picture books and braille "
                 "books included).",
        "audio_visual": "CDs lent: audio-visual items shipped in the year (CD, DAISY and other recordings).",
        "reading_registrants": "Registrants: persons registered for face-to-face reading on the last day of the "
                               "fiscal year, counted at the library of their latest request.",
        "sessions": "Sessions: face-to-face reading sessions held in the fiscal year.",
        "hours": "Reading hours: the logged reading time of the sessions held (hours).",
        "historical": "* Years before the system was in use are historical figures entered by hand.",
    },
}


@dataclass(frozen=True)
class ServiceFigures:
    """Table (1), one service in one fiscal year."""

    service: Service
    registrants: int
    deliveries: int
    books: int
    audio_visual: int
    is_historical: bool = False


@dataclass(frozen=True)
class LibraryFigures:
    """Table (2), one library in one fiscal year."""

    library: str
    registrants: int
    sessions: int
    minutes: int
    is_historical: bool = False

    @property
    def hours(self) -> Decimal:
        return hours_of(self.minutes)


@dataclass(frozen=True)
class MonthlySeries:
    """One figure month by month, April to March, with the year's total."""

    key: str  # e.g. "home_delivery.deliveries"
    values: tuple[int | Decimal | None, ...]  # 12 values, April first; None for months still to come
    total: int | Decimal
    is_stock: bool = False  # registrants: a month-end count, so the "total" is the year-end figure
    minutes: tuple[int | None, ...] | None = None  # reading hours: the logged minutes each month
    total_minutes: int | None = None  # …and their sum, from which the total hours are computed


@dataclass(frozen=True)
class LibraryMonthly:
    """Table (2) month by month for one library: registrants (month-end stock), sessions and hours."""

    library: str
    registrants: MonthlySeries
    sessions: MonthlySeries
    hours: MonthlySeries


@dataclass(frozen=True)
class AnnualReport:
    fiscal_year: int
    services: tuple[ServiceFigures, ...]
    libraries: tuple[LibraryFigures, ...]
    unassigned_reading_registrants: int = 0
    monthly: tuple[MonthlySeries, ...] = ()
    monthly_libraries: tuple[LibraryMonthly, ...] = ()  # table (2) per library, month by month
    generated_on: date | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_historical(self) -> bool:
        return any(s.is_historical for s in self.services) or any(lib.is_historical for lib in self.libraries)

    def label(self, lang: str = "ja") -> str:
        return fiscal_year_label(self.fiscal_year, lang)

    @property
    def period(self) -> tuple[date, date]:
        return fiscal_year_range(self.fiscal_year)


def hours_of(minutes: int) -> Decimal:
    """Reading hours to one decimal place, rounded half up (2h30m → 2.5): the reading area's own rule."""
    return reading_hours(minutes)


def books_cell(books: int) -> str:
    """The 貸出冊数 cell: a dash where the service lent no books in the year, as the source prints it."""
    return NOTHING if books == 0 else f"{books:,}"


def months_of(fiscal_year: int) -> list[tuple[int, int]]:
    """(year, month) from April of ``fiscal_year`` to March of the next year."""
    return [(fiscal_year + (m < 4), m) for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)]


def month_index(fiscal_year: int, year: int, month: int) -> int:
    """Position 0–11 of a calendar month within the fiscal year (April = 0)."""
    index = (month - 4) % 12
    if (year, month) != months_of(fiscal_year)[index]:
        raise ValueError(f"{year}-{month:02d} is not in fiscal year {fiscal_year}")
    return index


def series(key: str, by_month: dict[int, int | Decimal], *, months_elapsed: int = 12, is_stock: bool = False,
           zero: int | Decimal = 0) -> MonthlySeries:
    """Twelve monthly values, April first (months with no records are zero; months still to come are None),
    and the total — or, for a stock such as registrants, the value of the latest month."""
    values = tuple(by_month.get(i, zero) if i < months_elapsed else None for i in range(12))
    present = [v for v in values if v is not None]
    total = (present[-1] if present else zero) if is_stock else sum(present, start=zero)
    return MonthlySeries(key, values, total, is_stock)


def hours_series(key: str, minutes_by_month: dict[int, int], *, months_elapsed: int = 12) -> MonthlySeries:
    """Reading hours month by month. The minutes are kept and the year's total is computed from their sum,
    so the total equals table (2) even where the rounded months do not add up to it (3 × 1h15m: 1.3 each,
    3.8 in all)."""
    minutes = tuple(minutes_by_month.get(i, 0) if i < months_elapsed else None for i in range(12))
    total_minutes = sum(m for m in minutes if m is not None)
    values = tuple(None if m is None else hours_of(m) for m in minutes)
    return MonthlySeries(key, values, hours_of(total_minutes), minutes=minutes, total_minutes=total_minutes)


# ------------------------------------------------------------------------------------------------
# The tables as rows of text: one shape for the page, CSV, Excel and PDF alike.

_HEADINGS = {
    "ja": {
        "t1": "(1) 宅配サービス・郵送貸出", "t2": "(2) 対面朗読", "service": "区分", "library": "図書館",
        "registrants": "登録者（人）", "deliveries": "回数（回）", "books": "貸出冊数（冊）",
        "audio_visual": "貸出ＣＤ数（点）", "sessions": "回数（回）", "hours": "朗読時間（時間）", "total": "計",
        "monthly": "月別内訳", "figure": "項目", "trend": "年度別推移", "year": "年度", "unassigned": "図書館未定",
        "historical": "＊",
        Service.HOME_DELIVERY: "宅配サービス", Service.MAIL_LOAN: "郵送貸出", Service.FACE_TO_FACE: "対面朗読",
    },
    "en": {
        "t1": "(1) Home delivery and mail loans", "t2": "(2) Face-to-face reading", "service": "Service",
        "library": "Library", "registrants": "Registrants", "deliveries": "Deliveries", "books": "Books lent",
        "audio_visual": "CDs lent", "sessions": "Sessions", "hours": "Reading hours", "total": "Total",
        "monthly": "Monthly breakdown", "figure": "Figure", "trend": "Fiscal years", "year": "Fiscal year",
        "unassigned": "no library yet", "historical": "*",
        Service.HOME_DELIVERY: "Home delivery", Service.MAIL_LOAN: "Mail loans", Service.FACE_TO_FACE: "Face-to-face",
    },
}
_MONTHS = {"ja": [f"{m}月" for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)],
           "en": ["Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar"]}


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()
    label_columns: int = 1  # leading columns of text (names); the rest are figures, aligned right


def _n(value: int | Decimal) -> str:
    return f"{value:,.1f}" if isinstance(value, Decimal) else f"{value:,}"


def headings(lang: str) -> dict:
    return _HEADINGS["en" if lang.startswith("en") else "ja"]


def table_services(report: AnnualReport, lang: str = "ja") -> Table:
    h = headings(lang)
    d = DEFINITIONS["en" if lang.startswith("en") else "ja"]
    rows = tuple(
        (h[s.service] + (h["historical"] if s.is_historical else ""), _n(s.registrants), _n(s.deliveries),
         books_cell(s.books), _n(s.audio_visual))
        for s in report.services
    )
    notes = [d["registrants"], d["deliveries"], d["books"], d["audio_visual"]]
    if report.is_historical:
        notes.append(d["historical"])
    return Table("services", h["t1"], (h["service"], h["registrants"], h["deliveries"], h["books"], h["audio_visual"]),
                 rows, tuple(notes))


def table_libraries(report: AnnualReport, lang: str = "ja") -> Table:
    h = headings(lang)
    d = DEFINITIONS["en" if lang.startswith("en") else "ja"]
    rows = [(lib.library + (h["historical"] if lib.is_historical else ""), _n(lib.registrants), _n(lib.sessions),
             _n(lib.hours)) for lib in report.libraries]
    if report.unassigned_reading_registrants:
        rows.append((_paren(h["unassigned"], lang), _n(report.unassigned_reading_registrants), "0", "0.0"))
    return Table("libraries", h["t2"], (h["library"], h["registrants"], h["sessions"], h["hours"]), tuple(rows),
                 (d["reading_registrants"], d["sessions"], d["hours"]))


def _paren(text: str, lang: str) -> str:
    return f"({text})" if lang.startswith("en") else f"（{text}）"


def table_monthly(report: AnnualReport, lang: str = "ja") -> Table:
    """Every figure April to March with the year's total; table (2) also per library."""
    h = headings(lang)
    rows = []

    def row(name: str, s: MonthlySeries) -> tuple[str, ...]:
        total = _n(s.total) + (" ※" if s.is_stock else "")
        return (name, *("" if v is None else _n(v) for v in s.values), total)

    for s in report.monthly:
        service, figure = s.key.split(".")
        rows.append(row(f"{h[Service(service)]} {h[figure]}", s))
    for lib in report.monthly_libraries:
        name = h["unassigned"] if lib.library == UNASSIGNED else lib.library
        prefix = f"{h[Service.FACE_TO_FACE]}{_paren(name, lang)}"
        rows.append(row(f"{prefix} {h['registrants']}", lib.registrants))
        if lib.library != UNASSIGNED:
            rows.append(row(f"{prefix} {h['sessions']}", lib.sessions))
            rows.append(row(f"{prefix} {h['hours']}", lib.hours))
    note = ("※ 登録者は各月末の人数。計の欄は年度末（または本日）現在。" if not lang.startswith("en")
            else "※ Registrants are counted at each month's end; the total column is the year-end figure.")
    hours_note = ("朗読時間の計は、各月の時間の合計ではなく、記録された分の合計から求めています（(2) の表と一致）。"
                  if not lang.startswith("en") else
                  "Total reading hours are computed from the logged minutes of the year, not by adding the rounded "
                  "months, so they equal table (2).")
    return Table("monthly", f"{h['monthly']}（{report.label(lang)}）" if not lang.startswith("en")
                 else f"{h['monthly']} ({report.label(lang)})",
                 (h["figure"], *_MONTHS["en" if lang.startswith("en") else "ja"], h["total"]), tuple(rows),
                 (note, hours_note))


UNASSIGNED = ""  # LibraryMonthly.library of registrants with no request at any library yet


def _historical_note(reports: list[AnnualReport], lang: str) -> tuple[str, ...]:
    d = DEFINITIONS["en" if lang.startswith("en") else "ja"]
    return (d["historical"],) if any(r.is_historical for r in reports) else ()


def table_trend(reports: list[AnnualReport], lang: str = "ja") -> Table:
    """Table (1) over several fiscal years, like the source's table (one row per year and service)."""
    h = headings(lang)
    rows = []
    for report in reports:
        for s in report.services:
            rows.append((report.label(lang) + (h["historical"] if s.is_historical else ""), h[s.service],
                         _n(s.registrants), _n(s.deliveries), books_cell(s.books), _n(s.audio_visual)))
    return Table("trend", f"{h['trend']} {h['t1']}", (h["year"], h["service"], h["registrants"], h["deliveries"],
                                                    h["books"], h["audio_visual"]), tuple(rows),
                 _historical_note(reports, lang), label_columns=2)


def table_trend_libraries(reports: list[AnnualReport], lang: str = "ja") -> Table:
    """Table (2) over several fiscal years: one row per year and library (registrants, sessions, hours)."""
    h = headings(lang)
    rows = []
    for report in reports:
        for lib in report.libraries:
            rows.append((report.label(lang) + (h["historical"] if lib.is_historical else ""), lib.library,
                         _n(lib.registrants), _n(lib.sessions), _n(lib.hours)))
        if report.unassigned_reading_registrants:
            rows.append((report.label(lang), _paren(h["unassigned"], lang), _n(report.unassigned_reading_registrants),
                         "0", "0.0"))
    return Table("trend_libraries", f"{h['trend']} {h['t2']}", (h["year"], h["library"], h["registrants"],
                                                              h["sessions"], h["hours"]), tuple(rows),
                 _historical_note(reports, lang), label_columns=2)
