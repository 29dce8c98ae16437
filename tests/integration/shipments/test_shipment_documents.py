"""The batch's documents: every shipped patron's label exists once, on the right template, with
nothing drawn outside its label; return labels, slips, the pick list and the address CSV."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass

import pytest
from pypdf import PdfReader
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from sqlalchemy import select

from letters.fonts import GOTHIC, GOTHIC_BOLD, register_fonts
from letters.labels import LABEL_TEMPLATES, LabelReport, render_labels
from outreach.db import database
from outreach.patrons import services as patron_services
from outreach.shipments import documents, services
from outreach.types import MaterialType, ProxyRelation, Service
from tests.integration.shipments.factories import MONTH, TODAY, approve, new_item, new_patron, request

HD, ML = Service.HOME_DELIVERY, Service.MAIL_LOAN
NAMES = ("山田 花子", "高橋 清", "鈴木 ゆかり")


@dataclass
class Run:
    page: int
    text: str
    box: tuple[float, float, float, float]


def runs_of(pdf: bytes) -> list[Run]:
    """Text runs read back from the PDF (pypdf), with boxes from the font's own widths."""
    register_fonts()
    out: list[Run] = []
    for index, page in enumerate(PdfReader(io.BytesIO(pdf)).pages):

        def visit(text, cm, tm, font_dict, font_size, index=index):  # type: ignore[no-untyped-def]
            text = text.strip("\n")
            if not text.strip():
                return
            size = font_size * tm[0] * cm[0]
            x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
            y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
            font = GOTHIC_BOLD if "Bold" in str(font_dict.get("/BaseFont", "")) else GOTHIC
            width = stringWidth(text, font, size)
            out.append(Run(index, text, (x, y - 0.12 * size, x + width, y + 0.88 * size)))

        page.extract_text(visitor_text=visit)
    return out


@pytest.fixture()
def committed(db, librarian):  # type: ignore[no-untyped-def]
    hanako = new_patron(db, librarian, "8000000001", name="山田 花子", needs_large_print=True,
                        building="西宮北口グランドパレスタワーレジデンス東棟２５階２５０３号室")
    kiyoshi = new_patron(db, librarian, "8000000002", name="高橋 清", postal_code="663-8204")
    # 高橋's letters go to his care manager's office; his parcels still go home (宅配 is delivery home)
    patron_services.add_proxy(db, kiyoshi, actor=librarian, data=dict(
        name="ケアマネ 太郎", relation=ProxyRelation.CARE_MANAGER, organisation="西宮ケアプランセンター",
        postal_code="662-0918", address="兵庫県西宮市六湛寺町9-9", receives_letters=True))
    yukari = new_patron(db, librarian, "8000000003", name="鈴木 ゆかり", postal_code="663-8035")
    approve(db, hanako, HD)
    approve(db, kiyoshi, HD)
    approve(db, yukari, ML)
    new_item(db, "B001", "蝉しぐれ", MaterialType.LARGE_PRINT, shelf_location="中央 大活字", call_number="913.6/フシ")
    new_item(db, "B002", "日本の城", shelf_location="中央 一般", call_number="521.8/ニホ")
    new_item(db, "B003", "俳句入門", shelf_location="中央 一般", call_number="95/ハイ")
    new_item(db, "P001", "ぐりとぐら", MaterialType.BRAILLE_PICTURE_BOOK, shelf_location="中央 点字", call_number="E/ナカ")
    new_item(db, "D001", "こころ", MaterialType.DAISY, shelf_location="中央 録音", call_number="913.6/ナツ")
    request(db, hanako, librarian, ["B001", "B002"])
    request(db, kiyoshi, librarian, ["B003"])
    request(db, yukari, librarian, ["P001", "D001"], service=ML)
    db.commit()
    run = services.plan_run(db, month=MONTH, today=TODAY)
    db.commit()
    services.commit_run(database.session_scope, run.id, today=TODAY)  # type: ignore[arg-type]
    db.expire_all()
    return run


def cells(template_name: str, offset=(0.0, 0.0)) -> list[tuple[float, float, float, float]]:  # type: ignore[no-untyped-def]
    t = LABEL_TEMPLATES[template_name]
    return [t.cell(p, offset) for p in range(1, t.per_sheet + 1)]


