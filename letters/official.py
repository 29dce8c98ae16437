"""Official letters (公文書) on A4: 様式第１号 application forms, 様式第２号 approvals, 様式第３号
rejections, renewal notices, service-ended notices and overdue reminders.

Layout (normal print): form label top left; document number and date top right; addressee block
top left (〒, address, 様方 line, name 様); signer right; centred title; body; 記 with numbered
items; notes; 以上; contact block at the foot.  Large print (``large_print=True``) sets every
string in BIZ UDGothic at 18 pt or more and stacks the header blocks so nothing overlaps.
Wording comes from ``letters/templates/<lang>/<kind>.toml`` (see :mod:`letters.wording`).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from letters import wording
from letters._dates import wareki
from letters._pdf import new_canvas
from letters.data import ApplicantDetails, LetterData, LetterKind
from letters.fonts import GOTHIC, GOTHIC_BOLD, MINCHO
from letters.layout import Cell, Flow, Frame, RectOp, TextOp, emit
from letters.text import width_of, wrap
from outreach.calendar import age_on  # the age as Japanese law counts it (年齢計算ニ関スル法律)

PAGE_W, PAGE_H = A4
FULL_SPACE = "\u3000"


@dataclass(frozen=True, slots=True)
class Style:
    body_font: str
    body: float  # body size, pt
    leading: float  # multiple of the size
    label_font: str  # 記 labels, table labels
    title_font: str
    title: float
    name: float  # addressee name line
    small: float  # form label, footnotes, page numbers (never below 18 in large print)
    margins: tuple[float, float, float, float]  # left, right, top, bottom
    label_col: float  # application-form label column width; 0: label above the value (large print)
    stacked_header: bool


NORMAL = Style(
    MINCHO,
    10.5,
    1.75,
    GOTHIC,
    GOTHIC_BOLD,
    15.0,
    13.0,
    9.0,
    (25 * mm, 20 * mm, 15 * mm, 18 * mm),
    38 * mm,
    False,
)
LARGE = Style(
    GOTHIC, 18.0, 1.5, GOTHIC, GOTHIC_BOLD, 22.0, 22.0, 18.0, (15 * mm, 15 * mm, 15 * mm, 15 * mm), 0.0, True
)

#: Minimum size of every string in a large-print document.
LARGE_PRINT_MIN_PT = 18.0


def style_for(large_print: bool) -> Style:
    return LARGE if large_print else NORMAL


# ----------------------------------------------------------------------------------------------
# values for the ${placeholders}


def _d(d: date | None) -> str:
    return wareki(d) if d else ""


def letter_values(data: LetterData, common: dict[str, Any]) -> dict[str, object]:
    lib = data.library
    values: dict[str, object] = {k: v for k, v in common.items() if isinstance(v, str | int | float)}
    values.update(
        library_name=lib.name,
        section=lib.section,
        library_postal_code=lib.postal_code,
        library_address=lib.address,
        library_phone=lib.phone,
        library_fax=lib.fax,
        library_email=lib.email,
        signer=lib.signer,
        head_title=lib.head_title,
        contact_person=data.contact_person,
        document_number=data.document_number,
        patron_name=data.addressee.name if data.addressee else "",
        issued_on=_d(data.issued_on),
        applied_on=_d(data.applied_on),
        valid_from=_d(data.valid_from),
        valid_until=_d(data.valid_until),
        rejection_reason=data.rejection_reason,
        ended_on=_d(data.ended_on),
        ending_reason=data.ending_reason,
        renewal_deadline=_d(data.renewal_deadline),
        overdue_count=len(data.overdue_items),
    )
    values.update({k: ("" if v is None else v) for k, v in data.extra_values.items()})
    return values


# ----------------------------------------------------------------------------------------------
# public API


def render_letter(data: LetterData, *, template_dir: Path | None = None, trace: list | None = None) -> bytes:
    """One letter as PDF bytes.  ``template_dir`` overrides the bundled wording; ``trace`` (a list)
    receives ``(page_index, TextOp)`` for every string drawn."""
    return render_letters([data], template_dir=template_dir, trace=trace)


def render_letters(
    letters: Iterable[LetterData], *, template_dir: Path | None = None, trace: list | None = None
) -> bytes:
    """Many letters in one PDF (a month's renewal notices …), each starting on a new page with
    its own page numbers.  Letters are laid out and drawn one at a time."""
    buf = io.BytesIO()
    canvas = None
    page = 0
    for data in letters:
        if canvas is None:
            canvas = new_canvas(buf, title=_doc_title(data, template_dir), author=data.library.name)
        pages, st = _layout(data, template_dir)
        page += emit(canvas, pages, footer=_footer(st), trace=trace, page_offset=page)
    if canvas is None:
        raise ValueError("no letters to render")
    canvas.save()
    return buf.getvalue()


def _doc_title(data: LetterData, template_dir: Path | None) -> str:
    """PDF title metadata: the letter's title (service name only, never personal data)."""
    common = wording.load("common", data.service.value, template_dir=template_dir)
    table = wording.load(data.kind.value, data.service.value, template_dir=template_dir)
    return wording.fill(table.get("title", data.kind.value), letter_values(data, common), where="title")


def _footer(st: Style):
    def footer(page_no: int, total: int) -> TextOp | None:
        if total <= 1:
            return None
        text = f"{page_no} / {total}"
        w = width_of(text, st.label_font, st.small)
        return TextOp((PAGE_W - w) / 2, 8 * mm, text, st.label_font, st.small)

    return footer


def _frame(st: Style) -> Frame:
    left, right, top, bottom = st.margins
    # keep room for the page number under the text
    return Frame(PAGE_W, PAGE_H, left, right, top, bottom + (st.small * 1.2 if st.stacked_header else 4 * mm))


def _layout(data: LetterData, template_dir: Path | None):
    st = style_for(data.large_print)
    service = data.service.value
    common = wording.load("common", service, template_dir=template_dir)
    table = wording.load(data.kind.value, service, template_dir=template_dir)
    values = letter_values(data, common)
    flow = Flow(_frame(st))
    if data.kind is LetterKind.APPLICATION_FORM:
        _application_form(flow, st, data, table, values)
    else:
        _header(flow, st, data, table, values)
        _body(flow, st, data, table, values)
        _contact(flow, st, common, values)
    return flow.pages, st


# ----------------------------------------------------------------------------------------------
# letter parts


def _date_line(data: LetterData) -> str:
    assert data.issued_on is not None
    return wareki(data.issued_on, western=data.show_western_year)


def _header(flow: Flow, st: Style, data: LetterData, table: dict, values: dict) -> None:
    fr = flow.frame
    form_label = wording.fill(table.get("form_label", ""), values, where="form_label")
    right_lines = [s for s in (data.document_number, _date_line(data)) if s]
    lead = st.body * st.leading
    if st.stacked_header:
        if form_label:
            flow.line(form_label, st.label_font, st.small, leading=st.small * 1.4)
        for s in right_lines:
            flow.paragraph(s, st.body_font, st.body, leading=st.body * 1.4, align="right")
        flow.space(st.body * 0.6)
        _address_block(flow, st, data, x=fr.x0, width=fr.width)
    else:
        top = flow.y
        if form_label:
            flow.text_at(fr.x0, PAGE_H - 10 * mm - st.small, form_label, st.label_font, st.small)
        # right block: document number and date, right-aligned
        flow.y = PAGE_H - 20 * mm
        for s in right_lines:
            flow.line(s, st.body_font, st.body, leading=lead, align="right")
        right_bottom = flow.y
        # address block (left, ~window of a 長3 envelope when folded in three)
        flow.y = PAGE_H - 24 * mm
        _address_block(flow, st, data, x=fr.x0, width=min(95 * mm, fr.width * 0.6))
        flow.y = min(flow.y, right_bottom, top)
    # signer, right
    flow.space(st.body * (0.8 if st.stacked_header else 1.2))
    lib = data.library
    flow.paragraph(
        lib.signer,
        st.body_font,
        st.name if not st.stacked_header else st.body,
        leading=(st.name if not st.stacked_header else st.body) * 1.5,
        align="right",
    )
    if lib.seal_note:
        flow.line(
            lib.seal_note,
            st.body_font,
            st.body if st.stacked_header else st.body,
            leading=st.body * 1.4,
            align="right",
        )
    # title
    title = wording.fill(table.get("title", ""), values, where="title")
    flow.space(st.title * 0.9)
    for ln in wrap(title, st.title_font, st.title, fr.width):
        flow.line(ln, st.title_font, st.title, leading=st.title * 1.5, align="center")
    flow.space(st.title * 0.6)


def _address_block(flow: Flow, st: Style, data: LetterData, *, x: float, width: float) -> None:
    to = data.addressee
    assert to is not None
    size = st.body if st.stacked_header else 11.0
    lead = size * 1.45
    if to.postal_code:
        flow.line(f"〒{to.postal_code}", st.body_font, size, leading=lead, x=x, width=width)
    for ln in to.address_lines:
        flow.paragraph(ln, st.body_font, size, leading=lead, x=x, width=width, indent=0)
    flow.space(size * 0.5)
    indent = size  # names sit one character in from the address, as on envelopes
    if to.care_of_line:
        flow.paragraph(to.care_of_line, st.body_font, size, leading=lead, x=x + indent, width=width - indent)
    _name_line(flow, st.body_font, st.name, to.name, to.honorific, x=x + indent, width=width - indent)


def _name_line(
    flow: Flow, font: str, size: float, name: str, honorific: str, *, x: float, width: float
) -> None:
    """``山田 花子　様``; a name too long for one line wraps, and 様 always stays on the last line."""
    text = f"{name}{FULL_SPACE}{honorific}" if honorific else name
    if width_of(text, font, size) <= width:
        flow.line(text, font, size, leading=size * 1.4, x=x, width=width)
        return
    lines = wrap(name, font, size, width)
    last = lines[-1] + FULL_SPACE + honorific
    if width_of(last, font, size) > width:
        lines.append(honorific)
    else:
        lines[-1] = last
    for ln in lines:
        flow.line(ln, font, size, leading=size * 1.4, x=x, width=width)


def _body(flow: Flow, st: Style, data: LetterData, table: dict, values: dict) -> None:
    fr = flow.frame
    lead = st.body * st.leading
    for p in wording.entries(table, "paragraphs", values):
        flow.paragraph(p["text"], st.body_font, st.body, leading=lead, first_indent=st.body)
    items = wording.entries(table, "items", values, fields=("label", "value"))
    if items:
        flow.space(lead * 0.4)
        flow.line("記", st.body_font, st.body, leading=lead * 1.3, align="center")
        flow.space(lead * 0.2)
        _items(flow, st, data, table, values, items)
    notes = wording.entries(table, "notes", values)
    if notes:
        flow.space(lead * 0.4)
        heading = table.get("notes_heading", "")
        if heading:
            flow.line(heading, st.body_font, st.body, leading=lead)
        for n in notes:
            # hanging indent: "・" then the text aligned after it
            flow.paragraph(
                "・" + n["text"],
                st.body_font,
                st.body,
                leading=lead,
                indent=st.body * 1.0,
                first_indent=-st.body,
            )
    closing = table.get("closing", "")
    if closing:
        flow.line(closing, st.body_font, st.body, leading=lead, align="right")
    del fr


def _items(flow: Flow, st: Style, data: LetterData, table: dict, values: dict, items: list[dict]) -> None:
    """The 記 section: ``１　承認期間　令和…から令和…まで``; a lone item goes unnumbered."""
    fr = flow.frame
    lead = st.body * st.leading
    font = st.body_font
    numbered = len(items) > 1
    num_w = st.body * 2 if numbered else 0.0
    labels = [it.get("label", "") for it in items if "list" not in it]
    label_w = max((width_of(lb, font, st.body) for lb in labels), default=0.0) + st.body * 1.5
    # large print: label above its value, so values get the whole measure
    stacked = st.stacked_header or label_w > (fr.width - num_w) * 0.4
    for i, it in enumerate(items, start=1):
        head = f"{_fw_number(i)}{FULL_SPACE}" if numbered else ""
        label = it.get("label", "")
        if "list" in it:
            flow.need(lead * 2)
            flow.paragraph(head + label, font, st.body, leading=lead)
            for line in _list_lines(it["list"], data, table, values):
                flow.paragraph(
                    "・" + line, font, st.body, leading=lead, indent=num_w + st.body, first_indent=-st.body
                )
            continue
        value = it.get("value", "")
        if stacked:
            flow.need(lead * 2)
            flow.paragraph(head + label, font, st.body, leading=lead)
            flow.paragraph(value, font, st.body, leading=lead, indent=num_w + st.body)
            flow.space(lead * 0.15)
            continue
        # label and value side by side: the label shares the value's first baseline
        vx = fr.x0 + num_w + label_w
        n = len(wrap(value, font, st.body, fr.x1 - vx))
        flow.need(lead * min(n, 2))
        y0 = flow.y
        flow.line(head + label, font, st.body, leading=lead)
        flow.y = y0
        flow.paragraph(value, font, st.body, leading=lead, x=vx, width=fr.x1 - vx)
        flow.space(lead * 0.15)


def _list_lines(name: str, data: LetterData, table: dict, values: dict) -> list[str]:
    if name != "overdue_items":
        raise wording.WordingError(f"unknown list {name!r} in {data.kind.value} wording")
    out = []
    for item in data.overdue_items:
        v = dict(values, title=item.title, barcode=item.barcode, due_on=_d(item.due_on))
        key = "overdue_item" if item.barcode else "overdue_item_no_barcode"
        out.append(wording.fill(table.get(key, "${title}"), v, where=key))
    return out


def _fw_number(i: int) -> str:
    return str(i).translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def _contact(flow: Flow, st: Style, common: dict, values: dict) -> None:
    fr = flow.frame
    lines = [e["text"] for e in wording.entries(common, "contact", values)]
    heading = wording.fill(common.get("contact_heading", ""), values, where="contact_heading")
    size = st.body if st.stacked_header else 10.0
    lead = size * 1.45
    pad = 2.5 * mm
    max_w = fr.width - 2 * pad if st.stacked_header else fr.width * 0.62
    wrapped = [
        w for ln in ([heading] if heading else []) + lines for w in wrap(ln, st.label_font, size, max_w)
    ]
    box_w = max(width_of(w, st.label_font, size) for w in wrapped) + 2 * pad
    box_h = len(wrapped) * lead + 2 * pad
    flow.space(lead * 0.8)
    flow.need(box_h)
    # anchor the block to the foot of the page when there is room (letters look settled that way)
    if flow.y - box_h > fr.bottom:
        flow.y = fr.bottom + box_h
    x = fr.x1 - box_w
    flow.ops.append(RectOp(x, flow.y - box_h, box_w, box_h, 0.5))
    flow.y -= pad
    for w in wrapped:
        flow.line(w, st.label_font, size, leading=lead, x=x + pad, width=box_w - 2 * pad)


# ----------------------------------------------------------------------------------------------
# 申込書 (様式第１号)


def _applicant_values(a: ApplicantDetails | None, on: date | None, table: dict, values: dict) -> dict:
    a = a or ApplicantDetails()
    v = dict(values)
    v.update(
        name=a.name,
        name_kana=a.name_kana,
        birth_date=_d(a.birth_date),
        age=age_on(a.birth_date, on) if (a.birth_date and on) else "",
        postal_code=a.postal_code,
        address=a.address,
        phone=a.phone,
        fax=a.fax,
        email=a.email,
        card_number=a.card_number,
        proxy_name=a.proxy_name,
        proxy_relation=a.proxy_relation,
        proxy_phone=a.proxy_phone,
        proxy_address=a.proxy_address,
        notes=a.notes,
    )
    v["age_note"] = wording.fill(table.get("age_note", ""), v, where="age_note") if v["age"] != "" else ""
    return v


def _application_form(flow: Flow, st: Style, data: LetterData, table: dict, values: dict) -> None:
    fr = flow.frame
    a = data.applicant
    v = _applicant_values(a, data.issued_on, table, values)
    small = st.small if st.stacked_header else 9.5
    form_label = wording.fill(table.get("form_label", ""), v, where="form_label")
    if form_label:
        flow.line(form_label, st.label_font, small, leading=small * 1.6)
    title = wording.fill(table.get("title", ""), v, where="title")
    tsize = st.title + (2 if not st.stacked_header else 0)
    for ln in wrap(title, st.title_font, tsize, fr.width):
        flow.line(ln, st.title_font, tsize, leading=tsize * 1.6, align="center")
    lead = st.body * 1.6
    date_text = wareki(data.issued_on) if data.issued_on else table.get("blank_date", "")
    flow.paragraph(date_text, st.body_font, st.body, leading=lead, align="right")
    to_line = wording.fill(table.get("to_line", ""), v, where="to_line")
    if to_line:
        flow.paragraph(to_line, st.body_font, st.body, leading=lead)
    intro = wording.fill(table.get("intro", ""), v, where="intro")
    if intro and v.get("regulation"):
        flow.paragraph(intro, st.body_font, st.body, leading=lead, first_indent=st.body)
    flow.space(st.body * 0.5)

    pad = 2.2 * mm
    for row in table.get("rows", []):
        label = wording.fill(row.get("label", ""), v, where="rows.label")
        text = _row_text(row, a, v, table)
        lines = int(row.get("lines", 1))
        hang = st.body if "options" in row else 0.0  # wrapped option text aligns after its □
        if st.label_col:
            flow.table(
                [
                    [
                        Cell(label, st.label_font, st.body, fill_gray=0.9),
                        Cell(text, st.body_font, st.body, min_lines=lines, hang=hang),
                    ]
                ],
                [st.label_col, fr.width - st.label_col],
                pad=pad,
                leading_factor=1.5,
            )
        else:
            # large print: a shaded label bar above a full-width writing space, kept together
            flow.table(
                [
                    [Cell(label, st.label_font, st.body, fill_gray=0.9)],
                    [Cell(text, st.body_font, st.body, min_lines=lines, hang=hang)],
                ],
                [fr.width],
                pad=pad,
                leading_factor=1.5,
                keep_together=True,
            )

    notes = table.get("footnotes", [])
    if notes:
        flow.space(st.body * 0.4)
        for n in notes:
            text = wording.fill(n, v, where="footnotes")
            flow.paragraph(
                text, st.body_font, small, leading=small * 1.55, indent=small * 1.5, first_indent=-small * 1.5
            )
    fields = table.get("office_fields", [])
    if fields:
        flow.space(st.body * 0.8)
        heading = table.get("office_heading", "")
        sz = small
        col = fr.width / len(fields)
        head_row = [Cell(f, st.label_font, sz, align="center", fill_gray=0.9) for f in fields]
        body_row = [Cell("", st.body_font, sz, min_lines=2) for _ in fields]
        flow.need(sz * 1.6 * 4 + 6 * mm)
        if heading:
            flow.line(heading, st.label_font, sz, leading=sz * 1.6)
        flow.table([head_row, body_row], [col] * len(fields), pad=1.5 * mm, leading_factor=1.45)


def _row_text(row: dict, a: ApplicantDetails | None, v: dict, table: dict) -> str:
    on, off = table.get("check_on", "■"), table.get("check_off", "□")
    if "options" in row:
        field_name = row.get("options_field", "")
        chosen = getattr(a, field_name, "") if a else ""
        chosen_set = set(chosen) if isinstance(chosen, tuple | list) else {chosen} if chosen else set()
        detail_value = a.eligibility_detail if (a and field_name == "eligibility") else ""
        parts = []
        for opt in row["options"]:
            mark = on if opt["key"] in chosen_set else off
            text = mark + wording.fill(opt["text"], v, where="options.text")
            if "detail" in opt:
                d = (
                    detail_value
                    if opt["key"] in chosen_set and detail_value
                    else table.get("detail_blank", "")
                )
                text += (
                    "\n" + FULL_SPACE + wording.fill(opt["detail"], dict(v, detail=d), where="options.detail")
                )
            parts.append(text)
        return (FULL_SPACE.join(parts)) if row.get("inline") else "\n".join(parts)
    fields = row.get("fields", [])
    if a is not None and fields and all(v.get(f) for f in fields):
        return wording.fill(row.get("value", ""), v, where="rows.value")
    return wording.fill(row.get("blank", ""), v, where="rows.blank")
