"""`outreach synth`: fills an empty or demo database, refuses one with real patrons, and the data works."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from outreach.db import database
from outreach.patrons import services as patron_services
from outreach.patrons.models import Patron
from outreach.shipments import services as shipment_services
from outreach.synth import services
from outreach.system.models import JobRun

TODAY = date(2026, 11, 21)


def fill(patrons: int = 40, seed: int = 3):  # type: ignore[no-untyped-def]
    return services.fill(database.session_scope, patrons=patrons, seed=seed, today=TODAY,
                         library_prefecture="兵庫県", library_city="西宮市")


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_an_empty_database_is_filled_and_marked_synthetic(db):  # type: ignore[no-untyped-def]
    summary = fill()
    assert summary.patrons == 40 and count(db, Patron) == 40
    assert db.scalars(select(JobRun.job)).all() == ["synthetic-data"]
    places = db.execute(select(Patron.postal_code, Patron.prefecture, Patron.city)).all()
    assert all(len(code) == 8 and code[3] == "-" for code, _p, _c in places)
    # the keys are right: the ordinary search finds patrons by reading
    somebody = db.scalars(select(Patron).order_by(Patron.id)).first()
    found = patron_services.search_patrons(db, somebody.name_kana.split(" ")[0])
    assert somebody.id in {p.id for p in found.patrons}


def test_a_database_with_real_patrons_is_refused_and_left_unchanged(db, users):  # type: ignore[no-untyped-def]
    patron_services.create_patron(db, data=dict(card_number="1234567890", name="本物 太郎", name_kana="ホンモノ タロウ",
                                                birth_date=date(1940, 1, 1), postal_code="662-0911", prefecture="兵庫県",
                                                city="西宮市"), actor=users["librarian"], library_prefecture="兵庫県",
                                  library_city="西宮市")
    db.flush()
    with pytest.raises(services.SynthRefused) as refused:
        fill()
    assert refused.value.code == "synth.real_data"
    assert "利用者が登録されています" in refused.value.message("ja")
    assert count(db, Patron) == 1 and count(db, JobRun) == 0


def test_a_demo_database_may_take_synthetic_data_and_a_second_fill_adds_more(db):  # type: ignore[no-untyped-def]
    services.mark(db, services.DEMO_JOB, "2026-11-21")
    db.flush()
    fill(patrons=10)
    fill(patrons=5, seed=4)
    assert count(db, Patron) == 15
    cards = db.scalars(select(Patron.card_number)).all()
    assert len(set(cards)) == 15


@pytest.mark.parametrize("size", [0, -5, services.MAX_PATRONS + 1])
def test_a_silly_size_is_refused(db, size):  # type: ignore[no-untyped-def]
    with pytest.raises(services.SynthRefused) as refused:
        fill(patrons=size)
    assert refused.value.code == "synth.size"
    assert count(db, JobRun) == 0


def test_next_months_run_can_be_planned_on_synthetic_data(db):  # type: ignore[no-untyped-def]
    fill(patrons=60)
    run = shipment_services.plan_run(db, month="2026-12", today=TODAY)
    assert run.shipments_planned > 10 and run.items_planned > run.shipments_planned
    assert run.excluded > 0  # expired, ended, overdue or nothing asked for


def test_the_cli_reports_a_refusal_in_words(app, db, users):  # type: ignore[no-untyped-def]
    patron_services.create_patron(db, data=dict(card_number="1234567891", name="本物 花子", name_kana="ホンモノ ハナコ",
                                                birth_date=date(1940, 1, 1), postal_code="662-0911", prefecture="兵庫県",
                                                city="西宮市"), actor=users["librarian"], library_prefecture="兵庫県",
                                  library_city="西宮市")
    db.commit()
    result = app.test_cli_runner().invoke(args=["outreach", "synth", "--patrons", "5"])
    assert result.exit_code != 0
    assert "not marked as a demo or synthetic database" in result.output
