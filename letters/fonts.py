"""Embedded Japanese fonts (BIZ UD, SIL OFL 1.1), registered once with reportlab.

Only TrueType fonts registered through :class:`TTFont` are used: reportlab embeds a subset of
each one in every PDF, so a letter prints the same on any PC or printer.  reportlab's built-in
CID fonts (HeiseiMin-W3 ...) are never used: they are not embedded.
"""

from __future__ import annotations

import threading
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).with_name("fonts")

GOTHIC = "BIZUDGothic"
GOTHIC_BOLD = "BIZUDGothic-Bold"
MINCHO = "BIZUDMincho"

_FILES = {
    GOTHIC: "BIZUDGothic-Regular.ttf",
    GOTHIC_BOLD: "BIZUDGothic-Bold.ttf",
    MINCHO: "BIZUDMincho-Regular.ttf",
}

_lock = threading.Lock()
_registered = False


def register_fonts() -> None:
    """Register the bundled fonts with reportlab; safe to call any number of times, from any thread."""
    global _registered
    if _registered:
        return
    with _lock:
        if _registered:
            return
        known = set(pdfmetrics.getRegisteredFontNames())
        for name, filename in _FILES.items():
            if name not in known:
                pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
        _registered = True


def has_glyph(font_name: str, char: str) -> bool:
    """True when the font can draw ``char`` (else the PDF would show an empty box)."""
    register_fonts()
    return ord(char) in pdfmetrics.getFont(font_name).face.charWidths


_known: dict[str, set[str]] = {}


def missing_glyphs(text: str, font_name: str) -> set[str]:
    """Characters of ``text`` the font cannot draw (e.g. rare name kanji outside JIS X 0213).

    Cheap enough to run on every label: characters already seen to be present are remembered."""
    known = _known.get(font_name)
    if known is None:
        register_fonts()
        known = _known[font_name] = set(" \u3000\t\n")
    unseen = set(text) - known
    if not unseen:
        return set()
    widths = pdfmetrics.getFont(font_name).face.charWidths
    missing = set()
    for c in unseen:
        if ord(c) in widths:
            known.add(c)
        else:
            missing.add(c)
    return missing
