"""Pure catalogue rules: reading one CSV row from the main system, material types, search keys,
and the shelf order of call numbers. No database, no Flask."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from outreach.patrons.rules import has_control_characters, search_key
from outreach.types import ItemStatus, MaterialType

# Column names the main system may use (Japanese exports, or our own English ids).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "barcode": ("資料番号", "バーコード", "資料ID", "barcode"),
    "title": ("書名", "タイトル", "title"),
    "title_kana": ("書名ヨミ", "書名カナ", "ヨミ", "title_kana"),
    "author": ("著者", "著者名", "author"),
    "material_type": ("資料種別", "種別", "material_type"),
    "subjects": ("件名", "ジャンル", "件名・ジャンル", "subjects"),
    "shelf_location": ("配架場所", "所在", "shelf_location"),
    "call_number": ("請求記号", "call_number"),
    "is_lendable": ("館外貸出", "貸出区分", "is_lendable"),
    "status": ("状態", "資料状態", "status"),
}
REQUIRED_COLUMNS = ("barcode", "title", "material_type")
FIELD_NAMES_JA = {
    "barcode": "資料番号", "title": "書名", "title_kana": "書名ヨミ", "author": "著者", "material_type": "資料種別",
    "subjects": "件名", "shelf_location": "配架場所", "call_number": "請求記号", "is_lendable": "館外貸出",
    "status": "状態",
}
MAX_LENGTHS = {"barcode": 32, "title": 300, "title_kana": 300, "author": 200, "subjects": 500,
               "shelf_location": 60, "call_number": 60}

_MATERIAL_WORDS: dict[str, MaterialType] = {
    "図書": MaterialType.BOOK, "一般図書": MaterialType.BOOK, "本": MaterialType.BOOK,
    "大活字本": MaterialType.LARGE_PRINT, "大活字": MaterialType.LARGE_PRINT,
    "点訳絵本": MaterialType.BRAILLE_PICTURE_BOOK, "てんやく絵本": MaterialType.BRAILLE_PICTURE_BOOK,
    "点字図書": MaterialType.BRAILLE_BOOK, "点字": MaterialType.BRAILLE_BOOK,
    "cd": MaterialType.AUDIO_CD, "音楽cd": MaterialType.AUDIO_CD, "録音図書cd": MaterialType.AUDIO_CD,
    "daisy": MaterialType.DAISY, "デイジー": MaterialType.DAISY, "録音図書daisy": MaterialType.DAISY,
    "その他視聴覚": MaterialType.OTHER_AV, "視聴覚": MaterialType.OTHER_AV, "カセット": MaterialType.OTHER_AV,
    "dvd": MaterialType.OTHER_AV,
}
_LENDABLE_WORDS = {
    "可": True, "貸出可": True, "館外可": True, "○": True, "1": True, "true": True, "yes": True, "": True,
    "不可": False, "貸出不可": False, "禁帯出": False, "館外不可": False, "×": False, "0": False,
    "false": False, "no": False,
}
_STATUS_WORDS = {
    "": None, "在架": ItemStatus.AVAILABLE, "貸出可": ItemStatus.AVAILABLE, "available": ItemStatus.AVAILABLE,
    "紛失": ItemStatus.LOST, "不明": ItemStatus.LOST, "lost": ItemStatus.LOST,
    "除籍": ItemStatus.WITHDRAWN, "廃棄": ItemStatus.WITHDRAWN, "withdrawn": ItemStatus.WITHDRAWN,
}
_BARCODE = re.compile(r"^[0-9A-Za-z\-]+$")
_SUBJECT_SEPARATORS = re.compile(r"[;；,，、/／|｜]+")
_CALL_TOKEN = re.compile(r"(\d+)(\.\d+)?|\D+")


@dataclass(frozen=True)
class Problem:
    """Why a row (or the file) cannot be taken, in a librarian's words."""

    field: str
    message_ja: str
    message_en: str

    def message(self, lang: str = "ja") -> str:
        return self.message_en if lang.lower().startswith("en") else self.message_ja


@dataclass(frozen=True)
class ItemValues:
    """A valid row: the catalogue fields it sets. ``status`` None means "keep what we have"."""

    barcode: str
    title: str
    title_kana: str
    author: str
    material_type: MaterialType
    subjects: str
    shelf_location: str
    call_number: str
    is_lendable: bool
    status: ItemStatus | None


def fold(text: str) -> str:
    """NFKC, trimmed: full-width digits and Latin letters become ordinary ones."""
    return unicodedata.normalize("NFKC", text or "").strip()


def parse_material_type(text: str) -> MaterialType | None:
    """資料種別 as the main system writes it (図書, 大活字本, 点訳絵本, CD, デイジー ...) or our own ids."""
    word = fold(text).lower().replace(" ", "")
    try:
        return MaterialType(word)
    except ValueError:
        return _MATERIAL_WORDS.get(word)


