"""Developer tool: extract messages, update the catalogues, and report untranslated ones.

    python scripts/i18n.py            # extract + update ja/en catalogues, list missing Japanese
    python scripts/i18n.py fill FILE  # merge translations from a JSON {msgid: msgstr} into ja
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "outreach" / "translations"
POT = ROOT / "outreach" / "translations" / "messages.pot"


def extract() -> None:
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l",
         "-k", "lazy_gettext", "--no-location", "--sort-output", "--omit-header", "-o", str(POT), str(ROOT)],
        check=True, cwd=ROOT)
    for lang in ("ja", "en"):
        po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
        action = "update" if po.exists() else "init"
        args = [sys.executable, "-m", "babel.messages.frontend", action, "-i", str(POT), "-d", str(TRANSLATIONS),
                "-l", lang, "--no-wrap"]
        if action == "update":
            args += ["--no-fuzzy-matching", "--ignore-obsolete"]
        subprocess.run(args, check=True, cwd=ROOT, capture_output=True)


def missing(lang: str = "ja") -> list[str]:
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    return [m.id for m in catalog if m.id and not m.string]


def fill(path: Path, lang: str = "ja") -> None:
    translations = json.loads(path.read_text(encoding="utf-8"))
    po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh)
    for message in catalog:
        if message.id and message.id in translations:
            message.string = translations[message.id]
    with po.open("wb") as fh:
        write_po(fh, catalog, width=0, omit_header=False, ignore_obsolete=True)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "fill":
        fill(Path(sys.argv[2]))
    else:
        extract()
    for msgid in missing():
        print("missing ja:", json.dumps(msgid, ensure_ascii=False))
