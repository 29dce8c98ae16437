"""A small set of demo patrons, loaded when the database is empty (never over real data)."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from outreach.auth import services as auth_services
from outreach.auth.models import StaffUser
from outreach.clock import today
from outreach.db import utcnow
from outreach.patrons import services as patron_services
from outreach.patrons.models import Patron
from outreach.system.models import JobRun
from outreach.types import ContactPreference, ProxyRelation, Role

DEMO_PATRONS = [
    dict(card_number="1000000001", name="山田 花子", name_kana="ヤマダ ハナコ", birth_date=date(1941, 5, 3),
         phone="0798-11-2233", postal_code="662-0911", block="1-2-3", contact_preference=ContactPreference.PHONE,
         needs_large_print=True, has_reading_history_consent=True, notes="時代小説と大活字本を好む。"),
    dict(card_number="1000000002", name="佐藤 一郎", name_kana="サトウ イチロウ", birth_date=date(1958, 11, 30),
         phone="0798-22-3344", postal_code="663-8204", block="4-5-6", building="高松マンション101",
         contact_preference=ContactPreference.PHONE),
    dict(card_number="1000000003", name="鈴木 ゆかり", name_kana="スズキ ユカリ", birth_date=date(1975, 2, 14),
         phone="0798-33-4455", email="yukari@example.jp", postal_code="663-8035", block="7-8",
         contact_preference=ContactPreference.EMAIL, notes="視覚障害。点字・デイジー利用。"),
    dict(card_number="1000000004", name="高橋 清", name_kana="タカハシ キヨシ", birth_date=date(1936, 2, 29),
         phone="0798-44-5566", postal_code="662-0832", block="2-10", contact_preference=ContactPreference.PROXY),
    dict(card_number="1000000005", name="田中 美智子", name_kana="タナカ ミチコ", birth_date=date(1948, 8, 8),
         phone="06-6123-4567", postal_code="660-0881", block="3-3-3", contact_preference=ContactPreference.MAIL),
    dict(card_number="1000000006", name="伊藤 和夫", name_kana="イトウ カズオ", birth_date=date(1939, 1, 20),
         phone="0798-55-6677", postal_code="662-0918", block="5-1", is_in_facility=True,
         facility_name="特別養護老人ホーム六湛寺", contact_preference=ContactPreference.PROXY),
]


def load_demo(session: Session, library_prefecture: str, library_city: str) -> list[tuple[str, Role, str]]:
    """Create demo patrons and first staff logins when there are no patrons and no staff yet.

    Returns (username, role, generated password) for each account created; [] when the database
    already holds data.
    """
    has_patrons = session.scalar(select(func.count()).select_from(Patron)) or 0
    has_staff = session.scalar(select(func.count()).select_from(StaffUser)) or 0
    if has_patrons or has_staff:
        return []
    logins = []
    accounts = {}
    for username, display_name, role in (
        ("librarian", "司書 デモ", Role.LIBRARIAN),
        ("chief", "課長 デモ", Role.CHIEF),
        ("admin", "管理者 デモ", Role.ADMIN),
    ):
        password = generate_password()
        accounts[role] = auth_services.create_user(
            session, username=username, display_name=display_name, role=role, password=password
        )
        logins.append((username, role, password))
    librarian = accounts[Role.LIBRARIAN]
    patrons = []
    for data in DEMO_PATRONS:
        data = dict(data)
        address = patron_services.lookup_postal_code(data["postal_code"])
        assert address is not None, data["postal_code"]
        data.update(prefecture=address.prefecture, city=address.city, town=address.town)
        patron = patron_services.create_patron(
            session, data=data, actor=librarian, library_prefecture=library_prefecture, library_city=library_city
        )
        patrons.append(patron)
        if data["contact_preference"] == ContactPreference.PROXY:
            patron_services.add_proxy(session, patron, actor=librarian, data=dict(
                name="ケアマネ 太郎", name_kana="ケアマネ タロウ", relation=ProxyRelation.CARE_MANAGER,
                organisation="西宮ケアプランセンター", phone="0798-66-7788", postal_code="662-0911",
                address="兵庫県西宮市池田町9-9", receives_letters=True))
    _demo_cases(session, patrons, librarian, accounts[Role.CHIEF])
    # Mark the database as a demo: `outreach synth` may add synthetic data to it, never to real records.
    session.add(JobRun(job="demo-data", period=today().isoformat(), summary=f"{len(patrons)} demo patrons",
                       finished_at=utcnow()))
    session.flush()
    return logins


def _demo_cases(session: Session, patrons: list[Patron], librarian: StaffUser, chief: StaffUser) -> None:
    """Evidence, applications and approvals in every state, dated relative to today."""
    from outreach.enrolments import services as enrolments
    from outreach.types import (
        CareLevel,
        CertificateKind,
        Channel,
        DifficultyBasis,
        DisabilityCategory,
        Service,
    )

    on = today()
    hanako, ichiro, yukari, kiyoshi, michiko, _kazuo = patrons

    def care(patron: Patron, level: CareLevel) -> None:
        enrolments.add_care_certification(session, patron, actor=librarian, today=on, data=dict(
            level=level, valid_from=on - timedelta(days=400), valid_until=on + timedelta(days=700),
            document_seen="介護保険被保険者証", seen_on=on - timedelta(days=30)))

    def difficult(patron: Patron) -> None:
        enrolments.record_visit_difficulty(session, patron, actor=librarian, today=on, data=dict(
            is_difficult=True, basis=DifficultyBasis.HOME_VISIT, assessed_on=on - timedelta(days=30)))

    def approved(patron: Patron, service: Service, decided_on: date) -> None:
        application = enrolments.receive_application(
            session, patron, service=service, received_on=decided_on - timedelta(days=7), channel=Channel.PHONE,
            proxy_id=None, note="", actor=librarian, today=decided_on)
        enrolments.submit_for_decision(session, application, librarian)
        enrolments.approve(session, application, actor=chief, decided_on=decided_on)

    care(hanako, CareLevel.CARE_3)
    difficult(hanako)
    approved(hanako, Service.HOME_DELIVERY, on - timedelta(days=200))

    enrolments.add_certificate(session, ichiro, actor=librarian, today=on, data=dict(
        kind=CertificateKind.PHYSICAL, category=DisabilityCategory.LIMB, grade="2級", number="",
        issued_on=date(2015, 6, 1), valid_until=None, document_seen="手帳原本", seen_on=on - timedelta(days=30)))
    difficult(ichiro)
    approved(ichiro, Service.HOME_DELIVERY, on - timedelta(days=3 * 365 - 30))  # ends within the lead time

    enrolments.add_certificate(session, yukari, actor=librarian, today=on, data=dict(
        kind=CertificateKind.PHYSICAL, category=DisabilityCategory.VISUAL, grade="1級", number="",
        issued_on=date(2001, 4, 1), valid_until=None, document_seen="手帳の写し", seen_on=on - timedelta(days=60)))
    approved(yukari, Service.MAIL_LOAN, on - timedelta(days=500))
    approved(yukari, Service.FACE_TO_FACE, on - timedelta(days=100))

    care(kiyoshi, CareLevel.CARE_2)
    difficult(kiyoshi)
    waiting = enrolments.receive_application(session, kiyoshi, service=Service.HOME_DELIVERY, received_on=on,
                                             channel=Channel.MAIL, proxy_id=None, note="ケアマネ経由で郵送",
                                             actor=librarian, today=on)
    enrolments.submit_for_decision(session, waiting, librarian)

    _demo_lending(session, hanako, yukari, librarian, on)

    care(michiko, CareLevel.CARE_1)  # 要介護1: the rules say no
    enrolments.receive_application(session, michiko, service=Service.HOME_DELIVERY, received_on=on,
                                   channel=Channel.COUNTER, proxy_id=None, note="", actor=librarian, today=on)


SAMPLE_CATALOGUE = Path(__file__).resolve().parent.parent / "docs" / "samples" / "catalog-sample.csv"


def _demo_lending(session: Session, hanako: Patron, yukari: Patron, librarian: StaffUser, on: date) -> None:
    """A small catalogue and two requests, so the monthly run can be tried at once."""
    from outreach.catalog import services as catalog
    from outreach.loans import services as loans
    from outreach.types import Channel, Service

    if not SAMPLE_CATALOGUE.exists():  # an installed package without the docs folder
        return
    catalog.import_csv(session, SAMPLE_CATALOGUE.read_bytes(), filename=SAMPLE_CATALOGUE.name, actor=librarian)
    loans.create_request(session, hanako, service=Service.HOME_DELIVERY, channel=Channel.PHONE, received_on=on,
                         proxy_id=None, choose_for_me=False, note="", barcodes=["1100000001", "1100000004"],
                         actor=librarian, today=on)
    loans.save_profile(session, hanako, data={"subjects": "時代小説; ミステリー", "formats": ["large_print"],
                                              "items_per_month": 5}, actor=librarian)


def generate_password() -> str:
    """A random password that passes the strength rule (letters and digits, 16 characters)."""
    while True:
        candidate = secrets.token_urlsafe(12)
        if auth_services.check_password_strength(candidate) is None:
            return candidate
