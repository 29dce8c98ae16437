"""Which years a report shows (records, historical figures, the years between), face-to-face reading in the
multi-year and monthly views of every format, and a page view that computes the report once."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from outreach.cli import outreach_group
from outreach.enrolments.models import Approval
from outreach.reports import cli as report_cli
from outreach.reports import routes, services
from outreach.reports.models import HistoricalFigure
from outreach.reports.services import HistoricalRow
from outreach.types import Service
from tests.conftest import login, post
from tests.integration.reports.conftest import FY, TODAY

FIRST_REAL = FY - 1  # the fixture's first shipment (2025-03-31) and held session (2025-03-25)


@pytest.fixture()
def pinned(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(routes, "today", lambda: TODAY)
    monkeypatch.setattr(report_cli, "today", lambda: TODAY)


# --------------------------------------------------------------------------------------------------
# which years


def test_years_before_the_first_records_are_not_shown_as_zeros(db, year):
    # The fixture's oldest registration began in 2019; its first shipment and held session are in FY2024.
    assert services.first_real_year(db) == FIRST_REAL
    assert services.report_years(db, today=TODAY) == [2026, 2025, 2024]
    assert [r.fiscal_year for r in services.report_and_trend(db, FY, today=TODAY)[1]] == [2024, 2025]


def test_earlier_years_come_only_from_historical_figures(db, users, year):
    services.save_historical(db, 2020, [HistoricalRow(1, "home_delivery", 37, 257, 1629, 57),
                                        HistoricalRow(2, "北口図書館", 3, sessions=30, minutes=3600)],
                             actor=users["chief"], today=TODAY)
    db.commit()
    assert services.report_years(db, today=TODAY) == [2026, 2025, 2024, 2020]  # 2021–2023: no figures at all
    trend = services.report_and_trend(db, FY, today=TODAY)[1]
    assert [(r.fiscal_year, r.is_historical) for r in trend] == [(2020, True), (2024, False), (2025, False)]


def test_historical_figures_are_refused_for_a_year_with_records(db, users, year):
    with pytest.raises(services.ReportError) as err:
        services.save_historical(db, FIRST_REAL, [HistoricalRow(1, "home_delivery", 1, 1, 1, 1)],
                                 actor=users["chief"], today=TODAY)
    assert err.value.code == "report.historical_has_records"
    assert "令和6年度（2024年度）以降はシステムの記録" in err.value.message("ja")
    assert "From FY2024 (Reiwa 6) on" in err.value.message("en")
    services.save_historical(db, FIRST_REAL - 1, [HistoricalRow(1, "home_delivery", 1, 1, 1, 1)],
                             actor=users["chief"], today=TODAY)  # the year before: fine


def test_a_year_with_records_is_never_replaced_by_historical_figures(db, year):
    # Figures entered before the records of that year existed (or written straight into the table) do not hide them.
    db.add(HistoricalFigure(fiscal_year=FY, table_no=1, row_key="home_delivery", registrants=1, deliveries=1))
    db.commit()
    report = services.annual_report(db, FY, today=TODAY)
    assert not report.is_historical
    assert [lib.sessions for lib in report.libraries] == [3, 1, 2]


def test_the_historical_form_shows_the_refusal_on_the_year_field_and_saves_nothing(client, db, users, year, pinned):
    login(client, "chief1")
    page = client.get("/reports/historical").get_data(as_text=True)
    assert 'value="2023"' in page  # the year before the records is offered
    data = {"fiscal_year": str(FY), "services-0-row_key": "home_delivery", "services-0-registrants": "1",
            "services-0-deliveries": "1", "services-0-books": "1", "services-0-audio_visual": "1"}
    response = post(client, "/reports/historical", data, form_url="/reports/historical")
    assert response.status_code == 400
    assert "以降はシステムの記録（発送・対面朗読）から集計するため" in response.get_data(as_text=True)
    assert services.historical_report(db, FY) is None
    post(client, "/language", {"lang": "en"})
    response = post(client, "/reports/historical", data, form_url="/reports/historical")
    assert response.status_code == 400 and "historical figures cannot be entered" in response.get_data(as_text=True)
    assert services.historical_report(db, FY) is None


# --------------------------------------------------------------------------------------------------
# one range for the page, the downloads and the command


def test_a_past_years_trend_ends_at_that_year_on_the_web_and_the_command(app, client, as_role, db, year, pinned):
    as_role("librarian")
    web = json.loads(client.get(f"/reports/{FIRST_REAL}.json").data)
    assert [t["fiscal_year"] for t in web["trend"]] == [FIRST_REAL]
    web = json.loads(client.get(f"/reports/{FY}.json").data)
    assert [t["fiscal_year"] for t in web["trend"]] == [FIRST_REAL, FY]  # not on to the current year
    result = app.test_cli_runner().invoke(outreach_group, ["reports", "annual", "--year", str(FY), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["trend"] == web["trend"]
    csv_text = client.get(f"/reports/{FY}.csv").data.decode("utf-8-sig")
    assert "令和8年度" not in csv_text and "令和6年度（2024年度）,宅配サービス" in csv_text


# --------------------------------------------------------------------------------------------------
# table (2) in the multi-year and monthly views, in every format


def test_face_to_face_by_library_in_every_format(client, as_role, db, year, pinned):
    as_role("librarian")
    page = client.get(f"/reports?year={FY}").get_data(as_text=True)
    assert "年度別推移 (2) 対面朗読" in page and "対面朗読（鳴尾図書館） 登録者（人）" in page

    csv_text = client.get(f"/reports/{FY}.csv").data.decode("utf-8-sig")
    assert "令和7年度（2025年度）,中央図書館,0,3,3.8" in csv_text
    assert "令和6年度（2024年度）,鳴尾図書館,0,1,1.0" in csv_text
    assert "対面朗読（中央図書館） 朗読時間（時間）,0.0,1.3,0.0,0.0,1.3,0.0,0.0,1.3,0.0,0.0,0.0,0.0,3.8" in csv_text

    book = load_workbook(io.BytesIO(client.get(f"/reports/{FY}.xlsx").data))
    trend = book["年度別（対面朗読）"]
    assert [c.value for c in trend[2]] == ["年度", "図書館", "登録者（人）", "回数（回）", "朗読時間（時間）"]
    rows = [[c.value for c in r] for r in trend.iter_rows(min_row=3, max_row=trend.max_row) if r[1].value]
    assert ["令和7年度（2025年度）", "中央図書館", 0, 3, 3.8] in rows
    hours = next(r for r in trend.iter_rows(min_row=3) if r[1].value == "北口図書館")[4]
    assert hours.number_format == "#,##0.0"
    monthly = {r[0].value: r for r in book["月別"].iter_rows(min_row=3) if r[0].value}
    assert monthly["対面朗読（中央図書館） 朗読時間（時間）"][13].value == 3.8
    assert monthly["対面朗読（中央図書館） 朗読時間（時間）"][1].number_format == "#,##0.0"

    data = json.loads(client.get(f"/reports/{FY}.json").data)
    chuo = next(x for x in data["face_to_face_monthly"] if x["library"] == "中央図書館")
    assert chuo["sessions"]["values"] == [0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0]
    assert (chuo["hours"]["total"], chuo["hours"]["total_minutes"]) == (3.8, 225)
    assert chuo["registrants"] == {"values": [1] * 9 + [0] * 3, "total": 0, "is_stock": True}
    assert data["face_to_face_monthly"][-1]["library"] is None  # registered, no library yet
    assert data["trend"][0]["face_to_face"][1] == {"library": "鳴尾図書館", "registrants": 0, "sessions": 1,
                                                   "minutes": 60, "hours": 1.0, "is_historical": False}

    pdf = client.get(f"/reports/{FY}.pdf").data
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).replace(" ", "")
    assert "年度別推移(2)対面朗読" in text and "対面朗読（中央図書館）朗読時間（時間）" in text


# --------------------------------------------------------------------------------------------------
# one computation per page view


def test_the_page_computes_the_report_once_and_draws_the_charts_inline(client, as_role, db, users, year, pinned,
                                                                       monkeypatch):
    services.save_historical(db, 2020, [HistoricalRow(1, "home_delivery", 37, 257, 1629, 57)], actor=users["chief"],
                             today=TODAY)
    db.commit()
    as_role("librarian")
    computed, monthly = [], []
    real_computed, real_monthly = services._computed_years, services._monthly
    monkeypatch.setattr(services, "_computed_years", lambda s, years, t: computed.append(list(years))
                        or real_computed(s, years, t))
    monkeypatch.setattr(services, "_monthly", lambda s, fy, t: monthly.append(fy) or real_monthly(s, fy, t))
    page = client.get(f"/reports?year={FY}").get_data(as_text=True)
    assert computed == [[FY], [FIRST_REAL]] and monthly == [FY]  # each year once
    assert page.count('src="data:image/svg+xml;base64,') == 2  # both charts, from the same figures
    assert "/chart-" not in page


def test_registrations_without_records_do_not_start_the_years(db, users):
    """A library that has entered registrations (with their old start dates) but shipped nothing yet."""
    from outreach.patrons import services as patron_services

    patron = patron_services.create_patron(db, actor=users["librarian"], library_prefecture="兵庫県",
                                           library_city="西宮市", data=dict(
        card_number="9999", name="古い 登録", name_kana="フルイ", birth_date=TODAY.replace(year=1940),
        postal_code="662-0911", prefecture="兵庫県",
        city="西宮市", town="池田町"))
    db.add(Approval(patron_id=patron.id, service=Service.MAIL_LOAN, valid_from=TODAY.replace(year=2016)))
    db.commit()
    assert services.first_real_year(db) is None and services.first_recorded_year(db) is None
    assert services.report_years(db, today=TODAY) == [2026]
