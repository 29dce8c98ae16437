"""The synthetic-data generator: deterministic, realistic proportions, consistent rows."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from outreach.patrons.rules import search_key
from outreach.synth.generator import FAMILY_NAMES, MAIL_TYPES, PostalPlace, Synth, SynthSpec, material_of
from outreach.types import MaterialType

TODAY = date(2026, 11, 21)
LOCAL = [PostalPlace("662-0911", "兵庫県", "西宮市", "池田町"), PostalPlace("663-8035", "兵庫県", "西宮市", "北口町")]
NATIONAL = [PostalPlace("060-0001", "北海道", "札幌市中央区", "北一条西"), PostalPlace("900-0001", "沖縄県", "那覇市", "港町")]


def build(patrons: int = 300, seed: int = 1) -> dict[str, list[dict]]:
    synth = Synth(SynthSpec(patrons=patrons, seed=seed, today=TODAY, local_places=LOCAL, national_places=NATIONAL,
                            room_ids=[1, 2]))
    rows: dict[str, list[dict]] = {}
    for table, row in [*synth.staff(), *synth.catalogue(), *synth.runs()]:
        rows.setdefault(table, []).append(row)
    for batch in synth.patrons():
        for table, row in batch:
            rows.setdefault(table, []).append(row)
    return rows


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows():
    first, again, other = build(seed=7), build(seed=7), build(seed=8)
    assert first == again
    assert [p["name"] for p in first["patron"]] != [p["name"] for p in other["patron"]]


def test_names_are_japanese_with_matching_readings_and_search_keys():
    readings = dict(FAMILY_NAMES)
    for patron in build()["patron"]:
        family, _given = patron["name"].split(" ")
        assert patron["name_kana"].split(" ")[0] == readings[family]
        assert patron["kana_key"] == search_key(patron["name_kana"])
        assert patron["card_number"].isdigit() and len(patron["card_number"]) == 10


def test_the_catalogue_holds_every_material_type():
    types = {MaterialType(item["material_type"]) for item in build(patrons=20)["catalog_item"]}
    assert types == set(MaterialType)
    assert {material_of(n) for n in range(100)} == set(MaterialType)


def test_services_and_approvals_come_in_plausible_proportions_and_every_age():
    rows = build(patrons=1000)
    latest: dict[tuple[int, str], dict] = {}
    for approval in rows["approval"]:
        latest[(approval["patron_id"], approval["service"])] = approval  # renewals come after what they renew
    services = Counter(service for _pid, service in latest)
    assert 0.55 < services["home_delivery"] / 1000 < 0.70
    assert 0.25 < services["mail_loan"] / 1000 < 0.40
    statuses = Counter(a["status"] for a in rows["approval"])
    assert statuses["active"] and statuses["expired"] and statuses["ended"]
    expiring = [a for a in rows["approval"] if a["status"] == "active" and a["valid_until"]
                and a["valid_until"] <= TODAY + timedelta(days=60)]
    assert expiring, "some approvals run out within the renewal notice period"
    renewed = [a for a in rows["approval"] if a["previous_approval_id"]]
    assert renewed


def test_care_levels_and_certificates_are_spread_like_a_real_caseload():
    rows = build(patrons=1000)
    levels = Counter(c["level"] for c in rows["care_certification"])
    qualifying = sum(levels[level] for level in ("care_2", "care_3", "care_4", "care_5"))
    # Approved patrons mostly qualify; a few were re-assessed lower (the review list has cases).
    assert qualifying / sum(levels.values()) > 0.9 and qualifying < sum(levels.values())
    assert levels["care_2"] > levels["care_5"]
    # Every home-delivery patron holds what the rules need: a care certification or a non-visual certificate.
    home = {a["patron_id"] for a in rows["approval"] if a["service"] == "home_delivery"}
    evidenced = {c["patron_id"] for c in rows["care_certification"]} | {
        c["patron_id"] for c in rows["disability_certificate"] if c["category"] != "visual"}
    assert home and home <= evidenced


def test_mail_loan_requests_ask_only_for_what_mail_loans_may_send():
    rows = build(patrons=600)
    service_of = {r["id"]: r["service"] for r in rows["loan_request"]}
    items = {i["id"]: MaterialType(i["material_type"]) for i in rows["catalog_item"]}
    mail_lines = [ln for ln in rows["loan_request_line"] if service_of[ln["request_id"]] == "mail_loan"]
    assert mail_lines
    assert all(items[ln["item_id"]] in MAIL_TYPES for ln in mail_lines)


def test_history_loans_agree_with_their_shipments_and_forget_readers_without_consent():
    rows = build(patrons=400)
    consent = {p["id"]: p["has_reading_history_consent"] for p in rows["patron"]}
    per_shipment = Counter(loan["shipment_id"] for loan in rows["loan"])
    for shipment in rows["shipment"]:
        assert shipment["books_count"] + shipment["audio_visual_count"] == per_shipment[shipment["id"]]
    closed = [loan for loan in rows["loan"] if loan["status"] == "returned"]
    assert all(loan["patron_id"] is None or consent[loan["patron_id"]] for loan in closed)
    overdue = [loan for loan in rows["loan"] if loan["status"] == "on_loan"]
    assert overdue and all(loan["due_on"] < TODAY for loan in overdue)
