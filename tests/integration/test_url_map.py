"""Walk the whole URL map: login for everything, CSRF on every change, no change on GET."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from outreach.patrons.models import Patron, Proxy
from tests.conftest import login

# Endpoints an anonymous visitor may reach. Keep this list short and explicit.
ANONYMOUS_ALLOWED = {"static", "fonts", "auth.login"}  # fonts: the bundled screen font (no data)
# State-changing endpoints exempt from CSRF: none.
CSRF_EXEMPT: set[str] = set()


def _concrete(rule) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)


def _rules(app):  # type: ignore[no-untyped-def]
    return [r for r in app.url_map.iter_rules() if r.endpoint not in ("static",)]


def test_every_route_refuses_an_anonymous_user(app, client):
    checked = 0
    for rule in _rules(app):
        if rule.endpoint in ANONYMOUS_ALLOWED:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_concrete(rule), method=method)
            # POSTs without a token fail CSRF first (400); everything else goes to the login page.
            assert response.status_code in (302, 400, 401), (rule.rule, method, response.status_code)
            if response.status_code == 302:
                assert "/login" in response.headers["Location"], rule.rule
            checked += 1
    assert checked > 10


def test_every_state_change_needs_a_csrf_token(app, client, as_role):
    as_role("admin")
    checked = 0
    for rule in _rules(app):
        if rule.endpoint in CSRF_EXEMPT:
            continue
        for method in rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            response = client.open(_concrete(rule), method=method, data={"x": "1"})
            assert response.status_code == 400, (rule.rule, method, response.status_code)
            checked += 1
    assert checked >= 5


def test_get_requests_change_no_records(app, client, as_role, db):
    librarian = as_role("librarian")
    from outreach.patrons import services

    patron = services.create_patron(db, data=dict(
        card_number="9", name="山田 太郎", name_kana="ヤマダ タロウ", birth_date=__import__("datetime").date(1950, 1, 1),
        postal_code="662-0911", prefecture="兵庫県", city="西宮市", town="池田町"), actor=librarian,
        library_prefecture="兵庫県", library_city="西宮市")
    db.commit()

    def counts():  # type: ignore[no-untyped-def]
        return (db.scalar(select(func.count()).select_from(Patron)), db.scalar(select(func.count()).select_from(Proxy)))

    before = counts()
    before_updated = patron.updated_at
    for rule in _rules(app):
        if "GET" in rule.methods:
            client.get(re.sub(r"<(?:int:)?[^>]+>", str(patron.id), rule.rule))
    db.expire_all()
    assert counts() == before
    assert db.get(Patron, patron.id).updated_at == before_updated


@pytest.mark.parametrize("url", ["/patrons", "/patrons/new", "/admin/users", "/admin/audit"])
def test_volunteer_cannot_open_staff_pages(client, as_role, url):
    as_role("volunteer")
    assert client.get(url).status_code == 403


def test_librarian_cannot_manage_accounts(client, as_role):
    as_role("librarian")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/audit").status_code == 403


def test_login_page_is_reachable_anonymously(client):
    assert client.get("/login").status_code == 200


def test_role_check_is_on_the_server_not_just_the_menu(client, users):
    login(client, "volunteer1")
    assert client.get("/patrons/1").status_code == 403
