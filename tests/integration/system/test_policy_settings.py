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


def test_librarians_cannot_change_the_rules(client, users):
    login(client, "librarian1")
    assert client.get("/settings/policy").status_code == 403
