"""The chief sets the rule values; bad values are refused on the field and nothing changes."""

from __future__ import annotations

import json

from outreach.policy import DEFAULT_POLICY
from outreach.system.services import current_policy, save_policy_values
from tests.conftest import login, post


def _form(**changes):  # type: ignore[no-untyped-def]
    values = {k: json.dumps(v, ensure_ascii=False) for k, v in DEFAULT_POLICY.to_mapping().items()}
    values.update(changes)
    return values


def test_chief_changes_a_value_and_the_rules_use_it(client, users, db):
    login(client, "chief1")
    response = post(client, "/settings/policy", _form(renewal_notice_days="90",
                                                      stocktaking_closures='[["2027-02-01", "2027-02-05"]]'),
                    form_url="/settings/policy")
    assert response.status_code == 302
    policy = current_policy(db)
    assert policy.renewal_notice_days == 90
    assert str(policy.stocktaking_closures[0][0]) == "2027-02-01"
    # Back to the default: nothing is stored for it any more.
    save_policy_values(db, {"renewal_notice_days": 60}, users["chief"])
    assert current_policy(db).renewal_notice_days == 60


def test_bad_values_are_refused_and_nothing_changes(client, users, db):
    login(client, "chief1")
    response = post(client, "/settings/policy", _form(renewal_notice_days="sixty"), form_url="/settings/policy")
    assert response.status_code == 400 and 'id="renewal_notice_days-error"' in response.get_data(as_text=True)
    response = post(client, "/settings/policy", _form(renewal_notice_days="-5", loan_period_months="2"),
                    form_url="/settings/policy")
    assert response.status_code == 400
    assert "renewal_notice_days" in response.get_data(as_text=True)
    assert current_policy(db) == DEFAULT_POLICY


def test_the_chief_edits_in_words_not_in_codes(client, users, db):
    login(client, "chief1")
    page = client.get("/settings/policy").get_data(as_text=True)
    # Yes/no, care levels and holiday shifts are choices in words; optional years are a number or empty.
    assert '<option value="true" selected>はい</option>' in page and ">要介護2</option>" in page
    assert ">翌日</option>" in page and 'name="home_delivery_min_care_level"' in page
    assert "&#34;care_2&#34;" not in page and 'value="null"' not in page  # no JSON for these any more
    form = _form(home_delivery_min_age="70", home_delivery_min_care_level="care_3",
                 mail_loan_requires_city_residence="false", mail_loan_approval_years="",
                 home_delivery_approval_years="5", mail_loan_rules_effective_on="2021-05-01",
                 holiday_shift="next_non_holiday")
    response = post(client, "/settings/policy", form, form_url="/settings/policy")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    policy = current_policy(db)
    assert (policy.home_delivery_min_age, policy.home_delivery_min_care_level.value) == (70, "care_3")
    assert policy.mail_loan_requires_city_residence is False and policy.mail_loan_approval_years is None
    assert policy.home_delivery_approval_years == 5 and str(policy.mail_loan_rules_effective_on) == "2021-05-01"
    assert policy.holiday_shift.value == "next_non_holiday"


def test_a_number_that_is_not_one_is_refused_on_its_field(client, users, db):
    login(client, "chief1")
    response = post(client, "/settings/policy", _form(home_delivery_min_age="六十五", home_delivery_approval_years="x"),
                    form_url="/settings/policy")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="home_delivery_min_age-error">整数で書いてください' in page
    assert 'id="home_delivery_approval_years-error">年数を整数で書くか' in page
    assert current_policy(db) == DEFAULT_POLICY


def test_librarians_cannot_change_the_rules(client, users):
    login(client, "librarian1")
    assert client.get("/settings/policy").status_code == 403


def test_the_renewal_lead_time_moves_the_work_list(db, users):
    from datetime import date

    from outreach.enrolments import services as enrolments
    from outreach.enrolments.models import Approval
    from outreach.patrons import services as patrons
    from outreach.types import Service

    patron = patrons.create_patron(db, actor=users["librarian"], library_prefecture="兵庫県", library_city="西宮市",
                                   data=dict(card_number="77", name="更新 待ち", name_kana="コウシン マチ",
                                             birth_date=date(1940, 1, 1), postal_code="662-0911",
                                             prefecture="兵庫県", city="西宮市"))
    db.add(Approval(patron_id=patron.id, service=Service.HOME_DELIVERY, valid_from=date(2024, 3, 1),
                    valid_until=date(2027, 2, 28)))
    db.commit()
    on = date(2026, 11, 21)  # 99 days before the end
    assert enrolments.ending_soon_count(db, on) == 0  # default lead time: 60 days
    save_policy_values(db, {"renewal_notice_days": 120}, users["chief"])
    assert enrolments.ending_soon_count(db, on) == 1


def test_the_application_form_quotes_the_policy_age(app):
    import dataclasses
    import io

    from pypdf import PdfReader

    from outreach.correspondence import services as letters
    from outreach.types import Service

    policy = dataclasses.replace(DEFAULT_POLICY, home_delivery_min_age=70)
    pdf = letters.application_form(library=letters.library_from_config(app.config), service=Service.HOME_DELIVERY,
                                   policy=policy)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).replace(" ", "")
    assert "満70歳以上" in text and "満65歳以上" not in text
