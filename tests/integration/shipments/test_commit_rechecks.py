"""What the review of issue 4 found in the monthly run, each proved on the database:

- an item's queue counts only patrons served this month (a patron who gets nothing blocks nobody);
- requests whose items can never go are cancelled and closed at the commit, even for patrons who
  get nothing; lines kept for next month stay;
- the commit checks again what may have changed since the plan (items, approvals, overdue items);
- a plan whose shipping date has passed is refused (service and pages), and re-planning fixes it;
- a first commit from the page is not recorded as resumed;
- a policy the run cannot honour is refused when planning."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from outreach import clock
from outreach.audit.models import AuditEvent
from outreach.catalog.models import CatalogItem
from outreach.db import database
from outreach.loans.models import Loan, LoanRequest, LoanRequestLine
from outreach.shipments import services
from outreach.shipments.models import PlannedShipment, Shipment, ShipmentRun
from outreach.shipments.rules import RunError
from outreach.system.services import save_policy_values
from outreach.types import ItemStatus, LoanRequestState, MaterialType, RunState, Service, SkipReason
from tests.conftest import post
from tests.integration.shipments.factories import MONTH, TODAY, approve, new_item, new_patron, request

HD = Service.HOME_DELIVERY


def count(db, model, *where) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def plan(db):  # type: ignore[no-untyped-def]
    db.commit()
    run = services.plan_run(db, month=MONTH, today=TODAY)
    db.commit()
    return run


def commit(run, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("today", TODAY)
    return services.commit_run(database.session_scope, run.id, **kw)


def planned_of(db, run, patron) -> PlannedShipment:  # type: ignore[no-untyped-def]
    return db.scalars(select(PlannedShipment).where(PlannedShipment.run_id == run.id,
                                                    PlannedShipment.patron_id == patron.id)).one()


def overdue_loan(db, patron, barcode: str) -> None:  # type: ignore[no-untyped-def]
    earlier = Shipment(patron_id=patron.id, service=HD, month="2026-10", shipped_on=date(2026, 10, 1),
                       due_on=date(2026, 11, 4), books_count=1)
    db.add(earlier)
    db.flush()
    item = new_item(db, barcode, "延滞本", status=ItemStatus.ON_LOAN)
    db.add(Loan(shipment_id=earlier.id, patron_id=patron.id, item_id=item.id, service=HD,
                material_type=MaterialType.BOOK, shipped_on=date(2026, 10, 1), due_on=date(2026, 11, 4)))
    db.flush()


# --- 2. the queue --------------------------------------------------------------------------------------


def test_a_first_in_line_whose_approval_lapses_does_not_block_the_next(db, librarian):
    first = new_patron(db, librarian, "8100000001", name="先 申込")
    second = new_patron(db, librarian, "8100000002", name="次 申込")
    approval = approve(db, first, HD)
    approve(db, second, HD)
    new_item(db, "Q001", "人気の本")
    request(db, first, librarian, ["Q001"], received_on=date(2026, 11, 20))
    request(db, second, librarian, ["Q001"])
    approval.valid_until = date(2026, 11, 28)  # ends before the December shipping day
    run = plan(db)
    assert planned_of(db, run, first).skip_reason is SkipReason.APPROVAL_EXPIRED
    assert planned_of(db, run, second).will_ship
    outcome = commit(run)
    assert (outcome.shipments, outcome.items) == (1, 1)
    assert db.scalars(select(Loan.patron_id)).one() == second.id
    # the lapsed patron's request waits (a renewal may come), it does not hold the item any more
    assert count(db, LoanRequestLine) == 1


# --- 3. requests whose items can never go ---------------------------------------------------------------


def test_requests_whose_items_can_never_go_are_cancelled_and_closed(db, librarian):
    only_bad = new_patron(db, librarian, "8100000011", name="取消 のみ")
    mixed = new_patron(db, librarian, "8100000012", name="待ち と 取消")
    chooser = new_patron(db, librarian, "8100000013", name="おまかせ 希望")
    for patron in (only_bad, mixed, chooser):
        approve(db, patron, HD)
    unsuitable, not_lendable, lent = new_item(db, "U001", "不適当"), new_item(db, "U002", "館内のみ"), new_item(db, "W001")
    bad = request(db, only_bad, librarian, ["U001"])
    waits = request(db, mixed, librarian, ["W001", "U002"])
    choose = request(db, chooser, librarian, [], choose_for_me=True)  # no reader profile: nothing to choose
    # a request is refused when taken with such items; here the catalogue changed after the request
    unsuitable.is_unsuitable, not_lendable.is_lendable, lent.status = True, False, ItemStatus.ON_LOAN
    run = plan(db)
    assert {planned_of(db, run, p).skip_reason for p in (only_bad, mixed, chooser)} == {SkipReason.NOTHING_AVAILABLE}
    assert "取り消します" in planned_of(db, run, only_bad).detail
    outcome = commit(run)
    assert (outcome.shipments, outcome.cancelled) == (0, 2)
    db.expire_all()
    bad_row, waits_row, choose_row = (db.get(LoanRequest, r.id) for r in (bad, waits, choose))
    assert (bad_row.state, bad_row.items_cancelled, bad_row.closed_on) == (LoanRequestState.DONE, 1, run.shipping_on)
    assert (waits_row.state, waits_row.items_cancelled) == (LoanRequestState.OPEN, 1)  # W001 comes back: it waits
    assert [line.item_id for line in db.scalars(select(LoanRequestLine))] == [
        db.scalars(select(CatalogItem.id).where(CatalogItem.barcode == "W001")).one()]
    assert choose_row.state is LoanRequestState.OPEN  # nothing was chosen for it yet
    assert db.get(ShipmentRun, run.id).state is RunState.COMMITTED


# --- 4. what changed between the plan and the commit ---------------------------------------------------


def test_the_commit_checks_items_approvals_and_overdue_again(db, librarian):
    items_changed = new_patron(db, librarian, "8100000021", name="資料 変更")
    ended = new_patron(db, librarian, "8100000022", name="利用 終了")
    late = new_patron(db, librarian, "8100000023", name="延滞 発生")
    fine = new_patron(db, librarian, "8100000024", name="問題 なし")
    approvals = {p.id: approve(db, p, HD) for p in (items_changed, ended, late, fine)}
    for barcode in ("R001", "R002", "R003", "R004", "R005", "R006"):
        new_item(db, barcode)
    request(db, items_changed, librarian, ["R001", "R002", "R003"])
    ended_request = request(db, ended, librarian, ["R004"])
    request(db, late, librarian, ["R005"])
    request(db, fine, librarian, ["R006"])
    run = plan(db)
    assert run.shipments_planned == 4 and run.items_planned == 6

    # after the review: the chief marks R001 unsuitable, R002 may no longer leave the library,
    # 利用 終了 moves into a care home, 延滞 発生 has an item overdue (lent by hand, due in November)
    items = {i.barcode: i for i in db.scalars(select(CatalogItem))}
    items["R001"].is_unsuitable = True
    items["R002"].is_lendable = False
    approvals[ended.id].ended_on = date(2026, 11, 27)
    overdue_loan(db, late, "R900")
    db.commit()

    outcome = commit(run)
    assert (outcome.shipments, outcome.items, outcome.dropped, outcome.stopped) == (2, 2, 2, 2)
    db.expire_all()
    lent = {db.get(CatalogItem, loan.item_id).barcode for loan in db.scalars(
        select(Loan).where(Loan.shipment_id.is_not(None), Loan.shipped_on == run.shipping_on))}
    assert lent == {"R003", "R006"}
    assert items["R001"].status is ItemStatus.AVAILABLE and items["R002"].status is ItemStatus.AVAILABLE
    assert planned_of(db, run, ended).skip_reason is SkipReason.SERVICE_ENDED
    late_row = planned_of(db, run, late)
    assert late_row.skip_reason is SkipReason.OVERDUE and "確定の時点で" in late_row.detail
    # the items that can never go are cancelled; what the stopped patrons asked for waits for them
    assert db.get(LoanRequest, ended_request.id).state is LoanRequestState.OPEN
    left = {db.get(CatalogItem, line.item_id).barcode for line in db.scalars(select(LoanRequestLine))}
    assert left == {"R004", "R005"}
    assert sum(r.items_cancelled for r in db.scalars(select(LoanRequest))) == 2
    run = db.get(ShipmentRun, run.id)
    assert (run.shipments_done, run.items_done, run.shipments_planned, run.items_planned, run.items_dropped,
            run.excluded) == (2, 2, 2, 2, 2, run.patrons_considered - 2)
    detail = db.scalars(select(AuditEvent.detail).where(AuditEvent.action == "commit")).one()
    assert "2 items dropped" in detail and "2 shipments stopped" in detail


# --- 5. a stale plan ---------------------------------------------------------------------------------------


def test_a_plan_whose_shipping_date_has_passed_is_refused_and_nothing_changes(db, librarian):
    patron = new_patron(db, librarian, "8100000031")
    approve(db, patron, HD)
    new_item(db, "S001")
    request(db, patron, librarian, ["S001"])
    run = plan(db)
    with pytest.raises(RunError) as stale:
        commit(run, today=date(2026, 12, 2))
    assert stale.value.code == "shipments.stale_plan"
    assert "令和8年12月1日" in stale.value.message_ja and "計画をやり直す" in stale.value.message_ja
    assert "2026-12-01" in stale.value.message_en and "plan the month again" in stale.value.message_en
    db.expire_all()
    assert db.get(ShipmentRun, run.id).state is RunState.PLANNED
    assert count(db, Shipment) == 0 and count(db, Loan) == 0 and count(db, LoanRequestLine) == 1
    assert commit(run, today=date(2026, 12, 1)).shipments == 1  # on the shipping day itself it goes


def test_the_page_refuses_a_stale_plan_and_replanning_fixes_it(client, as_role, db, monkeypatch):
    librarian = as_role("librarian")
    patron = new_patron(db, librarian, "8100000041")
    approve(db, patron, HD)
    new_item(db, "S002")
    request(db, patron, librarian, ["S002"])
    run = plan(db)
    url = f"/shipments/runs/{run.id}"
    monkeypatch.setattr(clock, "today", lambda: date(2026, 12, 2))  # the shipping day (1 December) has passed
    page = client.get(url).get_data(as_text=True)
    assert "発送日が過ぎているため" in page and 'name="plan_version"' not in page
    refused = post(client, url + "/commit", {"plan_version": str(run.plan_version)}, form_url=url + "?view=skip")
    assert refused.status_code == 302 and refused.headers["Location"].endswith(url)
    assert "この計画の発送日（令和8年12月1日）は過ぎています" in client.get(url).get_data(as_text=True)
    db.expire_all()
    assert db.get(ShipmentRun, run.id).state is RunState.PLANNED and count(db, Shipment) == 0

    replanned = post(client, url + "/replan", {}, form_url=url)
    assert replanned.status_code == 302
    db.expire_all()
    fresh = db.get(ShipmentRun, run.id)
    assert fresh.shipping_on == date(2026, 12, 2)  # the next open day from today
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="plan_version"[^>]*value="(\d+)"', page).group(1)
    done = post(client, url + "/commit", {"plan_version": version}, form_url=url)
    assert done.status_code == 302 and count(db, Shipment) == 1


# --- 7. the audit of a first commit from the page ------------------------------------------------------------


def test_a_first_commit_from_the_page_is_not_recorded_as_resumed(client, as_role, db, fixed_today):
    librarian = as_role("librarian")
    patron = new_patron(db, librarian, "8100000051")
    approve(db, patron, HD)
    new_item(db, "A001")
    request(db, patron, librarian, ["A001"])
    run = plan(db)
    url = f"/shipments/runs/{run.id}"
    post(client, url + "/commit", {"plan_version": str(run.plan_version)}, form_url=url)
    detail = db.scalars(select(AuditEvent.detail).where(AuditEvent.action == "commit")).one()
    assert detail == f"{MONTH}: 1 shipments, 1 items"


def test_a_commit_taken_over_from_a_stopped_process_is_recorded_as_resumed(client, as_role, db, fixed_today):
    librarian = as_role("librarian")
    patron = new_patron(db, librarian, "8100000052")
    approve(db, patron, HD)
    new_item(db, "A002")
    request(db, patron, librarian, ["A002"])
    run = plan(db)
    db.get(ShipmentRun, run.id).state = RunState.COMMITTING  # a commit that died before its first chunk
    db.get(ShipmentRun, run.id).lease_owner = "gone"
    db.commit()
    url = f"/shipments/runs/{run.id}"
    post(client, url + "/commit", {}, form_url=url + "/status")
    detail = db.scalars(select(AuditEvent.detail).where(AuditEvent.action == "commit")).one()
    assert detail.endswith("(resumed)") and count(db, Shipment) == 1


# --- 7. policy values the run depends on ---------------------------------------------------------------------


def test_a_policy_of_two_deliveries_a_month_is_refused_when_planning(client, as_role, db, users, fixed_today):
    as_role("librarian")
    save_policy_values(db, {"deliveries_per_month": 2}, users["chief"])
    db.commit()
    response = post(client, "/shipments/plan", {"month": MONTH}, form_url="/shipments")
    assert response.status_code == 400 and "deliveries_per_month" in response.get_data(as_text=True)
    assert count(db, ShipmentRun) == 0
    with pytest.raises(RunError) as refused:
        services.plan_run(db, month=MONTH, today=TODAY)
    assert refused.value.code == "shipments.deliveries_per_month"
    db.rollback()
    assert count(db, ShipmentRun) == 0
