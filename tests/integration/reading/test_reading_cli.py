"""`outreach reading figures`."""

from __future__ import annotations

from datetime import date

from outreach.cli import outreach_group
from outreach.reading import services
from tests.integration.reading.conftest import NOON, TEN, make_patron, make_request, make_volunteer


def test_figures_command_prints_the_three_columns(app, db, users):
    librarian = users["librarian"]
    reader = make_volunteer(db, librarian, "reader-a", name="朗読 一")
    request = make_request(db, librarian, make_patron(db, librarian, "5000000001"))
    s = services.book_session(db, request=request, on=date(2027, 6, 8), start=TEN, end=NOON, volunteer_id=reader.id,
                              actor=librarian, today=date(2027, 6, 8))
    services.log_session(db, s, actual_start=TEN, actual_end=NOON, titles=[], note="", actor=librarian,
                         today=date(2027, 6, 8))
    db.commit()
    result = app.test_cli_runner().invoke(outreach_group, ["reading", "figures", "--fiscal-year", "2027"])
    assert result.exit_code == 0, result.output
    assert "令和9年度（2027年度） 対面朗読" in result.output
    kitaguchi = next(line for line in result.output.splitlines() if line.startswith("北口図書館"))
    assert kitaguchi.split()[1:] == ["1", "1", "2.0"]
    assert any(line.startswith("朗読 一") and line.split()[-2:] == ["1", "2.0"] for line in result.output.splitlines())


def test_figures_command_refuses_a_bad_year(app):
    result = app.test_cli_runner().invoke(outreach_group, ["reading", "figures", "--fiscal-year", "20"])
    assert result.exit_code != 0 and "20" in result.output
