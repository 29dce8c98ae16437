"""The commands: `outreach shipments run|plan|commit|status|print`, `outreach loans overdue`,
`outreach catalog import`."""

from __future__ import annotations

from sqlalchemy import func, select

from outreach.catalog.models import CatalogItem
from outreach.cli import outreach_group
from outreach.loans.models import Loan
from outreach.shipments.models import PlannedShipment, Shipment, ShipmentRun
from outreach.types import Service
from tests.integration.shipments.factories import approve, new_item, new_patron, request


def run_cli(app, *args):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(outreach_group, list(args))


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(model)) or 0


def seed(db, librarian):  # type: ignore[no-untyped-def]
    patron = new_patron(db, librarian, "9100000001", name="山田 花子")
    approve(db, patron, Service.HOME_DELIVERY)
    new_item(db, "B001", "本 1")
    new_item(db, "B002", "本 2")
    request(db, patron, librarian, ["B001", "B002"])
    db.commit()


def test_dry_run_then_run_then_run_again(app, db, librarian, fixed_today):
    seed(db, librarian)
    dry = run_cli(app, "shipments", "run", "--month", "2026-12", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "shipments: 1, items: 2, not sent: 0" in dry.output and "Dry run: nothing was saved." in dry.output
    assert count(db, ShipmentRun) == 0 and count(db, PlannedShipment) == 0

    done = run_cli(app, "shipments", "run", "--month", "2026-12", "--chunk-size", "1")
    assert done.exit_code == 0, done.output
    assert "Committed 2026-12: 1 shipments, 2 items." in done.output
    assert count(db, Shipment) == 1 and count(db, Loan) == 2

    again = run_cli(app, "shipments", "run", "--month", "2026-12")
    assert again.exit_code == 0 and "already committed (1 shipments): nothing added." in again.output
    assert count(db, Shipment) == 1 and count(db, Loan) == 2

    status = run_cli(app, "shipments", "status", "--month", "2026-12")
    assert "2026-12: committed; 1/1 shipments, 2/2 items" in status.output


def test_plan_then_commit_separately(app, db, librarian, fixed_today):
    seed(db, librarian)
    planned = run_cli(app, "shipments", "plan", "--month", "2026-12", "--shipping-date", "2026-12-02")
    assert planned.exit_code == 0 and "shipping 2026-12-02, due 2027-01-05" in planned.output
    assert count(db, Shipment) == 0
    twice = run_cli(app, "shipments", "plan", "--month", "2026-12")
    assert twice.exit_code != 0 and "already planned" in twice.output
    assert run_cli(app, "shipments", "commit", "--month", "2026-12").exit_code == 0
    assert count(db, Shipment) == 1


def test_bad_months_dates_and_templates(app, db, librarian, fixed_today, tmp_path):
    seed(db, librarian)
    for args, message in (
        (("--month", "2026-10"), "2026-10 is in the past"),
        (("--month", "2026/12"), "Write the month as 2026-12"),
        (("--month", "2026-12", "--shipping-date", "2026-12-07"), "is a closed day"),
        (("--month", "2026-12", "--shipping-date", "tomorrow"), "is not a date"),
    ):
        result = run_cli(app, "shipments", "run", *args)
        assert result.exit_code != 0 and message in result.output, result.output
    assert count(db, ShipmentRun) == 0
    no_plan = run_cli(app, "shipments", "commit", "--month", "2027-01")
    assert no_plan.exit_code != 0 and "There is no plan for 2027-01" in no_plan.output
    run_cli(app, "shipments", "run", "--month", "2026-12")
    out = tmp_path / "labels.pdf"
    wrong = run_cli(app, "shipments", "print", "--month", "2026-12", "--kind", "labels", "--template", "99up",
                    "--out", str(out))
    assert wrong.exit_code != 0 and "There is no label template '99up'" in wrong.output and not out.exists()
    good = run_cli(app, "shipments", "print", "--month", "2026-12", "--kind", "labels", "--template", "24up",
                   "--out", str(out))
    assert good.exit_code == 0 and out.read_bytes().startswith(b"%PDF")
    csv_out = tmp_path / "addresses.csv"
    assert run_cli(app, "shipments", "print", "--month", "2026-12", "--kind", "addresses", "--out",
                   str(csv_out)).exit_code == 0
    assert "山田 花子 様" in csv_out.read_text(encoding="utf-8-sig")


def test_loans_overdue_command(app, db, librarian):
    result = run_cli(app, "loans", "overdue", "--date", "2027-01-06")
    assert result.exit_code == 0 and "2027-01-06: 0 loans newly overdue" in result.output
    again = run_cli(app, "loans", "overdue", "--date", "2027-01-06")
    assert "already done today" in again.output
    bad = run_cli(app, "loans", "overdue", "--date", "6 Jan")
    assert bad.exit_code != 0 and "is not a date" in bad.output


def test_catalog_import_command(app, db, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("資料番号,書名,資料種別\n1,本,図書\n2,,図書\n", encoding="cp932")
    report = tmp_path / "report.csv"
    result = run_cli(app, "catalog", "import", str(path), "--report", str(report))
    assert result.exit_code == 0, result.output
    assert '"added": 1' in result.output and '"rejected": 1' in result.output
    assert "書名がありません" in report.read_text(encoding="utf-8-sig")
    assert count(db, CatalogItem) == 1


def test_a_big_month_of_slips_is_written_in_several_files(app, db, librarian, fixed_today, tmp_path, monkeypatch):
    from pypdf import PdfReader

    from outreach.shipments import documents

    for n, name in enumerate(("山田 花子", "高橋 清", "佐藤 一郎")):
        patron = new_patron(db, librarian, f"92000000{n}", name=name)
        approve(db, patron, Service.HOME_DELIVERY)
        new_item(db, f"C00{n}", f"本 {n}")
        request(db, patron, librarian, [f"C00{n}"])
    db.commit()
    assert run_cli(app, "shipments", "run", "--month", "2026-12").exit_code == 0
    monkeypatch.setattr(documents, "SLIPS_PER_FILE", 2)
    out = tmp_path / "slips.pdf"
    result = run_cli(app, "shipments", "print", "--month", "2026-12", "--kind", "slips", "--out", str(out))
    assert result.exit_code == 0, result.output
    files = sorted(tmp_path.glob("slips-*.pdf"))
    assert [f.name for f in files] == ["slips-1.pdf", "slips-2.pdf"]
    text = ["".join(p.extract_text() for p in PdfReader(f).pages).replace(" ", "") for f in files]
    assert sum(t.count("本0") + t.count("本1") + t.count("本2") for t in text) == 3
