"""Statistics as a printable PDF: tables (plain rows of text) and charts, fonts embedded."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from letters.charts import ChartData, bar_chart
from letters.fonts import GOTHIC, GOTHIC_BOLD, register_fonts


@dataclass(frozen=True)
class StatTable:
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()
    label_columns: int = 1  # leading text columns (year, service, library): left-aligned; figures right


def render_statistics(title: str, subtitle: str, tables: Sequence[StatTable], charts: Sequence[ChartData] = (),
                      footer: str = "") -> bytes:
    """A4 landscape: the title, each table with its definitions underneath, then the charts."""
    register_fonts()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=14 * mm, bottomMargin=14 * mm, title=title, author=footer,
                            invariant=1, initialFontName=GOTHIC)
    h1 = ParagraphStyle("h1", fontName=GOTHIC_BOLD, fontSize=16, leading=22, spaceAfter=2)
    h2 = ParagraphStyle("h2", fontName=GOTHIC_BOLD, fontSize=12, leading=17, spaceBefore=8, spaceAfter=4)
    body = ParagraphStyle("body", fontName=GOTHIC, fontSize=9, leading=13)
    note = ParagraphStyle("note", fontName=GOTHIC, fontSize=8, leading=11, textColor=colors.HexColor("#333333"))
    story: list = [Paragraph(_e(title), h1), Paragraph(_e(subtitle), body), Spacer(1, 4 * mm)]
    for table in tables:
        wide = len(table.headers) > 8
        size = 7.5 if wide else 10
        data = [list(table.headers), *[list(r) for r in table.rows]]
        t = Table(data, repeatRows=1, hAlign="LEFT")
        t.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, -1), GOTHIC, size),
            ("FONT", (0, 0), (-1, 0), GOTHIC_BOLD, size),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8EEF5")),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#555555")),
            ("ALIGN", (table.label_columns, 1), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 2 if wide else 4),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2 if wide else 4),
        ]))
        block = [Paragraph(_e(table.title), h2), t, Spacer(1, 2 * mm)]
        block += [Paragraph(_e(n), note) for n in table.notes]
        story.append(KeepTogether(block))
    for chart in charts:
        story.append(Spacer(1, 6 * mm))
        story.append(bar_chart(chart, width=250 * mm, height=80 * mm))
    doc.build(story)
    return buf.getvalue()


def _e(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
