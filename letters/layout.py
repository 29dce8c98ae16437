"""A small page-flow engine for letters and slips.

Layout and drawing are separate passes: :class:`Flow` places text and rules into per-page lists
of operations, :func:`emit` draws them on a reportlab canvas.  Knowing every page before drawing
gives "1 / 3" page numbers, and lets tests inspect exactly what was placed where.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfdoc import xObjectName
from reportlab.pdfgen.canvas import Canvas

from letters._pdf import TextWriter
from letters.text import width_of, wrap

# BIZ UD fonts: ascent 0.88 em, descent 0.12 em (hhea, units/1000).  Used for line boxes.
ASCENT = 0.88
DESCENT = 0.12


@dataclass(slots=True)
class TextOp:
    x: float
    y: float  # baseline
    text: str
    font: str
    size: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of the glyph boxes, in points."""
        return (
            self.x,
            self.y - DESCENT * self.size,
            self.x + width_of(self.text, self.font, self.size),
            self.y + ASCENT * self.size,
        )


@dataclass(slots=True)
class RuleOp:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float = 0.6


@dataclass(slots=True)
class RectOp:
    x: float
    y: float
    w: float
    h: float
    width: float = 0.6
    fill_gray: float | None = None  # 0 black … 1 white; None: no fill


#: Blocks are laid out on a virtual page whose top edge is this high, far above any real page.
BLOCK_TOP = 10_000.0


@dataclass(slots=True, eq=False)
class Block:
    """Ops laid out once (top edge at :data:`BLOCK_TOP`) and drawn on many pages: the first use in
    a document defines a form XObject, every use after that is one ``Do`` (the static parts of a
    packing slip: headings, return instructions, the table header)."""

    name: str  # unique within a document
    ops: list  # list[Op], in virtual-page coordinates
    height: float

    def texts(self, dy: float) -> list[TextOp]:
        """The block's text ops as they land when placed ``dy`` points lower than laid out."""
        return [TextOp(op.x, op.y + dy, op.text, op.font, op.size) for op in self.ops if type(op) is TextOp]


@dataclass(slots=True)
class FormOp:
    """A :class:`Block` placed on a page, moved by ``dy`` points (negative: down)."""

    block: Block
    dy: float


Op = TextOp | RuleOp | RectOp | FormOp


@dataclass(slots=True)
class Frame:
    page_w: float
    page_h: float
    left: float
    right: float
    top: float
    bottom: float

    @property
    def width(self) -> float:
        return self.page_w - self.left - self.right

    @property
    def x0(self) -> float:
        return self.left

    @property
    def x1(self) -> float:
        return self.page_w - self.right


@dataclass(slots=True)
class Cell:
    text: str
    font: str
    size: float
    align: str = "left"
    fill_gray: float | None = None
    min_lines: int = 1
    hang: float = 0.0  # continuation lines of each paragraph start this far in (□ check boxes)


