"""Login, lockout, sessions that really end, cookies and security headers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from outreach.audit.models import AuditEvent
from outreach.auth.models import StaffSession, StaffUser
from tests.conftest import TEST_PASSWORD, csrf_token, login, post


def test_login_with_right_password_opens_dashboard(client, users):
    response = login(client, "librarian1")
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_wrong_password_is_refused_with_a_message(client, users):
    response = login(client, "librarian1", "not-the-password-1")
    assert response.status_code == 400
    assert "ユーザー名またはパスワードが違います" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_user_gets_the_same_message(client, users):
    response = login(client, "nobody", "whatever-password-1")
    assert "ユーザー名またはパスワードが違います" in response.get_data(as_text=True)


def test_account_locks_after_repeated_failures(client, users, db, app):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, "librarian1", "wrong-password-123")
    response = login(client, "librarian1", TEST_PASSWORD)  # even the right password is refused now
    assert response.status_code == 400
    assert "ロック" in response.get_data(as_text=True)
    db.expire_all()
    user = db.scalars(select(StaffUser).where(StaffUser.username == "librarian1")).one()
    assert user.locked_until is not None


def test_lockout_expires(client, users, db, app):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, "librarian1", "wrong-password-123")
    db.expire_all()
    user = db.scalars(select(StaffUser).where(StaffUser.username == "librarian1")).one()
    user.locked_until = user.locked_until - app.config["LOGIN_LOCKOUT"] - timedelta(seconds=1)
    db.commit()
    assert login(client, "librarian1").status_code == 302


def test_login_starts_a_new_session(client, users):
    client.get("/login")
    before = client.get_cookie("outreach_session").value
    login(client, "librarian1")
    after = client.get_cookie("outreach_session").value
    assert before != after


def test_logout_ends_the_session_for_a_copied_cookie(client, users, app):
    login(client, "librarian1")
    stolen = client.get_cookie("outreach_session").value
    response = post(client, "/logout")
    assert response.status_code == 302
    other = app.test_client()
    other.set_cookie("outreach_session", stolen)
    assert other.get("/").status_code == 302  # back to the login page


def test_deactivation_ends_sessions_at_once(client, users, db, app):
    login(client, "librarian1")
    assert client.get("/patrons").status_code == 200
    admin = app.test_client()
    login(admin, "admin1")
    librarian = users["librarian"]
    response = post(admin, f"/admin/users/{librarian.id}",
                    {"display_name": "x", "role": "librarian"}, form_url=f"/admin/users/{librarian.id}")
    assert response.status_code == 302
    assert client.get("/patrons").status_code == 302


def test_the_account_page_edits_the_account_it_shows_not_the_admins_own(client, users):
    # The layout's own variables once hid the page's `user`: the heading showed the admin and both forms
    # (details and password reset) posted to the admin's own account.
    login(client, "admin1")
    librarian, admin = users["librarian"], users["admin"]
    page = client.get(f"/admin/users/{librarian.id}").get_data(as_text=True)
    assert f"{librarian.username}</h1>" in page
    assert f'action="/admin/users/{librarian.id}"' in page
    assert f'action="/admin/users/{librarian.id}/password"' in page
    assert f'action="/admin/users/{admin.id}' not in page
    assert admin.display_name in page  # the header still names who is logged in


def test_a_visitor_is_told_in_japanese_to_log_in_and_comes_back_to_the_page_asked_for(client, users):
    response = client.get("/patrons?q=%E3%82%84%E3%81%BE%E3%81%A0")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/login?next=")
    page = client.get(location).get_data(as_text=True)
    assert "このページを見るにはログインしてください。" in page and "Please log in" not in page
    token = csrf_token(client, location)
    response = client.post(location, data={"username": "librarian1", "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/patrons?q=%E3%82%84%E3%81%BE%E3%81%A0"


def test_a_short_password_is_refused_in_plain_words(client, users):
    login(client, "admin1")
    librarian = users["librarian"]
    response = post(client, f"/admin/users/{librarian.id}/password",
                    {"reset-password": "short", "reset-password_confirm": "short"}, form_url=f"/admin/users/{librarian.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "12〜256文字で書いてください。" in page and "フィールドは" not in page


def test_the_administrators_home_leads_to_their_work(client, users):
    login(client, "admin1")
    page = client.get("/").get_data(as_text=True)
    for href in ('href="/admin/users"', 'href="/admin/audit"', 'href="/settings/policy"'):
        assert page.count(href) >= 2, href  # in the navigation and on the page itself


def test_inactivity_timeout_ends_the_session(client, users, db, app):
    login(client, "librarian1")
    for staff_session in db.scalars(select(StaffSession)).all():
        staff_session.last_seen_at -= app.config["INACTIVITY_TIMEOUT"] + timedelta(minutes=1)
    db.commit()
    response = client.get("/patrons")
    assert response.status_code == 302
    assert "ログインが切れました" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite(client, users):
    token = csrf_token(client)
    response = client.post("/login", data={"username": "librarian1", "password": TEST_PASSWORD, "csrf_token": token})
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_security_headers_and_no_store(client, as_role):
    as_role("librarian")
    response = client.get("/patrons")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_screen_font_is_served_to_anyone_and_cached_but_nothing_else_from_its_folder(client):
    # The login page needs it too, and it carries no personal data: public, cached for a year.
    with client.get("/static/outreach.css") as response:
        css = response.get_data(as_text=True)
    assert 'url("../fonts/BIZUDGothic-Regular.ttf")' in css
    with client.get("/fonts/BIZUDGothic-Regular.ttf") as response:
        assert response.status_code == 200 and response.mimetype == "font/ttf"
        assert response.data[:4] == b"\x00\x01\x00\x00"  # a TrueType file
        cache = response.headers["Cache-Control"]
        assert "max-age=31536000" in cache and "no-store" not in cache
    for other in ("OFL.txt", "BIZUDMincho-Regular.ttf", "..%2Ffonts.py", "nothing.ttf"):
        assert client.get(f"/fonts/{other}").status_code == 404, other


def test_pages_have_no_inline_scripts(client, as_role):
    as_role("librarian")
    for url in ("/", "/patrons", "/patrons/new"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>" not in html and "onclick" not in html.lower()


def test_logins_and_failures_are_audited(client, users, db):
    login(client, "librarian1", "wrong-password-123")
    login(client, "librarian1")
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.actor_username == "librarian1")).all()
    assert "login_failed" in actions and "login" in actions


def test_open_redirect_after_login_is_refused(client, users):
    token = csrf_token(client)
    response = client.post("/login?next=https://evil.example/", data={
        "username": "librarian1", "password": TEST_PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_language_switch_to_english(client, users):
    login(client, "librarian1")
    post(client, "/language", {"lang": "en"})
    assert "Patrons" in client.get("/").get_data(as_text=True)
    post(client, "/language", {"lang": "ja"})
    assert "利用者" in client.get("/").get_data(as_text=True)


def test_one_staff_members_language_does_not_leak_into_the_next_request(app, client, users):
    # The language is worked out once per request; the next request on the same thread starts afresh.
    login(client, "librarian1")
    post(client, "/language", {"lang": "en"})
    english = client.get("/patrons").get_data(as_text=True)
    assert "Register a new patron" in english and "利用者を新規登録" not in english
    other = app.test_client()
    login(other, "chief1")
    japanese = other.get("/patrons").get_data(as_text=True)
    assert "利用者を新規登録" in japanese and "Register a new patron" not in japanese
    assert "Register a new patron" in client.get("/patrons").get_data(as_text=True)


def test_a_refused_form_does_not_pass_its_language_to_the_next_visitor(app, users):
    # Flask-WTF refuses a form without its token before any of our own hooks run; the error page's
    # language must still be forgotten when the request ends.
    english = app.test_client()
    post(english, "/language", {"lang": "en"}, form_url="/login")
    refused = english.post("/language", data={"lang": "en"})
    assert refused.status_code == 400
    japanese = app.test_client()
    assert "ログイン" in japanese.get("/login").get_data(as_text=True)
    page = japanese.post("/language", data={"lang": "ja"}).get_data(as_text=True)
    english_page = refused.get_data(as_text=True)
    assert page != english_page and "<html lang=\"ja\"" in page and "<html lang=\"en\"" in english_page
