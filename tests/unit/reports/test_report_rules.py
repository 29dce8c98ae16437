from datetime import date
from decimal import Decimal

import pytest

from outreach.reports import rules
from outreach.types import Service


def test_fiscal_year_months_run_april_to_march():
    months = rules.months_of(2020)
    assert months[0] == (2020, 4) and months[-1] == (2021, 3) and len(months) == 12
    assert rules.month_index(2020, 2021, 3) == 11
    assert rules.month_index(2020, 2020, 4) == 0
    with pytest.raises(ValueError):
        rules.month_index(2020, 2020, 3)  # March 2020 belongs to fiscal 2019


def test_books_cell_is_a_dash_when_nothing_was_lent():
    assert rules.books_cell(0) == "―"
    assert rules.books_cell(1629) == "1,629"


@pytest.mark.parametrize(("minutes", "hours"), [(0, "0.0"), (120, "2.0"), (150, "2.5"), (3, "0.1"), (2, "0.0"),
                                                (3600, "60.0")])
def test_hours_round_half_up_to_a_tenth(minutes, hours):
    assert rules.hours_of(minutes) == Decimal(hours)


def test_flow_series_sums_elapsed_months_and_leaves_the_future_blank():
    s = rules.series("home_delivery.deliveries", {0: 3, 5: 4}, months_elapsed=8)
    assert s.values[:8] == (3, 0, 0, 0, 0, 4, 0, 0) and s.values[8:] == (None,) * 4
    assert s.total == 7


def test_stock_series_total_is_the_latest_month():
    s = rules.series("home_delivery.registrants", {0: 40, 1: 41, 2: 39}, months_elapsed=3, is_stock=True)
    assert s.total == 39


def test_tables_have_the_source_shape():
    report = rules.AnnualReport(
        2020,
        (rules.ServiceFigures(Service.HOME_DELIVERY, 37, 257, 1629, 57),
         rules.ServiceFigures(Service.MAIL_LOAN, 18, 237, 0, 473)),
        (rules.LibraryFigures("中央図書館", 1, 0, 0), rules.LibraryFigures("鳴尾図書館", 0, 0, 0),
         rules.LibraryFigures("北口図書館", 3, 30, 3600)),
    )
    t1 = rules.table_services(report)
    assert t1.headers == ("区分", "登録者（人）", "回数（回）", "貸出冊数（冊）", "貸出ＣＤ数（点）")
    assert t1.rows == (("宅配サービス", "37", "257", "1,629", "57"), ("郵送貸出", "18", "237", "―", "473"))
    assert any("年度末" in n for n in t1.notes)
    t2 = rules.table_libraries(report)
    assert t2.rows[-1] == ("北口図書館", "3", "30", "60.0")
    assert report.label() == "令和2年度（2020年度）"
    assert rules.table_services(report, "en").headers[1] == "Registrants"


def test_historical_rows_are_marked():
    report = rules.AnnualReport(2016, (rules.ServiceFigures(Service.HOME_DELIVERY, 44, 222, 1298, 49, True),), ())
    assert report.is_historical
    table = rules.table_services(report)
    assert table.rows[0][0].endswith("＊") and any("手入力" in n for n in table.notes)


def test_period_of_a_report():
    assert rules.AnnualReport(2020, (), ()).period == (date(2020, 4, 1), date(2021, 3, 31))


def test_monthly_hours_total_comes_from_the_summed_minutes():
    s = rules.hours_series("face_to_face.hours", {1: 75, 4: 75, 7: 75}, months_elapsed=12)
    assert s.values[1] == Decimal("1.3") and sum(v for v in s.values if v is not None) == Decimal("3.9")
    assert (s.total, s.total_minutes) == (Decimal("3.8"), 225)  # as table (2): 225 minutes are 3.8 hours
    running = rules.hours_series("face_to_face.hours", {0: 30}, months_elapsed=2)
    assert running.values[2:] == (None,) * 10 and running.minutes[:2] == (30, 0) and running.total == Decimal("0.5")


def _year(fy, historical=False, libraries=()):  # type: ignore[no-untyped-def]
    return rules.AnnualReport(fy, (rules.ServiceFigures(Service.HOME_DELIVERY, 1, 2, 3, 4, historical),),
                              tuple(libraries))


def test_trend_footnote_only_when_a_year_is_historical():
    computed = [_year(2024), _year(2025)]
    assert rules.table_trend(computed).notes == () and rules.table_trend_libraries(computed).notes == ()
    mixed = [_year(2020, historical=True), *computed]
    assert any("手入力" in n for n in rules.table_trend(mixed).notes)
    assert rules.table_trend(mixed).rows[0][0] == "令和2年度（2020年度）＊"


def test_trend_of_face_to_face_reading_one_row_per_year_and_library():
    years = [_year(2020, True, [rules.LibraryFigures("北口図書館", 3, 30, 3600, True)]),
             _year(2025, False, [rules.LibraryFigures("中央図書館", 0, 3, 225), rules.LibraryFigures("北口図書館", 1, 2, 210)])]
    table = rules.table_trend_libraries(years)
    assert table.headers == ("年度", "図書館", "登録者（人）", "回数（回）", "朗読時間（時間）")
    assert table.rows == (("令和2年度（2020年度）＊", "北口図書館", "3", "30", "60.0"),
                          ("令和7年度（2025年度）", "中央図書館", "0", "3", "3.8"),
                          ("令和7年度（2025年度）", "北口図書館", "1", "2", "3.5"))
    assert table.label_columns == 2 and rules.table_trend(years).label_columns == 2


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x.example/\",\"x\")", "+1+1", "-1+1", "@SUM(A1)"])
def test_csv_export_defuses_cells_that_start_like_a_formula(name):
    import csv
    import io

    from outreach.reports import exports

    report = rules.AnnualReport(2025, (), (rules.LibraryFigures(name, 1, 2, 120),))
    rows = list(csv.reader(io.StringIO(exports.to_csv(report, trend=[report]).decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert "'" + name in cells and name not in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


@pytest.mark.parametrize(("top", "step", "ticks"), [(257, 100, 300), (482, 100, 500), (11, 5, 15), (3, 1, 4),
                                                    (0, 1, 1), (1629, 500, 2000)])
def test_chart_value_axis_has_round_ticks(top, step, ticks):
    from letters.charts import ChartData, bar_chart

    drawing = bar_chart(ChartData("t", ("a", "b"), (("s", (top / 2, float(top))),)))
    axis = drawing.contents[0].valueAxis
    assert (axis.valueStep, axis.valueMax) == (step, ticks)
