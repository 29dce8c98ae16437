"""Two librarians book the same room, volunteer or patron at the same moment: exactly one succeeds.

This runs on a database of its own (a temporary SQLite file, or a PostgreSQL database beside the test
database), with two threads on two connections that really commit — not the rolled-back test session.
"""

from __future__ import annotations

import threading
import time as clock
from collections.abc import Iterator
from datetime import date, time

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from outreach.auth import services as auth_services
from outreach.auth.models import StaffUser
from outreach.db import make_engine
from outreach.enrolments.models import Approval
from outreach.migrate import upgrade
from outreach.patrons import services as patron_services
from outreach.patrons.models import Patron
from outreach.reading import services
from outreach.reading.models import ReadingRoom, ReadingSession
from outreach.reading.rules import ConflictCode, ReadingError
from outreach.types import ReadingKind, Role, Service
from tests.conftest import reset_database

TODAY = date(2027, 6, 1)
TEN, NOON = time(10, 0), time(12, 0)


@pytest.fixture(scope="module")
def race_engine(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if database_url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('race') / 'race.db'}")
    else:
        admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS outreach_reading_race"))
            conn.execute(text("CREATE DATABASE outreach_reading_race"))
        admin.dispose()
        engine = make_engine(database_url.rsplit("/", 1)[0] + "/outreach_reading_race")
    reset_database(engine)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def world(race_engine: Engine) -> dict[str, int]:
    """Two libraries' worth of patrons, volunteers and requests, committed."""
    factory = sessionmaker(bind=race_engine, class_=Session, expire_on_commit=False)
    ids: dict[str, int] = {}
    with factory() as db:
        librarian = auth_services.create_user(db, username="race-librarian", display_name="司書", role=Role.LIBRARIAN,
                                              password="race-password-1234", hash_method="pbkdf2:sha256:1000")
        rooms = {r.library_name: r.id for r in db.scalars(select(ReadingRoom))}
        for key in ("p1", "p2"):
            patron = patron_services.create_patron(db, data=dict(
                card_number=f"race-{key}", name=f"利用者 {key}", name_kana="リヨウシャ", birth_date=date(1950, 1, 1),
                postal_code="662-0911", prefecture="兵庫県", city="西宮市"), actor=librarian,
                library_prefecture="兵庫県", library_city="西宮市")
            db.add(Approval(patron_id=patron.id, service=Service.FACE_TO_FACE, valid_from=date(2027, 4, 1),
                            approved_by_id=librarian.id))
            db.flush()
            ids[key] = patron.id
        for key in ("v1", "v2"):
            volunteer = services.register_volunteer(
                db, data=dict(name=f"協力者 {key}", name_kana="キョウリョクシャ", pledge_signed_on=date(2020, 4, 1)),
                room_ids=[rooms["北口図書館"], rooms["中央図書館"]], kinds=[ReadingKind.GENERAL], actor=librarian,
                username=f"race-{key}", password="race-password-1234", hash_method="pbkdf2:sha256:1000")
            for room_id in (rooms["北口図書館"], rooms["中央図書館"]):
                services.add_availability(db, volunteer, room_id=room_id, weekday=1, start=TEN, end=NOON,
                                          actor=librarian)
            ids[key] = volunteer.id
        for patron_key in ("p1", "p2"):
            for library, tag in (("北口図書館", "kita"), ("中央図書館", "chuo")):
                request = services.create_request(
                    db, patron=db.get(Patron, ids[patron_key]),
                    room=db.get(ReadingRoom, rooms[library]), actor=librarian,
                    data=dict(received_on=TODAY, address_as="さん", duration_minutes=120,
                              material_kind=ReadingKind.GENERAL, material_description="新聞"))
                ids[f"{patron_key}-{tag}"] = request.id
        ids["librarian"] = librarian.id
        db.commit()
    return ids


# (request, volunteer) of each of the two librarians. They share the room, the volunteer or the patron.
CASES = {
    "same room": ((("p1-kita", "v1"), ("p2-kita", "v2")), date(2027, 6, 8), ConflictCode.ROOM_TAKEN),
    "same volunteer": ((("p1-kita", "v1"), ("p2-chuo", "v1")), date(2027, 6, 15), ConflictCode.VOLUNTEER_TAKEN),
    "same patron": ((("p1-kita", "v1"), ("p1-chuo", "v2")), date(2027, 6, 22), ConflictCode.PATRON_TAKEN),
}


@pytest.mark.parametrize("case", list(CASES))
def test_two_librarians_at_once_exactly_one_succeeds(race_engine, world, monkeypatch, case):
    bookings, day, expected = CASES[case]
    # Widen the race: each booking pauses between its conflict check and its insert. Without the lock both
    # checks would see a free slot and both bookings would be written.
    evaluate = services._evaluate

    def slow_evaluate(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = evaluate(*args, **kwargs)
        clock.sleep(0.3)
        return result

    monkeypatch.setattr(services, "_evaluate", slow_evaluate)
    factory = sessionmaker(bind=race_engine, class_=Session, expire_on_commit=False)
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def librarian(index: int, request_key: str, volunteer_key: str) -> None:
        with factory() as db:
            try:
                actor = db.get(StaffUser, world["librarian"])
                request = services.get_request(db, world[request_key])
                db.rollback()  # both start their booking transaction together, after the barrier
                barrier.wait(timeout=10)
                services.book_session(db, request=request, on=day, start=TEN, end=NOON,
                                      volunteer_id=world[volunteer_key], actor=actor, today=TODAY)
                db.commit()
                outcomes[index] = "booked"
            except ReadingError as exc:
                db.rollback()
                outcomes[index] = exc
            except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
                db.rollback()
                outcomes[index] = exc

    threads = [threading.Thread(target=librarian, args=(i, *pair)) for i, pair in enumerate(bookings)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(map(str, outcomes)).count("booked") == 1, outcomes
    refused = next(o for o in outcomes if o != "booked")
    assert isinstance(refused, ReadingError), refused
    assert expected in refused.codes
    with race_engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ReadingSession)
                           .where(ReadingSession.session_on == day)) == 1
