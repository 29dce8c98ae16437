"""Address labels on A4 label sheets (宛名ラベル).

Each label: ``〒`` and postal code (top left), the postal marking boxed at the top right (e.g.
特定録音物等郵便物 for mail loans), the address (shrunk, then wrapped, to fit), the 様方/気付 line
and the name with its honorific centred and large, and a small sender block at the foot.
Nothing is ever drawn outside the label: when text cannot fit even at the minimum sizes it is
cut with ``…`` and the label's number is reported in :class:`LabelReport`.

Rendering streams: labels are taken from any iterable and drawn one by one, so 100,000 labels
never sit in memory as a list.  Font metrics are cached (:func:`letters.text.width_of`).
"""

from __future__ import annotations

import io
import logging
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from letters import wording
from letters._pdf import TextWriter, binary_streams, new_canvas
from letters.data import LabelData
from letters.fonts import GOTHIC, GOTHIC_BOLD, missing_glyphs, register_fonts
from letters.layout import ASCENT, DESCENT
from letters.text import ellipsize, width_of, wrap, wrap_address

log = logging.getLogger(__name__)

__all__ = [
    "LABEL_TEMPLATES",
    "DrawnBox",
    "LabelIssue",
    "LabelReport",
    "LabelTemplate",
    "UnknownTemplate",
    "get_template",
    "render_calibration_sheet",
    "render_labels",
]


class UnknownTemplate(ValueError):
    """A label sheet name that is not defined."""

    def __init__(self, name: str, available: Iterable[str]) -> None:
        self.name = name
        self.available = tuple(sorted(available))
        super().__init__(f"unknown label template {name!r}; available: {', '.join(self.available)}")


