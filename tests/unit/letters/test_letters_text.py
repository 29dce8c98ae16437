"""Japanese line breaking: measured widths, 禁則, unbroken number runs, shrink-then-wrap."""

from __future__ import annotations

import random

import pytest

from letters.fonts import GOTHIC, MINCHO
from letters.text import _TOKEN, NO_LINE_END, NO_LINE_START, fit, width_of, wrap

SENTENCE = (
    "現在ご利用いただいている宅配サービスの承認期間は、令和11年11月30日で満了となります。"
    "引き続きご利用を希望される場合は、同封の申込書（様式第１号）に必要事項をご記入のうえ、"
    "「対象資格を確認できる書類」を添えて、電話0798-33-0189までご連絡ください。"
)


@pytest.mark.parametrize("width", [60.0, 95.5, 120.0, 170.0, 233.3, 400.0])
@pytest.mark.parametrize("font", [GOTHIC, MINCHO])
def test_no_line_is_wider_than_the_measure(width: float, font: str) -> None:
    lines = wrap(SENTENCE, font, 10.5, width)
    assert len(lines) > 1
    assert all(width_of(ln, font, 10.5) <= width + 1e-6 for ln in lines)
    assert "".join(lines).replace(" ", "") == SENTENCE.replace(" ", "")


@pytest.mark.parametrize("width", [c * 10.5 for c in range(4, 30)])
def test_kinsoku_no_line_starts_with_closing_punctuation_or_ends_with_opening(width: float) -> None:
    for ln in wrap(SENTENCE, MINCHO, 10.5, width)[1:]:
        assert ln[0] not in NO_LINE_START, ln
    for ln in wrap(SENTENCE, MINCHO, 10.5, width)[:-1]:
        assert ln[-1] not in NO_LINE_END, ln


def test_kinsoku_on_random_text_never_overflows() -> None:
    rnd = random.Random(7)
    alphabet = "あいうえおかきくけこ漢字図書館、。「」（）ー・っゃ0123456789AB-"
    for _ in range(300):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 80)))
        width = rnd.uniform(25, 300)
        lines = wrap(text, GOTHIC, 10, width)
        assert all(width_of(ln, GOTHIC, 10) <= width + 1e-6 for ln in lines)
        assert "".join(lines) == text.replace(" ", "")
        for prev, ln in zip(lines, lines[1:], strict=False):
            # 禁則 can only give way when the previous line is one unbreakable piece ("34" / "」")
            assert ln[0] not in NO_LINE_START or len(_TOKEN.findall(prev)) == 1, (prev, ln)


def test_phone_numbers_and_addresses_numbers_are_not_split() -> None:
    lines = wrap("お問い合わせは電話0798-33-0189までお願いします。", GOTHIC, 10, 105)
    assert any("0798-33-0189" in ln for ln in lines)


def test_a_space_is_the_preferred_break_in_an_address() -> None:
    lines = wrap("西宮市北口町1番2号 アクタ西宮東館505号室", GOTHIC, 10, 160)
    assert lines == ["西宮市北口町1番2号", "アクタ西宮東館505号室"]


def test_hard_newlines_are_kept() -> None:
    assert wrap("一行目\n二行目", GOTHIC, 10, 500) == ["一行目", "二行目"]


def test_no_lone_character_on_the_last_line() -> None:
    lines = wrap("満65歳以上で、介護保険の要介護２以上の認定を受けている", GOTHIC, 18, 18 * 26.5)
    assert len(lines[-1]) >= 2


def test_fit_shrinks_before_it_wraps() -> None:
    text = "兵庫県西宮市山口町下山口四丁目1番23号"
    full = width_of(text, GOTHIC, 11)
    f = fit(text, GOTHIC, full * 0.9, 3, size=11, min_size=8)
    assert f.lines == (text,) and 8 <= f.size < 11 and not f.clipped