@dataclass
class Flow:
    frame: Frame
    #: called with the flow at the top of every page after the first (running headers)
    on_new_page: Callable[[Flow], None] | None = None
    pages: list[list[Op]] = field(default_factory=lambda: [[]])
    y: float = 0.0
    #: streaming: each finished page is handed over (and forgotten) instead of kept in ``pages``
    page_sink: Callable[[list[Op]], None] | None = None
    pages_done: int = 0

    def __post_init__(self) -> None:
        self.y = self.frame.page_h - self.frame.top

    # -- pages ---------------------------------------------------------------------------------
    @property
    def ops(self) -> list[Op]:
        return self.pages[-1]

    def new_page(self) -> None:
        if self.page_sink is not None:
            self.page_sink(self.pages.pop())
        self.pages_done += 1
        self.pages.append([])
        self.y = self.frame.page_h - self.frame.top
        if self.on_new_page is not None:
            self.on_new_page(self)

    def finish(self) -> None:
        """Streaming: hand over the last page."""
        if self.page_sink is not None and self.pages:
            self.page_sink(self.pages.pop())
            self.pages_done += 1

    def at_top(self) -> bool:
        return self.y >= self.frame.page_h - self.frame.top - 1e-6

    def room(self) -> float:
        return self.y - self.frame.bottom

    def need(self, height: float) -> None:
        """Start a new page unless ``height`` points still fit on this one."""
        if height > self.room() + 1e-6 and not self.at_top():
            self.new_page()

    def space(self, height: float) -> None:
        self.y -= height
        if self.y < self.frame.bottom:
            self.new_page()

    # -- text ----------------------------------------------------------------------------------
    def text_at(self, x: float, baseline: float, text: str, font: str, size: float) -> TextOp:
        op = TextOp(x, baseline, text, font, size)
        self.ops.append(op)
        return op

    def line(
        self,
        text: str,
        font: str,
        size: float,
        *,
        leading: float | None = None,
        align: str = "left",
        indent: float = 0.0,
        width: float | None = None,
        x: float | None = None,
    ) -> None:
        """One line of text (must already fit); advances the cursor by ``leading``."""
        leading = leading or size * 1.5
        self.need(leading)
        left = (self.frame.x0 if x is None else x) + indent
        avail = (self.frame.x1 - left) if width is None else width
        w = width_of(text, font, size)
        if align == "center":
            tx = left + (avail - w) / 2
        elif align == "right":
            tx = left + avail - w
        else:
            tx = left
        baseline = self.y - (leading - size) / 2 - ASCENT * size
        self.text_at(tx, baseline, text, font, size)
        self.y -= leading

    def paragraph(
        self,
        text: str,
        font: str,
        size: float,
        *,
        leading: float | None = None,
        first_indent: float = 0.0,
        indent: float = 0.0,
        width: float | None = None,
        align: str = "left",
        x: float | None = None,
    ) -> int:
        """Wrapped text; ``first_indent`` adds to ``indent`` on the first line (字下げ), a negative
        one makes a hanging indent.  Returns the number of lines."""
        leading = leading or size * 1.5
        left = (self.frame.x0 if x is None else x) + indent
        avail = (self.frame.x1 - left) if width is None else width
        n = 0
        for hard in text.split("\n"):
            first = True
            lines: list[str]
            if first_indent > 0:
                # wrap the first line narrower, the rest at full width
                head = wrap(hard, font, size, avail - first_indent)
                first_line = head[0] if head else ""
                rest = hard[len(first_line) :].lstrip(" \u3000") if head else ""
                lines = [first_line] + (wrap(rest, font, size, avail) if rest else [])
            elif first_indent < 0:
                head = wrap(hard, font, size, avail - first_indent)
                first_line = head[0] if head else ""
                rest = hard[len(first_line) :].lstrip(" \u3000") if head else ""
                lines = [first_line] + (wrap(rest, font, size, avail) if rest else [])
            else:
                lines = wrap(hard, font, size, avail)
            break_at = self._keep_lines(len(lines), leading)
            for k, ln in enumerate(lines):
                if k == break_at:
                    self.new_page()
                shift = first_indent if first else 0.0
                self.line(
                    ln,
                    font,
                    size,
                    leading=leading,
                    align=align,
                    indent=indent + shift,
                    width=avail - shift,
                    x=x,
                )
                first = False
                n += 1
        return n

    def _keep_lines(self, n: int, leading: float) -> int | None:
        """Widow/orphan control for a paragraph of ``n`` lines: never leave a single line alone on
        a page.  May start a new page now; returns the index of a line that must start a new page."""
        fit = int((self.room() + 1e-6) // leading)
        if fit >= n or self.at_top():
            return None
        if fit < 2 or n <= 3:
            self.new_page()
            return None
        if n - fit < 2:
            return fit - 1  # carry one more line so two go over
        return None

    def place(self, block: Block) -> None:
        """Draw ``block`` here as a whole (a new page first when it does not fit)."""
        self.need(block.height)
        self.ops.append(FormOp(block, self.y - BLOCK_TOP))
        self.y -= block.height

    def rule(self, x1: float, x2: float, width: float = 0.6) -> None:
        self.ops.append(RuleOp(x1, self.y, x2, self.y, width))

    # -- tables --------------------------------------------------------------------------------
    def table(
        self,
        rows: Sequence[Sequence[Cell]],
        col_widths: Sequence[float],
        *,
        pad: float = 1.5 * mm,
        leading_factor: float = 1.45,
        border: float = 0.6,
        header_rows: int = 0,
        x: float | None = None,
        keep_together: bool = False,
    ) -> None:
        """A ruled table; rows never split across pages, header rows repeat on a new page."""
        left = self.frame.x0 if x is None else x
        laid = [self._layout_row(r, col_widths, pad, leading_factor) for r in rows]
        headers = laid[:header_rows]
        if keep_together:
            self.need(sum(h for _, h in laid))
        for i, (cells, height) in enumerate(laid):
            if height > self.room() + 1e-6:
                self.new_page()
                if i >= header_rows:
                    for hcells, hh in headers:
                        self._draw_row(hcells, hh, col_widths, left, pad, leading_factor, border)
            self._draw_row(cells, height, col_widths, left, pad, leading_factor, border)

    @staticmethod
    def _layout_row(row: Sequence[Cell], col_widths: Sequence[float], pad: float, lf: float):
        cells = []
        height = 0.0
        for cell, cw in zip(row, col_widths, strict=True):
            lines: list[tuple[str, float]] = []
            for hard in cell.text.split("\n") if cell.text else []:
                first = wrap(hard, cell.font, cell.size, cw - 2 * pad)
                if cell.hang and len(first) > 1:
                    rest = hard[len(first[0]) :].lstrip(" \u3000")
                    lines.append((first[0], 0.0))
                    lines.extend(
                        (ln, cell.hang) for ln in wrap(rest, cell.font, cell.size, cw - 2 * pad - cell.hang)
                    )
                else:
                    lines.extend((ln, 0.0) for ln in first)
            n = max(len(lines), cell.min_lines)
            h = n * cell.size * lf + 2 * pad
            cells.append((cell, lines))
            height = max(height, h)
        return cells, height

    def _draw_row(self, cells, height, col_widths, left, pad, lf, border) -> None:
        x = left
        top = self.y
        for (cell, lines), cw in zip(cells, col_widths, strict=True):
            self.ops.append(RectOp(x, top - height, cw, height, border, cell.fill_gray))
            leading = cell.size * lf
            # vertically centre single-line cells, top-align multi-line ones
            block = len(lines) * leading
            y = top - pad - (max(0.0, (height - 2 * pad - block) / 2) if len(lines) <= 1 else 0.0)
            for ln, hang in lines:
                w = width_of(ln, cell.font, cell.size)
                if cell.align == "center":
                    tx = x + (cw - w) / 2
                elif cell.align == "right":
                    tx = x + cw - pad - w
                else:
                    tx = x + pad + hang
                baseline = y - (leading - cell.size) / 2 - ASCENT * cell.size
                self.text_at(tx, baseline, ln, cell.font, cell.size)
                y -= leading
            x += cw
        self.y = top - height


def lay_out_block(name: str, frame: Frame, build: Callable[[Flow], None]) -> Block:
    """Run ``build`` on a flow as wide as ``frame`` but endless, and keep what it placed as a block."""
    flow = Flow(Frame(frame.page_w, BLOCK_TOP, frame.left, frame.right, 0.0, -BLOCK_TOP))
    build(flow)
    if len(flow.pages) != 1:
        raise ValueError(f"block {name!r} broke across pages")
    return Block(name, flow.pages[0], BLOCK_TOP - flow.y)


def writer_for(canvas: Canvas) -> TextWriter:
    """One text writer per canvas, so its encoding cache serves the whole document."""
    writer = getattr(canvas, "_outreach_text_writer", None)
    if writer is None:
        writer = TextWriter(canvas)
        canvas._outreach_text_writer = writer  # type: ignore[attr-defined]
    return writer


def draw_page(canvas: Canvas, ops: Sequence[Op], *, trace: list | None = None, page_index: int = 0,
              writer: TextWriter | None = None, end_page: bool = True) -> None:
    """Draw one page of ops and end the page (text through a ``TextWriter``: raw operators, cached)."""
    writer = writer or writer_for(canvas)
    _draw_ops(canvas, writer, ops, trace, page_index)
    if end_page:
        canvas.showPage()


def _draw_ops(canvas: Canvas, writer: TextWriter, ops: Sequence[Op], trace: list | None, page_index: int) -> None:
    text = writer.text
    code = canvas._code  # a form definition swaps the canvas's list: re-read after each one
    for op in ops:
        kind = type(op)
        if kind is TextOp:
            text(op.x, op.y, op.text, op.font, op.size)  # type: ignore[union-attr]
            if trace is not None:
                trace.append((page_index, op))
        elif kind is FormOp:
            block = op.block  # type: ignore[union-attr]
            if _use_form(canvas, writer, block):
                code = canvas._code
            code.append(f"q 1 0 0 1 0 {op.dy:.2f} cm /{xObjectName(block.name)} Do Q")  # type: ignore[union-attr]
            if trace is not None:
                trace.extend((page_index, t) for t in block.texts(op.dy))  # type: ignore[union-attr]
        elif kind is RuleOp:
            code.append(f"{op.width:.2f} w {op.x1:.2f} {op.y1:.2f} m {op.x2:.2f} {op.y2:.2f} l S")  # type: ignore[union-attr]
        elif kind is RectOp:
            box = f"{op.x:.2f} {op.y:.2f} {op.w:.2f} {op.h:.2f} re"  # type: ignore[union-attr]
            if op.fill_gray is not None:  # type: ignore[union-attr]
                code.append(f"{op.fill_gray:.3f} g {box} f 0 g")  # type: ignore[union-attr]
            if op.width:  # type: ignore[union-attr]
                code.append(f"{op.width:.2f} w {box} S")  # type: ignore[union-attr]


def _use_form(canvas: Canvas, writer: TextWriter, block: Block) -> bool:
    """Make ``block`` a form of this document (once) and list it in the page's resources; True when
    the form was defined just now."""
    defined = getattr(canvas, "_outreach_forms", None)
    if defined is None:
        defined = canvas._outreach_forms = set()  # type: ignore[attr-defined]
    fresh = block.name not in defined
    if fresh:
        defined.add(block.name)
        canvas.beginForm(
            block.name, lowerx=0, lowery=BLOCK_TOP - block.height - 4, upperx=canvas._pagesize[0], uppery=BLOCK_TOP + 4
        )
        _draw_ops(canvas, writer, block.ops, None, 0)
        canvas.endForm()  # (on a page with nothing drawn yet, this starts the page's lists afresh)
    if block.name not in canvas._formsinuse:  # the page's resources name each form once
        canvas._formsinuse.append(block.name)
    return fresh


def emit(
    canvas: Canvas,
    pages: Sequence[Sequence[Op]],
    *,
    footer: Callable[[int, int], TextOp | None] | None = None,
    trace: list[tuple[int, TextOp]] | None = None,
    page_offset: int = 0,
) -> int:
    """Draw laid-out pages on ``canvas`` (one ``showPage`` each); returns the number of pages.

    ``footer(page_no, total)`` may return a page-number op.  With ``trace`` every text op is
    recorded with its absolute page index, for tests that check nothing leaves its frame."""
    total = len(pages)
    writer = writer_for(canvas)
    for i, ops in enumerate(pages, start=1):
        extra = footer(i, total) if footer else None
        draw_page(canvas, list(ops) + ([extra] if extra else []), trace=trace, page_index=page_offset + i - 1,
                  writer=writer)
    return total
