"""Shared canvas set-up: A4, compressed, reproducible (no timestamps), fonts registered."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from letters.fonts import GOTHIC, register_fonts


class _Canvas(Canvas):
    """A canvas whose pages share one resource dictionary (the fonts, and every form XObject the
    document uses) instead of each page carrying its own: a slip or label run has tens of thousands
    of pages, and writing the same dictionary into each was a good part of the cost of saving.
    A page that needs more (transparency, shading, separations) keeps its own, as reportlab makes it."""

    _shared: pdfdoc.PDFResourceDictionary | None = None
    _shared_ref: pdfdoc.PDFObjectReference | None = None

    def _setXObjects(self, thing) -> None:  # called by showPage (and endForm) for each page (form)
        if (
            not isinstance(thing, pdfdoc.PDFPage)
            or thing.ExtGState
            or self._colorsUsed
            or self._shadingUsed
            or self._psCommandsBeforePage
            or self._psCommandsAfterPage
        ):
            super()._setXObjects(thing)
            return
        if self._shared is None:
            self._shared = pdfdoc.PDFResourceDictionary()
            self._shared.basicFonts()
            self._shared.allProcs()
            self._shared_ref = self._doc.Reference(self._shared)
        forms = self._shared.XObject
        for name in self._formsinuse:
            internal = pdfdoc.xObjectName(name)
            if internal not in forms:
                forms[internal] = pdfdoc.PDFObjectReference(internal)
        thing.Resources = self._shared_ref


def new_canvas(buf: io.BytesIO, *, title: str, author: str = "", pagesize=A4) -> Canvas:
    register_fonts()
    # initialFontName: otherwise every page's preamble selects Helvetica, a non-embedded font
    c = _Canvas(
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
_ESC_ASCII = {40: "\\(", 41: "\\)", 92: "\\\\"}
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
_RUNS = re.compile(r"[\x20-\x7e]+|[^\x20-\x7e]+")


class TextWriter:
    """Writes strings as PDF text operators straight into the page's content (one ``BT … ET`` per
    string, subset encodings cached per distinct string). ``Canvas.drawString`` builds a text object
    and formats every number for each string, several times the cost; labels and slips draw a
    hundred thousand strings. The fonts stay subset-embedded: ``splitString`` registers their use.

    Printable ASCII (barcodes, shipment numbers, postal codes: the strings that are new on every
    label or slip row) needs no subset lookup: reportlab's "ASCII readable" subset 0 maps it to
    itself, so such runs are escaped with one ``translate`` instead of reportlab's per-character
    ``splitString`` loop."""

    __slots__ = ("canvas", "doc", "_enc", "_sized", "_runs", "_fonts", "_ascii_font")

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.doc = canvas._doc
        self._enc: dict[tuple[str, str], str] = {}
        self._sized: dict[tuple[str, str, float], str] = {}  # the operators with the size filled in
        self._runs: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._fonts: dict[str, object] = {}
        #: font → name of its subset 0 when that subset holds ASCII as itself ("" when it does not)
        self._ascii_font: dict[str, str] = {}

    def _font(self, font: str):
        f = self._fonts.get(font)
        if f is None:
            f = self._fonts[font] = pdfmetrics.getFont(font)
        return f

    def _ascii_name(self, font: str) -> str:
        name = self._ascii_font.get(font)
        if name is None:
            f = self._font(font)
            name = ""
            if getattr(f, "_dynamicFont", False):
                chunks = f.splitString("A", self.doc)  # type: ignore[attr-defined]  (creates the state)
                state = f.state[self.doc]  # type: ignore[attr-defined]
                if chunks == [(0, b"A")] and all(state.assignments.get(c) == c for c in range(32, 127)):
                    name = f.getSubsetInternalName(0, self.doc)  # type: ignore[attr-defined]
            self._ascii_font[font] = name
        return name

    def _encode(self, s: str, font: str) -> str:
        key = (s, font)
        enc = self._enc.get(key)
        if enc is None:
            enc = " ".join(f"{name} \x00 Tf ({text}) Tj" for name, text in self._chunks(s, font))
            if len(self._enc) > 200_000:
                self._enc.clear()
                self._runs.clear()
            self._enc[key] = enc
        return enc

    def _chunks(self, s: str, font: str) -> list[tuple[str, str]]:
        """(subset font name, escaped bytes) pieces of ``s``: the pieces ``splitString`` gives."""
        ascii_name = self._ascii_name(font)
        if ascii_name and _PRINTABLE_ASCII.fullmatch(s):
            return [(ascii_name, s.translate(_ESC_ASCII))]
        runs = _RUNS.findall(s) if ascii_name else [s]
        if len(runs) == 1:
            return self._split(s, font)
        # mixed text (〒662-0914 兵庫県…4-5-6): ASCII escaped directly, the rest (place names that
        # recur across a batch) cached; neighbours in one subset are merged as splitString does
        out: list[tuple[str, str]] = []
        for run in runs:
            pieces = [(ascii_name, run.translate(_ESC_ASCII))] if run[0] <= "~" else self._split(run, font)
            for name, text in pieces:
                if out and out[-1][0] == name:
                    out[-1] = (name, out[-1][1] + text)
                else:
                    out.append((name, text))
        return out

    def _split(self, s: str, font: str) -> list[tuple[str, str]]:
        key = (s, font)
        pieces = self._runs.get(key)
        if pieces is None:
            f = self._font(font)
            pieces = self._runs[key] = [
                (f.getSubsetInternalName(subset, self.doc), "".join(map(_ESC.__getitem__, chunk)))  # type: ignore[attr-defined]
                for subset, chunk in f.splitString(s, self.doc)  # type: ignore[attr-defined]
            ]
        return pieces

    def text(self, x: float, baseline: float, s: str, font: str, size: float) -> None:
        """Draw ``s`` with its baseline starting at (x, baseline)."""
        if not s:
            return
        key = (s, font, size)
        ops = self._sized.get(key)
        if ops is None and s.isascii() and s.isprintable() and (name := self._ascii_name(font)):
            # a barcode or shipment number: new on every row, so not worth remembering
            self.canvas._code.append(
                f"BT 1 0 0 1 {x:.2f} {baseline:.2f} Tm {name} {size:.2f} Tf ({s.translate(_ESC_ASCII)}) Tj ET"
            )
            return
        if ops is None:
            # the font size slot is a NUL, which escaped text can never contain
            ops = self._encode(s, font).replace("\x00", f"{size:.2f}")
            if len(self._sized) > 200_000:
                self._sized.clear()
            self._sized[key] = ops
        self.canvas._code.append(f"BT 1 0 0 1 {x:.2f} {baseline:.2f} Tm {ops} ET")
