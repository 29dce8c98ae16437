"""Packing slips (貸出資料一覧, one per shipment, in the parcel) and the staff pick list
(出庫リスト, every item to fetch, in shelf order).

Both take iterables and draw as they go: a slip is laid out and drawn before the next one is
read; the pick list hands each finished page to the canvas and forgets it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm

from letters import wording
from letters._dates import wareki
from letters._pdf import binary_streams, new_canvas
from letters.data import PickLine, SlipData
from letters.fonts import GOTHIC, GOTHIC_BOLD
from letters.layout import Cell, Flow, Frame, RectOp, TextOp, draw_page, emit
from letters.text import width_of, wrap

PAGE_W, PAGE_H = A4

__all__ = ["render_pick_list", "render_slips", "shelf_key"]


def _material_name(common: dict, material: object) -> str:
    value = getattr(material, "value", material)
    return str(common.get("materials", {}).get(value, value))


# ----------------------------------------------------------------------------------------------
# packing slips


def render_slips(
    slips: Iterable[SlipData], *, template_dir: Path | None = None, trace: list | None = None
) -> bytes:
    """Packing slips as one PDF, each slip starting on a new page ("1 / 2" when it runs over)."""
    buf = io.BytesIO()
    canvas = None
    page = 0
    for slip in slips:
        if canvas is None:
            canvas = new_canvas(buf, title="貸出資料一覧", author=slip.library.name)
        pages, footer = _layout_slip(slip, template_dir)
        page += emit(canvas, pages, footer=footer, trace=trace, page_offset=page)
    if canvas is None:
        raise ValueError("no slips to render")
    with binary_streams():
        canvas.save()
    return buf.getvalue()


def _layout_slip(slip: SlipData, template_dir: Path | None):
    large = slip.large_print
    body = 18.0 if large else 10.5
    small = 18.0 if large else 9.0
    title_size = 22.0 if large else 15.0
    margin = 15 * mm
    common = wording.load("common", slip.service.value, template_dir=template_dir)
    t = wording.load("slip", slip.service.value, template_dir=template_dir)
    lib = slip.library
    books = sum(1 for it in slip.items if not it.material.is_audio_visual)
    values: dict[str, object] = {k: v for k, v in common.items() if isinstance(v, str)}
    values.update(
        patron_name=slip.patron_name,
        library_name=lib.name,
        section=lib.section,
        library_phone=lib.phone,
        library_fax=lib.fax,
        shipped_on=wareki(slip.shipped_on) if slip.shipped_on else "",
        shipment_ref=slip.shipment_ref,
        due_on=wareki(slip.due_on, weekday=True),
        count=len(slip.items),
        books=books,
        av=len(slip.items) - books,
    )

    def fill(key: str) -> str:
        return wording.fill(t.get(key, ""), values, where=f"slip.{key}")

    def continued(flow: Flow) -> None:
        flow.line(fill("continued"), GOTHIC, small, leading=small * 1.6)

    frame = Frame(PAGE_W, PAGE_H, margin, margin, margin, margin + small * 1.5)
    flow = Flow(frame, on_new_page=continued)
    lead = body * 1.55
    for ln in wrap(fill("title"), GOTHIC_BOLD, title_size, frame.width):
        flow.line(ln, GOTHIC_BOLD, title_size, leading=title_size * 1.5, align="center")
    for key, needed in (("shipped_line", slip.shipped_on), ("shipment_line", slip.shipment_ref)):
        if needed:
            flow.paragraph(fill(key), GOTHIC, small, leading=small * 1.5, align="right")
    flow.space(body * 0.3)
    name_size = 22.0 if large else 14.0
    flow.paragraph(fill("greeting"), GOTHIC, name_size, leading=name_size * 1.6)
    flow.paragraph(fill("intro"), GOTHIC, body, leading=lead)
    flow.space(body * 0.5)

    # the due date, boxed and bold: the one fact a patron must not miss
    due_size = 24.0 if large else 16.0
    due_text = f"{t.get('due_label', '')}　{values['due_on']}"
    due_lines = wrap(due_text, GOTHIC_BOLD, due_size, frame.width - 8 * mm)
    box_h = len(due_lines) * due_size * 1.4 + 4 * mm
    flow.need(box_h)
    box_w = max(width_of(s, GOTHIC_BOLD, due_size) for s in due_lines) + 8 * mm
    flow.ops.append(RectOp(frame.x0, flow.y - box_h, box_w, box_h, 1.2))
    flow.y -= 2 * mm
    for ln in due_lines:
        flow.line(
            ln, GOTHIC_BOLD, due_size, leading=due_size * 1.4, x=frame.x0 + 4 * mm, width=box_w - 8 * mm
        )
    flow.y -= 2 * mm
    flow.space(body * 0.8)

    # the items
    if large:
        heads = list(t.get("columns_large", ["No.", "書名", "種別"]))
        widths = [14 * mm, frame.width - 14 * mm - 40 * mm, 40 * mm]
    else:
        heads = list(t.get("columns", ["No.", "資料番号", "書名", "種別", "返却確認"]))
        widths = [11 * mm, 33 * mm, frame.width - 11 * mm - 33 * mm - 24 * mm - 18 * mm, 24 * mm, 18 * mm]
    rows = [[Cell(h, GOTHIC, body if large else small, align="center", fill_gray=0.88) for h in heads]]
    for i, it in enumerate(slip.items, start=1):
        material = _material_name(common, it.material)
        if large:
            bc = (
                wording.fill(
                    t.get("barcode_in_title", "${barcode}"),
                    dict(values, barcode=it.barcode),
                    where="slip.barcode_in_title",
                )
                if it.barcode
                else ""
            )
            rows.append(
                [
                    Cell(str(i), GOTHIC, body, align="center"),
                    Cell(it.title + ("\n" + bc if bc else ""), GOTHIC, body),
                    Cell(material, GOTHIC, body, align="center"),
                ]
            )
        else:
            rows.append(
                [
                    Cell(str(i), GOTHIC, body, align="center"),
                    Cell(it.barcode, GOTHIC, small),
                    Cell(it.title, GOTHIC, body),
                    Cell(material, GOTHIC, small, align="center"),
                    Cell("□", GOTHIC, body, align="center"),
                ]
            )
    flow.table(rows, widths, pad=1.6 * mm, header_rows=1)
    flow.space(body * 0.3)
    flow.paragraph(fill("count_line"), GOTHIC, body, leading=lead, align="right")

    # how to return
    steps = wording.entries(t, "return_steps", values)
    if steps:
        flow.space(body * 0.6)
        flow.need(lead * 3)
        flow.line(t.get("return_heading", ""), GOTHIC_BOLD, body, leading=lead)
        for n, st in enumerate(steps, start=1):
            mark = f"{n}．"
            flow.paragraph(
                mark + st["text"], GOTHIC, body, leading=lead, indent=body * 2, first_indent=-body * 2
            )
    flow.space(body * 0.6)
    flow.paragraph(fill("contact"), GOTHIC, body, leading=lead)

    def footer(page_no: int, total: int) -> TextOp | None:
        if total <= 1:
            return None
        text = f"{page_no} / {total}"
        return TextOp((PAGE_W - width_of(text, GOTHIC, small)) / 2, 8 * mm, text, GOTHIC, small)

    return flow.pages, footer


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
    template_dir: Path | None = None,
    trace: list | None = None,
) -> bytes:
    """The staff pick list in shelf order (配架場所, then call number).

    By default the lines are sorted here (so they are read into memory).  For very large runs
    pass lines already ordered by the database and ``presorted=True``: they are then drawn as
    they arrive, page by page."""
    source = lines if presorted else sorted(lines, key=_pick_sort_key)
    common = wording.load("common", None, template_dir=template_dir)
    t = wording.load("pick_list", None, template_dir=template_dir)
    values: dict[str, object] = {"printed_on": wareki(printed_on) if printed_on else ""}
    size = 9.0
    head_size = 13.0
    margin = 12 * mm
    buf = io.BytesIO()
    # landscape: titles get a wide column and most rows stay on one line
    page_w, page_h = landscape(A4)
    canvas = new_canvas(
        buf,
        title=wording.fill(t.get("title", ""), values, where="pick_list.title"),
        pagesize=(page_w, page_h),
    )
    frame = Frame(page_w, page_h, margin, margin, margin, margin + size * 2)
    heads = list(t.get("columns", ["✓", "配架場所", "請求記号", "資料番号", "書名", "種別", "発送番号"]))
    widths = [8 * mm, 24 * mm, 34 * mm, 30 * mm, 0.0, 22 * mm, 34 * mm]
    widths[4] = frame.width - sum(widths)
    head_cells = [Cell(h, GOTHIC, size, align="center", fill_gray=0.88) for h in heads]
    title = wording.fill(t.get("title", ""), values, where="pick_list.title")
    subtitle = wording.fill(t.get("subtitle", ""), values, where="pick_list.subtitle")
    state = {"page": 0}

    def sink(ops: list) -> None:
        state["page"] += 1
        text = wording.fill(t.get("page", "${page}"), {"page": state["page"]}, where="pick_list.page")
        ops.append(TextOp((page_w - width_of(text, GOTHIC, size)) / 2, 7 * mm, text, GOTHIC, size))
        draw_page(canvas, ops, trace=trace, page_index=state["page"] - 1)

    def heading(flow: Flow) -> None:
        flow.line(title, GOTHIC_BOLD, head_size, leading=head_size * 1.5)
        if subtitle:
            flow.line(subtitle, GOTHIC, size, leading=size * 1.6)
        flow.table([head_cells], widths, pad=1.2 * mm)

    flow = Flow(frame, on_new_page=heading, page_sink=sink)
    heading(flow)
    count = 0
    for line in source:
        count += 1
        row = [
            Cell("□", GOTHIC, size, align="center"),
            Cell(line.library_location, GOTHIC, size),
            Cell(line.shelf_location, GOTHIC, size),
            Cell(line.barcode, GOTHIC, size),
            Cell(line.title, GOTHIC, size),
            Cell(_material_name(common, line.material), GOTHIC, size),
            Cell(line.shipment_ref, GOTHIC, size),
        ]
        flow.table([row], widths, pad=1.2 * mm)
    flow.space(size)
    flow.line(
        wording.fill(t.get("total_line", ""), {"count": count}, where="pick_list.total_line"),
        GOTHIC_BOLD,
        size + 1,
        leading=size * 1.8,
        align="right",
    )
    flow.finish()
    with binary_streams():
        canvas.save()
    return buf.getvalue()
