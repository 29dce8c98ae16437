"""Pure loan rules: what one delivery or mail loan may contain, and the overdue restriction.

Sources: 宅配サービス実施要綱 第6条 (図書15冊・視聴覚資料2点, 館外貸出不可・不適当な資料は除く),
郵送貸出サービス実施要綱 第4条・第5条 (点訳絵本及び視聴覚資料に限る, 点訳絵本15冊・視聴覚資料2点),
規則第9条2 (返還されるまで個人貸出しを制限). Limits come from :class:`outreach.policy.Policy`.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from outreach.errors import ServiceHasNoLoansError
from outreach.policy import DEFAULT_POLICY, ItemLimits, Policy
from outreach.types import ItemStatus, MaterialType, Service


@dataclass(frozen=True)
class ItemFact:
    """An item a patron asked for, as the catalogue describes it."""

    barcode: str
    material_type: MaterialType
    is_lendable: bool  # False: may not leave the library (館外貸出不可, 規則第7条)
    is_unsuitable: bool  # the section chief judged it unsuitable for delivery (宅配サービスに適さない)
    status: ItemStatus


class ViolationCode(StrEnum):
    DUPLICATE_ITEM = "loan.duplicate_item"
    MATERIAL_TYPE_NOT_ALLOWED = "loan.material_type_not_allowed"
    NOT_LENDABLE = "loan.not_lendable"
    UNSUITABLE = "loan.unsuitable"
    NOT_AVAILABLE = "loan.not_available"
    TOO_MANY_BOOKS = "loan.too_many_books"
    TOO_MANY_AUDIO_VISUAL = "loan.too_many_audio_visual"
    OVERDUE_RESTRICTION = "loan.overdue_restriction"


@dataclass(frozen=True)
class Violation:
    """A broken loan rule, naming the rule and (when it is about one item) the item."""

    code: ViolationCode
    message_ja: str
    message_en: str
    barcode: str | None = None

    def message(self, lang: str = "ja") -> str:
        return self.message_en if lang.lower().startswith("en") else self.message_ja


_MATERIAL_JA = {
    MaterialType.BOOK: "図書",
    MaterialType.LARGE_PRINT: "大活字本",
    MaterialType.BRAILLE_PICTURE_BOOK: "点訳絵本",
    MaterialType.BRAILLE_BOOK: "点字図書",
    MaterialType.AUDIO_CD: "CD",
    MaterialType.DAISY: "デイジー",
    MaterialType.OTHER_AV: "その他の視聴覚資料",
}
_MATERIAL_EN = {
    MaterialType.BOOK: "books",
    MaterialType.LARGE_PRINT: "large-print books",
    MaterialType.BRAILLE_PICTURE_BOOK: "braille picture books",
    MaterialType.BRAILLE_BOOK: "braille books",
    MaterialType.AUDIO_CD: "CDs",
    MaterialType.DAISY: "DAISY discs",
    MaterialType.OTHER_AV: "other audio-visual materials",
}
_STATUS_JA = {
    ItemStatus.ON_LOAN: "貸出中",
    ItemStatus.LOST: "紛失中",
    ItemStatus.WITHDRAWN: "除籍済み",
}
_STATUS_EN = {
    ItemStatus.ON_LOAN: "on loan",
    ItemStatus.LOST: "lost",
    ItemStatus.WITHDRAWN: "withdrawn",
}
_PER_LOAN_JA = {Service.HOME_DELIVERY: "1回の宅配につき", Service.MAIL_LOAN: "1回の郵送貸出につき"}
_PER_LOAN_EN = {Service.HOME_DELIVERY: "per delivery", Service.MAIL_LOAN: "per mail loan"}
_SENDING_JA = {Service.HOME_DELIVERY: "宅配", Service.MAIL_LOAN: "郵送貸出"}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _book_words(limits: ItemLimits) -> tuple[str, str]:
    """What the book limit counts: 図書 when every printed type is allowed, else the allowed types (点訳絵本)."""
    printed = [t for t in MaterialType if not t.is_audio_visual]
    allowed = [t for t in printed if limits.allows(t)]
    if allowed == printed:
        return "図書", "books"
    return "・".join(_MATERIAL_JA[t] for t in allowed), " and ".join(_MATERIAL_EN[t] for t in allowed)


def _allowed_words(limits: ItemLimits) -> tuple[str, str]:
    return (
        "・".join(_MATERIAL_JA[t] for t in limits.allowed_material_types),
        ", ".join(_MATERIAL_EN[t] for t in limits.allowed_material_types),
    )


def _item_problems(item: ItemFact, service: Service, limits: ItemLimits) -> list[Violation]:
    """Every reason this item cannot go out, whatever the others in the request are."""
    problems: list[Violation] = []
    b = item.barcode
    if not limits.allows(item.material_type):
        allowed_ja, allowed_en = _allowed_words(limits)
        problems.append(
            Violation(
                ViolationCode.MATERIAL_TYPE_NOT_ALLOWED,
                f"{b}: {_MATERIAL_JA[item.material_type]}は貸出できません（貸出できるのは{allowed_ja}に限ります）",
                f"{b}: {_MATERIAL_EN[item.material_type]} cannot be lent through this service "
                f"(only {allowed_en})",
                b,
            )
        )
    if not item.is_lendable:
        problems.append(
            Violation(
                ViolationCode.NOT_LENDABLE,
                f"{b}: 館外に貸出しできない資料です",
                f"{b}: this item may not leave the library",
                b,
            )
        )
    if item.is_unsuitable:
        problems.append(
            Violation(
                ViolationCode.UNSUITABLE,
                f"{b}: {_SENDING_JA[service]}に適さない資料と判断されています",
                f"{b}: this item has been judged unsuitable for sending",
                b,
            )
        )
    if item.status is not ItemStatus.AVAILABLE:
        problems.append(
            Violation(
                ViolationCode.NOT_AVAILABLE,
                f"{b}: この資料は{_STATUS_JA.get(item.status, item.status.value)}のため貸出できません",
                f"{b}: this item is {_STATUS_EN.get(item.status, item.status.value)}",
                b,
            )
        )
    return problems


def evaluate_request(
    service: Service, items: Sequence[ItemFact], policy: Policy = DEFAULT_POLICY
) -> list[list[Violation]]:
    """For each item, in request order, the rules it breaks ([] when it can go).

    Per-item exclusions come first; excluded items (not lendable, unsuitable, unavailable, wrong
    material type, duplicates) do not count towards the limits (宅配要綱第6条ただし書). Items over a
    limit are the later ones, so the first ones asked for are the ones that go.
    """
    limits = policy.item_limits(service)
    if limits is None:
        raise ServiceHasNoLoansError(
            "loan.service_has_no_loans",
            "このサービスでは資料の貸出はありません",
            f"The service {service.value} does not lend items",
        )
    result: list[list[Violation]] = []
    seen: set[str] = set()
    books = audio_visual = 0
    book_ja, book_en = _book_words(limits)
    per_ja, per_en = _PER_LOAN_JA[service], _PER_LOAN_EN[service]
    for item in items:
        if item.barcode in seen:
            result.append([
                Violation(
                    ViolationCode.DUPLICATE_ITEM,
                    f"{item.barcode}: 同じ資料が2回申し込まれています",
                    f"{item.barcode}: the same item is requested twice",
                    item.barcode,
                )
            ])
            continue
        seen.add(item.barcode)
        problems = _item_problems(item, service, limits)
        if problems:
            result.append(problems)
            continue
        if item.material_type.is_audio_visual:
            audio_visual += 1
            if audio_visual > limits.max_audio_visual:
                result.append([
                    Violation(
                        ViolationCode.TOO_MANY_AUDIO_VISUAL,
                        f"視聴覚資料は{per_ja}{limits.max_audio_visual}点までです"
                        f"（{audio_visual}点目：{item.barcode}）",
                        f"At most {limits.max_audio_visual} audio-visual items {per_en} "
                        f"({_ordinal(audio_visual)}: {item.barcode})",
                        item.barcode,
                    )
                ])
                continue
        else:
            books += 1
            if books > limits.max_books:
                result.append([
                    Violation(
                        ViolationCode.TOO_MANY_BOOKS,
                        f"{book_ja}は{per_ja}{limits.max_books}冊までです（{books}冊目：{item.barcode}）",
                        f"At most {limits.max_books} {book_en} {per_en} ({_ordinal(books)}: {item.barcode})",
                        item.barcode,
                    )
                ])
                continue
        result.append([])
    return result


def check_request_limits(
    service: Service, items: Sequence[ItemFact], policy: Policy = DEFAULT_POLICY
) -> list[Violation]:
    """Every rule a loan request breaks: per-item exclusions, then the book / audio-visual limits per loan.

    Excluded items (not lendable, unsuitable, unavailable, wrong material type, duplicates) do not count
    towards the limits (宅配要綱第6条ただし書). Items over a limit are named in request order, so the
    first ones asked for are the ones that go.
    """
    return [v for problems in evaluate_request(service, items, policy) for v in problems]


def check_overdue_restriction(overdue_items: int, policy: Policy = DEFAULT_POLICY) -> list[Violation]:
    """No new loan while items are overdue, when the policy applies 規則第9条2 (返還されるまで貸出しを制限)."""
    if not policy.overdue_restriction or overdue_items <= 0:
        return []
    return [
        Violation(
            ViolationCode.OVERDUE_RESTRICTION,
            f"返却期限を過ぎた資料が{overdue_items}点あるため、返却されるまで新たな貸出しはできません",
            (f"{overdue_items} item is overdue" if overdue_items == 1 else f"{overdue_items} items are overdue")
            + ": no new loan until they are returned",
        )
    ]


# --------------------------------------------------------------------------------------------------
# "Choose for me" (おまかせ選書): available items that match a reader profile


@dataclass(frozen=True)
class ProfileTerm:
    """A word from a reader profile: its folded key (for matching) and the words staff typed."""

    key: str
    label: str


@dataclass(frozen=True)
class ReaderPreferences:
    """A reader profile as the selection reads it."""

    subjects: tuple[ProfileTerm, ...] = ()
    authors: tuple[ProfileTerm, ...] = ()
    formats: tuple[MaterialType, ...] = ()  # empty: any format the service allows
    exclusions: tuple[str, ...] = ()  # folded keys; an item whose subjects, title or author contain one is left out
    items_per_month: int = 5


class SelectableItem(NamedTuple):
    """An available item as the catalogue stream gives it to the selection (a tuple: the stream makes
    one for every available item of the catalogue, so it must be cheap to build)."""

    item_id: int
    barcode: str
    title: str
    material_type: MaterialType
    author_key: str = ""
    subject_keys: tuple[str, ...] = ()
    title_key: str = ""


@dataclass
class SelectionWant:
    """A patron who asked for (or gets every month) a selection, and how much room is left."""

    patron_id: int
    service: Service
    preferences: ReaderPreferences
    books_room: int
    audio_visual_room: int
    total_room: int
    allowed: tuple[MaterialType, ...]
    history: frozenset[int] = frozenset()  # items lent before (only with reading-history consent)


@dataclass(frozen=True)
class Choice:
    """A chosen item and why it was chosen."""

    item: SelectableItem
    reason_ja: str
    reason_en: str


_ANY = ("*", "")
_TRIES_PER_ITEM = 32  # bound on the patrons tried for one item, so one popular subject cannot go quadratic


def _room_for(want: SelectionWant, material: MaterialType) -> bool:
    if want.total_room <= 0:
        return False
    return want.audio_visual_room > 0 if material.is_audio_visual else want.books_room > 0


def _full(want: SelectionWant) -> bool:
    return want.total_room <= 0 or (want.books_room <= 0 and want.audio_visual_room <= 0)


def _accepts(want: SelectionWant, item: SelectableItem) -> bool:
    prefs = want.preferences
    if item.material_type not in want.allowed:
        return False
    if prefs.formats and item.material_type not in prefs.formats:
        return False
    if not _room_for(want, item.material_type) or item.item_id in want.history:
        return False
    for word in prefs.exclusions:
        if word in item.title_key or word in item.author_key or any(word in s for s in item.subject_keys):
            return False
    return True


def _reason(want: SelectionWant, kind: str, key: str, item: SelectableItem) -> tuple[str, str]:
    prefs = want.preferences
    if kind == "a":
        return _reason_words(kind, next((t.label for t in prefs.authors if t.key == key), key))
    if kind == "s":
        return _reason_words(kind, next((t.label for t in prefs.subjects if t.key == key), key))
    if kind == "f":
        return _reason_words(kind, item.material_type.value)
    return _reason_words(kind, "")


@functools.lru_cache(maxsize=4096)
def _reason_words(kind: str, label: str) -> tuple[str, str]:
    """The words of a reason, made once and shared: a national month chooses hundreds of thousands of
    items for a few thousand distinct reasons."""
    if kind == "a":
        return f"著者「{label}」が読書プロフィールに一致", f"author '{label}' is in the reader profile"
    if kind == "s":
        return f"件名「{label}」が読書プロフィールに一致", f"subject '{label}' is in the reader profile"
    if kind == "f":
        material = MaterialType(label)
        return f"希望の形式（{_MATERIAL_JA[material]}）", f"preferred format ({_MATERIAL_EN[material]})"
    return "おまかせ（条件の指定なし）", "no preference given: any suitable item"


def _acceptable_types(want: SelectionWant) -> tuple[MaterialType, ...]:
    """The material types the service allows and the profile asks for (all allowed ones if it names none)."""
    formats = want.preferences.formats
    return tuple(m for m in want.allowed if not formats or m in formats)


def _want_keys(prefs: ReaderPreferences) -> list[tuple[str, str]]:
    keys = [("a", t.key) for t in prefs.authors] + [("s", t.key) for t in prefs.subjects]
    if keys:
        return keys
    if prefs.formats:
        return [("f", m.value) for m in prefs.formats]
    return [_ANY]


def choose_items(
    wants: Sequence[SelectionWant], catalogue: Iterable[SelectableItem], taken: set[int] | None = None
) -> dict[tuple[int, Service], list[Choice]]:
    """Choose items for every want in one pass over the catalogue stream (newest items first, say).

    An item goes to at most one patron and never to one who had it before (reading history, with
    consent) or whose profile excludes it; it must be of a format the service allows (and the
    profile asks for, if it names formats) and fit the room left under the limits. An author match
    is tried before a subject match; patrons who share a subject take turns, so a popular subject is
    shared out. ``taken`` (item ids already planned) is updated. Linear in catalogue size.
    """
    taken = taken if taken is not None else set()
    # One queue per profile key *and material type*: a patron waits only where the items are of a type
    # they can take, so an item is offered to patrons who would accept it (the pass stays linear).
    queues: dict[tuple[str, str, MaterialType], deque[int]] = {}
    for index, want in enumerate(wants):
        if _full(want):
            continue
        for kind, key in _want_keys(want.preferences):
            for material in _acceptable_types(want):
                queues.setdefault((kind, key, material), deque()).append(index)
    result: dict[tuple[int, Service], list[Choice]] = {}
    open_wants = sum(1 for w in wants if not _full(w))
    if not queues or open_wants == 0:
        return result
    for item in catalogue:
        if item.item_id in taken:
            continue
        keys: list[tuple[str, str]] = []
        if item.author_key:
            keys.append(("a", item.author_key))
        keys.extend(("s", k) for k in item.subject_keys)
        keys.append(("f", item.material_type.value))
        keys.append(_ANY)
        placed = False
        for kind, key in keys:
            queue = queues.get((kind, key, item.material_type))
            if not queue:
                continue
            for _ in range(min(len(queue), _TRIES_PER_ITEM)):
                index = queue.popleft()
                want = wants[index]
                if not _room_for(want, item.material_type):
                    continue  # no room left for this kind of item: dropped from this queue for good
                if not _accepts(want, item):
                    queue.append(index)
                    continue
                ja, en = _reason(want, kind, key, item)
                # the matching keys are done with: keep only what the plan and the proposal show
                chosen = SelectableItem(item.item_id, item.barcode, item.title, item.material_type)
                result.setdefault((want.patron_id, want.service), []).append(Choice(chosen, ja, en))
                taken.add(item.item_id)
                want.total_room -= 1
                if item.material_type.is_audio_visual:
                    want.audio_visual_room -= 1
                else:
                    want.books_room -= 1
                if _full(want):
                    open_wants -= 1
                elif _room_for(want, item.material_type):
                    queue.append(index)
                placed = True
                break
            if placed:
                break
        if open_wants <= 0:
            break
    return result


def preferences_from_text(
    subjects: str, authors: str, formats: Iterable[MaterialType], exclusions: str, items_per_month: int,
    fold: Callable[[str], str],
) -> ReaderPreferences:
    """A reader profile as typed by staff (words separated by 「、」「,」 or new lines) → preferences.

    ``fold`` is the search-key function (script and width folding) shared with the catalogue keys.
    """

    def terms(text: str) -> tuple[ProfileTerm, ...]:
        out: dict[str, ProfileTerm] = {}
        for word in _WORDS.split(text or ""):
            word = word.strip()
            if word and fold(word) and fold(word) not in out:
                out[fold(word)] = ProfileTerm(fold(word), word)
        return tuple(out.values())

    return ReaderPreferences(
        subjects=terms(subjects),
        authors=terms(authors),
        formats=tuple(dict.fromkeys(formats)),
        exclusions=tuple(t.key for t in terms(exclusions)),
        items_per_month=items_per_month,
    )


_WORDS = re.compile(r"[、,，;；/／|｜\n\r]+")
