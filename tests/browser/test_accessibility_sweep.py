"""Every main page, as the section chief sees it, has no serious or critical axe-core violation
(WCAG 2.0–2.2 A and AA rules)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import check_accessibility

pytestmark = pytest.mark.browser

PAGES = ["/", "/patrons?q=やまだ", "/patrons/1", "/patrons/1/evidence/care/new", "/applications", "/loans",
         "/loans/overdue", "/shipments", "/catalog", "/reading", "/reading/calendar", "/reports",
         "/reports/volunteers", "/reports/historical", "/settings/policy"]


def test_main_pages_pass_axe(page, live_server):
    page.goto("/login")
    page.get_by_label("ユーザー名").fill("chief")
    page.get_by_label("パスワード").fill(live_server.logins["chief"])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/")
    problems = {}
    for url in PAGES:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        found = check_accessibility(page)
        if found:
            problems[url] = found
    assert problems == {}
