"""Japanese line breaking by measured width, with basic 禁則処理.

* Japanese text may break between any two characters, except that a line never starts with
  closing brackets, 、。 and small kana (行頭禁則), and never ends with an opening bracket
  (行末禁則).  Offending characters are pushed to the next line (追い出し), never hung outside
  the measure, so a wrapped line is always at most ``width`` wide.
* Runs of Latin letters and digits (``15-26``, ``0798-33-0189``, ``ACTA``) stay together unless a
  run alone is wider than the line.
* A space is a preferred break: when one sits past 30 % of a full line the line breaks
  there (so ``川添町15番26号 教育文化センター内`` breaks at the space).  Spaces at a break vanish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from reportlab.pdfbase.pdfmetrics import stringWidth

from letters.fonts import register_fonts

# 行頭禁則: may not start a line.
NO_LINE_START = frozenset(
    "、。，．,.:;：；!?！？‼⁇⁈⁉)）]］}｝」』】〕〉》〙〗〟’”»›"
    "ゝゞヽヾーァィゥェォッャュョヮヵヶぁぃぅぇぉっゃゅょゎゕゖㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ々〻"
    "‐゠–〜～・…‥%％°℃"
)
# 行末禁則: may not end a line.
NO_LINE_END = frozenset("(（[［{｛「『【〔〈《〘〖〝‘“«‹〒#＃")

_SPACES = frozenset(" \u3000\t")
# Unbreakable runs: half- and full-width alphanumerics joined by - . / : , @ _ '
_TOKEN = re.compile(
    r"[0-9A-Za-z０-９Ａ-Ｚａ-ｚ](?:[0-9A-Za-z０-９Ａ-Ｚａ-ｚ\-‐－−.．/／:：,，@＠_'’]*[0-9A-Za-z０-９Ａ-Ｚａ-ｚ])?|.",
    re.S,
)


@lru_cache(maxsize=65536)
def width_of(text: str, font: str, size: float) -> float:
    """Width of ``text`` in points (cached: addresses and names repeat a lot across a batch)."""
    return stringWidth(text, font, size)


@lru_cache(maxsize=65536)
def wrapped(text: str, font: str, size: float, width: float) -> tuple[str, ...]:
    """:func:`wrap`, remembered: titles and names recur across the slips and labels of a batch."""
    return tuple(wrap(text, font, size, width))


def _char_width(ch: str, font: str, size: float) -> float:
    return width_of(ch, font, size)


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` points; ``\\n`` forces a break."""
    register_fonts()
    lines: list[str] = []
    for hard in text.split("\n"):
        lines.extend(_wrap_one(hard, font, size, width))
    return lines


def _wrap_one(text: str, font: str, size: float, width: float) -> list[str]:
    if not text:
        return [""]
    if width_of(text, font, size) <= width:
        return [text]
    tokens = _TOKEN.findall(text)
    out: list[str] = []
    cur: list[str] = []
    cur_w = 0.0
    i = 0
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        w = width_of(tok, font, size)
        if not cur and tok in _SPACES and out:
            i += 1  # a space at the start of a wrapped line disappears
            continue
        if cur_w + w <= width + 1e-6:
            cur.append(tok)
            cur_w += w
            i += 1
            continue
        # tok does not fit on this line.
        if tok in _SPACES:
            out.append("".join(cur).rstrip(" \u3000\t"))
            cur, cur_w = [], 0.0
            i += 1
            continue
        if not cur:
            # A single token wider than the line (long number run): split it by characters.
            head, rest = _split_token(tok, font, size, width)
            out.append(head)
            tokens[i] = rest
            continue
        # a space past 30 % of the line is the best break; otherwise break here, with 禁則
        carry = _space_carry(cur, cur_w, width, font, size) or _kinsoku_carry(cur, tok)
        if carry:
            moved = cur[-carry:]
            del cur[-carry:]
        else:
            moved = []
        out.append("".join(cur).rstrip(" \u3000\t"))
        while moved and moved[0] in _SPACES:
            moved.pop(0)
        cur = moved
        cur_w = sum(width_of(t, font, size) for t in cur)
        # loop again with the same tok against the new line
    if cur:
        out.append("".join(cur).rstrip(" \u3000\t"))
    return _no_lone_last_char(out)


def _no_lone_last_char(out: list[str]) -> list[str]:
    """Avoid a paragraph ending in a line of one character (受けてい／る): move one more down."""
    if len(out) < 2 or len(out[-1]) != 1 or len(out[-2]) < 4:
        return out
    prev, last = out[-2], out[-1]
    moved = prev[-1]
    if moved in _SPACES or moved in NO_LINE_START or prev[-2] in NO_LINE_END:
        return out
    if moved.isascii() and moved.isalnum() and prev[-2].isascii() and prev[-2].isalnum():
        return out  # would split a Latin/digit run
    out[-2:] = [prev[:-1], moved + last]
    return out


