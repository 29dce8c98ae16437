"""The annual report as CSV, Excel, JSON and PDF, and the data of its charts."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

from letters.charts import ChartData
from letters.reports import StatTable, render_statistics
from outreach import csvsafe
from outreach.reports import rules
from outreach.types import LENDING_SERVICES

JSON_SCHEMA_VERSION = 1


def tables(report: rules.AnnualReport, lang: str = "ja", trend: list[rules.AnnualReport] | None = None) -> list[rules.Table]:
    result = [rules.table_services(report, lang), rules.table_libraries(report, lang)]
    if report.monthly:
        result.append(rules.table_monthly(report, lang))
    if trend:
        result += [rules.table_trend(trend, lang), rules.table_trend_libraries(trend, lang)]
    return result


def to_csv(report: rules.AnnualReport, lang: str = "ja", trend: list[rules.AnnualReport] | None = None) -> bytes:
    """All tables one after the other, a blank line between them; UTF-8 with BOM so Excel reads the kanji."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    # Every cell through csvsafe: library names and notes are text a spreadsheet must never run as a formula.
    writer.writerow(csvsafe.row([report.label(lang)]))
    for table in tables(report, lang, trend):
        writer.writerow([])
        writer.writerow(csvsafe.row([table.title]))
        writer.writerow(csvsafe.row(table.headers))
        writer.writerows(csvsafe.row(row) for row in table.rows)
        for note in table.notes:
            writer.writerow(csvsafe.row([note]))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(report: rules.AnnualReport, lang: str = "ja", trend: list[rules.AnnualReport] | None = None) -> bytes:
    """One sheet per table, Japanese headings, numbers as numbers (a dash stays text)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables(report, lang, trend):
        sheet = workbook.create_sheet(title=_sheet_name(table))
        sheet.append([f"{report.label(lang)} {table.title}"])
        sheet["A1"].font = Font(bold=True, size=12)
        sheet.append(list(table.headers))
        for cell in sheet[2]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="E8EEF5")
            cell.alignment = Alignment(horizontal="center", wrap_text=True)
        labels = table.label_columns
        for row in table.rows:
            sheet.append([*row[:labels], *(_number(v) for v in row[labels:])])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, float):
                    cell.number_format = "#,##0.0"  # reading hours: one decimal, 60.0 not 60
                elif isinstance(cell.value, int):
                    cell.number_format = "#,##0"
                elif isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # text from the records, never a formula
        sheet.append([])
        for note in table.notes:
            sheet.append([note])
        sheet.column_dimensions["A"].width = 28
        sheet.freeze_panes = "B3"
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


def _sheet_name(table: rules.Table) -> str:
    return {"services": "宅配・郵送", "libraries": "対面朗読", "monthly": "月別", "trend": "年度別",
            "trend_libraries": "年度別（対面朗読）"}.get(table.key, table.key)


def _number(text: str) -> Any:
    cleaned = text.replace(",", "").replace(" ※", "")
    try:
        return int(cleaned)
    except ValueError:
        try:
            return float(Decimal(cleaned))
        except ArithmeticError:
            return text


def to_json(report: rules.AnnualReport, trend: list[rules.AnnualReport] | None = None) -> bytes:
    """The documented machine-readable form (docs/reports.md): plain numbers, no formatting."""
    first, last = report.period
    data = {
        "schema_version": JSON_SCHEMA_VERSION,
        "fiscal_year": report.fiscal_year,
        "label_ja": report.label("ja"),
        "label_en": report.label("en"),
        "period": {"from": first.isoformat(), "to": last.isoformat()},
        "generated_on": report.generated_on.isoformat() if report.generated_on else None,
        **_year_tables(report),
        "monthly": {s.key: _series(s) for s in report.monthly},
        "face_to_face_monthly": [
            {"library": lib.library or None, "registrants": _series(lib.registrants), "sessions": _series(lib.sessions),
             "hours": _series(lib.hours)}
            for lib in report.monthly_libraries
        ],
        "trend": [{"fiscal_year": r.fiscal_year, "label_ja": r.label("ja"), "label_en": r.label("en"), **_year_tables(r)}
                  for r in trend or ()],
        "notes": list(report.notes),
        "definitions": rules.DEFINITIONS,
    }
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def _year_tables(report: rules.AnnualReport) -> dict[str, Any]:
    """Tables (1) and (2) of one year, as the JSON gives them for the report's year and for each trend year."""
    return {
        "is_historical": report.is_historical,
        "services": [
            {"service": s.service.value, "registrants": s.registrants, "deliveries": s.deliveries, "books": s.books,
             "audio_visual": s.audio_visual, "is_historical": s.is_historical}
            for s in report.services
        ],
        "face_to_face": [
            {"library": lib.library, "registrants": lib.registrants, "sessions": lib.sessions,
             "minutes": lib.minutes, "hours": float(lib.hours), "is_historical": lib.is_historical}
            for lib in report.libraries
        ],
        "face_to_face_unassigned_registrants": report.unassigned_reading_registrants,
    }


