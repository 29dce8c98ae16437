"""Pure rules for patron records: search keys, postal codes, phone numbers, text hygiene."""

from __future__ import annotations

import functools
import re
import unicodedata

import jaconv

_SPACES = re.compile(r"\s+")
_NOT_DIGIT = re.compile(r"\D")
_PHONE = re.compile(r"^\+?[0-9()\-ー−‐ ]+$")
_POSTAL = re.compile(r"^(\d{3})-?(\d{4})$")
# Control characters (Cc) other than line breaks and tab never belong in a record.
_ALLOWED_CONTROLS = {"\n", "\r", "\t"}


@functools.lru_cache(maxsize=65_536)  # pure; the planner folds the same subjects and names many times
def search_key(text: str) -> str:
    """Fold a name or reading so that script and width do not matter.

    NFKC makes half-width katakana and full-width Latin/digits ordinary; katakana becomes
    hiragana; spaces (ASCII and ideographic) go; Latin letters are lower-cased.
    """
    folded = unicodedata.normalize("NFKC", text)
    folded = jaconv.kata2hira(folded)
    folded = _SPACES.sub("", folded)
    return folded.lower()


def given_name_key(reading: str) -> str:
    """The search key of the part after the first space (the given name), or '' when there is none."""
    parts = _SPACES.split(unicodedata.normalize("NFKC", reading).strip(), maxsplit=1)
    return search_key(parts[1]) if len(parts) == 2 else ""


def phone_key(phone: str) -> str:
    """Digits only, so 0798-33-0183, ０７９８（３３）０１８３ and 0798330183 are the same number."""
    return _NOT_DIGIT.sub("", unicodedata.normalize("NFKC", phone))


def looks_like_phone(text: str) -> bool:
    """Digits with the usual separators (hyphens, brackets, spaces) and nothing else."""
    return bool(_PHONE.match(unicodedata.normalize("NFKC", text).strip()))


def normalise_postal_code(value: str) -> str | None:
    """'6620911', '662-0911', '６６２－０９１１' → '662-0911'; anything else → None."""
    text = unicodedata.normalize("NFKC", value).strip().replace("ー", "-").replace("−", "-")
    match = _POSTAL.match(text)
    return f"{match.group(1)}-{match.group(2)}" if match else None


def has_control_characters(text: str, allow_line_breaks: bool = False) -> bool:
    """True when the text holds control characters (line breaks allowed only in free notes)."""
    for ch in text:
        if unicodedata.category(ch) == "Cc" and not (allow_line_breaks and ch in _ALLOWED_CONTROLS):
            return True
    return False


def is_city_resident(prefecture: str, city: str, library_prefecture: str, library_city: str) -> bool:
    """市内在住: the address lies in the library's own city (ward suffixes such as 区 included)."""
    if prefecture != library_prefecture:
        return False
    return city == library_city or city.startswith(library_city)


def looks_like_reading(text: str) -> bool:
    """A フリガナ holds kana (either script, any width), the long-vowel mark and spaces only."""
    folded = search_key(text)
    return bool(folded) and all("\u3041" <= ch <= "\u309f" or ch in "ー・" for ch in folded)
