"""The monthly plan as a pure function: for every patron who might get a delivery or mail loan,
ship (which items, due when) or not (why). Values in, decisions out: no database, no clock.

Rules (宅配サービス実施要綱・郵送貸出サービス実施要綱, 規則第9条2, domain.md):
- only patrons with an approval or registration in force on the shipping date are sent anything;
  a lapsed or ended one is reported with its reason;
- one delivery per patron, service and month;
- no new shipment while items are overdue (規則第9条2);
- named items first, within the service's limits; items that cannot go are reported with the rule
  they break, and stay requested for next month when the obstacle is temporary (on loan, over the
  limit, asked for earlier by another patron who is served this month);
- an item asked for by several patrons goes to the first in line among those who pass the gate this
  month: a patron who gets nothing (approval lapsed, overdue items ...) does not hold it for the others;
- then "choose for me" fills the room left from the reader profile (loans.rules.choose_items);
- due date: the loan period after shipping, moved to the next open day (calendar.due_date).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from outreach.calendar import (
    add_months,
    due_date,
    first_open_day_of_month,
    format_wareki,
    is_open,
    next_open_day,
)
from outreach.errors import DomainError
from outreach.loans.rules import (
    ItemFact,
    ReaderPreferences,
    SelectableItem,
    SelectionWant,
    Violation,
    ViolationCode,
    check_overdue_restriction,
    choose_items,
    evaluate_request,
)
from outreach.policy import DEFAULT_POLICY, Policy
from outreach.types import ItemSource, ItemStatus, MaterialType, Service, SkipReason

_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
MAX_MONTHS_AHEAD = 12


class RunError(DomainError):
    """A run cannot be planned, adjusted or committed as asked (the message says why)."""

    default_code = "shipments.run_error"


class Standing(StrEnum):
    """Where the patron stands with the service on the shipping date."""

    IN_FORCE = "in_force"
    EXPIRED = "expired"  # the approval period ended (承認期間満了)
    ENDED = "ended"  # the service was ended (転出・施設入所・辞退 ...)
    NONE = "none"  # never approved or registered


# --------------------------------------------------------------------------------------------------
# months and dates


def parse_month(text: str, today: date) -> tuple[int, int]:
    """「2026-12」 → (2026, 12). A month before ``today``'s, or more than a year ahead, is refused."""
    match = _MONTH.match(text or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise RunError("shipments.bad_month", f"「{text or ''}」は月として読めません。2026-12 のように年と月（1〜12）で書いてください",
                       f"'{text or ''}' is not a month: write the year and the month (1-12), as in 2026-12")
    year, month = int(match.group(1)), int(match.group(2))
    if (year, month) < (today.year, today.month):
        raise RunError("shipments.past_month", f"{year}年{month}月は過ぎた月です。過去の月の発送は作れません",
                       f"{year}-{month:02d} is in the past: a past month cannot be planned or committed")
    ahead = (year - today.year) * 12 + month - today.month
    if ahead > MAX_MONTHS_AHEAD:
        raise RunError("shipments.too_far_ahead", f"{year}年{month}月は先すぎます（{MAX_MONTHS_AHEAD}か月先まで）",
                       f"{year}-{month:02d} is too far ahead (at most {MAX_MONTHS_AHEAD} months)")
    return year, month


def month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def default_shipping_date(year: int, month: int, today: date, policy: Policy = DEFAULT_POLICY) -> date:
    """The first open day of the month; for the current month planned late, the next open day from today."""
    first = first_open_day_of_month(year, month, policy)
    if first >= today:
        return first
    day = next_open_day(today, policy)
    if (day.year, day.month) != (year, month):
        raise RunError("shipments.no_open_day_left", f"{year}年{month}月には、もう発送できる開館日がありません",
                       f"No open day is left in {year}-{month:02d} to ship on")
    return day


def check_shipping_date(shipping_on: date, year: int, month: int, today: date, policy: Policy = DEFAULT_POLICY) -> None:
    """A shipping date lies in the run's month, not in the past, on an open day of the library."""
    if (shipping_on.year, shipping_on.month) != (year, month):
        raise RunError("shipments.date_outside_month", f"発送日は{year}年{month}月の日付にしてください",
                       f"The shipping date must lie in {year}-{month:02d}")
    if shipping_on < today:
        raise RunError("shipments.date_in_past", "発送日が過ぎた日になっています", "The shipping date is in the past")
    if not is_open(shipping_on, policy):
        raise RunError("shipments.date_closed", f"{format_wareki(shipping_on)}は休館日です。開館日を選んでください",
                       f"{shipping_on.isoformat()} is a closed day: choose an open day")


def loan_due_date(shipping_on: date, policy: Policy = DEFAULT_POLICY) -> date:
    """返却期限: the loan period (1か月, no extension) after shipping, on the next open day."""
    return due_date(shipping_on, policy)


def check_commit_date(shipping_on: date, today: date) -> None:
    """A plan is committed on or before its shipping date: a plan whose date has passed is stale (the
    approvals, requests and items it was made from have moved on) and must be planned again."""
    if shipping_on < today:
        raise RunError("shipments.stale_plan",
                       f"この計画の発送日（{format_wareki(shipping_on)}）は過ぎています。"
                       "「計画をやり直す」で今日の申込みと記録から計画し直してから確定してください",
                       f"The plan's shipping date ({shipping_on.isoformat()}) has passed: plan the month again "
                       "from today's records before committing")


def check_run_policy(policy: Policy) -> None:
    """The run sends one delivery per patron, service and month (the database's unique key) and lends
    without extension (宅配第6条2・第7条). A policy asking for anything else is refused, not silently ignored."""
    if policy.deliveries_per_month != 1:
        raise RunError("shipments.deliveries_per_month",
                       f"月{policy.deliveries_per_month}回の発送には対応していません。設定の deliveries_per_month を1にしてください",
                       f"{policy.deliveries_per_month} deliveries a month are not supported: set the policy value "
                       "deliveries_per_month to 1")
    if policy.loan_extension_allowed:
        raise RunError("shipments.loan_extension",
                       "貸出期間の延長には対応していません。設定の loan_extension_allowed を false にしてください",
                       "Extending loans is not supported: set the policy value loan_extension_allowed to false")


def lapsed_since(shipping_on: date) -> date:
    """Approvals that were in force on this day but not on the shipping date are reported as lapsed."""
    return add_months(shipping_on, -1)


# --------------------------------------------------------------------------------------------------
# the planner's input and output


@dataclass(frozen=True)
class RequestedLine:
    """An open request line with the facts of its item."""

    line_id: int
    item_id: int
    item: ItemFact
    title: str
    # The line's place among every open request for the item (1: asked first). The planner gives the
    # item to the lowest place among the patrons it serves this month, so only the order matters.
    queue_position: int = 1
    source: ItemSource = ItemSource.NAMED
    reason: str = ""


@dataclass(frozen=True)
class PatronCase:
    """Everything the planner needs to know about one patron and one service."""

    patron_id: int
    service: Service
    standing: Standing
    overdue_items: int = 0
    already_shipped: bool = False
    lines: tuple[RequestedLine, ...] = ()
    wants_selection: bool = False  # a "choose for me" request, or a monthly reader profile
    preferences: ReaderPreferences | None = None
    history: frozenset[int] = frozenset()


@dataclass(frozen=True)
class PlannedLine:
    item_id: int
    barcode: str
    title: str
    material_type: MaterialType
    source: ItemSource
    line_id: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class HeldBackLine:
    """A requested item that does not go this month, with the rule; ``carry_over`` keeps it requested."""

    line_id: int
    item_id: int
    barcode: str
    code: str
    message_ja: str
    message_en: str
    carry_over: bool


@dataclass(frozen=True)
class Decision:
    patron_id: int
    service: Service
    ship: bool
    reason: SkipReason | None = None
    detail_ja: str = ""
    detail_en: str = ""
    lines: tuple[PlannedLine, ...] = ()
    held_back: tuple[HeldBackLine, ...] = field(default=())

    @property
    def books(self) -> int:
        return sum(1 for line in self.lines if not line.material_type.is_audio_visual)

    @property
    def audio_visual(self) -> int:
        return sum(1 for line in self.lines if line.material_type.is_audio_visual)


# Temporary obstacles keep the line requested for next month; the others cancel it.
_CARRIED = {ViolationCode.TOO_MANY_BOOKS, ViolationCode.TOO_MANY_AUDIO_VISUAL}
_RESERVED = "loan.reserved_for_another"


def _held(line: RequestedLine, violation: Violation) -> HeldBackLine:
    carry = violation.code in _CARRIED or (
        violation.code is ViolationCode.NOT_AVAILABLE and line.item.status is ItemStatus.ON_LOAN
    )
    return HeldBackLine(line.line_id, line.item_id, line.item.barcode, violation.code.value,
                        violation.message_ja, violation.message_en, carry)


def _reserved(line: RequestedLine) -> HeldBackLine:
    b = line.item.barcode
    return HeldBackLine(line.line_id, line.item_id, b, _RESERVED,
                        f"{b}: 先に申し込んだ利用者に貸し出すため、来月以降に回します",
                        f"{b}: another patron asked for it first; kept for a later month", True)


def _skip(case: PatronCase, reason: SkipReason, ja: str = "", en: str = "") -> Decision:
    return Decision(case.patron_id, case.service, False, reason, ja, en)


def standing_gate(patron_id: int, service: Service, standing: Standing, overdue_items: int,
                  policy: Policy = DEFAULT_POLICY) -> Decision | None:
    """No shipment without an approval in force on the shipping date, nor while items are overdue
    (規則第9条2). Checked when the month is planned and again when it is committed."""
    if standing is Standing.EXPIRED:
        return Decision(patron_id, service, False, SkipReason.APPROVAL_EXPIRED,
                        "承認期間が終わっています。更新の手続きが必要です",
                        "The approval period has ended: a renewal is needed")
    if standing is Standing.ENDED:
        return Decision(patron_id, service, False, SkipReason.SERVICE_ENDED)
    if standing is Standing.NONE:
        return Decision(patron_id, service, False, SkipReason.NOT_APPROVED,
                        "申込みがありますが、このサービスの承認・登録がありません",
                        "There is a request but no approval or registration for this service")
    overdue = check_overdue_restriction(overdue_items, policy)
    if overdue:
        return Decision(patron_id, service, False, SkipReason.OVERDUE, overdue[0].message_ja, overdue[0].message_en)
    return None


def _gate(case: PatronCase, policy: Policy) -> Decision | None:
    """The reasons a patron gets nothing this month, whatever they asked for."""
    if case.already_shipped:
        return _skip(case, SkipReason.ALREADY_SHIPPED)
    blocked = standing_gate(case.patron_id, case.service, case.standing, case.overdue_items, policy)
    if blocked is not None:
        return blocked
    if not case.lines and not case.wants_selection:
        return _skip(case, SkipReason.NOTHING_REQUESTED)
    return None


Claimant = tuple[int, int, Service]  # (queue position, patron, service)


def first_in_line(cases: Iterable[PatronCase]) -> dict[int, Claimant]:
    """For every item asked for, the first in its queue among ``cases`` (the patrons served this month)."""
    first: dict[int, Claimant] = {}
    for case in cases:
        for line in case.lines:
            claim = (line.queue_position, case.patron_id, case.service)
            current = first.get(line.item_id)
            if current is None or claim < current:
                first[line.item_id] = claim
    return first


def _named(case: PatronCase, taken: set[int], first: dict[int, Claimant],
           policy: Policy) -> tuple[list[PlannedLine], list[HeldBackLine]]:
    """The named items that go, within the limits, and those held back with their rule."""
    held: list[HeldBackLine] = []
    candidates: list[RequestedLine] = []
    for line in case.lines:
        claimant = first.get(line.item_id)
        someone_else = claimant is not None and claimant[1:] != (case.patron_id, case.service)
        if someone_else or line.item_id in taken:
            held.append(_reserved(line))
        else:
            candidates.append(line)
    verdicts = evaluate_request(case.service, [c.item for c in candidates], policy)
    planned: list[PlannedLine] = []
    for line, problems in zip(candidates, verdicts, strict=True):
        if problems:
            held.append(_held(line, problems[0]))
            continue
        planned.append(PlannedLine(line.item_id, line.item.barcode, line.title, line.item.material_type,
                                   line.source, line.line_id, line.reason))
        taken.add(line.item_id)
    return planned, held


def _want(case: PatronCase, planned: Sequence[PlannedLine], policy: Policy) -> SelectionWant | None:
    limits = policy.item_limits(case.service)
    if limits is None or case.preferences is None:
        return None
    books = sum(1 for p in planned if not p.material_type.is_audio_visual)
    return SelectionWant(
        patron_id=case.patron_id,
        service=case.service,
        preferences=case.preferences,
        books_room=max(0, limits.max_books - books),
        audio_visual_room=max(0, limits.max_audio_visual - (len(planned) - books)),
        total_room=max(0, case.preferences.items_per_month - len(planned)),
        allowed=limits.allowed_material_types,
        history=case.history,
    )


def _finish(case: PatronCase, planned: Sequence[PlannedLine], held: Sequence[HeldBackLine]) -> Decision:
    if planned:
        return Decision(case.patron_id, case.service, True, lines=tuple(planned), held_back=tuple(held))
    if case.wants_selection and case.preferences is None:
        ja, en = ("「おまかせ」の申込みがありますが、読書プロフィールがありません",
                  "'Choose for me' was asked for, but the patron has no reader profile")
    elif case.wants_selection:
        ja, en = "読書プロフィールに合う貸出可能な資料がありませんでした", "No available item matched the reader profile"
    elif held and not any(h.carry_over for h in held):
        ja, en = ("申し込まれた資料はどれも貸し出せません。確定のときに申込みを取り消します",
                  "None of the items asked for can ever be lent: the commit cancels them")
    else:
        ja, en = "", ""
    return Decision(case.patron_id, case.service, False, SkipReason.NOTHING_AVAILABLE, ja, en,
                    held_back=tuple(held))


def plan_month(
    cases: Iterable[PatronCase],
    *,
    policy: Policy = DEFAULT_POLICY,
    catalogue: Callable[[], Iterable[SelectableItem]] | None = None,
) -> Iterator[Decision]:
    """Decide, for every case, ship (with which items) or not (with the reason).

    A named item goes to the first in its queue among the patrons who pass the gate this month
    (a patron who gets nothing does not hold it for the others). Decisions for patrons without a
    selection are yielded as they are made; those who asked for "choose for me" are decided after
    one pass over ``catalogue()`` (available items not requested by anyone). A policy the run cannot
    honour is refused at once (:func:`check_run_policy`).
    """
    check_run_policy(policy)
    return _plan(list(cases), policy, catalogue)


def _plan(cases: Sequence[PatronCase], policy: Policy,
          catalogue: Callable[[], Iterable[SelectableItem]] | None) -> Iterator[Decision]:
    gates = [_gate(case, policy) for case in cases]
    first = first_in_line(case for case, gate in zip(cases, gates, strict=True) if gate is None)
    taken: set[int] = set()
    waiting: list[tuple[PatronCase, list[PlannedLine], list[HeldBackLine], SelectionWant | None]] = []
    for case, gate in zip(cases, gates, strict=True):
        if gate is not None:
            yield gate
            continue
        planned, held = _named(case, taken, first, policy)
        want = _want(case, planned, policy) if case.wants_selection else None
        if case.wants_selection:
            waiting.append((case, planned, held, want))
            continue
        yield _finish(case, planned, held)
    if not waiting:
        return
    wants = [w for _c, _p, _h, w in waiting if w is not None]
    stream = catalogue() if (catalogue and wants) else ()
    try:
        chosen = choose_items(wants, stream, taken)
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()  # the selection may stop before the end of the stream
    for case, planned, held, _ in waiting:
        for choice in chosen.get((case.patron_id, case.service), []):
            item = choice.item
            planned.append(PlannedLine(item.item_id, item.barcode, item.title, item.material_type,
                                       ItemSource.CHOSEN, None, choice.reason_ja))
        yield _finish(case, planned, held)


@dataclass(frozen=True)
class CommitProblem:
    """Why a planned item does not go after all, found when the plan is committed."""

    code: str
    message_ja: str
    message_en: str
    carry_over: bool  # the request line stays open for next month; otherwise it is cancelled


_GONE = CommitProblem("loan.gone_at_commit", "確定の時点で貸出中でした（来月に回します）",
                      "On loan when the run was committed (kept for next month)", True)
_NOT_LENDABLE = CommitProblem("loan.not_lendable", "確定の前に館外貸出不可とされました（申込みを取り消します）",
                              "Marked not for loan outside the library before the commit (request cancelled)", False)
_UNSUITABLE = CommitProblem("loan.unsuitable", "確定の前に宅配に適さない資料とされました（申込みを取り消します）",
                            "Marked unsuitable for delivery before the commit (request cancelled)", False)
_UNAVAILABLE = CommitProblem("loan.not_available", "確定の時点で貸出できない状態でした（紛失・除籍など。申込みを取り消します）",
                             "Lost or withdrawn when the run was committed (request cancelled)", False)


def commit_item_problem(is_lendable: bool, is_unsuitable: bool, status: ItemStatus) -> CommitProblem | None:
    """The item checks of the plan, made again at the commit: the catalogue may have changed since
    (館外貸出不可, 宅配に適さない, 貸出中, 紛失・除籍). A temporary obstacle keeps the request for next month."""
    if not is_lendable:
        return _NOT_LENDABLE
    if is_unsuitable:
        return _UNSUITABLE
    if status == ItemStatus.AVAILABLE:
        return None
    return _GONE if status == ItemStatus.ON_LOAN else _UNAVAILABLE


@dataclass
class PlanSummary:
    """Counts of a plan, for the preview and the run record."""

    considered: int = 0
    shipments: int = 0
    items: int = 0
    books: int = 0
    audio_visual: int = 0
    excluded: int = 0
    by_reason: dict[SkipReason, int] = field(default_factory=dict)
    by_service: dict[Service, int] = field(default_factory=dict)

    def add(self, decision: Decision) -> None:
        self.considered += 1
        if decision.ship:
            self.shipments += 1
            self.items += len(decision.lines)
            self.books += decision.books
            self.audio_visual += decision.audio_visual
            self.by_service[decision.service] = self.by_service.get(decision.service, 0) + 1
        else:
            self.excluded += 1
            assert decision.reason is not None
            self.by_reason[decision.reason] = self.by_reason.get(decision.reason, 0) + 1
