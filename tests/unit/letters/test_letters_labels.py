"""Address labels: every label once, in the right cell of the right sheet, nothing outside it."""

from __future__ import annotations

import math

import pytest
from reportlab.lib.units import mm

from letters import (
    LABEL_TEMPLATES,
    MAIL_LOAN_MARKING,
    Addressee,
    LabelData,
    LabelReport,
    LabelTemplate,
    UnknownTemplate,
    postal_marking,
    render_calibration_sheet,
    render_labels,
)
from outreach.types import Service

LONG_ADDRESS = ("兵庫県西宮市山口町下山口四丁目1番23号", "グランドメゾン西宮北口ザ・レジデンス南棟 1203号室")


def _patrons(n: int) -> list[Addressee]:
    out = []
    for i in range(n):
        address = LONG_ADDRESS if i % 4 == 1 else ("西宮市北口町1番2号",)
        proxy = "試験 代理人" if i % 5 == 2 else None
        name = f"試験 {i:04d}" if i % 7 != 3 else f"長谷川 左衛門三郎兵衛之介 ジョナサン・ウィリアムズ{i:04d}"
        out.append(Addressee(f"66{i % 10}{i % 10000:04d}", address, name, proxy_name=proxy))
    return out


def _labels(library, n: int, service: Service = Service.MAIL_LOAN) -> list[LabelData]:
    marking = postal_marking(service, home_delivery="")
    return [
        LabelData.outbound(p, library, marking=marking, ref=f"S{i:05d}") for i, p in enumerate(_patrons(n))
    ]


def _cell_of(t: LabelTemplate, x: float, y: float, offset=(0.0, 0.0)) -> int | None:
    for pos in range(1, t.per_sheet + 1):
        x0, y0, x1, y1 = t.cell(pos, offset)
        if x0 <= x <= x1 and y0 <= y <= y1:
            return pos
    return None


def _inside(box, cell, inset: float = 0.0) -> bool:
    x0, y0, x1, y1 = box
    c0, d0, c1, d1 = cell
    eps = 0.01
    return (
        c0 + inset - eps <= x0
        and x1 <= c1 - inset + eps
        and d0 + inset - eps <= y0
        and y1 <= d1 - inset + eps
    )


@pytest.mark.parametrize("name", ["12up", "18up", "24up"])
@pytest.mark.parametrize("start", [1, 5])
def test_every_label_once_in_its_cell_and_nothing_outside(library, read_pdf, name: str, start: int) -> None:
    t = LABEL_TEMPLATES[name]
    n = t.per_sheet + 7  # spills onto a second (and with start>1 maybe third) sheet
    labels = _labels(library, n)
    report = LabelReport(record_boxes=True)
    pdf = render_labels(iter(labels), name, start_position=start, report=report)

    assert read_pdf.pages(pdf) == math.ceil((start - 1 + n) / t.per_sheet) == report.sheets
    assert report.count == n

    runs = read_pdf.runs(pdf)
    # 1. independently of the renderer: each run, as pypdf reads it back, lies inside one cell
    for r in runs:
        pos = _cell_of(t, r.x, r.y)
        assert pos is not None, r
        assert _inside(r.box, t.cell(pos)), (r, t.cell(pos))
    # 2. each addressee appears exactly once, on the expected sheet and position
    for i, label in enumerate(labels):
        key = label.addressee.name[-4:]
        hits = [r for r in runs if key in r.text and r.size >= 7 and "様" in r.text]
        assert len(hits) == 1, (i, [h.text for h in hits])
        slot = start - 1 + i
        assert hits[0].page == slot // t.per_sheet
        assert _cell_of(t, hits[0].x, hits[0].y) == slot % t.per_sheet + 1
    # 3. the renderer's own record (text, marking box, rule) stays inside the padded cell
    for b in report.boxes:
        assert _inside(b.box, b.cell, inset=min(t.padding_x_mm, t.padding_y_mm) * mm - 0.01), b
    assert not report.clipped


def test_positions_before_start_are_left_blank(library, read_pdf) -> None:
    pdf = render_labels(_labels(library, 2), "12up", start_position=11)
    t = LABEL_TEMPLATES["12up"]
    cells = {_cell_of(t, r.x, r.y) for r in read_pdf.runs(pdf)}
    assert cells == {11, 12} and read_pdf.pages(pdf) == 1


def test_printer_offset_moves_everything(library, read_pdf) -> None:
    plain = read_pdf.runs(render_labels(_labels(library, 3), "18up"))
    moved = read_pdf.runs(render_labels(_labels(library, 3), "18up", offset_mm=(1.5, -2.0)))
    assert len(plain) == len(moved)
    for a, b in zip(plain, moved, strict=True):
        assert b.x - a.x == pytest.approx(1.5 * mm, abs=0.02)
        assert b.y - a.y == pytest.approx(2.0 * mm, abs=0.02)  # y −2 mm = 2 mm up the page