@dataclass(frozen=True, slots=True)
class LabelTemplate:
    """Geometry of one label sheet, in millimetres from the sheet's top-left corner."""

    name: str
    description: str
    columns: int
    rows: int
    label_width_mm: float
    label_height_mm: float
    left_mm: float  # sheet edge → left edge of the first column
    top_mm: float  # sheet edge → top edge of the first row
    pitch_x_mm: float  # left edge → left edge of the next column (label width + gap)
    pitch_y_mm: float
    padding_x_mm: float = 3.0  # text keeps this far from the label's edges (die-cut tolerance)
    padding_y_mm: float = 2.5
    text_scale: float = 1.0  # 1.0 for 42 mm-high labels; smaller labels use smaller type
    page_width_mm: float = 210.0
    page_height_mm: float = 297.0

    def __post_init__(self) -> None:
        right = self.left_mm + (self.columns - 1) * self.pitch_x_mm + self.label_width_mm
        bottom = self.top_mm + (self.rows - 1) * self.pitch_y_mm + self.label_height_mm
        if (
            self.left_mm < 0
            or self.top_mm < 0
            or right > self.page_width_mm + 0.05
            or bottom > self.page_height_mm + 0.05
        ):
            raise ValueError(f"label template {self.name!r} does not fit on its sheet")
        if self.pitch_x_mm < self.label_width_mm - 1e-6 or self.pitch_y_mm < self.label_height_mm - 1e-6:
            raise ValueError(f"label template {self.name!r}: pitch smaller than label")

    @classmethod
    def centred(
        cls,
        name: str,
        description: str,
        columns: int,
        rows: int,
        width_mm: float,
        height_mm: float,
        *,
        gap_x_mm: float = 0.0,
        gap_y_mm: float = 0.0,
        **kw: float,
    ) -> LabelTemplate:
        """A sheet whose margins are unknown: the grid is centred on A4."""
        page_w, page_h = kw.pop("page_width_mm", 210.0), kw.pop("page_height_mm", 297.0)
        grid_w = columns * width_mm + (columns - 1) * gap_x_mm
        grid_h = rows * height_mm + (rows - 1) * gap_y_mm
        return cls(
            name,
            description,
            columns,
            rows,
            width_mm,
            height_mm,
            round((page_w - grid_w) / 2, 2),
            round((page_h - grid_h) / 2, 2),
            width_mm + gap_x_mm,
            height_mm + gap_y_mm,
            page_width_mm=page_w,
            page_height_mm=page_h,
            **kw,
        )

    @property
    def per_sheet(self) -> int:
        return self.columns * self.rows

    def cell(
        self, position: int, offset_mm: tuple[float, float] = (0.0, 0.0)
    ) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) in PDF points (origin bottom-left) of the 1-based ``position``,
        counted left to right, top to bottom.  ``offset_mm`` (x right, y down) shifts the print."""
        if not 1 <= position <= self.per_sheet:
            raise ValueError(f"position {position} is not on a {self.per_sheet}-label sheet")
        r, c = divmod(position - 1, self.columns)
        x0 = (self.left_mm + c * self.pitch_x_mm + offset_mm[0]) * mm
        top = (self.page_height_mm - self.top_mm - r * self.pitch_y_mm - offset_mm[1]) * mm
        return (x0, top - self.label_height_mm * mm, x0 + self.label_width_mm * mm, top)


# The common Japanese A4 sheets ("ノーカット"/標準 layouts sold by several makers).  Geometry as
# published for Hisago ELM008 / ELM009 / ELM012 (also in gLabels' hisago-templates.xml); the same
# sizes are sold by A-One, ELECOM and others - check the pitch on the pack and calibrate.
LABEL_TEMPLATES: dict[str, LabelTemplate] = {
    t.name: t
    for t in (
        LabelTemplate(
            "12up",
            "A4 12面 86.4×42.3mm (2列×6段)",
            2,
            6,
            86.4,
            42.3,
            18.6,
            21.2,
            86.4,
            42.3,
            padding_x_mm=4.0,
            padding_y_mm=2.8,
        ),
        # 18up has no side margins: outer columns touch the sheet edge, where most printers
        # cannot print, hence the wider padding.
        LabelTemplate(
            "18up",
            "A4 18面 70×42.3mm (3列×6段)",
            3,
            6,
            70.0,
            42.3,
            0.0,
            21.2,
            70.0,
            42.3,
            padding_x_mm=5.0,
            padding_y_mm=2.8,
            text_scale=0.92,
        ),
        LabelTemplate(
            "24up",
            "A4 24面 66×33.9mm (3列×8段)",
            3,
            8,
            66.0,
            33.9,
            6.0,
            12.9,
            66.0,
            33.9,
            padding_x_mm=3.5,
            padding_y_mm=2.2,
            text_scale=0.8,
        ),
    )
}


def get_template(template: str | LabelTemplate) -> LabelTemplate:
    if isinstance(template, LabelTemplate):
        return template
    try:
        return LABEL_TEMPLATES[template]
    except (KeyError, TypeError):
        raise UnknownTemplate(str(template), LABEL_TEMPLATES) from None


@dataclass(frozen=True, slots=True)
class DrawnBox:
    """A string drawn on a label, for checks that nothing leaves its cell."""

    label: int  # 1-based sequence number of the label in the input
    sheet: int  # 0-based page
    position: int  # 1-based position on the sheet
    cell: tuple[float, float, float, float]
    box: tuple[float, float, float, float]
    text: str


#: What a label's parts are called when one needs a look (ja, en).
_PARTS = {
    "address": ("宛先の住所", "the address"),
    "name": ("宛名", "the name"),
    "care_of": ("様方・気付の行", "the care-of line"),
    "marking": ("郵便物の表示", "the postal marking"),
    "sender": ("差出人の住所", "the sender's address"),
    "sender_name": ("差出人の氏名", "the sender's name"),
    "ref": ("発送番号", "the shipment number"),
}
_PROBLEMS = {
    "cut": ("を省略しました（…）", "was shortened with …"),
    "small": ("をごく小さい文字にしました", "was set in very small type"),
}


@dataclass(frozen=True, slots=True)
class LabelIssue:
    """One part of one label that did not fit as it should: cut with … or set below the smallest
    size that reads comfortably.  ``ref`` is the label's staff reference (shipment number)."""

    label: int  # 1-based number of the label in the input
    ref: str
    part: str  # a key of _PARTS
    problem: str  # "cut" or "small"

    def message(self, lang: str = "ja") -> str:
        """``ラベル3（2612-000003）: 差出人の住所を省略しました（…）`` / ``label 3 (…): the sender's …``"""
        k = 0 if lang == "ja" else 1
        part, problem = _PARTS[self.part][k], _PROBLEMS[self.problem][k]
        if k == 0:
            return f"ラベル{self.label}" + (f"（{self.ref}）" if self.ref else "") + f": {part}{problem}"
        return f"label {self.label}" + (f" ({self.ref})" if self.ref else "") + f": {part} {problem}"