def inside(box, cell, tolerance: float = 0.5) -> bool:  # type: ignore[no-untyped-def]
    return (box[0] >= cell[0] - tolerance and box[1] >= cell[1] - tolerance and box[2] <= cell[2] + tolerance
            and box[3] <= cell[3] + tolerance)


@pytest.mark.parametrize("template", ["12up", "18up", "24up"])
def test_each_label_exists_once_on_its_template_and_stays_inside(client, as_role, committed, template):
    as_role("librarian")
    response = client.get(f"/shipments/runs/{committed.id}/labels.pdf?template={template}&start=1&kind=outbound")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert (round(width / mm), round(height / mm)) == (210, 297)  # A4
    runs = runs_of(response.data)
    for name in NAMES:
        assert sum(name in run.text for run in runs) == 1, name
    grid = cells(template)
    used = set()
    for run in runs:
        owner = [i for i, cell in enumerate(grid) if inside(run.box, cell)]
        assert owner, f"{run.text!r} is drawn outside every label of {template}"
        used.add(owner[0])
    assert used == {0, 1, 2}  # three labels, in the first three positions
    text = " ".join(run.text for run in runs)
    # every parcel goes to the patron's home, never to the office of the proxy who receives the letters
    assert "〒663-8204" in text and "〒662-0918" not in text
    assert "ケアマネ" not in text and "ケアプランセンター" not in text and "様方" not in text
    assert text.count("特定録音物等郵便物") == 1  # the mail loan only
    assert text.count("西宮市立中央図書館") == 3  # the sender on every label


def test_the_renderer_reports_nothing_cut_and_a_start_position(db, committed, app):
    library = documents.library_from_config(app.config)
    report = LabelReport(record_boxes=True)
    pdf = render_labels(documents.label_data(db, committed, library, home_delivery_marking="ゆうメール"), "12up", 5,
                        report=report)
    assert report.count == 3 and report.clipped == [] and report.missing_glyphs == {}
    assert {box.position for box in report.boxes} == {5, 6, 7}
    runs = runs_of(pdf)
    assert " ".join(r.text for r in runs).count("ゆうメール") == 2
    grid = cells("12up")
    assert all(any(inside(r.box, grid[p]) for p in (4, 5, 6)) for r in runs)
    more = render_labels(documents.label_data(db, committed, library), "12up", 11)
    assert len(PdfReader(io.BytesIO(more)).pages) == 2  # positions 11, 12, then a new sheet


def test_return_labels_go_to_the_library_from_the_patron(client, as_role, committed, db, app):
    as_role("librarian")
    response = client.get(f"/shipments/runs/{committed.id}/labels.pdf?template=12up&kind=return")
    text = " ".join(r.text for r in runs_of(response.data))
    assert text.count("西宮市立中央図書館 読書振興課") == 3 and text.count("行") >= 3
    assert all(name in text for name in NAMES) and text.count("特定録音物等郵便物") == 1
    # On the narrow 18-up sheet 花子's very long address (the sender of her return label) wraps to fit:
    # the renderer reports nothing cut or set too small (letters' own tests cover a label that must be cut).
    report = LabelReport()
    library = documents.library_from_config(app.config)
    render_labels(documents.label_data(db, committed, library, return_labels=True), "18up", report=report)
    assert report.count == 3 and report.clipped == [] and report.shrunk == [] and report.attention == []


@pytest.mark.parametrize(("query", "field", "words"), [
    ("template=99up", "template", ("99up", "12up, 18up, 24up")),
    ("template=24up&start=25", "start", ("24up", "24")),
    ("template=12up&offset_x=30", "offset_x", ("-10", "10")),
])
def test_bad_print_options_are_explained_on_the_field(client, as_role, committed, query, field, words):
    as_role("librarian")
    response = client.get(f"/shipments/runs/{committed.id}/labels.pdf?{query}")
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and response.mimetype == "text/html"
    error = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', body)
    assert error is not None, body[-2000:]
    assert all(word in error.group(1) for word in words), error.group(1)


