"""Packing slips and the staff pick list."""

from __future__ import annotations

from datetime import date

import pytest

from letters import PickLine, SlipData, SlipItem, render_pick_list, render_slips
from letters.slips import shelf_key
from outreach.types import MaterialType, Service

ITEMS = (
    SlipItem(
        "1000123456789",
        "村上春樹全作品 1979〜1989 第1巻 風の歌を聴け・1973年のピンボール（大活字本シリーズ）",
        MaterialType.LARGE_PRINT,
        "913.6/ム",
    ),
    SlipItem("1000123456790", "羊と鋼の森", MaterialType.BOOK, "913.6/ミ"),
    SlipItem("2000987654321", "デイジー版 ことばの贈りもの", MaterialType.DAISY, "D/913/コ"),
)


def _slip(library, **kw) -> SlipData:
    base = dict(
        patron_name="山田 花子",
        items=ITEMS,
        due_on=date(2026, 12, 21),
        library=library,
        service=Service.HOME_DELIVERY,
        shipped_on=date(2026, 11, 21),
        shipment_ref="S-2026-11-0012",
    )
    base.update(kw)
    return SlipData(**base)


def test_slip_lists_patron_items_due_date_and_how_to_return(library, read_pdf) -> None:
    text = read_pdf.text(render_slips([_slip(library)]))
    for fact in (
        "貸出資料のご案内（宅配サービス）",
        "山田 花子　様",
        "返却期限　令和8年12月21日（月）",
        "発送日　令和8年11月21日",
        "S-2026-11-0012",
        "1000123456789",
        "羊と鋼の森",
        "デイジー版 ことばの贈りもの",
        "大活字本",
        "デイジー",
        "計3点（図書2冊、視聴覚資料1点）",
        "返却のしかた",
        "送料は、恐れ入りますがご負担ください",
        "0798-33-0189",
    ):
        assert fact in text, fact


def test_mail_loan_slip_says_return_postage_is_free(library, read_pdf) -> None:
    text = read_pdf.text(render_slips([_slip(library, service=Service.MAIL_LOAN)]))
    assert "（郵送貸出サービス）" in text and "返却の送料は無料です（特定録音物等郵便物）" in text


def test_large_print_slip_is_18pt_and_continues_over_pages(library, read_pdf) -> None:
    pdf = render_slips([_slip(library, items=ITEMS * 6, large_print=True)])
    runs = read_pdf.runs(pdf)
    assert min(r.size for r in runs) >= 18
    assert read_pdf.pages(pdf) >= 2
    text = read_pdf.text(pdf)
    assert "山田 花子　様（つづき）" in text and "1 / " in text and "資料番号 1000123456790" in text
    assert text.count("羊と鋼の森") == 6


def test_each_slip_starts_on_its_own_page_and_stays_in_the_margins(library, read_pdf) -> None:
    slips = [_slip(library, patron_name=f"利用者 {i}") for i in range(3)]
    trace: list = []
    pdf = render_slips(iter(slips), trace=trace)
    assert read_pdf.pages(pdf) == 3
    for i in range(3):
        assert any(f"利用者 {i}　様" == op.text for page, op in trace if page == i)
    for _, op in trace:
        x0, y0, x1, y1 = op.box
        assert 15 * 2.83 - 0.5 <= x0 and x1 <= 595.3 - 15 * 2.83 + 0.5 and y0 >= 0 and y1 <= 841.9


def test_pick_list_is_in_shelf_order_without_patron_names(library, read_pdf) -> None:
    lines = [
        PickLine("913.6/ム", "b1", "村上", MaterialType.BOOK, "S-3"),
        PickLine("913.12/ア", "b2", "芥川", MaterialType.BOOK, "S-1"),
        PickLine("596/キ", "b3", "料理", MaterialType.BOOK, "S-2"),
        PickLine("913.6/ア", "b4", "有川", MaterialType.BOOK, "S-2"),
        PickLine("001", "b5", "書庫の本", MaterialType.BOOK, "S-9", library_location="書庫"),
    ]
    pdf = render_pick_list(lines, printed_on=date(2026, 11, 21))
    text = read_pdf.text(pdf)
    order = [text.index(t) for t in ("料理", "芥川", "有川", "村上")]
    assert order == sorted(order)
    assert text.index("書庫の本") > text.index("村上")  # grouped by place (開架 "" < 書庫)
    assert "出庫リスト（配架順）" in text and "令和8年11月21日" in text and "計　5点" in text
    assert "1ページ" in text


def test_pick_list_streams_presorted_lines_in_the_given_order(library, read_pdf) -> None:
    def gen():
        for i in range(400):
            yield PickLine(f"{999 - i:03d}", f"B{i:05d}", f"書名{i:03d}", MaterialType.AUDIO_CD, f"S-{i}")

    pdf = render_pick_list(gen(), presorted=True)
    text = read_pdf.text(pdf)
    assert text.index("書名000") < text.index("書名399")
    assert read_pdf.pages(pdf) > 5 and "計　400点" in text and "ＣＤ" in text


@pytest.mark.parametrize(
    ("a", "b"), [("913.12", "913.6"), ("596/キ", "913"), ("9/ア", "10/ア"), ("E/ア", "E/イ")]
)
def test_shelf_key_orders_call_numbers(a: str, b: str) -> None:
    assert shelf_key(a) < shelf_key(b)


