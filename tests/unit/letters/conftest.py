"""Fixtures for the document layer: sample library/patrons and PDF inspection helpers."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from pypdf import PdfReader
from reportlab.pdfbase.pdfmetrics import stringWidth

from letters.data import Addressee, Library
from letters.fonts import GOTHIC, GOTHIC_BOLD, MINCHO, register_fonts


@pytest.fixture
def library() -> Library:
    return Library(
        name="西宮市立中央図書館",
        section="読書振興課",
        postal_code="6620944",
        address="西宮市川添町15番26号（教育文化センター内）",
        phone="0798-33-0189",
        fax="0798-33-0197",
        head_title="西宮市立中央図書館長",
    )


@pytest.fixture
def patron() -> Addressee:
    return Addressee("663-8035", ["西宮市北口町1番2号", "アクタ西宮東館 505号室"], "山田 花子")


@pytest.fixture
def patron_with_proxy() -> Addressee:
    return Addressee("6638035", ["西宮市北口町1番2号"], "山田 花子", proxy_name="山田 一郎")


@dataclass(frozen=True)
class Run:
    """A piece of text as a PDF viewer sees it: page, text, position and size."""

    page: int
    text: str
    x: float
    y: float  # baseline
    size: float
    font: str  # BaseFont without the subset tag

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Glyph box from the PDF's own position and the font's advance widths (independent of
        the renderer's bookkeeping): BIZ UD em box is 0.12 below and 0.88 above the baseline."""
        name = {
            "BIZUDGothic-Regular": GOTHIC,
            "BIZUDGothic-Bold": GOTHIC_BOLD,
            "BIZUDMincho-Regular": MINCHO,
        }[self.font]
        register_fonts()
        w = stringWidth(self.text.replace("\x00", "\u3000"), name, self.size)
        return (self.x, self.y - 0.12 * self.size, self.x + w, self.y + 0.88 * self.size)


def pdf_runs(pdf: bytes) -> list[Run]:
    """Every text run with its position, read back from the PDF with pypdf."""
    reader = PdfReader(io.BytesIO(pdf))
    runs: list[Run] = []
    for i, page in enumerate(reader.pages):

        def visit(text, cm, tm, font_dict, font_size, i=i):
            if not text or not text.strip("\n"):
                return
            scale = tm[0] * cm[0]  # no rotation or skew in these documents
            x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
            y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
            base = str(font_dict.get("/BaseFont", "")) if font_dict else ""
            runs.append(Run(i, text.strip("\n"), x, y, font_size * scale, base.split("+", 1)[-1]))

        page.extract_text(visitor_text=visit)
    return runs


def pdf_lines(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return [ln.strip() for p in reader.pages for ln in p.extract_text().splitlines()]


def pdf_text(pdf: bytes) -> str:
    """All text with line breaks removed, so a phrase wrapped over two lines is still found."""
    return "".join(pdf_lines(pdf))


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def fonts_used(pdf: bytes) -> list[dict]:
    """Every font resource of every page, with whether its program is embedded."""
    reader = PdfReader(io.BytesIO(pdf))
    out = []
    for page in reader.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for key in fonts:
            f = fonts[key].get_object()
            desc = f.get("/FontDescriptor")
            if desc is None and "/DescendantFonts" in f:
                desc = f["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            desc = desc.get_object() if desc is not None else {}
            out.append(
                {
                    "name": str(f.get("/BaseFont")),
                    "subtype": str(f.get("/Subtype")),
                    "embedded": any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")),
                    "truetype": "/FontFile2" in desc,
                }
            )
    return out


@pytest.fixture
def read_pdf():
    """Helpers bundled for the tests: runs, text, pages, fonts."""

    class Reader:
        runs = staticmethod(pdf_runs)
        text = staticmethod(pdf_text)
        lines = staticmethod(pdf_lines)
        pages = staticmethod(page_count)
        fonts = staticmethod(fonts_used)

    return Reader
