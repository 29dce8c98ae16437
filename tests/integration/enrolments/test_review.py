"""The daily review: special approvals are re-checked, a kept review stays kept, reasons on the work list."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from outreach.enrolments import services
from outreach.enrolments.models import ReviewFlag
from outreach.types import Channel, DifficultyBasis, Service
from tests.conftest import login, post

DECIDED = date(2026, 11, 20)


def _approve(db, users, patron, special_reason: str = ""):  # type: ignore[no-untyped-def]
    application = services.receive_application(db, patron, service=Service.HOME_DELIVERY, received_on=DECIDED,
                                               channel=Channel.COUNTER, proxy_id=None, note="",
                                               actor=users["librarian"], today=DECIDED)
    services.submit_for_decision(db, application, users["librarian"])
    approval = services.approve(db, application, actor=users["chief"], decided_on=DECIDED,
                                special_reason=special_reason)
    db.commit()
    return approval


@pytest.fixture()
def special_patron(db, users, make_patron):  # type: ignore[no-untyped-def]
    """Aged 51, no certificate and no care level, finds visiting difficult: only a special approval covers them."""
    patron = make_patron("3000000020", name="特別 一子", name_kana="トクベツ イチコ", birth_date=date(1975, 1, 1))
    services.record_visit_difficulty(db, patron, actor=users["librarian"], today=DECIDED, data=dict(
        is_difficult=True, basis=DifficultyBasis.HOME_VISIT, assessed_on=DECIDED))
    db.commit()
    return patron


def _flags(db, approval_id: int) -> list[ReviewFlag]:  # type: ignore[no-untyped-def]
    return db.scalars(select(ReviewFlag).where(ReviewFlag.approval_id == approval_id).order_by(ReviewFlag.id)).all()


def test_a_special_approval_is_left_alone_while_nothing_changes(db, users, special_patron):
    approval = _approve(db, users, special_patron, special_reason="退院後の療養中で来館できないため")
    assert approval.is_special
    assert services.check_for_review(db, [special_patron.id], date(2026, 11, 21)) == 0
    assert _flags(db, approval.id) == []


@pytest.mark.parametrize(("change", "code"), [
    ({"is_city_resident": False}, "lives_in_city"),
    ({"is_in_facility": True}, "not_in_facility"),
])
def test_a_special_approval_is_flagged_when_the_patron_moves_away_or_enters_a_facility(
        db, users, special_patron, change, code):
    approval = _approve(db, users, special_patron, special_reason="退院後の療養中で来館できないため")
    for name, value in change.items():
        setattr(special_patron, name, value)
    db.commit()
    assert services.check_for_review(db, [special_patron.id], date(2026, 11, 21)) == 1
    # Only what governs a special approval: not the certificate or care level it never needed.
    assert [f.reason_codes for f in _flags(db, approval.id)] == [code]


def test_keeping_the_service_after_review_is_not_undone_the_next_day(db, users, elderly_patron):
    approval = _approve(db, users, elderly_patron)
    elderly_patron.is_city_resident = False
    db.commit()
    assert services.check_for_review(db, [elderly_patron.id], date(2026, 11, 21)) == 1
    flag = _flags(db, approval.id)[0]
    services.keep_after_review(db, flag, users["librarian"], date(2026, 11, 21))
    db.commit()
    for day in (date(2026, 11, 22), date(2026, 12, 15)):
        assert services.check_for_review(db, [elderly_patron.id], day) == 0
    assert len(_flags(db, approval.id)) == 1
    # A new fact (entering a facility) is a new reason: the service is reviewed again.
    elderly_patron.is_in_facility = True
    db.commit()
    assert services.check_for_review(db, [elderly_patron.id], date(2026, 12, 16)) == 1
    newest = _flags(db, approval.id)[-1]
    assert newest.resolved_on is None and {"lives_in_city", "not_in_facility"} <= set(newest.reason_codes.split(","))


def test_a_special_approval_kept_after_review_stays_kept(db, users, special_patron):
    approval = _approve(db, users, special_patron, special_reason="退院後の療養中で来館できないため")
    special_patron.is_in_facility = True
    db.commit()
    services.check_for_review(db, [special_patron.id], date(2026, 11, 21))
    services.keep_after_review(db, _flags(db, approval.id)[0], users["librarian"], date(2026, 11, 21))
    db.commit()
    assert services.check_for_review(db, [special_patron.id], date(2026, 11, 22)) == 0


def test_the_dashboard_says_why_a_patron_is_to_be_reviewed(client, db, users, special_patron):
    _approve(db, users, special_patron, special_reason="退院後の療養中で来館できないため")
    special_patron.is_city_resident = False
    db.commit()
    services.check_for_review(db, [special_patron.id], date(2026, 11, 21))
    db.commit()
    login(client, "librarian1")
    page = client.get("/").get_data(as_text=True)
    flags_section = page[page.index('id="flags-heading"'):page.index('id="ending-heading"')]
    assert special_patron.name in flags_section and "市内に居住していません" in flags_section
    assert "特別承認" in flags_section or "Special approval" in flags_section
    post(client, "/language", {"lang": "en"})
    page = client.get("/").get_data(as_text=True)
    assert "Does not live in the city" in page[page.index('id="flags-heading"'):page.index('id="ending-heading"')]