def test_slip_fonts_are_embedded(library, read_pdf) -> None:
    for pdf in (
        render_slips([_slip(library), _slip(library, large_print=True)]),
        render_pick_list([PickLine("1", "2", "3", MaterialType.BOOK, "4")]),
    ):
        fonts = read_pdf.fonts(pdf)
        assert fonts and all(f["embedded"] and f["truetype"] and "BIZUD" in f["name"] for f in fonts)


def test_empty_slip_input_is_refused() -> None:
    with pytest.raises(ValueError, match="no slips"):
        render_slips([])


def test_static_parts_are_drawn_once_per_document_as_forms(library, read_pdf) -> None:
    """Title, dates, how-to-return and the table ruling are form XObjects shared by every slip;
    each page still reads as a whole slip, and all pages share one resource dictionary."""
    import io

    from pypdf import PdfReader

    slips = [_slip(library, patron_name=f"利用者 {i}", shipment_ref=f"2612-{i:06d}") for i in range(40)]
    pdf = render_slips(slips)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 40
    forms = {
        name
        for page in reader.pages
        for name in page["/Resources"].get_object().get("/XObject", {}).get_object()
    }
    # head, intro + due date, header row, the return steps and contact, a ruling per row height
    assert 5 <= len(forms) <= 12
    assert len({page.get("/Resources").idnum for page in reader.pages}) == 1  # one shared dictionary
    for i, page in enumerate(reader.pages):
        text = page.extract_text().replace("\n", "")
        for fact in (f"利用者 {i}", f"2612-{i:06d}", "返却期限", "羊と鋼の森", "返却のしかた", "0798-33-0189"):
            assert fact in text, (i, fact)
    assert len(pdf) < 40 * 4000  # the shared parts are not repeated on each page


def test_barcodes_and_ascii_text_are_written_exactly(library, read_pdf) -> None:
    odd = SlipItem("A(1)\\B-2", "本 (上) \\ 下", MaterialType.BOOK)
    text = read_pdf.text(render_slips([_slip(library, items=(odd,), shipment_ref="2612-(9)")]))
    assert "A(1)\\B-2" in text and "本 (上) \\ 下" in text and "2612-(9)" in text


BRAILLE = SlipItem("4000000000001", "てんじ えほん ぐりとぐら", MaterialType.BRAILLE_PICTURE_BOOK, "E/グ")
DAISY = SlipItem("4000000000002", "デイジー版 星の王子さま", MaterialType.DAISY, "D/953/サ")


@pytest.mark.parametrize(
    ("service", "items", "line", "absent"),
    [
        (Service.MAIL_LOAN, (BRAILLE, BRAILLE, DAISY), "計3点（点訳絵本2冊、視聴覚資料1点）", ("図書",)),
        (Service.MAIL_LOAN, (BRAILLE, BRAILLE), "計2点（点訳絵本2冊）", ("図書", "視聴覚資料0")),
        (Service.MAIL_LOAN, (DAISY,), "計1点（視聴覚資料1点）", ("点訳絵本0", "図書")),
        (Service.HOME_DELIVERY, ITEMS[:2], "計2点（図書2冊）", ("視聴覚資料0",)),
        (Service.HOME_DELIVERY, (DAISY,), "計1点（視聴覚資料1点）", ("図書0",)),
    ],
)
def test_count_line_names_what_the_service_lends_and_no_zero_kind(
    library, read_pdf, service, items, line, absent
) -> None:
    text = read_pdf.text(render_slips([_slip(library, service=service, items=items)]))
    assert line in text
    for word in absent:
        assert word not in text.split("計", 1)[1].split("返却のしかた")[0], word


def test_an_item_the_service_does_not_lend_is_still_counted(library, read_pdf) -> None:
    text = read_pdf.text(render_slips([_slip(library, service=Service.MAIL_LOAN, items=(BRAILLE, ITEMS[1]))]))
    assert "計2点（点訳絵本1冊、その他1点）" in text


def _pick_lines(n: int) -> list[PickLine]:
    return [PickLine(f"913.{i:03d}", f"B{i:05d}", f"書名{i:03d}", MaterialType.BOOK, f"2612-{i:06d}") for i in range(n)]


def test_pick_list_names_its_month_and_shipping_date_on_every_page(read_pdf) -> None:
    import io

    from pypdf import PdfReader

    pdf = render_pick_list(
        _pick_lines(60), presorted=True, printed_on=date(2026, 11, 30), month="2026-12", shipped_on=date(2026, 12, 1)
    )
    pages = [p.extract_text().replace("\n", "") for p in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) >= 3
    for text in pages:
        assert "出庫リスト（配架順）　令和8年12月分　発送日　令和8年12月1日（火）" in text
        assert "作成日　令和8年11月30日" in text
    assert PdfReader(io.BytesIO(pdf)).metadata.title.endswith("令和8年12月分　発送日　令和8年12月1日（火）")


def test_pick_list_without_a_month_keeps_the_plain_heading(read_pdf) -> None:
    text = read_pdf.text(render_pick_list(_pick_lines(2)))
    assert "出庫リスト（配架順）" in text and "分" not in text and "発送日" not in text and "作成日" not in text


@pytest.mark.parametrize("n", range(18, 27))
def test_pick_list_total_stays_with_the_last_rows(n: int) -> None:
    import io

    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(render_pick_list(_pick_lines(n), presorted=True))).pages
    last = pages[-1].extract_text()
    assert f"計　{n}点" in last and f"2612-{n - 1:06d}" in last  # the total and at least the last row
    assert sum(p.extract_text().count("2612-") for p in pages) == n
