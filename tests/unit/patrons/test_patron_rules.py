import pytest

from outreach.patrons import rules


@pytest.mark.parametrize("text", ["ヤマダ タロウ", "やまだ　たろう", "ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダタロウ", " やまだたろう "])
def test_search_key_folds_script_width_and_spaces(text):
    assert rules.search_key(text) == "やまだたろう"


def test_given_name_key():
    assert rules.given_name_key("ヤマダ　タロウ") == "たろう"
    assert rules.given_name_key("ヤマダタロウ") == ""


@pytest.mark.parametrize(("value", "expected"), [("6620911", "662-0911"), ("662-0911", "662-0911"),
                                                 ("６６２－０９１１", "662-0911"), ("66209", None), ("abc-defg", None)])
def test_normalise_postal_code(value, expected):
    assert rules.normalise_postal_code(value) == expected


def test_control_characters():
    assert rules.has_control_characters("a\x00b")
    assert rules.has_control_characters("a\nb")
    assert not rules.has_control_characters("a\nb", allow_line_breaks=True)
    assert not rules.has_control_characters("普通の文字")


def test_city_residence_includes_wards():
    assert rules.is_city_resident("兵庫県", "西宮市", "兵庫県", "西宮市")
    assert rules.is_city_resident("神奈川県", "横浜市中区", "神奈川県", "横浜市")
    assert not rules.is_city_resident("兵庫県", "尼崎市", "兵庫県", "西宮市")
    assert not rules.is_city_resident("北海道", "西宮市", "兵庫県", "西宮市")


def test_reading_accepts_kana_only():
    assert rules.looks_like_reading("ヤマダ タロー")
    assert not rules.looks_like_reading("山田")
    assert not rules.looks_like_reading("Yamada")
