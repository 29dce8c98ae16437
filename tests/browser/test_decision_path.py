"""In a real browser: a librarian records evidence and sends an application on; the chief decides it
on screen beside the rule engine's verdict and opens the approval letter."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_accessibility

pytestmark = pytest.mark.browser


def _login(page, live_server, username):  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(live_server.logins[username])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/")


def test_a_rejection_needs_a_reason(page, live_server):
    # Runs before the test below decides the demo application.
    _login(page, live_server, "chief")
    page.goto("/applications")
    page.get_by_role("link", name="高橋 清").click()
    page.get_by_label("承認しない").check()
    page.get_by_role("button", name="決定して通知書を発行").click()
    expect(page.locator("#error-summary")).to_contain_text("不承認には理由が必要です")
    assert check_accessibility(page) == []


def test_librarian_records_evidence_and_chief_decides(page, live_server, browser):
    _login(page, live_server, "librarian")
    page.get_by_label("氏名・フリガナ・カード番号・電話番号").fill("たなか")
    page.get_by_role("button", name="検索").click()
    page.get_by_role("link", name="田中 美智子").click()
    page.get_by_role("link", name="来館困難を記録").click()
    page.get_by_label("はい").check()
    page.get_by_label("確認方法").select_option("home_visit")
    assert check_accessibility(page) == []
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("確認書類を記録しました。")).to_be_visible()
    assert check_accessibility(page) == []

    # The demo's 高橋 清 waits for the chief.
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="申込", exact=True).click()
    expect(page.get_by_role("link", name="高橋 清")).to_be_visible()
    page.get_by_role("button", name="ログアウト").click()

    _login(page, live_server, "chief")
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="申込", exact=True).click()
    page.get_by_role("link", name="高橋 清").click()
    expect(page.get_by_text("宅配サービス: 要件を満たしています")).to_be_visible()
    assert check_accessibility(page) == []
    page.get_by_label("承認する").check()
    page.get_by_role("button", name="決定して通知書を発行").click()
    expect(page.get_by_text("承認しました。承認書を発行しました。")).to_be_visible()
    link = page.get_by_role("link", name="承認書（様式第2号）")
    href = link.get_attribute("href")
    response = page.request.get(live_server.url + href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