def _kinsoku_carry(cur: list[str], nxt: str) -> int | None:
    """How many tokens to move from the end of ``cur`` so no line starts/ends badly (None: no rule hit)."""
    carry = 0
    # 行頭禁則: the next token cannot start a line → pull tokens back until it can.
    while nxt[0] in NO_LINE_START and carry < len(cur) - 1:
        carry += 1
        nxt = cur[-carry]
    # 行末禁則: the line would end with an opening bracket → move it down too.
    while carry < len(cur) - 1 and cur[-carry - 1][-1] in NO_LINE_END:
        carry += 1
    return carry or None


def _space_carry(cur: list[str], cur_w: float, width: float, font: str, size: float) -> int:
    """Break at the last space if it lies past 30 % of the line (address-friendly)."""
    acc = cur_w
    for k in range(len(cur) - 1, 0, -1):
        acc -= width_of(cur[k], font, size)
        if cur[k] in _SPACES:
            return len(cur) - k if acc >= width * 0.3 else 0
    return 0


def _split_token(tok: str, font: str, size: float, width: float) -> tuple[str, str]:
    acc = 0.0
    for j, ch in enumerate(tok):
        acc += _char_width(ch, font, size)
        if acc > width + 1e-6:
            j = max(j, 1)
            return tok[:j], tok[j:]
    return tok, ""


# -- addresses ---------------------------------------------------------------------------------
# An address line breaks where a postal worker reads a boundary: at a space (before the building
# name), after 丁目・番地・号 or a prefecture/city/town name, before a building or room number; never
# inside a number (4-5-6, 一番地の二十三, 2501号室) or a katakana word (グランドパレス).

_KANJI_DIGITS = "〇一二三四五六七八九十百千万壱弐参拾"
_NUMBER = rf"(?:[0-9０-９]+|[{_KANJI_DIGITS}]+)"
_COUNTER = "(?:丁目|番地|番町|番|号室|号館|号棟|号|階|棟|室|条|線|地割|F|Ｆ)"
_ADDRESS_TOKEN = re.compile(
    # a house number as one unit: 二十丁目一番地の二十三, 四丁目1番23号, 4-5-6, 2501号室
    rf"{_NUMBER}(?:(?:{_COUNTER}[-‐－−ー―の]?|[-‐－−ー―の]){_NUMBER})*{_COUNTER}?"
    r"|[0-9A-Za-z０-９Ａ-Ｚａ-ｚ](?:[0-9A-Za-z０-９Ａ-Ｚａ-ｚ\-‐－−.．/／:：,，@＠_'’]*[0-9A-Za-z０-９Ａ-Ｚａ-ｚ])?"
    r"|[ァ-ヴヵヶー・･]+"  # a katakana word
    r"|[^\s\d](?:棟|館)"  # 東棟, 本館
    r"|[ \u3000\t]+"
    r"|.",
    re.S,
)
_NUMBER_START = re.compile(rf"[0-9０-９{_KANJI_DIGITS}]")
# the parts of a house number, for one too long for a line: 二十丁目|一番地の|二十三
_NUMBER_PART = re.compile(rf"{_NUMBER}{_COUNTER}?[-‐－−ー―の]?|.", re.S)
_COUNTER_END = ("丁目", "番地", "番町", "番", "号室", "号館", "号棟", "号", "階", "棟", "室", "条", "線", "地割")
_PLACE_END = frozenset("都道府県市区郡町村")
_MIN_FILL = 0.3  # a preferred break must leave the line at least this full


def _is_house_number(token: str) -> bool:
    """A number token that is part of an address (4-5-6, 二十丁目, 2501号室), not a bare kanji numeral
    inside a place name (千代田, 四日市, 九十九里)."""
    if not _NUMBER_START.match(token):
        return False
    return token[0] in "0123456789０１２３４５６７８９" or any(c not in _KANJI_DIGITS for c in token)


def _break_score(before: str, after: str) -> int:
    """How good a line break between two address tokens is (higher is better; 0: acceptable)."""
    if before[-1] in _SPACES or after[0] in _SPACES:
        return 5
    if after[0] in "（(［[「『【〔":
        return 4  # before （教育文化センター内）
    number_before = _is_house_number(before)
    if number_before and (before.endswith(_COUNTER_END) or before[-1] in "-‐－−"):
        return 3  # after 丁目 / 番地 / 号 / a dash
    if before[-1] in _PLACE_END:
        return 3 if before[-1] in "都道府県市区郡" else 2  # after 兵庫県, 西宮市, 中央区 (町, 村: weaker)
    if after[0] in "ァアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンヴ" or (
        after[0].isascii() and after[0].isalpha()
    ):
        return 2  # a building name begins
    if number_before or _is_house_number(after):
        return 1  # beside a number (never inside one)
    return 0


@lru_cache(maxsize=16384)
def wrap_address(text: str, font: str, size: float, width: float) -> tuple[str, ...]:
    """An address line broken into lines no wider than ``width`` at the best places (see above).

    Numbers and katakana words are split only when one alone is wider than a line."""
    register_fonts()
    out: list[str] = []
    for hard in text.split("\n"):
        out.extend(_wrap_address_one(hard, font, size, width))
    return tuple(out)


