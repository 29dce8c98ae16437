"""A year of activity, built row by row: registrations starting and ending mid-year, expired approvals,
shipments across the March/April boundary with the loans behind them, sessions at each library."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import select

from outreach.enrolments.models import Approval
from outreach.loans.models import Loan
from outreach.patrons import services as patron_services
from outreach.reading.models import ReadingRequest, ReadingRoom, ReadingSession
from outreach.shipments.models import Shipment
from outreach.types import ApprovalStatus, EndReason, MaterialType, ReadingKind, ReadingSessionState, Service

FY = 2025  # 2025-04-01 .. 2026-03-31
TODAY = date(2026, 11, 21)


@pytest.fixture()
def year(db, users):  # type: ignore[no-untyped-def]
    librarian = users["librarian"]
    patrons = []
    for i in range(11):
        patrons.append(patron_services.create_patron(db, actor=librarian, library_prefecture="兵庫県",
                                                     library_city="西宮市", data=dict(
            card_number=f"9{i:03d}", name=f"統計 {i}", name_kana="トウケイ", birth_date=date(1940, 1, 1),
            postal_code="662-0911", prefecture="兵庫県", city="西宮市", town="池田町",
            has_reading_history_consent=i in (6, 9))))  # 6 and 9 keep a reading history, 10 does not
    db.flush()
    p = [x.id for x in patrons]

    def approval(patron_id, service, valid_from, valid_until=None, **kw):  # type: ignore[no-untyped-def]
        db.add(Approval(patron_id=patron_id, service=service, valid_from=valid_from, valid_until=valid_until, **kw))

    hd, ml, ff = Service.HOME_DELIVERY, Service.MAIL_LOAN, Service.FACE_TO_FACE
    approval(p[0], hd, date(2024, 6, 1), date(2027, 5, 31))  # in force all year: counts
    approval(p[1], hd, date(2025, 9, 10), date(2028, 9, 9))  # starts mid-year: counts
    approval(p[2], hd, date(2023, 3, 1), date(2026, 2, 28), status=ApprovalStatus.EXPIRED)  # expired in Feb
    approval(p[3], hd, date(2024, 1, 1), date(2026, 12, 31), status=ApprovalStatus.ENDED,
             ended_on=date(2026, 1, 15), end_reason=EndReason.MOVED_AWAY)  # ended mid-year
    approval(p[4], hd, date(2026, 4, 1), date(2029, 3, 31))  # starts the next year
    approval(p[5], hd, date(2023, 4, 1), date(2026, 3, 31))  # ends on the last day: still counts
    approval(p[6], ml, date(2019, 5, 1))  # mail loans: no end
    approval(p[7], ml, date(2020, 1, 1), status=ApprovalStatus.ENDED, ended_on=date(2025, 10, 31),
             end_reason=EndReason.WITHDREW)
    approval(p[6], ff, date(2024, 4, 1))  # face-to-face at 北口 (their latest request), all year
    approval(p[8], ff, date(2025, 4, 1))  # registered, no request yet
    approval(p[9], ff, date(2025, 5, 1))  # at 鳴尾 from May
    approval(p[10], ff, date(2024, 1, 1), status=ApprovalStatus.ENDED, ended_on=date(2025, 12, 31),
             end_reason=EndReason.WITHDREW)  # at 中央 until the end of December

    def ship(patron_id, service, shipped_on, books, av):  # type: ignore[no-untyped-def]
        shipment = Shipment(patron_id=patron_id, service=service, month=shipped_on.strftime("%Y-%m"),
                            shipped_on=shipped_on, due_on=shipped_on, books_count=books, audio_visual_count=av)
        db.add(shipment)
        db.flush()
        for n in range(books + av):  # the loans behind the counts, as a shipment run leaves them
            db.add(Loan(shipment_id=shipment.id, patron_id=patron_id, service=service, shipped_on=shipped_on,
                        due_on=shipped_on, material_type=MaterialType.BOOK if n < books else MaterialType.DAISY))

    ship(p[0], hd, date(2025, 3, 31), 9, 9)  # previous fiscal year
    ship(p[0], hd, date(2025, 4, 1), 10, 1)  # first day
    ship(p[1], hd, date(2025, 10, 1), 12, 0)
    ship(p[0], hd, date(2026, 3, 31), 15, 2)  # last day
    ship(p[0], hd, date(2026, 4, 1), 5, 0)  # next year
    ship(p[6], ml, date(2025, 5, 10), 0, 2)
    ship(p[6], ml, date(2025, 12, 1), 3, 1)  # braille picture books count as books

    rooms = {r.library_name: r.id for r in db.scalars(select(ReadingRoom))}

    def reading_request(patron_id, library, received_on):  # type: ignore[no-untyped-def]
        request = ReadingRequest(patron_id=patron_id, room_id=rooms[library], received_on=received_on,
                                 address_as="統計さん", duration_minutes=120, material_kind=ReadingKind.GENERAL,
                                 material_description="新聞の社説")
        db.add(request)
        db.flush()
        return request

    def held(request, on, minutes, state=ReadingSessionState.HELD):  # type: ignore[no-untyped-def]
        is_held = state is ReadingSessionState.HELD
        db.add(ReadingSession(request_id=request.id, patron_id=request.patron_id, room_id=request.room_id,
                              session_on=on, start_time=time(10), end_time=time(12), state=state,
                              reading_minutes=minutes if is_held else None,
                              material_titles="読んだ本" if is_held else "", material_count=1 if is_held else None))

    kitaguchi = reading_request(p[6], "北口図書館", date(2024, 4, 5))
    held(kitaguchi, date(2025, 6, 3), 120)
    held(kitaguchi, date(2026, 3, 10), 90)
    held(kitaguchi, date(2025, 7, 1), None, ReadingSessionState.CANCELLED)
    held(kitaguchi, date(2026, 4, 7), 120)  # next year
    naruo = reading_request(p[9], "鳴尾図書館", date(2025, 5, 10))
    held(naruo, date(2025, 3, 25), 60)  # previous year
    held(naruo, date(2025, 5, 20), 60)
    chuo = reading_request(p[10], "中央図書館", date(2025, 4, 20))
    for on in (date(2025, 5, 13), date(2025, 8, 5), date(2025, 11, 11)):
        held(chuo, on, 75)  # 1h15m: 1.3 hours each month, 3.8 (not 3.9) in the year
    held(chuo, date(2025, 9, 2), None, ReadingSessionState.NO_SHOW)
    db.commit()
    return p