def test_label_content_marking_name_sender(library, read_pdf) -> None:
    to = Addressee("6638035", ["西宮市北口町1番2号"], "山田 花子", proxy_name="山田 一郎")
    text = read_pdf.lines(render_labels([LabelData.outbound(to, library, marking=MAIL_LOAN_MARKING)], "12up"))
    assert "〒663-8035" in "".join(text) and "特定録音物等郵便物" in "".join(text)
    assert text.index("山田 一郎 様方") < text.index("山田 花子\u3000様")
    assert any(ln.startswith("差出人") and "西宮市立中央図書館" in ln for ln in text)
    home = read_pdf.text(
        render_labels(
            [LabelData.outbound(to, library, marking=postal_marking(Service.HOME_DELIVERY))], "12up"
        )
    )
    assert "特定録音物等郵便物" not in home


def test_return_label_goes_to_the_library_from_the_patron(library, patron, read_pdf) -> None:
    label = LabelData.return_to_library(library, patron, marking=postal_marking(Service.MAIL_LOAN))
    lines = read_pdf.lines(render_labels([label], "24up"))
    assert "〒662-0944" in "".join(lines) and "特定録音物等郵便物" in "".join(lines)
    assert "西宮市立中央図書館 読書振興課\u3000行" in lines
    # the sender block keeps the patron's name whole on one row
    assert any(ln.startswith("差出人") and "〒663-8035" in ln for ln in lines)
    assert any(ln.endswith("山田 花子") for ln in lines)


def test_return_label_sender_at_a_proxy_writes_kata_without_sama(
    library, patron_with_proxy, read_pdf
) -> None:
    label = LabelData.return_to_library(library, patron_with_proxy)
    text = read_pdf.text(render_labels([label], "12up"))
    # 方 apart from the name: 山田 一郎方 would read as a given name 一郎方
    assert "山田 一郎 方" in text and "一郎方" not in text and "様方" not in text


def test_text_that_cannot_fit_is_cut_inside_the_label_and_reported(library, read_pdf) -> None:
    huge = Addressee("6620944", ["西宮市川添町15番26号教育文化センター内" * 6] * 4, "山田 花子")
    report = LabelReport(record_boxes=True)
    pdf = render_labels(
        [LabelData.outbound(huge, library, marking=MAIL_LOAN_MARKING)] * 2, "24up", report=report
    )
    assert report.clipped == [1, 2]
    t = LABEL_TEMPLATES["24up"]
    for r in read_pdf.runs(pdf):
        assert _inside(r.box, t.cell(_cell_of(t, r.x, r.y))), r
    assert "…" in read_pdf.text(pdf) and "山田 花子\u3000様" in read_pdf.text(pdf)


def test_missing_glyphs_are_reported(library) -> None:
    report = LabelReport()
    render_labels(
        [LabelData.outbound(Addressee("6620944", ["西宮市"], "𠮷田 一郎"), library)], "12up", report=report
    )
    assert report.missing_glyphs == {1: "𠮷"}
    # What the print page and the CLI say before printing: the unprintable character, by label.
    assert report.messages("ja") == ["ラベル1: フォントにない文字 𠮷"]
    assert report.messages("en") == ["label 1: the font cannot print 𠮷"]


def test_unknown_template_names_the_available_ones(library) -> None:
    with pytest.raises(UnknownTemplate) as err:
        render_labels(_labels(library, 1), "10up")
    assert isinstance(err.value, ValueError)
    for name in ("12up", "18up", "24up", "10up"):
        assert name in str(err.value)


def test_bad_start_position_and_empty_input_are_refused(library) -> None:
    with pytest.raises(ValueError, match="between 1 and 24"):
        render_labels(_labels(library, 1), "24up", start_position=25)
    with pytest.raises(ValueError, match="no labels"):
        render_labels(iter(()), "12up")


def test_templates_fit_on_a4_and_match_the_sheet_geometry() -> None:
    expected = {"12up": (2, 6, 86.4, 42.3), "18up": (3, 6, 70.0, 42.3), "24up": (3, 8, 66.0, 33.9)}
    for name, (cols, rows, w, h) in expected.items():
        t = LABEL_TEMPLATES[name]
        assert (t.columns, t.rows, t.label_width_mm, t.label_height_mm) == (cols, rows, w, h)
        right = 210 - (t.left_mm + (cols - 1) * t.pitch_x_mm + w)
        assert right == pytest.approx(t.left_mm, abs=0.05)  # horizontally centred
        bottom = 297 - (t.top_mm + (rows - 1) * t.pitch_y_mm + h)
        assert bottom >= 0
    centred = LabelTemplate.centred("10up", "A4 10面", 2, 5, 86.4, 50.8)
    assert centred.left_mm == pytest.approx(18.6) and centred.top_mm == pytest.approx(21.5)
    with pytest.raises(ValueError):
        LabelTemplate("bad", "too wide", 3, 1, 80, 40, 0, 0, 80, 40)


def test_a_custom_template_object_is_accepted(library, read_pdf) -> None:
    t = LabelTemplate.centred("10up", "A4 10面 86.4×50.8mm", 2, 5, 86.4, 50.8)
    pdf = render_labels(_labels(library, 11), t)
    assert read_pdf.pages(pdf) == 2