def test_fit_wraps_when_shrinking_is_not_enough_and_cuts_as_last_resort() -> None:
    text = "兵庫県西宮市山口町下山口四丁目1番23号グランドメゾン西宮北口ザ・レジデンス南棟1203号室"
    f = fit(text, GOTHIC, 150, 3, size=11, min_size=8)
    assert 1 < len(f.lines) <= 3 and not f.clipped
    cut = fit(text, GOTHIC, 40, 2, size=11, min_size=8)
    assert cut.clipped and len(cut.lines) == 2 and cut.lines[-1].endswith("…")
    assert all(width_of(ln, GOTHIC, cut.size) <= 40 + 1e-6 for ln in cut.lines)


# -- addresses ----------------------------------------------------------------------------------

ADDRESSES = (
    "北海道札幌市中央区北一条西二十丁目一番地の二十三",
    "兵庫県西宮市高松町4-5-6 西宮北口グランドパレスタワーレジデンス東棟2501号室 管理人室気付",
    "サンシャインコーポラス北一条西弐拾丁目ウエストウイング棟1203号室",
    "兵庫県西宮市山口町下山口四丁目1番23号",
    "兵庫県西宮市川添町15番26号（教育文化センター内）",
    "東京都千代田区千代田1-1",
)
NUMBERS = ("一番地の二十三", "二十丁目", "4-5-6", "2501号室", "1203号室", "四丁目1番23号", "15番26号", "1-1")


@pytest.mark.parametrize("width", [c * 8.8 for c in range(6, 30)])
@pytest.mark.parametrize("address", ADDRESSES)
def test_an_address_never_breaks_inside_a_number(address: str, width: float) -> None:
    from letters.text import wrap_address

    lines = wrap_address(address, GOTHIC, 8.8, width)
    assert all(width_of(ln, GOTHIC, 8.8) <= width + 1e-6 for ln in lines), lines
    assert "".join(lines).replace(" ", "") == address.replace(" ", "")
    for number in NUMBERS:
        if number in address and width_of(number, GOTHIC, 8.8) <= width:
            assert any(number in ln for ln in lines), (number, lines)
    assert not any(ln.startswith(("）", "号", "番", "丁目")) for ln in lines), lines


@pytest.mark.parametrize(
    ("address", "width", "expected"),
    [
        # the reviewer's label: 一番地の二 / 十三 before
        ("北海道札幌市中央区北一条西二十丁目一番地の二十三", 160, ("北海道札幌市中央区北一条", "西二十丁目一番地の二十三")),
        # at the space, before the building; the room number stays whole
        (
            "兵庫県西宮市高松町4-5-6 西宮北口グランドパレスタワーレジデンス東棟2501号室 管理人室気付",
            200,
            ("兵庫県西宮市高松町4-5-6", "西宮北口グランドパレスタワーレジデンス東棟", "2501号室 管理人室気付"),
        ),
        # after 丁目, not inside the katakana name
        (
            "サンシャインコーポラス北一条西弐拾丁目ウエストウイング棟1203号室",
            170,
            ("サンシャインコーポラス北一条西弐拾丁目", "ウエストウイング棟1203号室"),
        ),
        # before the bracket, not inside 教育文化センター
        ("兵庫県西宮市川添町15番26号（教育文化センター内）", 120, ("兵庫県西宮市川添町15番26号", "（教育文化センター内）")),
        # after 都 and 区; a kanji numeral in a place name (千代田) is not a house number
        ("東京都千代田区千代田1-1 皇居", 60, ("東京都", "千代田区", "千代田1-1", "皇居")),
    ],
)
def test_an_address_breaks_where_a_postal_worker_reads_a_boundary(address: str, width: float, expected) -> None:
    from letters.text import wrap_address

    assert wrap_address(address, GOTHIC, 8.8, width) == expected


def test_address_wrapping_of_random_text_never_overflows_or_loses_text() -> None:
    from letters.text import wrap_address

    rnd = random.Random(11)
    alphabet = "北一二十丁目番地の号室棟県市区町村西宮グランドパレス（）「」ー・ 0123456789-AB"
    for _ in range(400):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 60))).strip() or "北"
        width = rnd.uniform(20, 200)
        lines = wrap_address(text, GOTHIC, 8.8, width)
        assert all(width_of(ln, GOTHIC, 8.8) <= width + 1e-6 for ln in lines), (text, width, lines)
        assert "".join(lines).replace(" ", "") == text.replace(" ", ""), (text, width, lines)
