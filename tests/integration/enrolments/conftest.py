from __future__ import annotations

from datetime import date

import pytest

from letters import wording
from outreach.enrolments import services
from outreach.patrons import services as patron_services
from outreach.types import CareLevel, CertificateKind, DifficultyBasis, DisabilityCategory


def strict_applies(entry, values):  # type: ignore[no-untyped-def]
    """wording.applies, but a `requires`/`unless` name that nobody supplies is an error, not a hidden line."""
    unknown = [k for k in (*entry.get("requires", ()), *entry.get("unless", ())) if k not in values]
    if unknown:
        raise wording.WordingError(f"the wording names values nobody supplies: {', '.join(unknown)}")
    return _lenient_applies(entry, values)


_lenient_applies = wording.applies


@pytest.fixture(autouse=True)
def strict_letter_wording(monkeypatch):  # type: ignore[no-untyped-def]
    """Every letter issued in these tests fails when its template names a value the application never gives."""
    monkeypatch.setattr(wording, "applies", strict_applies)


@pytest.fixture()
def make_patron(db, users):  # type: ignore[no-untyped-def]
    def _make(card: str = "3000000001", **changes):  # type: ignore[no-untyped-def]
        data = dict(card_number=card, name="宅配 花子", name_kana="タクハイ ハナコ", birth_date=date(1950, 4, 2),
                    postal_code="662-0911", prefecture="兵庫県", city="西宮市", town="池田町", block="1-1")
        data.update(changes)
        patron = patron_services.create_patron(db, data=data, actor=users["librarian"], library_prefecture="兵庫県",
                                               library_city="西宮市")
        db.commit()
        return patron

    return _make


@pytest.fixture()
def elderly_patron(db, users, make_patron):  # type: ignore[no-untyped-def]
    """Aged 76, 要介護3, finds visiting difficult: eligible for home delivery."""
    patron = make_patron()
    librarian = users["librarian"]
    services.add_care_certification(db, patron, actor=librarian, today=date(2026, 11, 1), data=dict(
        level=CareLevel.CARE_3, valid_from=date(2023, 4, 1), valid_until=date(2030, 3, 31),
        document_seen="介護保険被保険者証", seen_on=date(2026, 11, 1)))
    services.record_visit_difficulty(db, patron, actor=librarian, today=date(2026, 11, 1), data=dict(
        is_difficult=True, basis=DifficultyBasis.HOME_VISIT, assessed_on=date(2026, 11, 1)))
    db.commit()
    return patron


@pytest.fixture()
def visual_patron(db, users, make_patron):  # type: ignore[no-untyped-def]
    patron = make_patron("3000000002", name="郵送 太郎", name_kana="ユウソウ タロウ", birth_date=date(1980, 1, 1))
    services.add_certificate(db, patron, actor=users["librarian"], today=date(2026, 11, 1), data=dict(
        kind=CertificateKind.PHYSICAL, category=DisabilityCategory.VISUAL, grade="1級", number="A-1",
        issued_on=date(2010, 5, 1), valid_until=None, document_seen="手帳原本", seen_on=date(2026, 11, 1)))
    db.commit()
    return patron
