"""「おまかせ」選書 as a pure function, and per-item request verdicts."""

from __future__ import annotations

from outreach.loans.rules import (
    ItemFact,
    ReaderPreferences,
    SelectableItem,
    SelectionWant,
    ViolationCode,
    choose_items,
    evaluate_request,
    preferences_from_text,
)
from outreach.patrons.rules import search_key
from outreach.policy import DEFAULT_POLICY
from outreach.types import ItemStatus, MaterialType, Service

ALL = tuple(MaterialType)
B, LP, CD, DAISY = MaterialType.BOOK, MaterialType.LARGE_PRINT, MaterialType.AUDIO_CD, MaterialType.DAISY


def item(n: int, material: MaterialType = B, author: str = "", subjects: tuple[str, ...] = (), title: str = "") -> SelectableItem:
    return SelectableItem(n, f"B{n}", title or f"本{n}", material, search_key(author), tuple(search_key(s) for s in subjects),
                          search_key(title or f"本{n}"))


def prefs(subjects: str = "", authors: str = "", formats=(), exclusions: str = "", count: int = 5) -> ReaderPreferences:
    return preferences_from_text(subjects, authors, formats, exclusions, count, search_key)


def want(patron: int, p: ReaderPreferences, books: int = 15, av: int = 2, total: int | None = None,
         history=frozenset(), allowed=ALL, service=Service.HOME_DELIVERY) -> SelectionWant:
    return SelectionWant(patron, service, p, books, av, p.items_per_month if total is None else total, allowed, history)


def test_profile_words_are_split_and_folded():
    p = prefs("時代小説、ミステリー\n歴史", "藤沢 周平", [LP], "ホラー")
    assert [t.label for t in p.subjects] == ["時代小説", "ミステリー", "歴史"]
    assert p.authors[0].key == "藤沢周平" and p.exclusions == ("ほらー",)


def test_author_and_subject_matches_say_why():
    catalogue = [item(3, author="藤沢 周平"), item(2, subjects=("時代小説",)), item(1, subjects=("料理",))]
    chosen = choose_items([want(7, prefs("時代小説", "藤沢周平", count=3))], catalogue)[(7, Service.HOME_DELIVERY)]
    assert [c.item.item_id for c in chosen] == [3, 2]
    assert chosen[0].reason_ja == "著者「藤沢周平」が読書プロフィールに一致"
    assert chosen[1].reason_ja == "件名「時代小説」が読書プロフィールに一致"


def test_the_count_the_limits_and_the_formats_are_respected():
    catalogue = [item(n, CD, subjects=("落語",)) for n in range(1, 6)] + [item(10, B, subjects=("落語",))]
    chosen = choose_items([want(1, prefs("落語", count=10), av=2)], catalogue)[(1, Service.HOME_DELIVERY)]
    assert sorted(c.item.material_type for c in chosen) == sorted([B, CD, CD])  # at most 2 audio-visual
    only_cd = choose_items([want(1, prefs("落語", formats=[CD], count=10))], catalogue)[(1, Service.HOME_DELIVERY)]
    assert {c.item.material_type for c in only_cd} == {CD}
    few = choose_items([want(1, prefs("落語", count=1))], catalogue)[(1, Service.HOME_DELIVERY)]
    assert len(few) == 1


def test_exclusions_history_and_service_types_rule_items_out():
    catalogue = [item(1, subjects=("ホラー", "小説")), item(2, subjects=("小説",), title="怖い話"),
                 item(3, subjects=("小説",)), item(4, subjects=("小説",)), item(5, LP, subjects=("小説",))]
    chosen = choose_items([want(1, prefs("小説", exclusions="ホラー、怖い", count=5), history=frozenset({3}),
                                allowed=(LP,))], catalogue)
    assert [c.item.item_id for c in chosen[(1, Service.HOME_DELIVERY)]] == [5]


def test_an_item_goes_to_one_patron_and_patrons_take_turns():
    catalogue = [item(n, subjects=("時代小説",)) for n in range(1, 5)]
    wants = [want(1, prefs("時代小説", count=2)), want(2, prefs("時代小説", count=2))]
    chosen = choose_items(wants, catalogue)
    first = [c.item.item_id for c in chosen[(1, Service.HOME_DELIVERY)]]
    second = [c.item.item_id for c in chosen[(2, Service.HOME_DELIVERY)]]
    assert first == [1, 3] and second == [2, 4]


def test_taken_items_are_skipped_and_recorded():
    taken = {1}
    chosen = choose_items([want(1, prefs("小説", count=5))], [item(1, subjects=("小説",)), item(2, subjects=("小説",))], taken)
    assert [c.item.item_id for c in chosen[(1, Service.HOME_DELIVERY)]] == [2]
    assert taken == {1, 2}


def test_a_profile_with_only_formats_or_nothing_at_all():
    catalogue = [item(1, B), item(2, DAISY)]
    by_format = choose_items([want(1, prefs(formats=[DAISY], count=3))], catalogue)[(1, Service.HOME_DELIVERY)]
    assert [c.item.item_id for c in by_format] == [2] and "デイジー" in by_format[0].reason_ja
    anything = choose_items([want(1, prefs(count=1))], catalogue)[(1, Service.HOME_DELIVERY)]
    assert anything[0].reason_ja == "おまかせ（条件の指定なし）"


def test_the_catalogue_stream_stops_when_everyone_has_enough():
    consumed = []

    def stream():
        for n in range(1, 10_000):
            consumed.append(n)
            yield item(n, subjects=("小説",))

    choose_items([want(1, prefs("小説", count=2))], stream())
    assert len(consumed) == 2


def test_evaluate_request_gives_one_verdict_per_item_in_order():
    facts = [ItemFact(f"B{n}", B, True, False, ItemStatus.AVAILABLE) for n in range(16)]
    facts.insert(1, ItemFact("X", B, False, False, ItemStatus.AVAILABLE))
    verdicts = evaluate_request(Service.HOME_DELIVERY, facts, DEFAULT_POLICY)
    assert len(verdicts) == 17
    assert verdicts[1][0].code is ViolationCode.NOT_LENDABLE
    assert verdicts[-1][0].code is ViolationCode.TOO_MANY_BOOKS  # the 16th lendable book
    assert all(v == [] for i, v in enumerate(verdicts) if i not in (1, 16))