def split_subjects(text: str) -> list[str]:
    """件名 separated by 「;」「、」「/」 and the like, without empty ones or repeats, in order."""
    seen: dict[str, None] = {}
    for part in _SUBJECT_SEPARATORS.split(fold(text)):
        if part.strip():
            seen.setdefault(part.strip(), None)
    return list(seen)


def subject_keys(text: str) -> str:
    """The subjects as ``|key|key|`` (script and width folded), so one key can be matched exactly."""
    keys = [search_key(s) for s in split_subjects(text)]
    return "|" + "|".join(dict.fromkeys(k for k in keys if k)) + "|" if keys else ""


def call_number_key(call_number: str) -> str:
    """A key that sorts call numbers the way shelves do: numbers as numbers (95 before 913) and the
    decimal part of an NDC class digit by digit (913.12 before 913.6); text as text."""
    parts = []
    for m in _CALL_TOKEN.finditer(fold(call_number)):
        if m.group(1) is not None:
            parts.append(f"{int(m.group(1)):010d}{m.group(2) or ''}")
        else:
            parts.append(m.group(0))
    return "".join(parts)[:120]


def resolve_header(header: Sequence[str]) -> tuple[dict[str, int], list[Problem]]:
    """Which column holds which field; problems when a required column is missing or doubled."""
    positions: dict[str, int] = {}
    problems: list[Problem] = []
    lookup = {fold(alias).lower(): field for field, aliases in HEADER_ALIASES.items() for alias in aliases}
    for index, name in enumerate(header):
        field = lookup.get(fold(name).lower())
        if field is None:
            continue
        if field in positions:
            problems.append(Problem(field, f"列「{FIELD_NAMES_JA[field]}」が2回あります",
                                    f"The column '{field}' appears twice"))
            continue
        positions[field] = index
    for field in REQUIRED_COLUMNS:
        if field not in positions:
            problems.append(Problem(field, f"必須の列「{FIELD_NAMES_JA[field]}」がありません",
                                    f"The required column '{field}' is missing"))
    return positions, problems


def parse_row(values: Mapping[str, str]) -> tuple[ItemValues | None, list[Problem]]:
    """Validate one row (field → raw text). Returns the values, or None with every problem found."""
    problems: list[Problem] = []
    clean: dict[str, str] = {}
    for field in HEADER_ALIASES:
        raw = values.get(field, "") or ""
        text = fold(raw) if field in ("barcode", "call_number", "is_lendable", "status", "material_type") else raw.strip()
        if has_control_characters(text):
            problems.append(Problem(field, f"{FIELD_NAMES_JA[field]}に制御文字が含まれています",
                                    f"{field} contains control characters"))
        limit = MAX_LENGTHS.get(field)
        if limit and len(text) > limit:
            problems.append(Problem(field, f"{FIELD_NAMES_JA[field]}が長すぎます（{limit}文字まで）",
                                    f"{field} is too long (at most {limit} characters)"))
        clean[field] = text
    if not clean["barcode"]:
        problems.append(Problem("barcode", "資料番号がありません", "The barcode is missing"))
    elif not _BARCODE.match(clean["barcode"]):
        problems.append(Problem("barcode", "資料番号は数字・英字・ハイフンで書いてください",
                                "A barcode has digits, letters and hyphens only"))
    if not clean["title"]:
        problems.append(Problem("title", "書名がありません", "The title is missing"))
    material = parse_material_type(clean["material_type"])
    if material is None:
        problems.append(Problem("material_type", f"資料種別「{clean['material_type']}」は使えません"
                                "（図書・大活字本・点訳絵本・点字図書・CD・デイジー・その他視聴覚）",
                                f"Unknown material type '{clean['material_type']}'"))
    lendable_word = clean["is_lendable"].lower()
    if lendable_word not in _LENDABLE_WORDS:
        problems.append(Problem("is_lendable", f"館外貸出「{clean['is_lendable']}」は「可」か「不可」で書いてください",
                                f"Lendable '{clean['is_lendable']}' must be yes or no"))
    status_word = clean["status"].lower()
    if status_word not in _STATUS_WORDS:
        problems.append(Problem("status", f"状態「{clean['status']}」は使えません（在架・紛失・除籍）",
                                f"Unknown status '{clean['status']}'"))
    if problems:
        return None, problems
    assert material is not None
    return ItemValues(
        barcode=clean["barcode"], title=clean["title"], title_kana=clean["title_kana"], author=clean["author"],
        material_type=material, subjects="; ".join(split_subjects(clean["subjects"])),
        shelf_location=clean["shelf_location"], call_number=clean["call_number"],
        is_lendable=_LENDABLE_WORDS[lendable_word], status=_STATUS_WORDS[status_word],
    ), []


def derived_keys(title: str, title_kana: str, author: str, subjects: str, call_number: str) -> dict[str, str]:
    """The normalised keys stored beside an item's fields."""
    return {
        "title_key": search_key(title)[:300],
        "title_kana_key": search_key(title_kana)[:300],
        "author_key": search_key(author)[:200],
        "subject_keys": subject_keys(subjects)[:600],
        "call_number_key": call_number_key(call_number),
    }
