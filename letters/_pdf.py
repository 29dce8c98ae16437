"""Shared canvas set-up: A4, compressed, reproducible (no timestamps), fonts registered."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from letters.fonts import GOTHIC, register_fonts


def new_canvas(buf: io.BytesIO, *, title: str, author: str = "", pagesize=A4) -> Canvas:
    register_fonts()
    # initialFontName: otherwise every page's preamble selects Helvetica, a non-embedded font
    c = Canvas(
        buf, pagesize=pagesize, pageCompression=1, invariant=1, initialFontName=GOTHIC, initialFontSize=10
    )
    c.setTitle(title)  # document kind only: PDF metadata never carries personal data
    if author:
        c.setAuthor(author)
    c.setCreator("outreach letters (reportlab)")
    return c


@contextmanager
def binary_streams() -> Iterator[None]:
    """Write compressed streams as binary, without the ASCII85 layer reportlab adds by default:
    ~20 % smaller files and no pure-Python base-85 pass over every page (it dominates the cost of
    a 100,000-label run).  ``rl_config.useA85`` is process-wide, so it is restored afterwards;
    a concurrent render elsewhere merely gets valid PDF of either kind."""
    previous = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = previous


# PDF literal-string escapes for subset-encoded bytes
_ESC = [chr(c) if 32 <= c < 127 and c not in (40, 41, 92) else f"\\{c:03o}" for c in range(256)]


class TextWriter:
    """Writes strings as PDF text operators straight into the page's content (one ``BT … ET`` per
    string, subset encodings cached per distinct string). ``Canvas.drawString`` builds a text object
    and formats every number for each string, several times the cost; labels and slips draw a
    hundred thousand strings. The fonts stay subset-embedded: ``splitString`` registers their use."""

    __slots__ = ("canvas", "doc", "_enc", "_fonts")

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.doc = canvas._doc
        self._enc: dict[tuple[str, str], str] = {}
        self._fonts: dict[str, object] = {}

    def _encode(self, s: str, font: str) -> str:
        key = (s, font)
        enc = self._enc.get(key)
        if enc is None:
            f = self._fonts.get(font)
            if f is None:
                f = self._fonts[font] = pdfmetrics.getFont(font)
            parts = []
            for subset, chunk in f.splitString(s, self.doc):  # type: ignore[attr-defined]
                name = f.getSubsetInternalName(subset, self.doc)  # type: ignore[attr-defined]
                parts.append(f"{name} \x00 Tf ({''.join(map(_ESC.__getitem__, chunk))}) Tj")
            enc = " ".join(parts)
            if len(self._enc) > 200_000:
                self._enc.clear()
            self._enc[key] = enc
        return enc

    def text(self, x: float, baseline: float, s: str, font: str, size: float) -> None:
        """Draw ``s`` with its baseline starting at (x, baseline)."""
        if not s:
            return
        # the font size slot is a NUL, which escaped text can never contain
        ops = self._encode(s, font).replace("\x00", f"{size:.2f}")
        self.canvas._code.append(f"BT 1 0 0 1 {x:.2f} {baseline:.2f} Tm {ops} ET")
