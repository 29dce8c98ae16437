"""A year of activity, built row by row, and every cell of the annual report checked against it."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from outreach.loans import services as loan_services
from outreach.loans.models import Loan
from outreach.patrons import services as patron_services
from outreach.patrons.models import Patron
from outreach.reading import services as reading_services
from outreach.reading.models import ReadingRequest, ReadingSession
from outreach.reports import exports, rules, services
from outreach.reports.services import HistoricalRow
from outreach.types import LoanStatus, Service
from tests.conftest import login, post
from tests.integration.reports.conftest import FY, TODAY


def _row(report, service):  # type: ignore[no-untyped-def]
    return next(s for s in report.services if s.service is service)


def test_every_cell_of_both_tables(db, year):
    report = services.annual_report(db, FY, today=TODAY)
    home, mail = _row(report, Service.HOME_DELIVERY), _row(report, Service.MAIL_LOAN)
    assert (home.registrants, home.deliveries, home.books, home.audio_visual) == (3, 3, 37, 3)
    assert (mail.registrants, mail.deliveries, mail.books, mail.audio_visual) == (1, 2, 3, 3)
    assert [(lib.library, lib.registrants, lib.sessions, lib.minutes) for lib in report.libraries] == [
        ("中央図書館", 0, 3, 225), ("鳴尾図書館", 1, 1, 60), ("北口図書館", 1, 2, 210)]
    assert report.unassigned_reading_registrants == 1
    t1, t2 = exports.tables(report)[:2]
    assert t1.rows == (("宅配サービス", "3", "3", "37", "3"), ("郵送貸出", "1", "2", "3", "3"))
    assert t2.rows == (("中央図書館", "0", "3", "3.8"), ("鳴尾図書館", "1", "1", "1.0"), ("北口図書館", "1", "2", "3.5"),
                       ("（図書館未定）", "1", "0", "0.0"))


def test_monthly_breakdown(db, year):
    report = services.annual_report(db, FY, today=TODAY)
    m = {s.key: (s.values, s.total) for s in report.monthly}
    z = (0,) * 12

    def at(**months):  # type: ignore[no-untyped-def]
        names = ["apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", "jan", "feb", "mar"]
        return tuple(months.get(n, 0) for n in names)

    assert m == {
        # At each month's end: p0 and p5 all year, p2 until its end on 28 Feb (counted at February's end),
        # p3 until it ended on 15 January, p1 from September.
        "home_delivery.registrants": ((4, 4, 4, 4, 4, 5, 5, 5, 5, 4, 4, 3), 3),
        "home_delivery.deliveries": (at(apr=1, oct=1, mar=1), 3),
        "home_delivery.books": (at(apr=10, oct=12, mar=15), 37),
        "home_delivery.audio_visual": (at(apr=1, mar=2), 3),
        "mail_loan.registrants": ((2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1), 1),
        "mail_loan.deliveries": (at(may=1, dec=1), 2),
        "mail_loan.books": (at(dec=3), 3),
        "mail_loan.audio_visual": (at(may=2, dec=1), 3),
        "face_to_face.sessions": (at(may=2, jun=1, aug=1, nov=1, mar=1), 6),
        "face_to_face.hours": (tuple(Decimal(h) for h in at(may="2.3", jun="2.0", aug="1.3", nov="1.3", mar="1.5",
                                                            apr="0.0", jul="0.0", sep="0.0", oct="0.0", dec="0.0",
                                                            jan="0.0", feb="0.0")), Decimal("8.3")),
    }
    libraries = {lib.library: lib for lib in report.monthly_libraries}
    assert list(libraries) == ["中央図書館", "鳴尾図書館", "北口図書館", ""]
    chuo, naruo, kitaguchi, unassigned = libraries.values()
    assert chuo.registrants.values == (1,) * 9 + (0,) * 3 and chuo.registrants.total == 0
    assert chuo.sessions.values == at(may=1, aug=1, nov=1) and chuo.sessions.total == 3
    assert chuo.hours.values == tuple(Decimal("1.3") if v else Decimal("0.0") for v in at(may=1, aug=1, nov=1))
    assert naruo.registrants.values == (0,) + (1,) * 11 and naruo.registrants.total == 1
    assert (naruo.sessions.values, naruo.sessions.total, naruo.hours.total) == (at(may=1), 1, Decimal("1.0"))
    assert kitaguchi.registrants.values == (1,) * 12
    assert (kitaguchi.sessions.values, kitaguchi.hours.total) == (at(jun=1, mar=1), Decimal("3.5"))
    assert unassigned.registrants.values == (1,) * 12 and unassigned.sessions.values == z


def test_the_monthly_total_of_hours_equals_table_2(db, year):
    report = services.annual_report(db, FY, today=TODAY)
    table2 = {lib.library: lib.hours for lib in report.libraries}
    for lib in report.monthly_libraries:
        if lib.library:
            assert lib.hours.total == table2[lib.library], lib.library
    chuo = next(lib for lib in report.monthly_libraries if lib.library == "中央図書館")
    assert sum(v for v in chuo.hours.values if v is not None) == Decimal("3.9")  # the rounded months add up to more
    assert chuo.hours.total == Decimal("3.8") and chuo.hours.total_minutes == 225
    rows = {r[0]: r[1:] for r in rules.table_monthly(report).rows}
    assert rows["対面朗読（中央図書館） 朗読時間（時間）"][-1] == "3.8"
    assert rows["対面朗読（中央図書館） 回数（回）"] == ("0", "1", "0", "0", "1", "0", "0", "1", "0", "0", "0", "0", "3")
    assert rows["対面朗読（鳴尾図書館） 登録者（人）"] == ("0",) + ("1",) * 11 + ("1 ※",)
    assert rows["対面朗読（図書館未定） 登録者（人）"][-1] == "1 ※"
    assert rows["対面朗読 朗読時間（時間）"][-1] == "8.3"


def test_march_april_boundary_goes_to_the_right_year(db, year):
    next_year = services.annual_report(db, FY + 1, today=TODAY)
    home = _row(next_year, Service.HOME_DELIVERY)
    assert (home.deliveries, home.books) == (1, 5)
    assert [(lib.library, lib.sessions) for lib in next_year.libraries if lib.sessions] == [("北口図書館", 1)]
    previous = services.annual_report(db, FY - 1, today=TODAY)
    assert _row(previous, Service.HOME_DELIVERY).books == 9
    assert [(lib.library, lib.sessions) for lib in previous.libraries if lib.sessions] == [("鳴尾図書館", 1)]


def test_closing_loans_and_anonymising_do_not_change_a_past_year(db, users, year):
    """The privacy rule at work through its real functions: loans returned and anonymised, consent withdrawn,
    the nightly sweep, reading requests closed. Every figure of the report stays the same."""
    librarian = users["librarian"]
    before_json = exports.to_json(services.annual_report(db, FY, today=TODAY))
    before_csv = exports.to_csv(services.annual_report(db, FY, today=TODAY))
    loan_ids = list(db.scalars(select(Loan.id).order_by(Loan.id)))
    loan_services.close_loans(db, loan_ids, LoanStatus.RETURNED, date(2026, 4, 30))
    for request in db.scalars(select(ReadingRequest).order_by(ReadingRequest.id)).all():
        reading_services.close_request(db, request, actor=librarian, today=date(2026, 5, 1))
    patron_services.update_patron(db, db.get(Patron, year[6]), data={"has_reading_history_consent": False},
                                  actor=librarian, library_prefecture="兵庫県", library_city="西宮市")
    loan_services.privacy_sweep(db)
    db.commit()
    db.expire_all()
    # What was read is forgotten: no loan names its reader, and only the patron who still consents (9) keeps
    # the titles of their sessions and what their request was for…
    assert db.scalar(select(func.count()).select_from(Loan).where(Loan.patron_id.is_not(None))) == 0
    assert set(db.scalars(select(ReadingSession.patron_id).where(ReadingSession.material_titles != ""))) == {year[9]}
    assert set(db.scalars(select(ReadingRequest.patron_id).where(ReadingRequest.material_description != ""))) == {
        year[9]}
    # …and every figure of the year is the same: both tables, the monthly breakdown, per library.
    assert exports.to_json(services.annual_report(db, FY, today=TODAY)) == before_json
    assert exports.to_csv(services.annual_report(db, FY, today=TODAY)) == before_csv


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