@dataclass
class LabelReport:
    """Filled in by :func:`render_labels`: what was printed and what needs a human look.

    ``clipped`` lists the labels with text cut to fit (…), ``shrunk`` those with text set below the
    smallest comfortable size, ``issues`` says which part of which label (with its shipment number);
    ``attention`` is every label a librarian should look at before sticking it on."""

    record_boxes: bool = False
    count: int = 0
    sheets: int = 0
    clipped: list[int] = field(default_factory=list)  # labels whose text was cut to fit
    shrunk: list[int] = field(default_factory=list)  # labels with text below the legible minimum
    issues: list[LabelIssue] = field(default_factory=list)
    missing_glyphs: dict[int, str] = field(default_factory=dict)  # label → characters the font lacks
    boxes: list[DrawnBox] = field(default_factory=list)

    @property
    def attention(self) -> list[int]:
        """Labels to check by eye: cut, set very small, or with characters the font lacks."""
        return sorted(set(self.clipped) | set(self.shrunk) | set(self.missing_glyphs))

    def messages(self, lang: str = "ja") -> list[str]:
        """Everything to look at before sticking the labels on, a line each (the page and the CLI say it)."""
        glyphs = [f"ラベル{n}: フォントにない文字 {chars}" if lang == "ja" else f"label {n}: the font cannot print {chars}"
                  for n, chars in sorted(self.missing_glyphs.items())]
        return [issue.message(lang) for issue in self.issues] + glyphs


# -- sizes (pt) at text_scale 1.0 -------------------------------------------------------------
_POSTAL, _ADDRESS, _ADDRESS_FLOOR, _ADDRESS_MIN = 10.0, 11.0, 9.0, 6.5
_NAME, _NAME_MIN, _CARE_OF = 15.0, 9.0, 10.0
_SENDER, _SENDER_MIN, _MARKING, _MARKING_MIN = 6.5, 5.0, 8.0, 6.0
# Below the minimum sizes a name is still printed whole rather than cut, down to this (reported).
_NAME_FLOOR, _SENDER_FLOOR = 4.0, 3.5
_SENDER_LINES = 2  # the library's block on an outbound label
_SENDER_LINES_WITH_NAME = 4  # a return label: the patron's address (wrapped) and name
_LEAD = 1.22  # line height / size
_STEP = 0.5


@dataclass(slots=True)
class _Geometry:
    """Per-template constants, computed once per render."""

    w: float
    h: float
    pad_x: float
    pad_y: float
    k: float
    sender_prefix: str


class _Sink:
    """Draws strings on the canvas (raw text operators, see ``_pdf.TextWriter``) and (optionally)
    records their boxes."""

    __slots__ = ("canvas", "writer", "report", "label", "sheet", "position", "cell")

    def __init__(self, canvas: Canvas, report: LabelReport | None) -> None:
        self.canvas = canvas
        self.writer = TextWriter(canvas)
        self.report = report if (report is not None and report.record_boxes) else None
        self.label = self.sheet = self.position = 0
        self.cell = (0.0, 0.0, 0.0, 0.0)

    def text(self, x: float, baseline: float, s: str, font: str, size: float) -> None:
        if not s:
            return
        self.writer.text(x, baseline, s, font, size)
        if self.report is not None:
            w = width_of(s, font, size)
            self.report.boxes.append(
                DrawnBox(
                    self.label,
                    self.sheet,
                    self.position,
                    self.cell,
                    (x, baseline - DESCENT * size, x + w, baseline + ASCENT * size),
                    s,
                )
            )

    def rect(self, x: float, y: float, w: float, h: float) -> None:
        self.canvas._code.append(f"{x:.2f} {y:.2f} {w:.2f} {h:.2f} re S")
        if self.report is not None:
            self.report.boxes.append(
                DrawnBox(self.label, self.sheet, self.position, self.cell, (x, y, x + w, y + h), "")
            )

    def line(self, x1: float, y: float, x2: float) -> None:
        self.canvas._code.append(f"{x1:.2f} {y:.2f} m {x2:.2f} {y:.2f} l S")
        if self.report is not None:
            self.report.boxes.append(
                DrawnBox(self.label, self.sheet, self.position, self.cell, (x1, y, x2, y), "")
            )


