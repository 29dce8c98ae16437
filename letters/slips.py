"""Packing slips (貸出資料一覧, one per shipment, in the parcel) and the staff pick list
(出庫リスト, every item to fetch, in shelf order).

Both take iterables and draw as they go: a slip is laid out and drawn before the next one is
read; the pick list hands each finished page to the canvas and forgets it.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from pathlib import Path
from string import Template

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from letters import wording
from letters._dates import era_year_month, wareki
from letters._pdf import binary_streams, new_canvas
from letters.data import Library, PickLine, SlipData, SlipItem
from letters.fonts import GOTHIC, GOTHIC_BOLD
from letters.layout import (
    ASCENT,
    BLOCK_TOP,
    Block,
    Cell,
    Flow,
    FormOp,
    Frame,
    RectOp,
    TextOp,
    draw_page,
    lay_out_block,
    writer_for,
)
from letters.text import width_of, wrap, wrapped
from outreach.types import MaterialType, Service

PAGE_W, PAGE_H = A4

__all__ = ["render_pick_list", "render_slips", "shelf_key"]


def _material_name(common: dict, material: object) -> str:
    value = getattr(material, "value", material)
    return str(common.get("materials", {}).get(value, value))


# ----------------------------------------------------------------------------------------------
# packing slips

#: Placeholders whose value changes from one slip to the next: wording that uses one of them is
#: laid out for every slip; everything else is laid out once per document and drawn as a form.
PER_SLIP = frozenset({"patron_name", "shipment_ref", "count", "books", "av", "breakdown"})

# How the count line groups the items when the wording does not say (図書 / 視聴覚資料).
_DEFAULT_GROUPS = (
    {"materials": [m.value for m in MaterialType if not m.is_audio_visual], "text": "図書${n}冊"},
    {"materials": [m.value for m in MaterialType if m.is_audio_visual], "text": "視聴覚資料${n}点"},
)
_PAD = 1.6 * mm
_LF = 1.45  # table line height / size


def render_slips(
    slips: Iterable[SlipData], *, template_dir: Path | None = None, trace: list | None = None
) -> bytes:
    """Packing slips as one PDF, each slip starting on a new page ("1 / 2" when it runs over).

    The parts that are the same on every slip of a service and print size (title, dates, how to
    return, the table header, the table's ruling) are laid out once and drawn as PDF form
    XObjects; only the name, the items and the count are laid out per slip."""
    buf = io.BytesIO()
    renderer: _SlipRenderer | None = None
    for slip in slips:
        if renderer is None:
            renderer = _SlipRenderer(new_canvas(buf, title="貸出資料一覧", author=slip.library.name), template_dir, trace)
        renderer.draw(slip)
    if renderer is None:
        raise ValueError("no slips to render")
    with binary_streams():
        renderer.canvas.save()
    return buf.getvalue()


class _SlipRenderer:
    """One document of slips: the canvas, and what its slips share (per service and print size)."""

    def __init__(self, canvas: Canvas, template_dir: Path | None, trace: list | None) -> None:
        self.canvas = canvas
        self.writer = writer_for(canvas)
        self.template_dir = template_dir
        self.trace = trace
        self.page = 0
        self._kinds: dict[tuple[Service, bool, Library], _SlipKind] = {}
        self._names = itertools.count(1)

    def block_name(self) -> str:
        return f"slip{next(self._names)}"

    def draw(self, slip: SlipData) -> None:
        key = (slip.service, slip.large_print, slip.library)
        kind = self._kinds.get(key)
        if kind is None:
            kind = self._kinds[key] = _SlipKind(self, *key)
        pages, footer = kind.lay_out(slip)
        total = len(pages)
        for n, ops in enumerate(pages, start=1):
            if total > 1:
                ops.append(footer(n, total))
            draw_page(self.canvas, ops, trace=self.trace, page_index=self.page, writer=self.writer)
            self.page += 1


class _SlipKind:
    """Sizes, wording, columns and ready-made blocks of the slips of one service, print size and
    library within a document."""

    def __init__(self, renderer: _SlipRenderer, service: Service, large: bool, library: Library) -> None:
        self.renderer = renderer
        self.large = large
        self.body = 18.0 if large else 10.5
        self.small = 18.0 if large else 9.0
        self.title_size = 22.0 if large else 15.0
        self.name_size = 22.0 if large else 14.0
        self.due_size = 24.0 if large else 16.0
        self.lead = self.body * 1.55
        margin = 15 * mm
        self.frame = Frame(PAGE_W, PAGE_H, margin, margin, margin, margin + self.small * 1.5)
        common = wording.load("common", service.value, template_dir=renderer.template_dir)
        self.t = t = wording.load("slip", service.value, template_dir=renderer.template_dir)
        self.values: dict[str, object] = {k: v for k, v in common.items() if isinstance(v, str)}
        self.values.update(
            library_name=library.name, section=library.section, library_phone=library.phone, library_fax=library.fax
        )
        self.materials = {m: _material_name(common, m) for m in MaterialType}
        self.groups = [dict(g) for g in t.get("count_groups", _DEFAULT_GROUPS)]
        self.group_of = {m: i for i, g in enumerate(self.groups) for m in g.get("materials", ())}
        self._dates: dict[tuple[date, bool], str] = {}
        self._blocks: dict[tuple, Block | None] = {}
        self._grids: dict[float, Block] = {}
        # the items table
        width = self.frame.width
        if large:
            self.heads = list(t.get("columns_large", ["No.", "書名", "種別"]))
            self.widths = [14 * mm, width - 14 * mm - 40 * mm, 40 * mm]
        else:
            self.heads = list(t.get("columns", ["No.", "資料番号", "書名", "種別", "返却確認"]))
            self.widths = [11 * mm, 33 * mm, width - 11 * mm - 33 * mm - 24 * mm - 18 * mm, 24 * mm, 18 * mm]
        self.col_x = [self.frame.x0 + sum(self.widths[:k]) for k in range(len(self.widths))]
        self.min_row = self.body * _LF + 2 * _PAD  # a row of one line (the □ is at body size)
        self.first_baseline = {
            size: _PAD + (size * _LF - size) / 2 + ASCENT * size for size in (self.body, self.small)
        }
        self._cx: dict[tuple[int, str, float], float] = {}
        self._cells_laid: dict[tuple[str, float, int], tuple[tuple[str, ...], float]] = {}
        self._by_height: dict[float, tuple[float, float, Block]] = {}
        self._barcode_parts: tuple[str, str, int] | bool | None = None
        self._return: list[Block | None] | None = None
        self._return_per_slip: bool | None = None
        self.title_x = self.col_x[1 if large else 2] + _PAD
        # how many characters of printable ASCII surely fit a column (for barcodes)
        self._widest = widest = max(width_of(chr(c), GOTHIC, 1.0) for c in range(32, 127))
        self._fits_chars = {
            (size, col): int((cw - 2 * _PAD) / (widest * size))
            for size in (self.body, self.small)
            for col, cw in enumerate(self.widths)
        }
        self.header = self._block(
            ("header",),
            lambda flow, values: flow.table(
                [[Cell(h, GOTHIC, self.body if large else self.small, align="center", fill_gray=0.88) for h in self.heads]],
                self.widths,
                pad=_PAD,
            ),
            [],
        )

    # -- wording -----------------------------------------------------------------------------
    def fill(self, key: str, values: dict[str, object]) -> str:
        return wording.fill(self.t.get(key, ""), values, where=f"slip.{key}")

    def _date(self, d: date, weekday: bool) -> str:
        text = self._dates.get((d, weekday))
        if text is None:
            text = self._dates[(d, weekday)] = wareki(d, weekday=weekday)
        return text

    def _uses_per_slip(self, texts: Iterable[str]) -> bool:
        return any(PER_SLIP.intersection(Template(text).get_identifiers()) for text in texts if text)

    def _block(self, key: tuple, build, texts: Iterable[str], values: dict[str, object] | None = None) -> Block | None:
        """The block ``key`` (laid out the first time it is asked for), or None when its wording
        depends on the slip (then the caller lays it out on the slip itself)."""
        if key in self._blocks:
            return self._blocks[key]
        block = None
        if not self._uses_per_slip(texts):
            block = lay_out_block(
                self.renderer.block_name(), self.frame, lambda flow: build(flow, values or self.values)
            )
            if block.height > self.frame.page_h - self.frame.top - self.frame.bottom:
                block = None  # taller than a page: let it flow
        self._blocks[key] = block
        return block

    def _put(self, flow: Flow, key: tuple, build, texts: Iterable[str], values: dict[str, object]) -> None:
        block = self._block(key, build, texts, values)
        if block is None:
            build(flow, values)
        else:
            flow.place(block)

    # -- one slip ----------------------------------------------------------------------------
    def lay_out(self, slip: SlipData):
        t = self.t
        body, small, lead = self.body, self.small, self.lead
        items = slip.items
        counts = [0] * len(self.groups)
        other = 0
        group_of = self.group_of
        for it in items:
            g = group_of.get(it.material.value)
            if g is None:
                other += 1
            else:
                counts[g] += 1
        books = sum(1 for it in items if not it.material.is_audio_visual)
        values = dict(self.values)
        values.update(
            patron_name=slip.patron_name,
            shipped_on=self._date(slip.shipped_on, False) if slip.shipped_on else "",
            shipment_ref=slip.shipment_ref,
            due_on=self._date(slip.due_on, True),
            count=len(items),
            books=books,
            av=len(items) - books,
        )
        values["breakdown"] = self._breakdown(counts, other)
        frame = self.frame
        in_table = [False]

        def continued(flow: Flow) -> None:
            flow.line(self.fill("continued", values), GOTHIC, small, leading=small * 1.6)
            if in_table[0]:
                self._put_header(flow)

        flow = Flow(frame, on_new_page=continued)
        self._put(
            flow, ("head", slip.shipped_on), self._head, [t.get("title", ""), t.get("shipped_line", "")], values
        )
        if slip.shipment_ref:
            flow.paragraph(self.fill("shipment_line", values), GOTHIC, small, leading=small * 1.5, align="right")
        flow.space(body * 0.3)
        flow.paragraph(self.fill("greeting", values), GOTHIC, self.name_size, leading=self.name_size * 1.6)
        self._put(flow, ("intro", slip.due_on), self._intro, [t.get("intro", ""), t.get("due_label", "")], values)

        # the items
        self._put_header(flow)
        in_table[0] = True
        for i, it in enumerate(items, start=1):
            self._row(flow, i, it, values)
        in_table[0] = False
        flow.space(body * 0.3)
        flow.paragraph(self._count_line(values), GOTHIC, body, leading=lead, align="right")

        # how to return, and whom to ask: each step whole, the heading with the first one
        if self._return_per_slip is None:
            steps = t.get("return_steps", ())
            texts = [t.get("return_heading", ""), t.get("contact", "")]
            texts += [s if isinstance(s, str) else s.get("text", "") for s in steps]
            self._return_per_slip = self._uses_per_slip(texts)
        if self._return_per_slip:
            for part in self._return_parts(values):
                part(flow, values)
        else:
            if self._return is None:
                self._return = [
                    self._block(("return", n), part, (), values) for n, part in enumerate(self._return_parts(values))
                ]
            for block in self._return:
                if block is None:  # (a part taller than a page)
                    continue
                flow.place(block)

        def footer(page_no: int, total: int) -> TextOp:
            text = f"{page_no} / {total}"
            return TextOp((PAGE_W - width_of(text, GOTHIC, small)) / 2, 8 * mm, text, GOTHIC, small)

        return flow.pages, footer

    def _breakdown(self, counts: list[int], other: int) -> str:
        parts = [
            wording.fill(g.get("text", ""), {"n": n}, where="slip.count_groups")
            for g, n in zip(self.groups, counts, strict=True)
            if n
        ]
        if other:
            parts.append(wording.fill(self.t.get("other_group", "その他${n}点"), {"n": other}, where="slip.other_group"))
        return str(self.t.get("breakdown_separator", "、")).join(parts)

    def _count_line(self, values: dict[str, object]) -> str:
        if not values["breakdown"]:
            return wording.fill(self.t.get("count_line_total", "計${count}点"), values, where="slip.count_line_total")
        return self.fill("count_line", values)

    # -- blocks ------------------------------------------------------------------------------
    def _head(self, flow: Flow, values: dict[str, object]) -> None:
        for ln in wrap(self.fill("title", values), GOTHIC_BOLD, self.title_size, self.frame.width):
            flow.line(ln, GOTHIC_BOLD, self.title_size, leading=self.title_size * 1.5, align="center")
        if values["shipped_on"]:
            flow.paragraph(self.fill("shipped_line", values), GOTHIC, self.small, leading=self.small * 1.5, align="right")

    def _intro(self, flow: Flow, values: dict[str, object]) -> None:
        body, frame = self.body, self.frame
        flow.paragraph(self.fill("intro", values), GOTHIC, body, leading=self.lead)
        flow.space(body * 0.5)
        # the due date, boxed and bold: the one fact a patron must not miss
        due_size = self.due_size
        due_text = f"{self.t.get('due_label', '')}　{values['due_on']}"
        due_lines = wrap(due_text, GOTHIC_BOLD, due_size, frame.width - 8 * mm)
        box_h = len(due_lines) * due_size * 1.4 + 4 * mm
        flow.need(box_h)
        box_w = max(width_of(s, GOTHIC_BOLD, due_size) for s in due_lines) + 8 * mm
        flow.ops.append(RectOp(frame.x0, flow.y - box_h, box_w, box_h, 1.2))
        flow.y -= 2 * mm
        for ln in due_lines:
            flow.line(ln, GOTHIC_BOLD, due_size, leading=due_size * 1.4, x=frame.x0 + 4 * mm, width=box_w - 8 * mm)
        flow.y -= 2 * mm
        flow.space(body * 0.8)

    def _return_parts(self, values: dict[str, object]) -> list:
        """How to return (heading and numbered steps) and the contact line, as parts that are
        each kept whole on a page: the heading with the first step, then one part per step."""
        body, lead = self.body, self.lead
        steps = wording.entries(self.t, "return_steps", values)

        def step(flow: Flow, n: int, text: str) -> None:
            flow.paragraph(f"{n}．{text}", GOTHIC, body, leading=lead, indent=body * 2, first_indent=-body * 2)

        def first(flow: Flow, _values: dict[str, object]) -> None:
            flow.space(body * 0.6)
            flow.line(self.t.get("return_heading", ""), GOTHIC_BOLD, body, leading=lead)
            step(flow, 1, steps[0]["text"])

        def contact(flow: Flow, values: dict[str, object]) -> None:
            flow.space(body * 0.6)
            flow.paragraph(self.fill("contact", values), GOTHIC, body, leading=lead)

        parts = [first] if steps else []
        parts += [lambda flow, _v, n=n, st=st: step(flow, n, st["text"]) for n, st in enumerate(steps[1:], start=2)]
        return [*parts, contact]

    def _put_header(self, flow: Flow) -> None:
        assert self.header is not None  # the column heads never depend on the slip
        flow.place(self.header)

    # -- table rows --------------------------------------------------------------------------
    # A row is the ruling (a form per row height, with the □) and three or four strings; what can
    # be worked out once (column positions, wrapped titles, centred numbers and material names,
    # baselines per row height) is kept per document.

    def _centred(self, col: int, text: str, size: float) -> float:
        key = (col, text, size)
        x = self._cx.get(key)
        if x is None:
            x = self._cx[key] = self.col_x[col] + (self.widths[col] - width_of(text, GOTHIC, size)) / 2
        return x

    def _cell(self, text: str, size: float, col: int) -> tuple[tuple[str, ...], float]:
        """Lines of a left-aligned cell and the row height they need."""
        key = (text, size, col)
        hit = self._cells_laid.get(key)
        if hit is None:
            lines = _cell_lines(text, GOTHIC, size, self.widths[col] - 2 * _PAD)
            hit = self._cells_laid[key] = (lines, max(len(lines), 1) * size * _LF + 2 * _PAD)
        return hit

    def _baselines(self, height: float) -> tuple[float, float, Block]:
        """For a row of ``height``: the baselines (below the row's top) of one-line cells at body and
        at small size, centred vertically, and the row's ruling."""
        hit = self._by_height.get(height)
        if hit is None:
            offs = []
            for size in (self.body, self.small):
                leading = size * _LF
                offs.append(_PAD + max(0.0, (height - 2 * _PAD - leading) / 2) + (leading - size) / 2 + ASCENT * size)
            hit = self._by_height[height] = (offs[0], offs[1], self._grid(height))
        return hit

    def _short(self, text: str, size: float, col: int) -> tuple[str, ...]:
        """A barcode: one line without measuring when it is short enough to fit for sure."""
        if len(text) <= self._fits_chars[(size, col)] and text.isascii():
            return (text,)
        return _cell_lines(text, GOTHIC, size, self.widths[col] - 2 * _PAD)

    def _row(self, flow: Flow, i: int, it: SlipItem, values: dict[str, object]) -> None:
        body, small = self.body, self.small
        no = str(i)
        material = self.materials[it.material]
        if self.large:
            title_lines, height = self._cell(it.title, body, 1)
            if it.barcode:
                extra = self._barcode_lines(it.barcode, values)
                title_lines += extra
                height += len(extra) * body * _LF
            barcode_lines: tuple[str, ...] = ()
        else:
            title_lines, height = self._cell(it.title, body, 2)
            barcode_lines = self._short(it.barcode, small, 1) if it.barcode else ()
            if len(barcode_lines) > 1:
                height = max(height, len(barcode_lines) * small * _LF + 2 * _PAD)
        if height < self.min_row:
            height = self.min_row
        if height > flow.y - flow.frame.bottom + 1e-6:
            flow.new_page()
        top = flow.y
        off_body, off_small, grid = self._baselines(height)
        ops = flow.ops
        ops.append(FormOp(grid, top - BLOCK_TOP))
        ops.append(TextOp(self._centred(0, no, body), top - off_body, no, GOTHIC, body))
        x = self.title_x
        if len(title_lines) == 1:
            ops.append(TextOp(x, top - off_body, title_lines[0], GOTHIC, body))
        else:
            y = top - self.first_baseline[body]
            for ln in title_lines:
                ops.append(TextOp(x, y, ln, GOTHIC, body))
                y -= body * _LF
        if self.large:
            ops.append(TextOp(self._centred(2, material, body), top - off_body, material, GOTHIC, body))
        else:
            x = self.col_x[1] + _PAD
            if len(barcode_lines) == 1:
                ops.append(TextOp(x, top - off_small, barcode_lines[0], GOTHIC, small))
            else:
                y = top - self.first_baseline[small]
                for ln in barcode_lines:
                    ops.append(TextOp(x, y, ln, GOTHIC, small))
                    y -= small * _LF
            ops.append(TextOp(self._centred(3, material, small), top - off_small, material, GOTHIC, small))
        flow.y = top - height

    def _barcode_lines(self, barcode: str, values: dict[str, object]) -> tuple[str, ...]:
        """``資料番号 1000123456789`` under the title in large print, wrapped to the title column."""
        template = self.t.get("barcode_in_title", "${barcode}")
        width = self.widths[1] - 2 * _PAD
        if self._barcode_parts is None:
            self._barcode_parts = False
            if not self._uses_per_slip([template]):  # the same words around every barcode: fill in once
                filled = wording.fill(template, {**self.values, "barcode": "\x00"}, where="slip.barcode_in_title")
                head, _, tail = filled.partition("\x00")
                room = width - width_of(head + tail, GOTHIC, self.body)
                self._barcode_parts = (head, tail, int(room / (self._widest * self.body)))
        if self._barcode_parts:
            head, tail, fits = self._barcode_parts
            line = f"{head}{barcode}{tail}"
            if len(barcode) <= fits and barcode.isascii():
                return (line,)
        else:
            line = wording.fill(template, {**values, "barcode": barcode}, where="slip.barcode_in_title")
        return _cell_lines(line, GOTHIC, self.body, width)

    def _grid(self, height: float) -> Block:
        """The ruling of a table row of ``height`` (and its □ check box): one form per height."""
        block = self._grids.get(height)
        if block is None:
            def build(flow: Flow) -> None:
                x = flow.frame.x0
                for cw in self.widths:
                    flow.ops.append(RectOp(x, BLOCK_TOP - height, cw, height, 0.6))
                    x += cw
                if not self.large:
                    size, cw = self.body, self.widths[-1]
                    leading = size * _LF
                    y = BLOCK_TOP - _PAD - max(0.0, (height - 2 * _PAD - leading) / 2)
                    tx = x - cw + (cw - width_of("□", GOTHIC, size)) / 2
                    flow.ops.append(TextOp(tx, y - (leading - size) / 2 - ASCENT * size, "□", GOTHIC, size))
                flow.y = BLOCK_TOP - height

            block = self._grids[height] = lay_out_block(self.renderer.block_name(), self.frame, build)
        return block


@lru_cache(maxsize=65536)
def _cell_lines(text: str, font: str, size: float, width: float) -> tuple[str, ...]:
    if not text:
        return ()
    if "\n" not in text and width_of(text, font, size) <= width:
        return (text,)
    return tuple(ln for hard in text.split("\n") for ln in wrapped(hard, font, size, width))


# ----------------------------------------------------------------------------------------------
# pick list

_SHELF_TOKEN = re.compile(r"(\d+)(\.\d+)?|\D+")


def shelf_key(location: str) -> tuple:
    """Sort key for call numbers/shelf marks: numbers compare as numbers, and the decimal part of
    an NDC class compares digit by digit (913.12 before 913.6), text as text."""
    key = []
    for m in _SHELF_TOKEN.finditer(location or ""):
        if m.group(1) is not None:
            key.append((0, int(m.group(1)), m.group(2) or ""))
        else:
            key.append((1, 0, m.group(0)))
    return tuple(key)


def _pick_sort_key(line: PickLine) -> tuple:
    return (line.library_location, shelf_key(line.shelf_location), line.title, line.barcode)


def render_pick_list(
    lines: Iterable[PickLine],
    *,
    presorted: bool = False,
    printed_on: date | None = None,
    month: str | date | None = None,
    shipped_on: date | None = None,
    template_dir: Path | None = None,
    trace: list | None = None,
) -> bytes:
    """The staff pick list in shelf order (配架場所, then call number).

    ``month`` (``"2026-12"`` or a date in it) and ``shipped_on`` name the run in the heading of every
    page (``出庫リスト（配架順）　令和8年12月分　発送日 令和8年12月1日（火）``), so a printed pile is never
    taken for another month's.  The total stays on the page of the last rows.

    By default the lines are sorted here (so they are read into memory).  For very large runs
    pass lines already ordered by the database and ``presorted=True``: they are then drawn as
    they arrive, page by page."""
    source = lines if presorted else sorted(lines, key=_pick_sort_key)
    common = wording.load("common", None, template_dir=template_dir)
    t = wording.load("pick_list", None, template_dir=template_dir)
    values: dict[str, object] = {
        "printed_on": wareki(printed_on) if printed_on else "",
        "month": era_year_month(_month_start(month)) if month else "",
        "shipped_on": wareki(shipped_on, weekday=True) if shipped_on else "",
    }
    size = 9.0
    head_size = 13.0
    margin = 12 * mm
    buf = io.BytesIO()
    # landscape: titles get a wide column and most rows stay on one line
    page_w, page_h = landscape(A4)
    title = wording.fill(t.get("title", ""), values, where="pick_list.title")
    run_parts = [e["text"] for e in wording.entries(t, "heading", values)]
    heading_text = "　".join([title, *run_parts]) if run_parts else title
    canvas = new_canvas(buf, title=heading_text, pagesize=(page_w, page_h))  # the run, never a name
    frame = Frame(page_w, page_h, margin, margin, margin, margin + size * 2)
    heads = list(t.get("columns", ["✓", "配架場所", "請求記号", "資料番号", "書名", "種別", "発送番号"]))
    widths = [8 * mm, 24 * mm, 34 * mm, 30 * mm, 0.0, 22 * mm, 34 * mm]
    widths[4] = frame.width - sum(widths)
    head_cells = [Cell(h, GOTHIC, size, align="center", fill_gray=0.88) for h in heads]
    subtitle = t.get("subtitle", "")
    if isinstance(subtitle, str):  # left out when every value it names is empty (no bare "作成日")
        names = Template(subtitle).get_identifiers()
        shown = not names or any(values.get(name) for name in names)
        subtitle = wording.fill(subtitle, values, where="pick_list.subtitle") if shown else ""
    else:  # an array of entries, joined
        subtitle = "　".join(e["text"] for e in wording.entries(t, "subtitle", values))
    state = {"page": 0}
    writer = writer_for(canvas)

    def sink(ops: list) -> None:
        state["page"] += 1
        text = wording.fill(t.get("page", "${page}"), {"page": state["page"]}, where="pick_list.page")
        ops.append(TextOp((page_w - width_of(text, GOTHIC, size)) / 2, 7 * mm, text, GOTHIC, size))
        draw_page(canvas, ops, trace=trace, page_index=state["page"] - 1, writer=writer)

    def heading(flow: Flow) -> None:
        for ln in wrap(heading_text, GOTHIC_BOLD, head_size, frame.width):
            flow.line(ln, GOTHIC_BOLD, head_size, leading=head_size * 1.5)
        if subtitle:
            flow.line(subtitle, GOTHIC, size, leading=size * 1.6)
        flow.table([head_cells], widths, pad=1.2 * mm)

    def row_of(line: PickLine) -> list[Cell]:
        return [
            Cell("□", GOTHIC, size, align="center"),
            Cell(line.library_location, GOTHIC, size),
            Cell(line.shelf_location, GOTHIC, size),
            Cell(line.barcode, GOTHIC, size),
            Cell(line.title, GOTHIC, size),
            Cell(_material_name(common, line.material), GOTHIC, size),
            Cell(line.shipment_ref, GOTHIC, size),
        ]

    total_gap, total_leading = size, size * 1.8
    flow = Flow(frame, on_new_page=heading, page_sink=sink)
    heading(flow)
    count = 0
    pending: PickLine | None = None  # one row of look-ahead: the last row goes with the total
    for line in source:
        if pending is not None:
            flow.table([row_of(pending)], widths, pad=1.2 * mm)
        pending = line
        count += 1
    if pending is not None:
        row = row_of(pending)
        _cells, row_h = Flow._layout_row(row, widths, 1.2 * mm, 1.45)
        flow.need(row_h + total_gap + total_leading)  # never a page of only the heading and the total
        flow.table([row], widths, pad=1.2 * mm)
    flow.y -= total_gap
    flow.line(
        wording.fill(t.get("total_line", ""), {"count": count}, where="pick_list.total_line"),
        GOTHIC_BOLD,
        size + 1,
        leading=total_leading,
        align="right",
    )
    flow.finish()
    with binary_streams():
        canvas.save()
    return buf.getvalue()


def _month_start(month: str | date) -> date:
    """``"2026-12"`` (or any date in it) → 2026-12-01."""
    if isinstance(month, date):
        return month.replace(day=1)
    try:
        year, mon = (int(part) for part in str(month).strip().split("-")[:2])
        return date(year, mon, 1)
    except ValueError:
        raise ValueError(f"month must look like 2026-12, not {month!r}") from None