def _series(s: rules.MonthlySeries) -> dict[str, Any]:
    data: dict[str, Any] = {"values": [_plain(v) for v in s.values], "total": _plain(s.total), "is_stock": s.is_stock}
    if s.minutes is not None:
        data["minutes"] = list(s.minutes)
        data["total_minutes"] = s.total_minutes
    return data


def _plain(value: int | Decimal | None) -> int | float | None:
    return float(value) if isinstance(value, Decimal) else value


def monthly_chart(report: rules.AnnualReport, lang: str = "ja") -> ChartData:
    """Deliveries per month for both services (books and CDs are in the table beside it)."""
    h = rules.headings(lang)
    months = tuple(rules.table_monthly(report, lang).headers[1:13])
    by_key = {s.key: s for s in report.monthly}
    series = tuple((f"{h[service]} {h['deliveries']}", tuple(float(v or 0) for v in by_key[f"{service}.deliveries"].values))
                   for service in LENDING_SERVICES if f"{service}.deliveries" in by_key)
    title = f"{report.label(lang)} {h['deliveries']}"
    return ChartData(title, months, series)


def trend_chart(reports: list[rules.AnnualReport], lang: str = "ja") -> ChartData:
    h = rules.headings(lang)
    categories = tuple(r.label(lang).split("（")[0] for r in reports)
    series = []
    for service in LENDING_SERVICES:
        values = []
        for r in reports:
            row = next((s for s in r.services if s.service is service), None)
            values.append(float(row.deliveries) if row else 0.0)
        series.append((f"{h[service]} {h['deliveries']}", tuple(values)))
    return ChartData(h["trend"] + " " + h["deliveries"], categories, tuple(series))


def to_pdf(report: rules.AnnualReport, *, library_name: str, lang: str = "ja",
           trend: list[rules.AnnualReport] | None = None) -> bytes:
    title = (f"{report.label(lang)} 障害者・高齢者サービス統計" if not lang.startswith("en")
             else f"Outreach statistics, {report.label(lang)}")
    first, last = report.period
    subtitle = f"{library_name}　{first.isoformat()} 〜 {last.isoformat()}"
    stat_tables = [StatTable(t.title, t.headers, t.rows, t.notes, t.label_columns) for t in tables(report, lang, trend)]
    charts = [monthly_chart(report, lang)] if report.monthly else []
    if trend and len(trend) > 1:
        charts.append(trend_chart(trend, lang))
    return render_statistics(title, subtitle, stat_tables, charts, footer=library_name)


__all__ = ["monthly_chart", "tables", "to_csv", "to_json", "to_pdf", "to_xlsx", "trend_chart"]


FORMATS = ("csv", "xlsx", "pdf", "json")


def render(fmt: str, report: rules.AnnualReport, *, library_name: str, lang: str = "ja",
           trend: list[rules.AnnualReport] | None = None) -> bytes:
    """The report in one of FORMATS (the Reports page and `outreach reports annual` both use this)."""
    if fmt == "csv":
        return to_csv(report, lang, trend)
    if fmt == "xlsx":
        return to_xlsx(report, lang, trend)
    if fmt == "json":
        return to_json(report, trend)
    if fmt == "pdf":
        return to_pdf(report, library_name=library_name, lang=lang, trend=trend)
    raise ValueError(f"unknown report format {fmt!r}")