def _shrink_to_width(text: str, font: str, size: float, floor: float, width: float) -> float | None:
    """Largest size ≥ floor at which ``text`` fits ``width`` on one line (None: it does not)."""
    s = size
    while True:
        if width_of(text, font, s) <= width:
            return s
        if s <= floor:
            return None
        s = max(floor, s - _STEP)


@lru_cache(maxsize=8192)
def _fit_block(
    lines: tuple[str, ...], font: str, size: float, floor: float, min_size: float, width: float, height: float
) -> tuple[tuple[str, ...], float, bool]:
    """Address-style fitting: shrink to ``floor`` keeping each line whole, then wrap (going down
    to ``min_size``), then cut.  Returns (lines, size, clipped)."""
    if not lines:
        return (), size, False
    # 1. shrink, no wrapping
    s = size
    while True:
        if len(lines) * s * _LEAD <= height + 1e-6 and all(width_of(ln, font, s) <= width for ln in lines):
            return lines, s, False
        if s <= floor:
            break
        s = max(floor, s - _STEP)
    # 2. wrap (at the places an address breaks: spaces, after 丁目・番地・号, never inside a number)
    s = floor
    while True:
        out = [w for ln in lines for w in wrap_address(ln, font, s, width)]
        if len(out) * s * _LEAD <= height + 1e-6:
            return tuple(out), s, False
        if s <= min_size:
            break
        s = max(min_size, s - _STEP)
    # 3. cut
    keep = max(0, int((height + 1e-6) // (s * _LEAD)))
    if keep == 0:
        return (), s, True
    out = out[:keep]
    out[-1] = ellipsize(out[-1], font, s, width)
    return tuple(out), s, True


def _pack(units: tuple[str, ...], font: str, size: float, width: float) -> list[str]:
    """Greedy rows of whole units joined by spaces; a unit wider than a row is wrapped."""
    rows: list[str] = []
    for unit in units:
        if rows and width_of(rows[-1] + " " + unit, font, size) <= width:
            rows[-1] += " " + unit
        elif width_of(unit, font, size) <= width:
            rows.append(unit)
        else:
            rows.extend(wrap_address(unit, font, size, width))
    return rows


@lru_cache(maxsize=8192)
def _fit_units(
    units: tuple[str, ...], font: str, size: float, min_size: float, width: float, max_lines: int
) -> tuple[tuple[str, ...], float, bool]:
    """Sender block: keep each unit (name, address, phone) whole on a row where possible, shrinking
    down to ``min_size``; else wrap the units as running text; cut with … as a last resort."""
    joined = " ".join(units)
    for pack in (lambda s: _pack(units, font, s, width), lambda s: list(wrap_address(joined, font, s, width))):
        s = size
        while True:
            rows = pack(s)
            if len(rows) <= max_lines:
                return tuple(rows), s, False
            if s <= min_size:
                break
            s = max(min_size, s - _STEP)
    rows = rows[:max_lines]
    rows[-1] = ellipsize(rows[-1], font, s, width)
    return tuple(rows), s, True


@lru_cache(maxsize=8192)
def _fit_name(
    name: str, honorific: str, font: str, size: float, min_size: float, width: float, max_lines: int
) -> tuple[tuple[str, ...], float, bool]:
    """Name and honorific: one line if it can be shrunk to fit, else wrapped with 様 kept on the
    last line (never alone).  A name is never cut while it can be set smaller: below ``min_size``
    it goes down to the floor (the caller reports that), and only beyond that is it cut."""
    sep = "\u3000" if honorific else ""
    full = f"{name}{sep}{honorific}"
    s = _shrink_to_width(full, font, size, min_size, width)
    if s is not None:
        return (full,), s, False
    tail = sep + honorific
    floor = min(min_size, _NAME_FLOOR)
    s = min_size
    while True:
        lines = wrap(name, font, s, width - width_of(tail, font, s))
        if len(lines) <= max_lines or s <= floor:
            break
        s = max(floor, s - _STEP)
    clipped = False
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = ellipsize(lines[-1], font, s, width - width_of(tail, font, s))
        clipped = True
    lines[-1] += tail
    return tuple(lines), s, clipped


@lru_cache(maxsize=8192)
def _fit_sender(
    units: tuple[str, ...], name: str, font: str, size: float, min_size: float, width: float, max_lines: int
) -> tuple[tuple[str, ...], float, bool, bool]:
    """A sender block that ends with the sender's own name (a return label): the name whole on its
    own last line; the address above it is shrunk, then wrapped, then (last) cut with ….
    Returns (rows, size, address cut, name below ``min_size`` (or, beyond all sense, cut))."""
    s = size
    while True:
        name_rows = [name] if width_of(name, font, s) <= width else list(wrap(name, font, s, width))
        rows = _pack(units, font, s, width) if units else []
        if len(name_rows) == 1 and len(rows) + 1 <= max_lines:
            return (*rows, *name_rows), s, False, False
        if s <= min_size:
            break
        s = max(min_size, s - _STEP)
    # the name does not fit one row at the minimum: smaller still (reported), never cut
    small = False
    while len(name_rows) > 1 and s > _SENDER_FLOOR:
        s = max(_SENDER_FLOOR, s - _STEP)
        small = True
        name_rows = [name] if width_of(name, font, s) <= width else list(wrap(name, font, s, width))
    name_cut = len(name_rows) > max_lines  # beyond any sense (a name of a hundred characters)
    if name_cut:
        name_rows = name_rows[:max_lines]
        name_rows[-1] = ellipsize(name_rows[-1], font, s, width)
    rows = _pack(units, font, s, width) if units else []
    room = max_lines - len(name_rows)
    cut = len(rows) > room
    if cut:
        rows = rows[:room]
        if rows:
            rows[-1] = ellipsize(rows[-1], font, s, width)
    return (*rows, *name_rows), s, cut, small or name_cut


def _draw_label(
    sink: _Sink, g: _Geometry, cell: tuple[float, float, float, float], data: LabelData
) -> list[tuple[str, str]]:
    """Lay out and draw one label inside ``cell``; returns what did not fit as it should, as
    (part, "cut" | "small") pairs (see :class:`LabelIssue`)."""
    k = g.k
    x0 = cell[0] + g.pad_x
    x1 = cell[2] - g.pad_x
    top = cell[3] - g.pad_y
    bottom = cell[1] + g.pad_y
    w = x1 - x0
    to = data.addressee
    problems: list[tuple[str, str]] = []

    # -- top row: 〒 + postal code, marking boxed at the right -----------------------------------
    postal_size = _POSTAL * k
    postal = f"〒{to.postal_code}" if to.postal_code else ""
    postal_w = width_of(postal, GOTHIC, postal_size)
    y = top
    row_h = postal_size * _LEAD
    marking = data.marking
    if marking:
        m_pad = 1.2
        avail = w - postal_w - 2 * mm - 2 * m_pad
        m_size = _shrink_to_width(marking, GOTHIC_BOLD, _MARKING * k, _MARKING_MIN * min(k, 1.0), avail)
        if m_size is None:  # not beside the postal code: give it a row of its own
            m_size = _shrink_to_width(
                marking, GOTHIC_BOLD, _MARKING * k, _MARKING_MIN * min(k, 1.0), w - 2 * m_pad
            )
            if m_size is None:
                m_size = _MARKING_MIN * min(k, 1.0)
                marking = ellipsize(marking, GOTHIC_BOLD, m_size, w - 2 * m_pad)
                problems.append(("marking", "cut"))
            own_row = True
        else:
            own_row = False
        mw = width_of(marking, GOTHIC_BOLD, m_size) + 2 * m_pad
        mh = m_size * 1.3
        sink.rect(x1 - mw, top - mh, mw, mh)
        sink.text(
            x1 - mw + m_pad, top - mh + (mh - m_size) / 2 + DESCENT * m_size, marking, GOTHIC_BOLD, m_size
        )
        if own_row:
            y = top - mh - 0.8 * mm
        else:
            row_h = max(row_h, mh)
    if postal:
        sink.text(x0, y - ASCENT * postal_size, postal, GOTHIC, postal_size)
    y -= row_h + 0.6 * mm

    # -- sender block at the foot (the staff ref goes at the right of one of its lines) ---------
    units = data.sender_lines
    name = data.sender_name
    if g.sender_prefix and (units or name):
        if units:
            units = (g.sender_prefix + units[0], *units[1:])
        else:
            name = g.sender_prefix + name
    ref = data.ref
    s_size = _SENDER * min(k, 1.0)
    s_lines: list[str] = []
    max_lines = _SENDER_LINES_WITH_NAME if name else _SENDER_LINES
    if name:
        fitted, s_size, cut, small = _fit_sender(units, name, GOTHIC, s_size, _SENDER_MIN, w, max_lines)
        s_lines = list(fitted)
        if cut:
            problems.append(("sender", "cut"))
        if small:
            problems.append(("sender_name", "small"))
    elif units:
        fitted, s_size, cut = _fit_units(units, GOTHIC, s_size, _SENDER_MIN, w, max_lines)
        s_lines = list(fitted)
        if cut:
            problems.append(("sender", "cut"))
    ref_line = len(s_lines) - 1 if s_lines else 0
    if ref:
        ref_w = width_of(ref, GOTHIC, s_size)
        gap = 1.5 * mm
        fits = [i for i, ln in enumerate(s_lines) if width_of(ln, GOTHIC, s_size) + gap + ref_w <= w]
        if not s_lines:
            s_lines = [""]
        elif fits:
            ref_line = fits[-1]  # the lowest line with room
        elif len(s_lines) < max_lines:
            s_lines.append("")  # the ref gets a line of its own
            ref_line = len(s_lines) - 1
        else:
            ref = ""  # no room at all: dropped, and reported
            problems.append(("ref", "cut"))
    sender_h = len(s_lines) * s_size * _LEAD
    sy = bottom + sender_h
    if s_lines:
        sink.line(x0, sy + 0.6 * mm, x1)
        by = sy
        for i, ln in enumerate(s_lines):
            by -= s_size * _LEAD
            baseline = by + DESCENT * s_size + (s_size * (_LEAD - 1)) / 2
            sink.text(x0, baseline, ln, GOTHIC, s_size)
            if ref and i == ref_line:
                sink.text(x1 - width_of(ref, GOTHIC, s_size), baseline, ref, GOTHIC, s_size)
        floor_y = sy + 1.6 * mm
    else:
        floor_y = bottom

    # -- name block (様方/気付 line + name 様), then the address gets what is left ----------------
    # The name is never cut: the address gives way first (smaller, wrapped, then cut), then the
    # name goes below its usual minimum (reported as small).
    name_min = _NAME_MIN * min(k, 1.0)
    care = to.care_of_line

    def name_block(start: float, least: float) -> tuple[tuple[str, ...], float, list[str], float, bool, float]:
        lines, size, cut = _fit_name(to.name, to.honorific, GOTHIC, start, least, w, 2)
        c_lines: list[str] = []
        c_size = min(_CARE_OF * k, size * 0.8)  # never larger than the name it introduces
        if care:
            c_min = min(_ADDRESS_MIN, c_size)
            fitted, c_size, c_cut = _fit_block((care,), GOTHIC, c_size, c_min, c_min, w, 2 * c_size * _LEAD)
            c_lines = list(fitted)
            cut |= c_cut
        height = len(lines) * size * _LEAD + len(c_lines) * c_size * _LEAD
        return lines, size, c_lines, c_size, cut, height

    def address_room(name_h: float) -> float:
        return max(0.0, y - floor_y - name_h - 1.0 * mm)

    name_lines, name_size, care_lines, care_size, name_cut, name_h = name_block(_NAME * k, name_min)
    a_lines, a_size, cut = _fit_block(
        to.address_lines, GOTHIC, _ADDRESS * k, _ADDRESS_FLOOR * k, _ADDRESS_MIN, w, address_room(name_h)
    )
    if cut and name_size > name_min:
        # give the address more room by setting the name smaller before cutting anything
        name_lines, name_size, care_lines, care_size, name_cut, name_h = name_block(name_min, name_min)
        a_lines, a_size, cut = _fit_block(
            to.address_lines, GOTHIC, _ADDRESS * k, _ADDRESS_FLOOR * k, _ADDRESS_MIN, w, address_room(name_h)
        )
    a_h = len(a_lines) * a_size * _LEAD
    # even with the address at its smallest the name block does not fit: smaller still, never cut
    least = name_min
    while y - a_h - floor_y - name_h < -0.01 and least > _NAME_FLOOR:
        least = max(_NAME_FLOOR, least - _STEP)
        name_lines, name_size, care_lines, care_size, name_cut, name_h = name_block(least, least)
        if cut or not a_lines:
            a_lines, a_size, cut = _fit_block(
                to.address_lines, GOTHIC, _ADDRESS * k, _ADDRESS_FLOOR * k, _ADDRESS_MIN, w, address_room(name_h)
            )
            a_h = len(a_lines) * a_size * _LEAD
    if cut:
        problems.append(("address", "cut"))
    if name_size < name_min - 1e-6:
        problems.append(("name", "small"))
    for ln in a_lines:
        sink.text(x0, y - ASCENT * a_size - (a_size * (_LEAD - 1)) / 2, ln, GOTHIC, a_size)
        y -= a_size * _LEAD

    # centre the name block in the space between the address and the sender
    free = y - floor_y - name_h
    if free < -0.01 or name_cut:  # only for text beyond any label: drop what would overflow
        while free < -0.01 and (care_lines or len(name_lines) > 1):
            if care_lines:
                care_lines.pop()
            else:  # one line, cut with …, 様 kept
                name_lines = _fit_name(to.name, to.honorific, GOTHIC, name_size, name_size, w, 1)[0]
            name_h = len(name_lines) * name_size * _LEAD + len(care_lines) * care_size * _LEAD
            free = y - floor_y - name_h
        problems.append(("name", "cut"))
    y -= max(0.0, free) * 0.45
    cx = (x0 + x1) / 2
    for ln in care_lines:
        lw = width_of(ln, GOTHIC, care_size)
        sink.text(cx - lw / 2, y - ASCENT * care_size - (care_size * (_LEAD - 1)) / 2, ln, GOTHIC, care_size)
        y -= care_size * _LEAD
    for ln in name_lines:
        lw = width_of(ln, GOTHIC, name_size)
        if y - name_size * _LEAD < floor_y - 0.01:
            if ("name", "cut") not in problems:
                problems.append(("name", "cut"))
            break
        sink.text(cx - lw / 2, y - ASCENT * name_size - (name_size * (_LEAD - 1)) / 2, ln, GOTHIC, name_size)
        y -= name_size * _LEAD
    return problems


def _sender_prefix(template_dir: Path | None) -> str:
    try:
        return str(wording.load("labels", template_dir=template_dir).get("sender_prefix", ""))
    except (wording.WordingError, tomllib.TOMLDecodeError):
        return ""


def render_labels(
    labels: Iterable[LabelData],
    template: str | LabelTemplate,
    start_position: int = 1,
    offset_mm: tuple[float, float] = (0.0, 0.0),
    *,
    report: LabelReport | None = None,
    outline: bool = False,
    template_dir: Path | None = None,
) -> bytes:
    """Address labels as PDF bytes.

    ``template``: a name from :data:`LABEL_TEMPLATES` (``UnknownTemplate`` otherwise) or a
    :class:`LabelTemplate`.  ``start_position`` (1-based, left to right then down) skips labels
    already used on the first sheet.  ``offset_mm`` = (x, y) moves everything right/down to
    calibrate a printer.  ``outline`` draws the label borders (for a test print on plain paper).
    ``report`` receives counts, the labels that need a look (text cut or set very small, with the
    part and the shipment number: :class:`LabelIssue`) and missing glyphs (and boxes if asked)."""
    t = get_template(template)
    if not 1 <= start_position <= t.per_sheet:
        raise ValueError(f"start_position must be between 1 and {t.per_sheet} for template {t.name!r}")
    register_fonts()
    buf = io.BytesIO()
    canvas = new_canvas(buf, title=f"宛名ラベル {t.name}")
    g = _Geometry(
        t.label_width_mm * mm,
        t.label_height_mm * mm,
        t.padding_x_mm * mm,
        t.padding_y_mm * mm,
        t.text_scale,
        _sender_prefix(template_dir),
    )
    sink = _Sink(canvas, report)
    canvas.setLineWidth(0.5)
    position = start_position
    sheet = 0
    count = 0
    clipped_n = 0
    outlined = -1
    for count, data in enumerate(labels, start=1):
        if position > t.per_sheet:
            canvas.showPage()
            canvas.setLineWidth(0.5)
            sheet += 1
            position = 1
        cell = t.cell(position, offset_mm)
        sink.label, sink.sheet, sink.position, sink.cell = count, sheet, position, cell
        if outline and outlined != sheet:
            _outline(canvas, t, offset_mm)
            outlined = sheet
        problems = _draw_label(sink, g, cell, data)
        if problems:
            clipped_n += 1
            if report is not None:
                if any(problem == "cut" for _part, problem in problems):
                    report.clipped.append(count)
                if any(problem == "small" for _part, problem in problems):
                    report.shrunk.append(count)
                report.issues.extend(LabelIssue(count, data.ref, part, problem) for part, problem in problems)
        if report is not None:
            lacking = missing_glyphs(to_text(data), GOTHIC)
            if lacking:
                report.missing_glyphs[count] = "".join(sorted(lacking))
        position += 1
    if count == 0:
        raise ValueError("no labels to render")
    with binary_streams():
        canvas.save()
    if report is not None:
        report.count = count
        report.sheets = sheet + 1
    if clipped_n:
        log.warning("%d of %d labels had text cut or set very small to fit template %s", clipped_n, count, t.name)
    return buf.getvalue()


def to_text(data: LabelData) -> str:
    to = data.addressee
    return "".join(
        (to.postal_code, *to.address_lines, to.name, to.proxy_name or "", *data.sender_lines, data.sender_name)
    )


def _outline(canvas: Canvas, t: LabelTemplate, offset_mm: tuple[float, float]) -> None:
    canvas.saveState()
    canvas.setStrokeGray(0.7)
    canvas.setLineWidth(0.3)
    for p in range(1, t.per_sheet + 1):
        x0, y0, x1, y1 = t.cell(p, offset_mm)
        canvas.rect(x0, y0, x1 - x0, y1 - y0, stroke=1, fill=0)
    canvas.restoreState()


def render_calibration_sheet(
    template: str | LabelTemplate, offset_mm: tuple[float, float] = (0.0, 0.0)
) -> bytes:
    """A test page for plain paper: every label outlined and numbered, with a cross at each
    label's centre.  Hold it against a label sheet to the light and adjust ``offset_mm``."""
    t = get_template(template)
    buf = io.BytesIO()
    canvas = new_canvas(buf, title=f"ラベル位置調整 {t.name}")
    _outline(canvas, t, offset_mm)
    canvas.setFont(GOTHIC, 9)
    for p in range(1, t.per_sheet + 1):
        x0, y0, x1, y1 = t.cell(p, offset_mm)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        canvas.line(cx - 3 * mm, cy, cx + 3 * mm, cy)
        canvas.line(cx, cy - 3 * mm, cx, cy + 3 * mm)
        canvas.drawString(x0 + 2 * mm, y1 - 5 * mm, str(p))
    canvas.setFont(GOTHIC, 8)
    canvas.drawString(
        10 * mm, 5 * mm, f"{t.name}: {t.description}  offset x={offset_mm[0]:+.1f}mm y={offset_mm[1]:+.1f}mm"
    )
    canvas.showPage()
    canvas.save()
    return buf.getvalue()
