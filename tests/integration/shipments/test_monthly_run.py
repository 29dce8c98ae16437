"""The monthly run through its services and pages: plan, preview, adjust, commit, repeat."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from outreach.catalog.models import CatalogItem
from outreach.db import database
from outreach.loans import services as loan_services
from outreach.loans.models import Loan, LoanRequest, LoanRequestLine
from outreach.shipments import jobs, services
from outreach.shipments.models import PlannedItem, PlannedShipment, Shipment, ShipmentRun
from outreach.shipments.rules import RunError
from outreach.types import (
    ItemStatus,
    LoanRequestState,
    LoanStatus,
    MaterialType,
    RunState,
    Service,
    SkipReason,
)
from tests.conftest import post
from tests.integration.shipments.factories import (
    DUE_ON,
    MONTH,
    SHIPPING_ON,
    TODAY,
    approve,
    new_item,
    new_patron,
    request,
)

HD, ML = Service.HOME_DELIVERY, Service.MAIL_LOAN


@pytest.fixture()
def world(db, librarian):  # type: ignore[no-untyped-def]
    hanako = new_patron(db, librarian, "5000000001", name="山田 花子", has_reading_history_consent=True)
    ichiro = new_patron(db, librarian, "5000000002", name="佐藤 一郎")
    yukari = new_patron(db, librarian, "5000000003", name="鈴木 ゆかり")
    approve(db, hanako, HD)
    approve(db, ichiro, HD)
    approve(db, yukari, ML)
    for n in range(1, 21):
        new_item(db, f"B{n:03d}", f"本 {n}", subjects="時代小説" if n > 15 else "")
    for n in range(1, 4):
        new_item(db, f"C{n:03d}", f"CD {n}", MaterialType.AUDIO_CD)
        new_item(db, f"P{n:03d}", f"点訳絵本 {n}", MaterialType.BRAILLE_PICTURE_BOOK)
    db.commit()
    return SimpleNamespace(hanako=hanako, ichiro=ichiro, yukari=yukari)


def count(db, model, *where) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def commit(run: ShipmentRun, **kw) -> services.CommitOutcome:  # type: ignore[no-untyped-def]
    kw.setdefault("today", TODAY)
    return services.commit_run(database.session_scope, run.id, **kw)  # type: ignore[arg-type]


def test_plan_preview_then_commit(db, librarian, world):
    request(db, world.hanako, librarian, ["B001", "B002", "C001"])
    request(db, world.yukari, librarian, ["P001", "C002"], service=ML)
    db.commit()
    run = services.plan_run(db, month=MONTH, today=TODAY, actor=librarian)
    db.commit()
    assert (run.shipping_on, run.due_on, run.state) == (SHIPPING_ON, DUE_ON, RunState.PLANNED)

    counts = services.plan_counts(db, run)
    assert counts["by_service"] == {HD: {"shipments": 1, "books": 2, "audio_visual": 1},
                                    ML: {"shipments": 1, "books": 1, "audio_visual": 1}}
    assert counts["by_reason"] == {SkipReason.NOTHING_REQUESTED: 1}
    excluded, _total = services.plan_page(db, run, shipping=False)
    assert [r.patron_name for r in excluded] == ["佐藤 一郎"]
    # the preview saved a plan, and nothing else
    assert count(db, Shipment) == 0 and count(db, Loan) == 0
    assert count(db, CatalogItem, CatalogItem.status == ItemStatus.ON_LOAN) == 0

    outcome = commit(run, actor_id=librarian.id)
    db.expire_all()
    assert (outcome.shipments, outcome.items, outcome.resumed) == (2, 5, False)
    assert run.state is RunState.COMMITTED and run.shipments_done == 2 and run.items_done == 5
    shipments = db.scalars(select(Shipment).order_by(Shipment.id)).all()
    assert [(s.patron_id, s.service, s.month, s.books_count, s.audio_visual_count) for s in shipments] == [
        (world.hanako.id, HD, MONTH, 2, 1), (world.yukari.id, ML, MONTH, 1, 1)]
    assert all(s.due_on == DUE_ON and s.shipped_on == SHIPPING_ON for s in shipments)
    assert count(db, CatalogItem, CatalogItem.status == ItemStatus.ON_LOAN) == 5
    # the requests are done; what was asked for lives on in the loans only
    assert count(db, LoanRequestLine) == 0
    assert {r.state for r in db.scalars(select(LoanRequest))} == {LoanRequestState.DONE}
    assert sorted(r.items_shipped for r in db.scalars(select(LoanRequest))) == [2, 3]


def test_running_a_committed_month_again_adds_nothing(db, librarian, world):
    request(db, world.hanako, librarian, ["B001"])
    db.commit()
    run = services.plan_run(db, month=MONTH, today=TODAY)
    db.commit()
    commit(run)
    with pytest.raises(services.AlreadyCommitted) as again:
        commit(run)
    assert "すでに確定" in again.value.message_ja
    with pytest.raises(services.AlreadyCommitted):
        services.plan_run(db, month=MONTH, today=TODAY, replace=True)
    with pytest.raises(RunError) as plain:
        services.plan_run(db, month=MONTH, today=TODAY)
    assert plain.value.code == "shipments.already_committed"
    assert count(db, Shipment) == 1 and count(db, Loan) == 1


def test_every_reason_for_not_sending(db, librarian, world):
    expired = new_patron(db, librarian, "5000000010", name="期限 切れ")
    approve(db, expired, HD, valid_from=date(2023, 11, 1), valid_until=date(2026, 11, 30))
    ended = new_patron(db, librarian, "5000000011", name="終了 済")
    approve(db, ended, HD, ended_on=date(2026, 11, 20))
    never = new_patron(db, librarian, "5000000012", name="未承認 者")
    db.add(LoanRequest(patron_id=never.id, service=HD, channel="phone", received_on=TODAY, choose_for_me=True))
    request(db, world.ichiro, librarian, ["B005"])
    db.commit()
    # 一郎 still has an item from an earlier shipment, due before this month's shipping day
    earlier = Shipment(patron_id=world.ichiro.id, service=HD, month="2026-10", shipped_on=date(2026, 10, 1),
                       due_on=date(2026, 11, 4), books_count=1)
    db.add(earlier)
    db.flush()
    overdue_item = new_item(db, "B900", "延滞本", status=ItemStatus.ON_LOAN)
    db.add(Loan(shipment_id=earlier.id, patron_id=world.ichiro.id, item_id=overdue_item.id, service=HD,
                material_type=MaterialType.BOOK, shipped_on=date(2026, 10, 1), due_on=date(2026, 11, 4)))
    request(db, world.hanako, librarian, ["B001"])
    db.commit()
    run = services.plan_run(db, month=MONTH, today=TODAY)
    db.commit()
    reasons = {row.patron_name: row.planned.skip_reason for row in services.plan_page(db, run, shipping=False)[0]}
    assert reasons == {"期限 切れ": SkipReason.APPROVAL_EXPIRED, "終了 済": SkipReason.SERVICE_ENDED,
                       "未承認 者": SkipReason.NOT_APPROVED, "佐藤 一郎": SkipReason.OVERDUE,
                       "鈴木 ゆかり": SkipReason.NOTHING_REQUESTED}
    overdue_row = services.plan_page(db, run, shipping=False, reason=SkipReason.OVERDUE)[0][0]
    assert "1点" in overdue_row.planned.detail
    assert services.plan_counts(db, run)["shipments"] == 1  # 花子


def test_the_plan_cannot_change_between_review_and_commit(db, librarian, world):
    request(db, world.hanako, librarian, ["B001"])
    request(db, world.yukari, librarian, ["P001"], service=ML)
    db.commit()
    run = services.plan_run(db, month=MONTH, today=TODAY)
    db.commit()
    reviewed = run.plan_version
    row = services.plan_page(db, run, shipping=True, service=ML)[0][0]
    services.hold_planned(db, run, row.planned, actor=librarian)
    db.commit()
    with pytest.raises(services.PlanChanged) as changed:
        commit(run, expected_version=reviewed)
    assert "もう一度確認" in changed.value.message_ja
    assert count(db, Shipment) == 0
    commit(run, expected_version=run.plan_version)
    assert count(db, Shipment) == 1


def test_staff_adjust_the_plan_and_held_items_stay_requested(db, librarian, world):
    request(db, world.hanako, librarian, [f"B{n:03d}" for n in range(1, 16)])  # 15 books: the limit
    request(db, world.ichiro, librarian, ["B016"])
    db.commit()
    run = services.plan_run(db, month=MONTH, today=TODAY)
    db.commit()
    request(db, world.ichiro, librarian, ["B018"])  # asked for after the plan was made
    db.commit()
    hanako = next(r for r in services.plan_page(db, run, shipping=True)[0] if r.patron_name == "山田 花子")
    for barcode, message in (("B017", "16冊目"), ("B016", "別の発送に入っています"), ("B018", "別の利用者が申し込んでいる"),
                             ("NOPE", "資料番号の資料はありません")):
        with pytest.raises(RunError) as refused:
            services.add_planned_item(db, run, hanako.planned, barcode, actor=librarian)
        assert message in refused.value.message_ja
        db.rollback()
    first = hanako.items[0][0]
    first_item_id = first.item_id
    services.remove_planned_item(db, run, hanako.planned, first.id, actor=librarian)
    services.add_planned_item(db, run, hanako.planned, "C001", actor=librarian)
    db.commit()
    assert (hanako.planned.books_count, hanako.planned.audio_visual_count) == (14, 1)
    commit(run)
    db.expire_all()
    # the removed item is still asked for, for next month; everything else went
    (left,) = db.scalars(select(LoanRequestLine).join(LoanRequest).where(LoanRequest.patron_id == world.hanako.id)).all()
    assert left.item_id == first_item_id
    assert db.get(LoanRequest, left.request_id).state is LoanRequestState.OPEN
    assert count(db, Loan, Loan.patron_id == world.hanako.id) == 15


def test_an_item_gone_before_the_commit_is_left_out_and_kept_for_next_month(db, librarian, world):
    request(db, world.hanako, librarian, ["B001", "B002", "B003"])
    db.commit()
    run = services.plan_run(db, month=MONTH, today=TODAY)
    db.commit()
    # lent at the counter meanwhile (comes back: kept for next month); reported lost (never: cancelled)
    db.scalars(select(CatalogItem).where(CatalogItem.barcode == "B002")).one().status = ItemStatus.ON_LOAN
    db.scalars(select(CatalogItem).where(CatalogItem.barcode == "B003")).one().status = ItemStatus.LOST
    db.commit()
    outcome = commit(run)
    assert (outcome.shipments, outcome.items, outcome.dropped, outcome.cancelled) == (1, 1, 2, 1)
    db.expire_all()
    assert run.items_dropped == 2
    assert db.scalars(select(Shipment)).one().books_count == 1
    (left,) = db.scalars(select(LoanRequestLine)).all()  # B002 stays requested, B003 is cancelled
    assert db.get(CatalogItem, left.item_id).barcode == "B002"
    request_row = db.get(LoanRequest, left.request_id)
    assert (request_row.state, request_row.items_shipped, request_row.items_cancelled) == (LoanRequestState.OPEN, 1, 1)
    # once committed, the plan's item lists are gone (the loans say what went to whom, and only while open)
    assert count(db, PlannedItem) == 0


def test_choose_for_me_skips_what_a_consenting_patron_read_before(db, librarian, world):
    loan_services.save_profile(db, world.hanako, data=dict(subjects="時代小説", authors="", formats=[], exclusions="",
                                                           items_per_month=3, is_monthly=True), actor=librarian)
    read_before = db.scalars(select(CatalogItem).where(CatalogItem.barcode == "B020")).one()
    old = Shipment(patron_id=world.hanako.id, service=HD, month="2026-09", shipped_on=date(2026, 9, 1),
                   due_on=date(2026, 10, 1), books_count=1)
    db.add(old)
    db.flush()
    db.add(Loan(shipment_id=old.id, patron_id=world.hanako.id, item_id=read_before.id, service=HD,
                material_type=MaterialType.BOOK, shipped_on=date(2026, 9, 1), due_on=date(2026, 10, 1),
                status=LoanStatus.RETURNED, closed_on=date(2026, 9, 20)))
    db.commit()
    run = services.plan_run(db, month=MONTH, today=TODAY)
    db.commit()
    (row,) = services.plan_page(db, run, shipping=True)[0]
    chosen = [item.barcode for pi, item in row.items]
    assert chosen == ["B019", "B018", "B017"]  # newest first, B020 was read before
    assert all("時代小説" in pi.reason for pi, _item in row.items)


def test_the_scheduler_plans_once_on_the_first_open_day(db, world, librarian):
    request(db, world.hanako, librarian, ["B001"])
    db.commit()
    assert jobs.scheduled_plan(db, date(2026, 12, 2)) == "2026-12-02 is not the plan day"
    assert jobs.scheduled_plan(db, SHIPPING_ON).startswith("2026-12: 1 shipments")
    db.commit()
    assert jobs.scheduled_plan(db, SHIPPING_ON) == "2026-12: already planned by the scheduler"
    assert count(db, ShipmentRun) == 1 and count(db, PlannedShipment) == 3
    assert jobs.plan_day(2027, 1, services.current_policy(db)) == date(2027, 1, 5)  # after the new-year closure


# --- the pages --------------------------------------------------------------------------------------


def test_a_librarian_plans_reviews_and_commits_in_the_browser(client, as_role, db, world, fixed_today):
    librarian = as_role("librarian")
    request(db, world.hanako, librarian, ["B001", "C001"])
    db.commit()
    assert client.get("/shipments").status_code == 200

    past = post(client, "/shipments/plan", {"month": "2026-10"}, form_url="/shipments")
    assert past.status_code == 400 and "2026年10月は過ぎた月です" in past.get_data(as_text=True)
    closed = post(client, "/shipments/plan", {"month": MONTH, "shipping_date": "2026-12-07"}, form_url="/shipments")
    assert closed.status_code == 400 and "休館日" in closed.get_data(as_text=True)
    assert count(db, ShipmentRun) == 0

    planned = post(client, "/shipments/plan", {"month": MONTH}, form_url="/shipments")
    assert planned.status_code == 302
    run_url = planned.headers["Location"]
    page = client.get(run_url).get_data(as_text=True)
    assert "山田 花子" in page and "本 1" in page and "佐藤 一郎" not in page
    skipped = client.get(run_url + "?view=skip").get_data(as_text=True)
    assert "佐藤 一郎" in skipped and "鈴木 ゆかり" in skipped
    version = re.search(r'name="plan_version"[^>]*value="(\d+)"', page).group(1)

    stale = post(client, run_url + "/commit", {"plan_version": str(int(version) - 1)}, form_url=run_url)
    assert stale.status_code == 302 and count(db, Shipment) == 0
    done = post(client, run_url + "/commit", {"plan_version": version}, form_url=run_url)
    assert done.status_code == 302 and done.headers["Location"].endswith("/status")
    assert count(db, Shipment) == 1 and count(db, Loan) == 2
    status = client.get(done.headers["Location"])
    assert status.status_code == 200
    assert client.get(run_url + "/status.json").get_json()["state"] == "committed"
    committed = client.get(run_url).get_data(as_text=True)
    assert "2612-" in committed and "山田 花子" in committed


def test_a_planned_shipment_page_refuses_a_bad_barcode_with_the_rule(client, as_role, db, world, fixed_today):
    librarian = as_role("librarian")
    request(db, world.yukari, librarian, ["P001"], service=ML)
    db.commit()
    run = services.plan_run(db, month=MONTH, today=TODAY)
    db.commit()
    (row,) = services.plan_page(db, run, shipping=True)[0]
    url = f"/shipments/runs/{run.id}/planned/{row.planned.id}"
    response = post(client, url + "/add", {"barcode": "B001"}, form_url=url)
    assert response.status_code == 400
    assert "図書は貸出できません（貸出できるのは点訳絵本" in response.get_data(as_text=True)
    db.expire_all()
    assert row.planned.books_count == 1 and count(db, PlannedItem, PlannedItem.is_included.is_(True)) == 1


def test_the_dashboard_card(app, db, librarian, world):
    from flask import render_template

    request(db, world.hanako, librarian, ["B001"])
    db.commit()
    summary = services.dashboard_summary(db, TODAY)
    assert (summary.month, summary.run, summary.open_requests, summary.overdue_patrons) == ("2026-11", None, 1, 0)
    with app.test_request_context("/"):
        html = render_template("shipments/_dashboard.html", shipments_summary=summary)
    assert "月次発送を待つ申込み 1件" in html and 'href="/shipments"' in html


def test_the_loans_page_lists_the_requests_waiting_for_the_run(client, as_role, db, librarian, world):
    request(db, world.hanako, librarian, ["B001"])
    db.commit()
    as_role("librarian")
    page = client.get("/loans").get_data(as_text=True)
    assert "月次発送を待つ申込み 1件" in page and world.hanako.name in page
    assert re.search(r'href="/loans/requests/\d+"', page) and f'href="/loans/patrons/{world.hanako.id}"' in page
    beyond = client.get("/loans?page=99").get_data(as_text=True)
    assert world.hanako.name in beyond  # a page past the end shows the last page, not an empty table
    searching = client.get("/loans", query_string={"q": "宅配"}).get_data(as_text=True)
    assert "月次発送を待つ申込み" not in searching  # a search shows the patrons found instead


def test_the_month_offered_for_planning_is_one_that_can_still_ship(db, librarian):
    # Wed 25 November: open days are left this month. Mon 30 November is closed and the last day.
    assert services.month_to_plan(db, TODAY) == "2026-11"
    assert services.month_to_plan(db, date(2026, 11, 30)) == "2026-12"
    summary = services.dashboard_summary(db, date(2026, 11, 30))
    assert (summary.month, summary.run) == ("2026-12", None)
    # A month already planned is shown on the dashboard; planning is offered for the next.
    services.plan_run(db, month="2026-11", today=TODAY, actor=librarian)
    assert services.dashboard_summary(db, TODAY).month == "2026-11"
    assert services.month_to_plan(db, TODAY) == "2026-12"