def _wrap_address_one(text: str, font: str, size: float, width: float) -> list[str]:
    if not text or width_of(text, font, size) <= width:
        return [text]
    tokens = _ADDRESS_TOKEN.findall(text)
    lines: list[str] = []
    cur: list[str] = []
    widths: list[float] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        w = width_of(tok, font, size)
        if not cur and tok[0] in _SPACES:
            i += 1  # a space at the start of a line disappears
            continue
        used = sum(widths)
        if used + w <= width + 1e-6:
            cur.append(tok)
            widths.append(w)
            i += 1
            continue
        if w > width + 1e-6:  # wider than any line: its first part fills this line (or the next)
            head, rest = _split_long(tok, font, size, width - used)
            if head and (not cur or cur[-1][-1] not in NO_LINE_END):
                cur.append(head)
                lines.append("".join(cur).rstrip(" \u3000\t"))
                cur, widths = [], []
                tokens[i] = rest
                continue
            if not cur:
                head, rest = _split_long(tok, font, size, width, force=True)
                lines.append(head)
                tokens[i] = rest
                continue
        cut = _best_break(cur, widths, tok, width)
        lines.append("".join(cur[:cut]).rstrip(" \u3000\t"))
        cur, widths = cur[cut:], widths[cut:]
        while cur and cur[0][0] in _SPACES:
            cur.pop(0)
            widths.pop(0)
    if cur:
        lines.append("".join(cur).rstrip(" \u3000\t"))
    return [ln for ln in lines if ln] or [""]


def _best_break(cur: list[str], widths: list[float], nxt: str, width: float) -> int:
    """Where to end the line ``cur`` (an index into it) now that ``nxt`` does not fit."""
    best, best_score = len(cur), -1
    filled = 0.0
    candidates = []
    for j in range(1, len(cur) + 1):
        filled += widths[j - 1]
        after = cur[j] if j < len(cur) else nxt
        before = cur[j - 1]
        if after[0] in NO_LINE_START or before[-1] in NO_LINE_END:
            continue  # 禁則
        candidates.append((j, filled, _break_score(before, after)))
    for j, filled, score in candidates:
        if filled >= width * _MIN_FILL and score >= best_score:
            best, best_score = j, score
    if best_score < 0 and candidates:
        best = candidates[-1][0]
    return best


def _split_long(tok: str, font: str, size: float, room: float, *, force: bool = False) -> tuple[str, str]:
    """The longest head of ``tok`` that fits ``room``, ending between the parts of a number
    (二十丁目|一番地の|二十三) or a katakana word's syllables; ("", tok) when no such head fits,
    unless ``force`` (a line of its own), which cuts between characters as a last resort."""
    parts = _NUMBER_PART.findall(tok) if _NUMBER_START.match(tok) else []
    head = ""
    if len(parts) > 1:
        for part in parts[:-1]:
            if width_of(head + part, font, size) > room + 1e-6:
                break
            head += part
        if head:
            return head, tok[len(head) :]
    if not force and parts:
        return "", tok
    if not force and width_of(tok[:2], font, size) > room:
        return "", tok
    return _split_token(tok, font, size, room)


@dataclass(frozen=True, slots=True)
class Fitted:
    """Result of :func:`fit`: the lines to draw at ``size`` and whether text had to be cut."""

    lines: tuple[str, ...]
    size: float
    clipped: bool


def fit(
    text: str,
    font: str,
    width: float,
    max_lines: int,
    *,
    size: float,
    min_size: float,
    step: float = 0.5,
) -> Fitted:
    """Shrink ``text`` from ``size`` down to ``min_size`` to keep it on as few lines as possible,
    then wrap, then (last resort) cut it to ``max_lines`` lines ending in ``…``."""
    register_fonts()
    hard = text.split("\n")
    s = size
    # 1. shrink so that every hard line fits unwrapped
    while s > min_size and any(width_of(h, font, s) > width for h in hard):
        s = max(min_size, s - step)
    if all(width_of(h, font, s) <= width for h in hard) and len(hard) <= max_lines:
        return Fitted(tuple(hard), s, False)
    # 2. wrap, growing back the size as far as the line budget allows
    s2 = size
    while True:
        lines = wrap(text, font, s2, width)
        if len(lines) <= max_lines:
            return Fitted(tuple(lines), s2, False)
        if s2 <= min_size:
            break
        s2 = max(min_size, s2 - step)
    # 3. cut
    kept = lines[:max_lines]
    if max_lines > 0:
        kept[-1] = ellipsize(kept[-1], font, min_size, width)
    return Fitted(tuple(kept), min_size, True)


def ellipsize(line: str, font: str, size: float, width: float) -> str:
    """``line`` shortened to end in ``…`` within ``width``."""
    mark = "…"
    while line and width_of(line + mark, font, size) > width:
        line = line[:-1]
    return line + mark
