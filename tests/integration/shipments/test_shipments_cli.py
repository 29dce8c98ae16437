"""The commands: `outreach shipments run|plan|commit|status|print`, `outreach loans overdue`,
`outreach catalog import`."""

from __future__ import annotations

import csv
import io

import pytest
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
        (("--month", "2026/12"), "'2026/12' is not a month: write the year and the month (1-12)"),
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
    monkeypatch.setattr(documents, "SHIPMENTS_PER_FILE", 2)
    texts = {}
    for kind in ("slips", "labels", "return-labels", "pick-list"):
        out = tmp_path / f"{kind}.pdf"
        result = run_cli(app, "shipments", "print", "--month", "2026-12", "--kind", kind, "--out", str(out),
                         "--start", "12")
        assert result.exit_code == 0, result.output
        files = sorted(tmp_path.glob(f"{kind}-*.pdf"))
        assert [f.name for f in files] == [f"{kind}-1.pdf", f"{kind}-2.pdf"] and not out.exists()
        texts[kind] = ["".join(p.extract_text() for p in PdfReader(f).pages).replace(" ", "") for f in files]
    assert sum(t.count("本0") + t.count("本1") + t.count("本2") for t in texts["slips"]) == 3
    for kind in ("labels", "return-labels"):  # file N holds the patrons of slip file N
        for part in (0, 1):
            assert [n for n in ("山田花子", "高橋清", "佐藤一郎") if n in texts[kind][part]] == \
                [n for n in ("山田花子", "高橋清", "佐藤一郎") if n in texts["slips"][part]]
    # the start position uses up a partly used sheet in the first file only: 12up from position 12 → 2 sheets
    assert [len(PdfReader(tmp_path / f"labels-{n}.pdf").pages) for n in (1, 2)] == [2, 1]
    for part in (0, 1):
        assert sorted(b for b in ("C000", "C001", "C002") if b in texts["pick-list"][part]) == \
            sorted(b for b in ("C000", "C001", "C002") if b in texts["slips"][part])


def test_print_needs_a_committed_month(app, db, librarian, fixed_today, tmp_path):
    from outreach.db import database
    from outreach.shipments import services

    seed(db, librarian)
    patron = new_patron(db, librarian, "9100000002", name="佐藤 一郎")
    approve(db, patron, Service.HOME_DELIVERY)
    new_item(db, "B003", "本 3")
    request(db, patron, librarian, ["B003"])
    db.commit()
    assert run_cli(app, "shipments", "plan", "--month", "2026-12").exit_code == 0
    run = db.scalars(select(ShipmentRun)).one()
    # a commit that stopped after its first chunk: one shipment written, the other not yet

    with pytest.raises(RuntimeError):
        services.commit_run(database.session_scope, run.id, chunk_size=1, today=fixed_today,
                            on_chunk=lambda _o: (_ for _ in ()).throw(RuntimeError("stopped")))
    assert count(db, Shipment) == 1
    for kind in ("labels", "slips", "pick-list", "addresses"):
        out = tmp_path / f"{kind}.out"
        refused = run_cli(app, "shipments", "print", "--month", "2026-12", "--kind", kind, "--out", str(out))
        assert refused.exit_code != 0 and "2026-12 is not committed (committing): commit it first" in refused.output
        assert not out.exists()
    assert run_cli(app, "shipments", "commit", "--month", "2026-12").exit_code == 0
    out = tmp_path / "labels.pdf"
    assert run_cli(app, "shipments", "print", "--month", "2026-12", "--kind", "labels", "--out", str(out)).exit_code == 0
    assert out.read_bytes().startswith(b"%PDF")


def test_the_address_csv_is_defused_and_audited(app, db, librarian, fixed_today, tmp_path):
    from outreach.audit.models import AuditEvent

    patron = new_patron(db, librarian, "9300000001", name="山田 花子", building='=HYPERLINK("http://x")')
    approve(db, patron, Service.HOME_DELIVERY)
    new_item(db, "B001", "本 1")
    request(db, patron, librarian, ["B001"])
    db.commit()
    assert run_cli(app, "shipments", "run", "--month", "2026-12").exit_code == 0
    out = tmp_path / "addresses.csv"
    result = run_cli(app, "shipments", "print", "--month", "2026-12", "--kind", "addresses", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[1][4] == '\'=HYPERLINK("http://x")'  # a spreadsheet shows it as text, never runs it
    labels = tmp_path / "labels.pdf"
    assert run_cli(app, "shipments", "print", "--month", "2026-12", "--kind", "labels", "--out", str(labels)).exit_code == 0
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id)).all()
    assert [(e.entity_type, e.actor_username) for e in events] == [("address_list", "command line"),
                                                                  ("outbound_labels", "command line")]
    assert "2026-12" in events[0].detail


def test_a_stale_plan_is_refused_on_the_command_line_with_the_way_out(app, db, librarian, tmp_path, monkeypatch):
    from datetime import date

    from outreach import clock

    seed(db, librarian)
    monkeypatch.setattr(clock, "today", lambda: date(2026, 11, 25))
    assert run_cli(app, "shipments", "plan", "--month", "2026-12").exit_code == 0
    monkeypatch.setattr(clock, "today", lambda: date(2026, 12, 2))  # the planned shipping day has passed
    for command in (("commit",), ("run",)):
        refused = run_cli(app, "shipments", *command, "--month", "2026-12")
        assert refused.exit_code != 0, refused.output
        assert "shipping date (2026-12-01) has passed" in refused.output and "--replan" in refused.output
    assert count(db, Shipment) == 0
    done = run_cli(app, "shipments", "run", "--month", "2026-12", "--replan")
    assert done.exit_code == 0 and "Committed 2026-12: 1 shipments, 2 items." in done.output
    assert db.scalars(select(Shipment.shipped_on)).one() == date(2026, 12, 2)


def test_printing_labels_says_which_ones_need_a_look(app, db, librarian, fixed_today, tmp_path):
    patron = new_patron(db, librarian, "9300000002", name="𠮷田 一郎",  # 𠮷: not in the label font
                        building=("西宮北口グランドパレスタワーレジデンス東棟２５階２５０３号室 管理事務所気付 "
                                  "ケアプランセンターひまわり内 訪問介護ステーションあおぞら居宅介護支援事業所")[:100])
    approve(db, patron, Service.HOME_DELIVERY)
    new_item(db, "B001", "本 1")
    request(db, patron, librarian, ["B001"])
    db.commit()
    assert run_cli(app, "shipments", "run", "--month", "2026-12").exit_code == 0
    out = tmp_path / "labels.pdf"
    result = run_cli(app, "shipments", "print", "--month", "2026-12", "--kind", "return-labels", "--template",
                     "24up", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "labels.pdf: label 1 (" in result.output  # the address did not fit as it should
    assert "labels.pdf: label 1: the font cannot print 𠮷" in result.output
