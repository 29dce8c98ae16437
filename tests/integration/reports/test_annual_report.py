"""A year of activity, built row by row, and every cell of the annual report checked against it."""

from __future__ import annotations

import io
import json
from datetime import date, time

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import delete, select, update

from outreach.enrolments.models import Approval
from outreach.patrons import services as patron_services
from outreach.reading.models import ReadingRequest, ReadingRoom, ReadingSession
from outreach.reports import exports, services
from outreach.reports.services import HistoricalRow
from outreach.shipments.models import Shipment
from outreach.types import ApprovalStatus, EndReason, ReadingKind, ReadingSessionState, Service
from tests.conftest import login, post

FY = 2025  # 2025-04-01 .. 2026-03-31
TODAY = date(2026, 11, 21)


@pytest.fixture()
def year(db, users):  # type: ignore[no-untyped-def]
    librarian = users["librarian"]
    patrons = []
    for i in range(9):
        patrons.append(patron_services.create_patron(db, actor=librarian, library_prefecture="兵庫県",
                                                     library_city="西宮市", data=dict(
            card_number=f"9{i:03d}", name=f"統計 {i}", name_kana="トウケイ", birth_date=date(1940, 1, 1),
            postal_code="662-0911", prefecture="兵庫県", city="西宮市", town="池田町")))
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
    approval(p[6], ff, date(2024, 4, 1))  # face-to-face: at 北口 (their latest request)
    approval(p[8], ff, date(2025, 4, 1))  # registered, no request yet

    def ship(patron_id, service, shipped_on, books, av):  # type: ignore[no-untyped-def]
        db.add(Shipment(patron_id=patron_id, service=service, month=shipped_on.strftime("%Y-%m"),
                        shipped_on=shipped_on, due_on=shipped_on, books_count=books, audio_visual_count=av))

    ship(p[0], hd, date(2025, 3, 31), 9, 9)  # previous fiscal year
    ship(p[0], hd, date(2025, 4, 1), 10, 1)  # first day
    ship(p[1], hd, date(2025, 10, 1), 12, 0)
    ship(p[0], hd, date(2026, 3, 31), 15, 2)  # last day
    ship(p[0], hd, date(2026, 4, 1), 5, 0)  # next year
    ship(p[6], ml, date(2025, 5, 10), 0, 2)
    ship(p[6], ml, date(2025, 12, 1), 3, 1)  # braille picture books count as books

    rooms = {r.library_name: r.id for r in db.scalars(select(ReadingRoom))}
    request = ReadingRequest(patron_id=p[6], room_id=rooms["北口図書館"], received_on=date(2024, 4, 5),
                             address_as="統計さん", duration_minutes=120, material_kind=ReadingKind.GENERAL)
    db.add(request)
    db.flush()

    def held(on, minutes, state=ReadingSessionState.HELD):  # type: ignore[no-untyped-def]
        db.add(ReadingSession(request_id=request.id, patron_id=p[6], room_id=rooms["北口図書館"], session_on=on,
                              start_time=time(10), end_time=time(12), state=state,
                              reading_minutes=minutes if state is ReadingSessionState.HELD else None))

    held(date(2025, 6, 3), 120)
    held(date(2026, 3, 10), 90)
    held(date(2025, 7, 1), None, ReadingSessionState.CANCELLED)
    held(date(2026, 4, 7), 120)  # next year
    db.commit()
    return p


def _row(report, service):  # type: ignore[no-untyped-def]
    return next(s for s in report.services if s.service is service)


def test_every_cell_of_both_tables(db, year):
    report = services.annual_report(db, FY, today=TODAY)
    home, mail = _row(report, Service.HOME_DELIVERY), _row(report, Service.MAIL_LOAN)
    assert (home.registrants, home.deliveries, home.books, home.audio_visual) == (3, 3, 37, 3)
    assert (mail.registrants, mail.deliveries, mail.books, mail.audio_visual) == (1, 2, 3, 3)
    libraries = {lib.library: lib for lib in report.libraries}
    assert (libraries["北口図書館"].registrants, libraries["北口図書館"].sessions, str(libraries["北口図書館"].hours)) == (
        1, 2, "3.5")
    assert (libraries["中央図書館"].registrants, libraries["中央図書館"].sessions) == (0, 0)
    assert report.unassigned_reading_registrants == 1
    rows = dict((r[0], r[1:]) for r in exports.tables(report)[0].rows)
    assert rows == {"宅配サービス": ("3", "3", "37", "3"), "郵送貸出": ("1", "2", "3", "3")}


def test_monthly_breakdown(db, year):
    report = services.annual_report(db, FY, today=TODAY)
    m = {s.key: s for s in report.monthly}
    assert m["home_delivery.deliveries"].values == (1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1)
    assert m["home_delivery.books"].total == 37
    assert m["mail_loan.audio_visual"].values[1] == 2 and m["mail_loan.audio_visual"].values[8] == 1
    # At each month's end: p0 and p5 all year, p2 until its end on 28 Feb (counted at February's end),
    # p3 until it ended on 15 January, p1 from September.
    assert m["home_delivery.registrants"].values == (4, 4, 4, 4, 4, 5, 5, 5, 5, 4, 4, 3)
    assert m["home_delivery.registrants"].total == 3
    assert m["face_to_face.sessions"].values[2] == 1 and m["face_to_face.sessions"].total == 2
    assert str(m["face_to_face.hours"].total) == "3.5"


