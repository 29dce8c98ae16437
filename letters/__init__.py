"""The document layer: plain dataclasses in, PDF bytes out (reportlab, embedded BIZ UD fonts).

Knows nothing of Flask or the database.  See docs/letters.md.
"""

from letters.data import (
    MAIL_LOAN_MARKING,
    Addressee,
    ApplicantDetails,
    LabelData,
    LetterData,
    LetterDataError,
    LetterKind,
    Library,
    OverdueItem,
    PickLine,
    SlipData,
    SlipItem,
    format_postal_code,
    postal_marking,
)
from letters.labels import (
    LABEL_TEMPLATES,
    LabelReport,
    LabelTemplate,
    UnknownTemplate,
    render_calibration_sheet,
    render_labels,
)
from letters.official import render_letter, render_letters
from letters.slips import render_pick_list, render_slips
from letters.wording import WordingError

__all__ = [
    "LABEL_TEMPLATES",
    "MAIL_LOAN_MARKING",
    "Addressee",
    "ApplicantDetails",
    "LabelData",
    "LabelReport",
    "LabelTemplate",
    "LetterData",
    "LetterDataError",
    "LetterKind",
    "Library",
    "OverdueItem",
    "PickLine",
    "SlipData",
    "SlipItem",
    "UnknownTemplate",
    "WordingError",
    "format_postal_code",
    "postal_marking",
    "render_calibration_sheet",
    "render_labels",
    "render_letter",
    "render_letters",
    "render_pick_list",
    "render_slips",
]
