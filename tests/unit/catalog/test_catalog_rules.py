"""Pure catalogue rules: CSV rows from the main system, material types, keys, shelf order."""

from __future__ import annotations

import pytest

from outreach.catalog import rules
from outreach.types import ItemStatus, MaterialType

GOOD = {"barcode": "1100000001", "title": "蝉しぐれ", "title_kana": "セミシグレ", "author": "藤沢 周平",
        "material_type": "大活字本", "subjects": "時代小説；歴史", "shelf_location": "中央", "call_number": "913.6/フシ",
        "is_lendable": "可", "status": ""}


@pytest.mark.parametrize(("text", "expected"), [
    ("図書", MaterialType.BOOK), ("大活字本", MaterialType.LARGE_PRINT), ("点訳絵本", MaterialType.BRAILLE_PICTURE_BOOK),
    ("点字図書", MaterialType.BRAILLE_BOOK), ("ＣＤ", MaterialType.AUDIO_CD), ("cd", MaterialType.AUDIO_CD),
    ("デイジー", MaterialType.DAISY), ("DAISY", MaterialType.DAISY), ("daisy", MaterialType.DAISY),
    ("その他視聴覚", MaterialType.OTHER_AV), ("large_print", MaterialType.LARGE_PRINT), ("雑誌", None), ("", None),
])
def test_material_types_as_the_main_system_writes_them(text, expected):
    assert rules.parse_material_type(text) is expected


def test_a_good_row():
    values, problems = rules.parse_row(GOOD)
    assert problems == []
    assert values is not None
    assert values.material_type is MaterialType.LARGE_PRINT
    assert values.subjects == "時代小説; 歴史"
    assert values.is_lendable is True and values.status is None


def test_full_width_barcode_is_folded_and_status_words_are_understood():
    values, _ = rules.parse_row({**GOOD, "barcode": "１１００", "is_lendable": "不可", "status": "除籍"})
    assert values is not None
    assert values.barcode == "1100" and values.is_lendable is False and values.status is ItemStatus.WITHDRAWN


def test_a_bad_row_names_every_problem():
    values, problems = rules.parse_row({**GOOD, "barcode": "", "title": "", "material_type": "雑誌",
                                        "is_lendable": "たぶん", "status": "行方不明"})
    assert values is None
    fields = [p.field for p in problems]
    assert fields == ["barcode", "title", "material_type", "is_lendable", "status"]
    assert "資料種別「雑誌」は使えません" in problems[2].message_ja
    assert problems[0].message("en") == "The barcode is missing"


def test_control_characters_and_overlong_values_are_refused():
    _values, problems = rules.parse_row({**GOOD, "title": "本\x07", "author": "あ" * 201})
    assert {p.field for p in problems} == {"title", "author"}
    assert "制御文字" in problems[0].message_ja and "200文字まで" in problems[1].message_ja


def test_barcode_with_strange_characters_is_refused():
    _values, problems = rules.parse_row({**GOOD, "barcode": "11 00/1"})
    assert [p.field for p in problems] == ["barcode"]


def test_header_in_japanese_or_english():
    positions, problems = rules.resolve_header(["資料番号", "書名", "資料種別", "余分な列", "請求記号"])
    assert problems == [] and positions == {"barcode": 0, "title": 1, "material_type": 2, "call_number": 4}
    positions, problems = rules.resolve_header(["barcode", "title", "material_type"])
    assert problems == []


def test_header_without_a_required_column_or_with_a_doubled_one():
    _positions, problems = rules.resolve_header(["資料番号", "書名", "書名"])
    messages = [p.message_ja for p in problems]
    assert "列「書名」が2回あります" in messages
    assert "必須の列「資料種別」がありません" in messages


def test_call_numbers_sort_the_way_shelves_do():
    numbers = ["913.6/ミヤ", "95/ア", "913.12/カ", "913.6/フシ", "E/ナカ", "2/ア"]
    assert sorted(numbers, key=rules.call_number_key) == ["2/ア", "95/ア", "913.12/カ", "913.6/フシ", "913.6/ミヤ", "E/ナカ"]


def test_subject_keys_fold_script_and_width():
    assert rules.subject_keys("時代小説、ミステリー; ﾐｽﾃﾘｰ") == "|時代小説|みすてりー|"
    assert rules.subject_keys("") == ""
    assert rules.split_subjects("a/b／a") == ["a", "b"]
