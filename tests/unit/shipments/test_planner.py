"""The monthly planner as a pure function: who gets what, and why not."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from outreach.loans.rules import ItemFact, SelectableItem, preferences_from_text
from outreach.patrons.rules import search_key
from outreach.policy import DEFAULT_POLICY
from outreach.shipments import rules
from outreach.shipments.rules import PatronCase, RequestedLine, RunError, Standing, plan_month
from outreach.types import ItemSource, ItemStatus, MaterialType, Service, SkipReason

HD, ML = Service.HOME_DELIVERY, Service.MAIL_LOAN
B, CD, BPB = MaterialType.BOOK, MaterialType.AUDIO_CD, MaterialType.BRAILLE_PICTURE_BOOK


def line(n: int, material: MaterialType = B, status: ItemStatus = ItemStatus.AVAILABLE, position: int = 1,
         lendable: bool = True, unsuitable: bool = False) -> RequestedLine:
    return RequestedLine(line_id=100 + n, item_id=n, item=ItemFact(f"B{n}", material, lendable, unsuitable, status),
                         title=f"本{n}", queue_position=position)


def case(patron: int = 1, service: Service = HD, *lines: RequestedLine, **kw) -> PatronCase:  # type: ignore[no-untyped-def]
    return PatronCase(patron_id=patron, service=service, standing=kw.pop("standing", Standing.IN_FORCE),
                      lines=tuple(lines), **kw)


def plan(*cases: PatronCase, catalogue=()):  # type: ignore[no-untyped-def]
    return {(d.patron_id, d.service): d for d in plan_month(cases, policy=DEFAULT_POLICY, catalogue=lambda: catalogue)}


def test_named_items_are_shipped():
    d = plan(case(1, HD, line(1), line(2, CD)))[(1, HD)]
    assert d.ship and [x.item_id for x in d.lines] == [1, 2] and (d.books, d.audio_visual) == (1, 1)
    assert d.lines[0].line_id == 101 and d.lines[0].source is ItemSource.NAMED


@pytest.mark.parametrize(("kw", "reason"), [
    ({"already_shipped": True}, SkipReason.ALREADY_SHIPPED),
    ({"standing": Standing.EXPIRED}, SkipReason.APPROVAL_EXPIRED),
    ({"standing": Standing.ENDED}, SkipReason.SERVICE_ENDED),
    ({"standing": Standing.NONE}, SkipReason.NOT_APPROVED),
    ({"overdue_items": 2}, SkipReason.OVERDUE),
])
def test_patrons_who_get_nothing_and_why(kw, reason):
    d = plan(case(1, HD, line(1), **kw))[(1, HD)]
    assert not d.ship and d.reason is reason and d.lines == ()


def test_the_overdue_reason_says_how_many_and_the_expired_one_asks_for_renewal():
    assert "2点" in plan(case(1, HD, line(1), overdue_items=2))[(1, HD)].detail_ja
    assert "更新" in plan(case(1, HD, line(1), standing=Standing.EXPIRED))[(1, HD)].detail_ja


def test_an_approved_patron_who_asked_for_nothing():
    assert plan(case(1, HD))[(1, HD)].reason is SkipReason.NOTHING_REQUESTED


def test_the_sixteenth_book_and_the_third_cd_wait_for_next_month():
    lines = [line(n) for n in range(1, 17)] + [line(n, CD) for n in range(20, 23)]
    d = plan(case(1, HD, *lines))[(1, HD)]
    assert d.ship and (d.books, d.audio_visual) == (15, 2)
    held = {h.barcode: h for h in d.held_back}
    assert set(held) == {"B16", "B22"}
    assert held["B16"].carry_over and held["B16"].code == "loan.too_many_books"
    assert "16冊目" in held["B16"].message_ja and held["B22"].code == "loan.too_many_audio_visual"


def test_a_book_on_a_mail_loan_is_cancelled_but_a_braille_picture_book_goes():
    d = plan(case(1, ML, line(1, B), line(2, BPB)))[(1, ML)]
    assert [x.item_id for x in d.lines] == [2]
    (held,) = d.held_back
    assert held.code == "loan.material_type_not_allowed" and not held.carry_over


def test_unavailable_items_wait_or_are_cancelled():
    d = plan(case(1, HD, line(1, status=ItemStatus.ON_LOAN), line(2, status=ItemStatus.LOST),
                  line(3, unsuitable=True), line(4, lendable=False)))[(1, HD)]
    assert not d.ship and d.reason is SkipReason.NOTHING_AVAILABLE
    carried = {h.barcode: h.carry_over for h in d.held_back}
    assert carried == {"B1": True, "B2": False, "B3": False, "B4": False}


def test_an_item_asked_for_by_two_patrons_goes_to_the_first_to_ask():
    result = plan(case(1, HD, line(5, position=2), line(6)), case(2, HD, line(5, position=1)))
    assert [x.item_id for x in result[(1, HD)].lines] == [6]
    assert result[(1, HD)].held_back[0].code == "loan.reserved_for_another" and result[(1, HD)].held_back[0].carry_over
    assert [x.item_id for x in result[(2, HD)].lines] == [5]


def test_choose_for_me_fills_the_room_left_from_the_profile():
    prefs = preferences_from_text("時代小説", "", [], "", 3, search_key)
    catalogue = [SelectableItem(n, f"S{n}", f"選{n}", B, "", ("時代小説",), "") for n in (50, 51, 52)]
    d = plan(case(1, HD, line(1), wants_selection=True, preferences=prefs), catalogue=catalogue)[(1, HD)]
    assert [x.item_id for x in d.lines] == [1, 50, 51]
    assert d.lines[1].source is ItemSource.CHOSEN and "時代小説" in d.lines[1].reason


def test_choose_for_me_without_a_profile_or_without_a_match():
    d = plan(case(1, HD, wants_selection=True))[(1, HD)]
    assert d.reason is SkipReason.NOTHING_AVAILABLE and "読書プロフィールがありません" in d.detail_ja
    prefs = preferences_from_text("宇宙", "", [], "", 3, search_key)
    d = plan(case(1, HD, wants_selection=True, preferences=prefs))[(1, HD)]
    assert d.reason is SkipReason.NOTHING_AVAILABLE and "合う貸出可能な資料" in d.detail_ja


def test_a_summary_counts_shipments_items_and_reasons():
    summary = rules.PlanSummary()
    for d in plan(case(1, HD, line(1), line(2, CD)), case(2, HD), case(3, ML, line(3, BPB))).values():
        summary.add(d)
    assert (summary.considered, summary.shipments, summary.items, summary.excluded) == (3, 2, 3, 1)
    assert summary.by_reason == {SkipReason.NOTHING_REQUESTED: 1} and summary.by_service == {HD: 1, ML: 1}


# --- months and dates ---------------------------------------------------------------------------

TODAY = date(2026, 11, 25)  # a Wednesday


def test_months_are_checked():
    assert rules.parse_month("2026-12", TODAY) == (2026, 12)
    assert rules.parse_month("2026-11", TODAY) == (2026, 11)
    with pytest.raises(RunError) as past:
        rules.parse_month("2026-10", TODAY)
    assert past.value.code == "shipments.past_month" and "過ぎた月" in past.value.message_ja
    for bad in ("2026/12", "12-2026", "2026-13", ""):
        with pytest.raises(RunError) as error:
            rules.parse_month(bad, TODAY)
        assert error.value.code == "shipments.bad_month"
        assert f"「{bad}」は月として読めません" in error.value.message_ja and "'" not in error.value.message_ja
    with pytest.raises(RunError):
        rules.parse_month("2028-01", TODAY)


def test_shipping_and_due_dates_follow_the_library_calendar():
    assert rules.default_shipping_date(2026, 12, TODAY) == date(2026, 12, 1)
    # planned late in the month: the next open day from today (not the first open day, which has passed)
    assert rules.default_shipping_date(2026, 11, TODAY) == TODAY
    # Mon 23 Nov is a holiday (勤労感謝の日), so Tue 24 is closed (規則第2条: その翌日): the 25th it is.
    assert rules.default_shipping_date(2026, 11, date(2026, 11, 24)) == TODAY
    assert rules.loan_due_date(date(2026, 12, 1)) == date(2027, 1, 5)  # 1 January lies in the year-end closure
    rules.check_shipping_date(date(2026, 12, 2), 2026, 12, TODAY)
    with pytest.raises(RunError) as closed:
        rules.check_shipping_date(date(2026, 12, 7), 2026, 12, TODAY)  # a Monday
    assert closed.value.code == "shipments.date_closed"
    with pytest.raises(RunError) as outside:
        rules.check_shipping_date(date(2027, 1, 6), 2026, 12, TODAY)
    assert outside.value.code == "shipments.date_outside_month"


# --- the queue counts only patrons served this month (review of issue 4) ---------------------------


@pytest.mark.parametrize("gate", [
    {"standing": Standing.EXPIRED}, {"standing": Standing.ENDED}, {"standing": Standing.NONE},
    {"overdue_items": 1}, {"already_shipped": True},
])
def test_a_first_in_line_who_gets_nothing_does_not_hold_the_item_for_the_next(gate):
    # patron 1 asked first but gets nothing this month; patron 2, next in line, gets the item
    result = plan(case(1, HD, line(5, position=1), **gate), case(2, HD, line(5, position=2)))
    assert not result[(1, HD)].ship
    assert result[(2, HD)].ship and [x.item_id for x in result[(2, HD)].lines] == [5]
    assert result[(2, HD)].held_back == ()


def test_the_item_still_waits_for_a_first_in_line_who_is_served():
    result = plan(case(1, HD, line(5, position=1), line(6)), case(2, HD, line(5, position=2)),
                  case(3, HD, line(5, position=3), standing=Standing.EXPIRED))
    assert [x.item_id for x in result[(1, HD)].lines] == [5, 6]
    (held,) = result[(2, HD)].held_back
    assert held.code == "loan.reserved_for_another" and held.carry_over


def test_the_same_item_twice_for_one_patron_is_a_duplicate_not_a_reservation():
    d = plan(case(1, HD, line(5, position=1), line(5, position=2)))[(1, HD)]
    assert [x.item_id for x in d.lines] == [5]
    (held,) = d.held_back
    assert held.code == "loan.duplicate_item" and not held.carry_over


def test_a_patron_whose_items_can_never_go_is_told_the_commit_cancels_them():
    d = plan(case(1, HD, line(1, unsuitable=True), line(2, lendable=False)))[(1, HD)]
    assert d.reason is SkipReason.NOTHING_AVAILABLE and not any(h.carry_over for h in d.held_back)
    assert "取り消します" in d.detail_ja and "cancels" in d.detail_en
    waiting = plan(case(1, HD, line(1, status=ItemStatus.ON_LOAN)))[(1, HD)]
    assert waiting.detail_ja == ""  # kept for next month: nothing to cancel


# --- the policy values the run depends on -----------------------------------------------------------


@pytest.mark.parametrize(("change", "code", "field"), [
    ({"deliveries_per_month": 2}, "shipments.deliveries_per_month", "deliveries_per_month"),
    ({"loan_extension_allowed": True}, "shipments.loan_extension", "loan_extension_allowed"),
])
def test_a_policy_the_run_cannot_honour_is_refused_not_ignored(change, code, field):
    policy = replace(DEFAULT_POLICY, **change)
    with pytest.raises(RunError) as error:
        plan_month([case(1, HD, line(1))], policy=policy)
    assert error.value.code == code and field in error.value.message_ja and field in error.value.message_en
    rules.check_run_policy(DEFAULT_POLICY)  # the reference values are the ones the run implements


# --- checks made again at the commit ----------------------------------------------------------------


def test_a_plan_whose_shipping_date_has_passed_cannot_be_committed():
    rules.check_commit_date(date(2026, 12, 1), date(2026, 12, 1))  # on the day itself: fine
    with pytest.raises(RunError) as stale:
        rules.check_commit_date(date(2026, 12, 1), date(2026, 12, 2))
    assert stale.value.code == "shipments.stale_plan"
    assert "計画をやり直す" in stale.value.message_ja and "plan the month again" in stale.value.message_en


def test_an_item_changed_after_the_plan_is_judged_again_at_the_commit():
    assert rules.commit_item_problem(True, False, ItemStatus.AVAILABLE) is None
    assert rules.commit_item_problem(False, False, ItemStatus.AVAILABLE).code == "loan.not_lendable"
    assert rules.commit_item_problem(True, True, ItemStatus.AVAILABLE).code == "loan.unsuitable"
    on_loan = rules.commit_item_problem(True, False, ItemStatus.ON_LOAN)
    assert on_loan.code == "loan.gone_at_commit" and on_loan.carry_over  # comes back: next month
    for status in (ItemStatus.LOST, ItemStatus.WITHDRAWN):
        assert not rules.commit_item_problem(True, False, status).carry_over  # never: cancelled
    assert not rules.commit_item_problem(True, True, ItemStatus.AVAILABLE).carry_over


def test_the_standing_gate_is_the_same_at_the_plan_and_at_the_commit():
    assert rules.standing_gate(1, HD, Standing.IN_FORCE, 0) is None
    assert rules.standing_gate(1, HD, Standing.ENDED, 0).reason is SkipReason.SERVICE_ENDED
    assert rules.standing_gate(1, HD, Standing.IN_FORCE, 2).reason is SkipReason.OVERDUE
    assert rules.standing_gate(1, HD, Standing.IN_FORCE, 2, replace(DEFAULT_POLICY, overdue_restriction=False)) is None
