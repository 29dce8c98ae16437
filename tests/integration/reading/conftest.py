"""Fixtures for face-to-face reading: the seeded rooms, registered patrons and volunteers."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import select

from outreach.enrolments.models import Approval
from outreach.patrons import services as patron_services
from outreach.reading import services
from outreach.reading.models import ReadingRoom
from outreach.types import ReadingKind, Service

# A Tuesday in June 2027 on which every library is open (no holiday, not the first Thursday).
DAY = date(2027, 6, 8)
TODAY = date(2027, 6, 1)
TEN, NOON, TWO = time(10, 0), time(12, 0), time(14, 0)


def room(db, library_name: str) -> ReadingRoom:  # type: ignore[no-untyped-def]
    return db.scalars(select(ReadingRoom).where(ReadingRoom.library_name == library_name)).one()


def make_patron(db, actor, card: str, *, registered_from: date | None = date(2027, 4, 1),  # type: ignore[no-untyped-def]
                registered_until: date | None = None, consent: bool = False, name: str = "山田 花子"):
    patron = patron_services.create_patron(db, data=dict(
        card_number=card, name=name, name_kana="ヤマダ ハナコ", birth_date=date(1941, 5, 3),
        phone="0798-11-2233", postal_code="662-0911", prefecture="兵庫県", city="西宮市", town="池田町",
        block="1-2-3", has_reading_history_consent=consent), actor=actor,
        library_prefecture="兵庫県", library_city="西宮市")
    if registered_from is not None:
        db.add(Approval(patron_id=patron.id, service=Service.FACE_TO_FACE, valid_from=registered_from,
                        valid_until=registered_until, approved_by_id=actor.id))
    db.flush()
    return patron


def make_volunteer(db, actor, username: str, *, rooms=("北口図書館",), kinds=(ReadingKind.GENERAL,),  # type: ignore[no-untyped-def]
                   slots=((1, TEN, TWO),), pledge: date | None = date(2020, 4, 1), name: str | None = None):
    room_ids = [room(db, r).id for r in rooms]
    volunteer = services.register_volunteer(
        db, data=dict(name=name or f"朗読 {username}", name_kana="ロウドク タロウ", phone="090-0000-0000",
                      pledge_signed_on=pledge), room_ids=room_ids, kinds=kinds, actor=actor,
        username=username, password="volunteer-pass-1234", hash_method="pbkdf2:sha256:1000")
    for weekday, start, end in slots:
        services.add_availability(db, volunteer, room_id=room_ids[0], weekday=weekday, start=start, end=end, actor=actor)
    return volunteer


def make_request(db, actor, patron, library: str = "北口図書館", kind=ReadingKind.GENERAL,  # type: ignore[no-untyped-def]
                 received_on: date = TODAY, **extra):
    data = dict(received_on=received_on, address_as="山田さん", preferred_times="火曜の午前",
                duration_minutes=120, material_kind=kind, material_description="市の広報紙と新聞の社説",
                brings_own_material=False, note="")
    data.update(extra)
    return services.create_request(db, patron=patron, room=room(db, library), data=data, actor=actor)


@pytest.fixture()
def librarian(users):  # type: ignore[no-untyped-def]
    return users["librarian"]