def test_march_april_boundary_goes_to_the_right_year(db, year):
    next_year = services.annual_report(db, FY + 1, today=TODAY)
    home = _row(next_year, Service.HOME_DELIVERY)
    assert (home.deliveries, home.books) == (1, 5)
    previous = services.annual_report(db, FY - 1, today=TODAY)
    assert _row(previous, Service.HOME_DELIVERY).books == 9


def test_closing_loans_and_anonymising_do_not_change_a_past_year(db, year):
    before = exports.to_json(services.annual_report(db, FY, today=TODAY))
    # What the privacy rule does to old records: loans gone, patrons unlinked or deleted.
    from outreach.loans.models import Loan

    db.execute(delete(Loan))
    db.execute(update(Shipment).values(patron_id=None))
    db.commit()
    after = exports.to_json(services.annual_report(db, FY, today=TODAY))
    assert json.loads(before)["services"] == json.loads(after)["services"]
    assert json.loads(before)["monthly"] == json.loads(after)["monthly"]


def test_a_year_in_the_future_is_refused(db):
    from outreach.errors import DomainError

    with pytest.raises(DomainError):
        services.annual_report(db, 2027, today=TODAY)


def test_historical_figures_are_used_and_marked(db, users):
    services.save_historical(db, 2020, [
        HistoricalRow(1, "home_delivery", 37, 257, 1629, 57), HistoricalRow(1, "mail_loan", 18, 237, 0, 473),
        HistoricalRow(2, "北口図書館", 3, sessions=30, minutes=3600)], actor=users["chief"], today=TODAY)
    db.commit()
    report = services.annual_report(db, 2020, today=TODAY)
    assert report.is_historical
    table = exports.tables(report)[0]
    assert table.rows == (("宅配サービス＊", "37", "257", "1,629", "57"), ("郵送貸出＊", "18", "237", "―", "473"))
    trend = services.multi_year(db, 2020, 2021, today=TODAY)
    assert [r.is_historical for r in trend] == [True, False]
    with pytest.raises(services.ReportError) as err:
        services.save_historical(db, 2026, [], actor=users["chief"], today=TODAY)  # the running year
    assert err.value.code == "report.historical_not_past"


def test_exports_carry_the_same_figures(db, year):
    report = services.annual_report(db, FY, today=TODAY)
    csv_text = exports.to_csv(report).decode("utf-8-sig")
    assert "宅配サービス,3,3,37,3" in csv_text and "郵送貸出,1,2,3,3" in csv_text
    book = load_workbook(io.BytesIO(exports.to_xlsx(report)))
    sheet = book["宅配・郵送"]
    assert [c.value for c in sheet[2]] == ["区分", "登録者（人）", "回数（回）", "貸出冊数（冊）", "貸出ＣＤ数（点）"]
    assert [c.value for c in sheet[3]] == ["宅配サービス", 3, 3, 37, 3]
    data = json.loads(exports.to_json(report))
    assert data["services"][0] == {"service": "home_delivery", "registrants": 3, "deliveries": 3, "books": 37,
                                   "audio_visual": 3, "is_historical": False}
    pdf = exports.to_pdf(report, library_name="西宮市立中央図書館")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).replace(" ", "")
    assert "令和7年度" in text and "宅配サービス" in text and "37" in text


def test_reports_page_and_downloads(client, as_role, db, year):
    as_role("librarian")
    page = client.get(f"/reports?year={FY}").get_data(as_text=True)
    assert "令和7年度" in page and "北口図書館" in page and "3.5" in page
    for fmt, mime in (("csv", "text/csv"), ("xlsx", "application/vnd.openxmlformats"), ("pdf", "application/pdf"),
                      ("json", "application/json")):
        response = client.get(f"/reports/{FY}.{fmt}")
        assert response.status_code == 200 and response.content_type.startswith(mime), fmt
    svg = client.get(f"/reports/{FY}/chart-monthly.svg")
    assert svg.status_code == 200 and b"<svg" in svg.data


def test_case_list_is_for_case_staff_and_audited(client, users, db, year):
    login(client, "admin1")
    assert client.get("/reports/case-list.csv?service=home_delivery").status_code == 403
    assert client.get(f"/reports?year={FY}").status_code == 200  # aggregate figures are fine
    client2 = client.application.test_client()
    login(client2, "librarian1")
    response = client2.get("/reports/case-list.csv?service=mail_loan")
    assert response.status_code == 200 and "統計 6" in response.data.decode("utf-8-sig")


def test_historical_entry_form_refuses_bad_numbers(client, users, db):
    login(client, "chief1")
    response = post(client, "/reports/historical", {
        "fiscal_year": "2019", "services-0-row_key": "home_delivery", "services-0-registrants": "-1",
        "services-0-deliveries": "0", "services-0-books": "0", "services-0-audio_visual": "0"},
        form_url="/reports/historical")
    assert response.status_code == 400
    assert services.historical_report(db, 2019) is None


def test_chart_of_a_year_not_yet_begun_is_not_found(client, as_role):
    as_role("librarian")
    assert client.get("/reports/2099/chart-monthly.svg").status_code == 404
    assert client.get("/reports/2025/chart-pie.svg").status_code == 404


def test_reading_pages_and_report_round_hours_the_same_way():
    from decimal import Decimal

    from outreach.reading.rules import reading_hours
    from outreach.reports.rules import hours_of

    for minutes in (15, 75, 195, 3600):
        assert hours_of(minutes) == reading_hours(minutes)
    assert reading_hours(75) == Decimal("1.3")  # half up, not to even