def test_the_calibration_sheet(client, as_role, committed):
    as_role("librarian")
    response = client.get(f"/shipments/runs/{committed.id}/labels.pdf?template=24up&kind=calibration&offset_x=1.5")
    assert response.status_code == 200 and "+1.5mm" in PdfReader(io.BytesIO(response.data)).pages[0].extract_text()


def test_packing_slips(client, as_role, committed):
    as_role("librarian")
    response = client.get(f"/shipments/runs/{committed.id}/slips.pdf")
    assert response.status_code == 200
    pages = [p.extract_text().replace(" ", "") for p in PdfReader(io.BytesIO(response.data)).pages]
    text = "".join(pages)
    for title in ("蝉しぐれ", "日本の城", "俳句入門", "ぐりとぐら", "こころ"):
        assert text.count(title) == 1
    assert "令和9年1月5日" in text and "0798-33-0183" in text
    # large print for 花子: her slip's text is at least 18 pt
    sizes = [size for size in _sizes(response.data, "山田花子")]
    assert min(sizes) >= 18


def test_packing_slips_come_in_files_of_bounded_size(client, as_role, committed, monkeypatch):
    # Memory stays bounded because a big month's slips are split into files; two per file here.
    from outreach.shipments import documents

    monkeypatch.setattr(documents, "SHIPMENTS_PER_FILE", 2)
    as_role("librarian")
    page = client.get(f"/shipments/runs/{committed.id}/print").get_data(as_text=True)
    assert "part=1" in page and "part=2" in page and "part=3" not in page
    texts = []
    for part in (1, 2):
        response = client.get(f"/shipments/runs/{committed.id}/slips.pdf?part={part}")
        assert response.status_code == 200
        texts.append("".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages).replace(" ", ""))
    names = ("山田花子", "高橋清", "鈴木ゆかり")
    assert sorted(sum(t.count(n) > 0 for t in texts) for n in names) == [1, 1, 1]  # each slip once, in one file
    assert sum(n in texts[1] for n in names) == 1
    assert client.get(f"/shipments/runs/{committed.id}/slips.pdf?part=3").status_code == 404


def test_labels_return_labels_and_the_pick_list_come_in_the_same_files_as_the_slips(client, as_role, committed,
                                                                                   monkeypatch):
    # Two shipments per file here, in postal-code order: 花子 (662-0911) and ゆかり (663-8035), then 高橋 (663-8204).
    monkeypatch.setattr(documents, "SHIPMENTS_PER_FILE", 2)
    as_role("librarian")
    page = client.get(f"/shipments/runs/{committed.id}/print").get_data(as_text=True)
    assert 'name="part"' in page and "pick-list.pdf?part=2" in page and "各書類は2件ずつのファイル" in page
    base = f"/shipments/runs/{committed.id}"
    by_part: dict[int, dict[str, str]] = {}
    for part in (1, 2):
        files = {
            "labels": client.get(f"{base}/labels.pdf?template=12up&kind=outbound&part={part}"),
            "return": client.get(f"{base}/labels.pdf?template=12up&kind=return&part={part}"),
            "slips": client.get(f"{base}/slips.pdf?part={part}"),
            "pick": client.get(f"{base}/pick-list.pdf?part={part}"),
        }
        assert all(r.status_code == 200 and r.mimetype == "application/pdf" for r in files.values())
        by_part[part] = {k: "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages).replace(" ", "")
                         for k, r in files.items()}
    names = ("山田花子", "高橋清", "鈴木ゆかり")
    for kind in ("labels", "return", "slips"):
        assert sorted(sum(n in by_part[p][kind] for p in (1, 2)) for n in names) == [1, 1, 1], kind
        # file N of every document covers the same patrons
        assert [n for n in names if n in by_part[1][kind]] == [n for n in names if n in by_part[1]["slips"]]
    assert [n for n in names if n in by_part[1]["slips"]] == ["山田花子", "鈴木ゆかり"]
    # the pick list of a file lists exactly the items of that file's slips (by barcode)
    for part in (1, 2):
        for barcode in ("B001", "B002", "B003", "P001", "D001"):
            assert (barcode in by_part[part]["pick"]) == (barcode in by_part[part]["slips"]), (part, barcode)
    assert client.get(f"{base}/pick-list.pdf?part=3").status_code == 404
    bad = client.get(f"{base}/labels.pdf?template=12up&kind=outbound&part=3")
    assert bad.status_code == 400 and "ファイル3はありません" in bad.get_data(as_text=True)


