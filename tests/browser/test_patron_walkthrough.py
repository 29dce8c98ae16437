"""A librarian's path in a real browser: log in, register a patron with the postal-code look-up,
find them by reading, log out — with axe-core checking each page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_accessibility

pytestmark = pytest.mark.browser


def _login(page, live_server, username="librarian"):  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(live_server.logins[username])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/")


def test_register_find_and_logout(page, live_server):
    page.goto("/login")
    assert check_accessibility(page) == []
    _login(page, live_server)
    assert check_accessibility(page) == []

    page.get_by_role("link", name="利用者を新規登録").click()
    page.get_by_label("氏名", exact=True).fill("試験 はるか")
    page.get_by_label("フリガナ").fill("シケン ハルカ")
    page.get_by_label("生年月日").fill("1950-06-15")
    page.get_by_label("利用者カード番号").fill("7700000001")
    page.get_by_label("郵便番号").fill("6638035")
    page.get_by_label("郵便番号").press("Tab")
    # The look-up fills prefecture, city and town from the offline postal data.
    expect(page.get_by_label("市区町村")).to_have_value("西宮市")
    expect(page.get_by_label("都道府県")).to_have_value("兵庫県")
    expect(page.get_by_label("町名")).to_have_value("北口町")
    page.get_by_label("丁目・番地").fill("1-1")
    assert check_accessibility(page) == []
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector("text=利用者を登録しました。")
    assert "〒663-8035" in page.content()
    assert check_accessibility(page) == []

    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="利用者").click()
    page.get_by_label("氏名・フリガナ・カード番号・電話番号").fill("ｼｹﾝ")  # half-width katakana
    page.get_by_role("button", name="検索").click()
    page.get_by_role("link", name="試験 はるか").wait_for()
    assert check_accessibility(page) == []

    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_selector("text=ログアウトしました。")
    page.goto("/patrons")
    assert "/login" in page.url


def test_bad_input_shows_errors_on_the_fields(page, live_server):
    _login(page, live_server)
    page.goto("/patrons/new")
    page.get_by_label("郵便番号").fill("000-0000")
    page.get_by_role("button", name="保存").click()
    summary = page.locator("#error-summary")
    summary.wait_for()
    assert "この郵便番号は存在しません。" in summary.inner_text()
    # The summary takes the focus, so a screen reader announces it first.
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.get_by_label("氏名", exact=True).get_attribute("aria-invalid") == "true"
    assert check_accessibility(page) == []


def test_keyboard_only_login(page, live_server):
    page.goto("/login")
    page.keyboard.press("Tab")  # skip link first
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.get_by_label("ユーザー名").focus()
    page.keyboard.type("librarian")
    page.keyboard.press("Tab")
    page.keyboard.type(live_server.logins["librarian"])
    page.keyboard.press("Enter")
    page.wait_for_url("**/")
    assert page.get_by_role("heading", name="ホーム").is_visible()
