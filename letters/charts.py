"""Charts drawn with reportlab's own graphics: the same drawing goes into a PDF and, as SVG, onto a page."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

from letters.fonts import GOTHIC, register_fonts

# Colour-blind-safe (Okabe–Ito) and distinct in greyscale print.
PALETTE = (colors.HexColor("#0072B2"), colors.HexColor("#E69F00"), colors.HexColor("#009E73"),
           colors.HexColor("#CC79A7"), colors.HexColor("#56B4E9"), colors.HexColor("#D55E00"))


@dataclass(frozen=True)
class ChartData:
    title: str
    categories: tuple[str, ...]  # x axis (months, fiscal years)
    series: tuple[tuple[str, tuple[float, ...]], ...]  # (name, one value per category)
    unit: str = ""


def bar_chart(data: ChartData, width: float = 520, height: float = 240) -> Drawing:
    """Grouped bars, one group per category, with a legend and the unit on the value axis."""
    register_fonts()
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 50, 45
    chart.width, chart.height = width - 70, height - 95
    chart.data = [list(values) for _name, values in data.series] or [[0] * len(data.categories)]
    chart.categoryAxis.categoryNames = list(data.categories)
    chart.categoryAxis.labels.fontName = GOTHIC
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.labels.fontName = GOTHIC
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.valueMin = 0
    top = max((max(values) if values else 0) for _n, values in data.series) if data.series else 0
    step = nice_step(top)
    chart.valueAxis.valueStep = step
    chart.valueAxis.valueMax = step * (math.floor(top / step) + 1)  # round ticks, a step of room above the top
    chart.valueAxis.forceZero = True
    chart.barSpacing = 1
    chart.groupSpacing = 6
    for i in range(len(chart.data)):
        chart.bars[i].fillColor = PALETTE[i % len(PALETTE)]
        chart.bars[i].strokeColor = colors.black
        chart.bars[i].strokeWidth = 0.3
    drawing.add(chart)
    drawing.add(String(width / 2, height - 16, data.title, fontName=GOTHIC, fontSize=11, textAnchor="middle"))
    if data.unit:
        drawing.add(String(8, height - 38, data.unit, fontName=GOTHIC, fontSize=8))
    legend = Legend()
    legend.x, legend.y = 55, 18
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.fontName = GOTHIC
    legend.fontSize = 8
    legend.dx = legend.dy = 8
    legend.deltax = max(70, (width - 80) / max(1, len(data.series)))
    legend.colorNamePairs = [(PALETTE[i % len(PALETTE)], name) for i, (name, _v) in enumerate(data.series)]
    drawing.add(legend)
    return drawing


def nice_step(top: float, most_ticks: int = 5) -> int:
    """A round tick step (1, 2 or 5 times a power of ten) giving at most ``most_ticks`` steps up to ``top``:
    257 → 100 (0, 100, 200, 300), not 111/222/333."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if top / (step * factor) <= most_ticks:
                return step * factor
        step *= 10


def to_svg(drawing: Drawing, *, title: str = "") -> str:
    """The drawing as an SVG document (fonts by name: the browser draws the text with its own fonts)."""
    svg = renderSVG.drawToString(drawing)
    if title:
        # An accessible name for the image; the figures are also given as a table next to it.
        svg = svg.replace("<svg ", '<svg role="img" aria-label="' + _escape(title) + '" ', 1)
    return svg


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def series_from(values: Sequence[float]) -> tuple[float, ...]:
    return tuple(float(v) for v in values)
