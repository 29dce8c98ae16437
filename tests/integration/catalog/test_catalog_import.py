"""The catalogue: CSV import with a per-row report, items by hand, the chief's mark, status."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from outreach.catalog import services
from outreach.catalog.models import CatalogImport, CatalogItem
from outreach.types import ItemStatus, MaterialType
from tests.conftest import login, post
from tests.integration.shipments.factories import new_item

HEADER = "資料番号,書名,書名ヨミ,著者,資料種別,件名,配架場所,請求記号,館外貸出,状態\n"


def items(db) -> dict[str, CatalogItem]:  # type: ignore[no-untyped-def]
    return {i.barcode: i for i in db.scalars(select(CatalogItem))}


def test_a_mixed_file_is_applied_row_by_row_and_reported(db, librarian):
    new_item(db, "1100000002", "古い書名", author="藤沢 周平", shelf_location="", call_number="")
    new_item(db, "1100000009", "貸出中の本", status=ItemStatus.ON_LOAN, shelf_location="", call_number="")
    db.commit()
    text = HEADER + (
        "1100000001,蝉しぐれ,セミシグレ,藤沢 周平,大活字本,時代小説;歴史,中央,913.6/フシ,可,\n"
        "1100000002,たそがれ清兵衛,,藤沢 周平,図書,,,,,\n"
        ",名無しの本,,,図書,,,,,\n"
        "1100000004,雑誌の号,,,雑誌,,,,,\n"
        "\n"
        "1100000001,重複した行,,,図書,,,,,\n"
        "1100000009,貸出中の本,,,図書,,,,,除籍\n"
        "1100000010,禁帯出の本,,,点字図書,,,,不可,\n"
    )
    record = services.import_csv(db, text.encode("utf-8"), filename="export.csv", actor=librarian)
    db.commit()
    assert (record.rows_total, record.rows_added, record.rows_updated, record.rows_unchanged, record.rows_rejected) == (
        7, 2, 1, 1, 3)
    rows = {(r.row_number, r.outcome): r for r in services.import_rows(db, record)[0]}
    assert rows[(4, "rejected")].problems[0]["ja"] == "資料番号がありません"
    assert "資料種別「雑誌」は使えません" in rows[(5, "rejected")].problems[0]["ja"]
    assert rows[(7, "rejected")].problems[0]["ja"] == "資料番号がこのファイルの2行目と重複しています"
    assert rows[(3, "updated")].fields == ["title"]
    assert rows[(8, "unchanged")].notes[0]["ja"] == "貸出中のため状態は変更していません"
    stored = items(db)
    assert stored["1100000001"].material_type is MaterialType.LARGE_PRINT
    assert stored["1100000001"].subject_keys == "|時代小説|歴史|" and stored["1100000001"].title_key == "蝉しぐれ"
    assert stored["1100000002"].title == "たそがれ清兵衛"
    assert stored["1100000009"].status is ItemStatus.ON_LOAN
    assert stored["1100000010"].is_lendable is False
    assert "1100000004" not in stored and "" not in stored

    again = services.import_csv(db, text.encode("utf-8"), filename="export.csv", actor=librarian)
    assert (again.rows_added, again.rows_updated, again.rows_unchanged, again.rows_rejected) == (0, 0, 4, 3)


def test_a_shift_jis_export(db, librarian):
    data = (HEADER + "2200000001,てぶくろ,テブクロ,,点訳絵本,絵本,,E/ラチ,可,\n").encode("cp932")
    record = services.import_csv(db, data, filename="sjis.csv", actor=librarian)
    assert record.encoding == "cp932" and record.rows_added == 1
    assert items(db)["2200000001"].material_type is MaterialType.BRAILLE_PICTURE_BOOK


@pytest.mark.parametrize(("data", "problem"), [
    (b"", "ファイルが空です"),
    ("資料番号,書名\n1,本\n".encode(), "必須の列「資料種別」がありません"),
    (b"\xff\xfe\x00\x81\x00", "文字コードを判別できません"),
])
def test_a_file_that_cannot_be_read_adds_nothing(db, librarian, data, problem):
    record = services.import_csv(db, data, filename="bad.csv", actor=librarian)
    assert problem in record.problem and record.rows_added == 0
    assert db.scalar(select(func.count()).select_from(CatalogItem)) == 0


def test_the_import_pages(client, as_role, db):
    as_role("librarian")
    assert client.get("/catalog/import").status_code == 200
    wrong = post(client, "/catalog/import", {"file": (io.BytesIO(b"x"), "catalog.xlsx")}, form_url="/catalog/import",
                 content_type="multipart/form-data")
    assert wrong.status_code == 400 and "CSV" in wrong.get_data(as_text=True)
    none = post(client, "/catalog/import", {}, form_url="/catalog/import")
    assert none.status_code == 400
    data = (HEADER + "3300000001,ぐりとぐら,,,点訳絵本,,,,,\n3300000002,,,,図書,,,,,\n").encode()
    done = post(client, "/catalog/import", {"file": (io.BytesIO(data), "export.csv")}, form_url="/catalog/import",
                content_type="multipart/form-data")
    assert done.status_code == 302
    report = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "書名がありません" in report and "3300000002" in report
    # Words of the import, not of an application's decision (不承認) or of Python (utf-8-sig).
    assert "不採用" in report and "不承認" not in report and "文字コード: UTF-8" in report and "utf-8-sig" not in report
    rejected_only = client.get(done.headers["Location"] + "?outcome=rejected").get_data(as_text=True)
    assert "3300000001" not in rejected_only
    csv_report = client.get(done.headers["Location"] + "/report.csv")
    assert csv_report.status_code == 200 and "書名がありません" in csv_report.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(CatalogImport)) == 1


def test_an_item_by_hand_and_its_barcode_is_unique(client, as_role, db):
    as_role("librarian")
    form = {"barcode": "4400000001", "title": "俳句入門", "title_kana": "ハイク ニュウモン", "material_type": "large_print",
            "is_lendable": "y"}
    created = post(client, "/catalog/new", form, form_url="/catalog/new")
    assert created.status_code == 302
    again = post(client, "/catalog/new", {**form, "title": "別の本"}, form_url="/catalog/new")
    assert again.status_code == 400 and 'id="barcode-error"' in again.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(CatalogItem)) == 1
    found = client.get("/catalog?q=はいく").get_data(as_text=True)
    assert "俳句入門" in found


def test_only_the_chief_marks_an_item_unsuitable(app, client, as_role, db, users):
    item = new_item(db, "5500000001", "ある本")
    db.commit()
    url = f"/catalog/{item.id}"
    librarian_client = app.test_client()
    login(librarian_client, "librarian1")
    assert "課長" not in librarian_client.get(url).get_data(as_text=True)
    assert post(librarian_client, url + "/unsuitable", {"is_unsuitable": "y", "reason": "破損"},
                form_url=url).status_code == 403
    as_role("chief")
    missing_reason = post(client, url + "/unsuitable", {"is_unsuitable": "y"}, form_url=url)
    assert missing_reason.status_code == 400
    assert post(client, url + "/unsuitable", {"is_unsuitable": "y", "reason": "破損が大きい"}, form_url=url).status_code == 302
    db.refresh(item)
    assert item.is_unsuitable and item.unsuitable_reason == "破損が大きい" and item.unsuitable_by_id == users["chief"].id


def test_an_item_on_loan_keeps_its_status(client, as_role, db):
    item = new_item(db, "6600000001", "貸出中", status=ItemStatus.ON_LOAN)
    db.commit()
    as_role("librarian")
    url = f"/catalog/{item.id}"
    refused = post(client, url + "/status", {"status": "withdrawn"}, form_url=url)
    assert refused.status_code == 400 and "返却・紛失の処理" in refused.get_data(as_text=True)
    db.refresh(item)
    assert item.status is ItemStatus.ON_LOAN