def _sizes(pdf: bytes, marker: str) -> list[float]:
    """Font sizes on the pages that mention ``marker``."""
    sizes: list[float] = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        if marker not in page.extract_text().replace(" ", ""):
            continue

        def visit(text, cm, tm, _font, size):  # type: ignore[no-untyped-def]
            if text.strip():
                sizes.append(size * tm[0] * cm[0])

        page.extract_text(visitor_text=visit)
    return sizes


def test_the_pick_list_is_in_shelf_order(client, as_role, committed):
    as_role("librarian")
    response = client.get(f"/shipments/runs/{committed.id}/pick-list.pdf")
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    order = [text.index(b) for b in ("B003", "B002", "B001", "P001", "D001")]
    assert order == sorted(order)  # 一般 95 < 521.8, then 大活字, 点字, 録音
    assert "2612-" in text and "山田" not in text  # staff see shipment numbers, not names


def test_the_address_csv(client, as_role, committed):
    as_role("librarian")
    response = client.get(f"/shipments/runs/{committed.id}/addresses.csv?marking=ゆうメール")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == documents.ADDRESS_HEADER and len(rows) == 4
    by_name = {row[6]: row for row in rows[1:]}
    assert by_name["高橋 清 様"][5] == "" and by_name["高橋 清 様"][2] == "663-8204"  # home, not the care office
    assert by_name["高橋 清 様"][3] == "兵庫県西宮市池田町1-1"
    assert by_name["鈴木 ゆかり 様"][7] == "特定録音物等郵便物" and by_name["山田 花子 様"][7] == "ゆうメール"


def test_nothing_to_print_before_the_commit(client, as_role, db, librarian):
    as_role("librarian")
    run = services.plan_run(db, month=MONTH, today=TODAY)
    db.commit()
    for path in ("print", "labels.pdf", "slips.pdf", "pick-list.pdf", "addresses.csv"):
        assert client.get(f"/shipments/runs/{run.id}/{path}").status_code == 404


def test_a_big_batch_of_labels_pages_as_expected(db, committed, app):
    library = documents.library_from_config(app.config)
    labels = list(documents.label_data(db, committed, library)) * 40  # 120 labels
    pdf = render_labels(iter(labels), "24up")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == math.ceil(120 / 24)


def test_the_print_page_lists_the_labels_to_look_at_before_printing(client, as_role, committed, db, app):
    # An address far longer than a 24-up label can hold: the renderer must cut or shrink it.
    from sqlalchemy import update

    from outreach.patrons.models import Patron

    db.execute(update(Patron).where(Patron.card_number == "8000000001").values(
        building="西宮北口グランドパレスタワーレジデンス東棟２５階２５０３号室 管理事務所気付 ケアプランセンターひまわり内 "
                 "訪問介護ステーションあおぞら居宅介護支援事業所"))
    db.flush()
    library = documents.library_from_config(app.config)
    expected = []
    for return_labels in (False, True):
        report = LabelReport()
        render_labels(documents.label_data(db, committed, library, return_labels=return_labels), "24up", report=report)
        expected += [issue.message("ja") for issue in report.issues]
    assert expected, "the fixture should need a look on 24-up labels"
    as_role("librarian")
    response = client.get(f"/shipments/runs/{committed.id}/labels.pdf?template=24up&kind=check")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "貼る前に確認が必要なラベル" in body
    assert all(message in body for message in expected)
    from outreach.audit.models import AuditEvent

    assert db.scalars(select(AuditEvent.entity_type).where(AuditEvent.action == "export")).all().count("label_check") == 1
    fine = client.get(f"/shipments/runs/{committed.id}/labels.pdf?template=12up&kind=check").get_data(as_text=True)
    assert fine.count("すべてのラベルが枠内に収まっています") == 2


def test_the_pick_list_names_its_month(client, as_role, committed):
    as_role("librarian")
    response = client.get(f"/shipments/runs/{committed.id}/pick-list.pdf")
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert response.status_code == 200 and "令和8年12月分" in text