def test_labels_stream_from_a_generator(library) -> None:
    seen = []

    def gen():
        for i, label in enumerate(_labels(library, 500)):
            seen.append(i)
            yield label

    report = LabelReport()
    render_labels(gen(), "24up", report=report)
    assert report.count == 500 and len(seen) == 500 and report.sheets == math.ceil(500 / 24)


def test_fonts_are_embedded(library, read_pdf) -> None:
    for pdf in (render_labels(_labels(library, 5), "12up"), render_calibration_sheet("24up", (0.5, -0.5))):
        fonts = read_pdf.fonts(pdf)
        assert fonts and all(f["embedded"] and f["truetype"] and "BIZUD" in f["name"] for f in fonts), fonts


BUILDING = "西宮北口グランドパレスタワーレジデンス東棟2501号室 管理人室気付"


@pytest.mark.parametrize("name", ["12up", "18up", "24up"])
def test_a_return_label_keeps_the_patrons_name_whole_however_long_the_address(library, read_pdf, name) -> None:
    patrons = [
        Addressee("663-8204", ["兵庫県西宮市高松町4-5-6", BUILDING], "佐藤 一郎"),
        Addressee("0600001", ["北海道札幌市中央区北一条西二十丁目一番地の二十三", "サンシャインコーポラス" * 2], "勅使河原 左衛門三郎之助 清麿呂"),
        Addressee("6620911", ["兵庫県西宮市池田町1-2-3"], "山田 花子", proxy_name="渡辺 清"),
    ]
    labels = [LabelData.return_to_library(library, p, ref=f"2612-{i:06d}") for i, p in enumerate(patrons)]
    report = LabelReport(record_boxes=True)
    lines = read_pdf.lines(render_labels(labels, name, report=report))
    for p in patrons:
        assert any(ln.startswith(p.name) or ln == p.name for ln in lines), (p.name, lines)
    assert not any("…" in ln and ln.startswith(("佐藤", "勅使河原", "山田")) for ln in lines)
    assert "渡辺 清 方" in "".join(lines)
    t = LABEL_TEMPLATES[name]
    for b in report.boxes:
        assert _inside(b.box, b.cell, inset=min(t.padding_x_mm, t.padding_y_mm) * mm - 0.01), b
    assert not [i for i in report.issues if i.part == "sender_name"]


def test_an_address_too_long_for_the_sender_block_is_cut_never_the_name(library, read_pdf) -> None:
    huge = Addressee("6620911", ["兵庫県西宮市池田町1-2-3 " + BUILDING * 4], "佐藤 一郎")
    report = LabelReport()
    lines = read_pdf.lines(
        render_labels([LabelData.return_to_library(library, huge, ref="2612-000009")], "24up", report=report)
    )
    assert any(ln.startswith("佐藤 一郎") for ln in lines)
    assert any("…" in ln for ln in lines)
    assert report.clipped == [1] and report.attention == [1]
    assert [(i.label, i.ref, i.part, i.problem) for i in report.issues] == [(1, "2612-000009", "sender", "cut")]
    assert report.issues[0].message() == "ラベル1（2612-000009）: 差出人の住所を省略しました（…）"
    assert report.issues[0].message("en") == "label 1 (2612-000009): the sender's address was shortened with …"


def test_a_very_long_name_is_set_smaller_and_reported_never_cut(library, read_pdf) -> None:
    long_name = "寿限無寿限無五劫の擦り切れ海砂利水魚の水行末雲来末風来末食う寝る処に住む処 長久命の長助"
    to = Addressee("6620911", ["兵庫県西宮市池田町1-2-3", BUILDING], long_name)
    report = LabelReport(record_boxes=True)
    pdf = render_labels([LabelData.outbound(to, library, ref="2612-000001")], "24up", report=report)
    text = read_pdf.text(pdf)
    assert long_name.replace(" ", "") in text.replace(" ", "").replace("\u3000", "")
    assert "…" not in text
    assert report.shrunk == [1] and report.clipped == [] and report.attention == [1]
    assert ("name", "small") in [(i.part, i.problem) for i in report.issues]
    t = LABEL_TEMPLATES["24up"]
    for b in report.boxes:
        assert _inside(b.box, b.cell, inset=min(t.padding_x_mm, t.padding_y_mm) * mm - 0.01), b


def test_label_addresses_wrap_between_numbers_not_inside_them(library, read_pdf) -> None:
    to = Addressee("0600001", ["北海道札幌市中央区北一条西二十丁目一番地の二十三", BUILDING], "山田 花子")
    for name in ("12up", "18up", "24up"):
        lines = read_pdf.lines(render_labels([LabelData.outbound(to, library)], name))
        assert any("一番地の二十三" in ln for ln in lines), (name, lines)
        assert any("2501号室" in ln for ln in lines), (name, lines)


def test_a_return_label_without_a_postal_code_has_no_bare_postal_mark(library, read_pdf) -> None:
    patron = Addressee("", ["兵庫県西宮市甲風園2-10"], "郵便番号 なし")
    text = read_pdf.text(render_labels([LabelData.return_to_library(library, patron)], "12up"))
    assert "〒 " not in text and "差出人\u3000兵庫県西宮市甲風園2-10" in text
