"""Registering, editing, finding and viewing patrons; bad input; the audit trail."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from outreach.audit.models import AuditEvent
from outreach.clock import today
from outreach.patrons import services
from outreach.patrons.models import Patron, Proxy
from tests.conftest import post

VALID = {
    "card_number": "2000000001",
    "name": "山田 太郎",
    "name_kana": "ヤマダ タロウ",
    "birth_date": "1950-04-02",
    "phone": "0798-11-2233",
    "fax": "",
    "email": "",
    "contact_preference": "phone",
    "postal_code": "6620911",
    "prefecture": "兵庫県",
    "city": "西宮市",
    "town": "池田町",
    "block": "1-2-3",
    "building": "",
    "notes": "",
}


def _count(db) -> int:  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Patron)) or 0


def _create(client, **changes):  # type: ignore[no-untyped-def]
    return post(client, "/patrons/new", {**VALID, **changes}, form_url="/patrons/new")


def _make(db, librarian, **changes) -> Patron:  # type: ignore[no-untyped-def]
    data = {**VALID, "birth_date": date(1950, 4, 2), "postal_code": "662-0911", **changes}
    patron = services.create_patron(db, data=data, actor=librarian, library_prefecture="兵庫県", library_city="西宮市")
    db.commit()
    return patron


def test_register_a_patron(client, as_role, db):
    as_role("librarian")
    response = _create(client)
    assert response.status_code == 302
    patron = db.scalars(select(Patron).where(Patron.card_number == "2000000001")).one()
    assert patron.postal_code == "662-0911"
    assert patron.is_city_resident is True
    assert patron.kana_key == "やまだたろう"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "山田 太郎" in page and "〒662-0911" in page


def test_outside_the_city_is_not_a_resident(client, as_role, db):
    as_role("librarian")
    _create(client, postal_code="660-0881", prefecture="兵庫県", city="尼崎市", town="昭和通")
    patron = db.scalars(select(Patron)).one()
    assert patron.is_city_resident is False


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "必須"),
        ("name_kana", "", "必須"),
        ("name_kana", "Yamada", "フリガナはカタカナかひらがなで"),
        ("card_number", "", "必須"),
        ("birth_date", "", "正しい日付"),
        ("birth_date", "1950-02-30", "正しい日付"),
        ("birth_date", (today() + timedelta(days=1)).isoformat(), "未来の日付"),
        ("postal_code", "12345", "7桁"),
        ("postal_code", "000-0000", "存在しません"),
        ("name", "あ" * 101, "100"),
        ("notes", "x" * 4001, "4000"),
        ("name", "山田\x07太郎", "制御文字"),
        ("email", "not-an-email", "メール"),
        ("phone", "call me", "数字とハイフン"),
    ],
)
def test_bad_input_is_refused_on_the_field_and_nothing_is_saved(client, as_role, db, field, value, message):
    as_role("librarian")
    response = _create(client, **{field: value})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html, html[:2000]
    assert message in html.split(f'id="{field}-error"')[1][:300]
    assert _count(db) == 0


def test_error_messages_in_english(client, as_role, db):
    as_role("librarian")
    post(client, "/language", {"lang": "en"})
    html = _create(client, postal_code="000-0000").get_data(as_text=True)
    assert "This postal code does not exist." in html


def test_duplicate_card_number_is_refused(client, as_role, db):
    librarian = as_role("librarian")
    _make(db, librarian)
    response = _create(client, name="別人 花子", name_kana="ベツジン ハナコ")
    assert response.status_code == 400
    assert "この利用者カード番号はすでに登録されています" in response.get_data(as_text=True)
    assert _count(db) == 1


def test_edit_records_changed_field_names_but_not_values(client, as_role, db):
    librarian = as_role("librarian")
    patron = _make(db, librarian)
    response = post(client, f"/patrons/{patron.id}/edit", {**VALID, "phone": "0798-99-8888", "notes": "秘密のメモ"},
                    form_url=f"/patrons/{patron.id}/edit")
    assert response.status_code == 302
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "update")).one()
    assert event.fields == "notes,phone"
    assert event.actor_username == "librarian1"
    everything = " ".join(f"{e.fields} {e.detail}" for e in db.scalars(select(AuditEvent)).all())
    assert "0798-99-8888" not in everything and "秘密" not in everything


def test_edit_with_a_bad_value_changes_nothing(client, as_role, db):
    librarian = as_role("librarian")
    patron = _make(db, librarian)
    response = post(client, f"/patrons/{patron.id}/edit", {**VALID, "name": "新しい名前", "postal_code": "999"},
                    form_url=f"/patrons/{patron.id}/edit")
    assert response.status_code == 400
    db.expire_all()
    assert db.get(Patron, patron.id).name == "山田 太郎"


def test_opening_a_patron_page_is_audited(client, as_role, db):
    librarian = as_role("librarian")
    patron = _make(db, librarian)
    page = client.get(f"/patrons/{patron.id}").get_data(as_text=True)
    # Times of record in the page's own date style: 令和…年…月…日 hh:mm, as every other date on it.
    assert re.search(r"令和\d+年\d+月\d+日 \d\d:\d\d", page) and not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", page)
    views = db.scalars(select(AuditEvent).where(AuditEvent.action == "view", AuditEvent.entity_id == patron.id)).all()
    assert len(views) == 1


def test_the_patron_history_shows_the_whole_case_in_words(client, as_role, db):
    from outreach.enrolments import services as enrolments
    from outreach.types import Channel, Service

    librarian = as_role("librarian")
    patron = _make(db, librarian)
    enrolments.receive_application(db, patron, service=Service.HOME_DELIVERY, received_on=date(2026, 11, 2),
                                   channel=Channel.PHONE, proxy_id=None, note="", actor=librarian,
                                   today=date(2026, 11, 21))
    db.commit()
    client.get(f"/patrons/{patron.id}")
    page = client.get(f"/patrons/{patron.id}/history").get_data(as_text=True)
    # The application is part of the record's history, and actions and records are named in words.
    assert re.search(r"<td>登録</td><td>利用者 #\d+ · 申込", page) and "<td>閲覧</td><td>利用者 #" in page
    assert not re.search(r"<td>(create|view|application|patron)\b", page)


def test_delete_patron_with_proxies(client, as_role, db):
    librarian = as_role("librarian")
    patron = _make(db, librarian)
    services.add_proxy(db, patron, data={"name": "娘", "relation": "family"}, actor=librarian)
    db.commit()
    patron_id = patron.id
    response = post(client, f"/patrons/{patron_id}/delete", form_url=f"/patrons/{patron_id}")
    assert response.status_code == 302
    assert _count(db) == 0
    assert db.scalar(select(func.count()).select_from(Proxy)) == 0
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "delete")).one().entity_id == patron_id


def test_add_proxy_who_receives_letters(client, as_role, db):
    librarian = as_role("librarian")
    patron = _make(db, librarian)
    data = {"name": "ケアマネ 太郎", "relation": "care_manager", "postal_code": "6620911",
            "address": "兵庫県西宮市池田町9-9", "receives_letters": "y"}
    response = post(client, f"/patrons/{patron.id}/proxies/new", data, form_url=f"/patrons/{patron.id}/proxies/new")
    assert response.status_code == 302
    proxy = db.scalars(select(Proxy)).one()
    assert proxy.receives_letters and proxy.postal_code == "662-0911"
    assert services.letter_recipient(db, patron).id == proxy.id


def test_proxy_receiving_letters_needs_an_address(client, as_role, db):
    librarian = as_role("librarian")
    patron = _make(db, librarian)
    response = post(client, f"/patrons/{patron.id}/proxies/new",
                    {"name": "娘", "relation": "family", "receives_letters": "y"},
                    form_url=f"/patrons/{patron.id}/proxies/new")
    assert response.status_code == 400
    assert db.scalar(select(func.count()).select_from(Proxy)) == 0


def test_only_one_proxy_receives_letters(db, users):
    librarian = users["librarian"]
    patron = _make(db, librarian)
    first = services.add_proxy(db, patron, actor=librarian, data={
        "name": "A", "relation": "family", "postal_code": "662-0911", "address": "x", "receives_letters": True})
    second = services.add_proxy(db, patron, actor=librarian, data={
        "name": "B", "relation": "carer", "postal_code": "662-0911", "address": "y", "receives_letters": True})
    db.flush()
    assert not first.receives_letters and second.receives_letters


def test_postal_code_lookup(client, as_role):
    as_role("librarian")
    body = client.get("/patrons/postal-code/6620911").get_json()
    assert body == {"postal_code": "662-0911", "prefecture": "兵庫県", "city": "西宮市", "town": "池田町"}
    missing = client.get("/patrons/postal-code/0000000")
    assert missing.status_code == 404 and "存在しません" in missing.get_json()["error"]


class TestSearch:
    @pytest.fixture()
    def people(self, db, users):  # type: ignore[no-untyped-def]
        librarian = users["librarian"]
        made = [
            _make(db, librarian, card_number="1", name="山田 太郎", name_kana="ヤマダ タロウ", phone="0798-11-1111"),
            _make(db, librarian, card_number="2", name="山田 花子", name_kana="ヤマダ ハナコ", phone="0798-22-2222"),
            _make(db, librarian, card_number="3", name="佐藤 花子", name_kana="サトウ ハナコ", phone="06-6333-3333"),
        ]
        return made

    @pytest.mark.parametrize("query", ["やまだ", "ヤマダ", "ﾔﾏﾀﾞ", "ｙａｍａｄａ".replace("ｙａｍａｄａ", "ヤマダ　"), "山田"])
    def test_family_name_in_any_script_or_width(self, db, people, query):
        result = services.search_patrons(db, query)
        assert [p.card_number for p in result.patrons] == ["1", "2"]

    @pytest.mark.parametrize("query", ["やまだたろう", "ヤマダ タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ　タロウ", "山田太郎"])
    def test_full_name_with_or_without_spaces(self, db, people, query):
        assert [p.card_number for p in services.search_patrons(db, query).patrons] == ["1"]

    def test_given_name_alone(self, db, people):
        assert [p.card_number for p in services.search_patrons(db, "はなこ").patrons] == ["3", "2"]

    def test_card_number(self, db, people):
        assert [p.card_number for p in services.search_patrons(db, "3").patrons] == ["3"]

    @pytest.mark.parametrize("query", ["0798-22-2222", "0798222222", "０７９８－２２－２２２２"])
    def test_phone(self, db, people, query):
        assert [p.card_number for p in services.search_patrons(db, query).patrons] == ["2"]

    def test_paged_in_a_deterministic_order(self, db, users):
        librarian = users["librarian"]
        for i in range(7):
            _make(db, librarian, card_number=f"9{i}", name=f"同じ {i}", name_kana="オナジ ナマエ")
        first = services.search_patrons(db, "おなじ", page=1, page_size=3)
        second = services.search_patrons(db, "おなじ", page=2, page_size=3)
        third = services.search_patrons(db, "おなじ", page=3, page_size=3)
        ids = [p.id for page in (first, second, third) for p in page.patrons]
        assert ids == sorted(ids) and len(ids) == 7 and first.pages == 3

    def test_search_page_lists_results(self, client, as_role, people):
        as_role("librarian")
        html = client.get("/patrons?q=ﾔﾏﾀﾞ").get_data(as_text=True)
        assert "山田 太郎" in html and "山田 花子" in html and "佐藤 花子" not in html


def test_a_very_common_name_is_counted_up_to_the_limit(client, as_role, db, users, monkeypatch):
    monkeypatch.setattr(services, "SEARCH_COUNT_LIMIT", 3)
    librarian = as_role("librarian")
    for i in range(5):
        _make(db, librarian, card_number=f"77{i}", name=f"佐藤 {i}", name_kana="サトウ タロウ")
    result = services.search_patrons(db, "さとう", page_size=2)
    assert result.total == 3 and result.is_capped and len(result.patrons) == 2
    html = client.get("/patrons?q=サトウ").get_data(as_text=True)
    assert "3 人以上見つかりました" in html


def test_the_error_summary_lists_problems_in_the_order_the_page_shows_the_fields(app):
    from flask import render_template_string

    from forms.patrons import PatronEditForm

    with app.test_request_context("/patrons/new", method="POST"):
        form = PatronEditForm(formdata=None)
        # The page shows 氏名 first and the card number fourth; the summary must list them that way.
        form.card_number.errors = ["この利用者カード番号はすでに使われています"]
        form.name.errors = ["氏名を入力してください"]
        html = render_template_string('{% from "macros.html" import error_summary %}{{ error_summary(form) }}',
                                      form=form)
    assert html.index('href="#name"') < html.index('href="#card_number"')
    assert "すでに使われています" in html
