"""Patrons (利用者) and their proxies (代理人)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from outreach.db import UTCDateTime, enum_type, utcnow
from outreach.types import ContactPreference, ProxyRelation


class Patron(SQLModel, table=True):
    __tablename__ = "patron"
    __table_args__ = (
        Index("ix_patron_kana_key", "kana_key", "id"),
        Index("ix_patron_name_key", "name_key", "id"),
        Index("ix_patron_given_kana_key", "given_kana_key", "id"),
        Index("ix_patron_phone_key", "phone_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    card_number: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=100)  # 氏名
    name_kana: str = Field(max_length=100)  # フリガナ
    birth_date: date
    phone: str = Field(default="", max_length=20)
    fax: str = Field(default="", max_length=20)
    email: str = Field(default="", max_length=254)
    contact_preference: ContactPreference = Field(default=ContactPreference.PHONE, sa_type=enum_type(ContactPreference))

    postal_code: str = Field(max_length=8)  # 123-4567
    prefecture: str = Field(max_length=10)
    city: str = Field(max_length=50)
    town: str = Field(default="", max_length=100)
    block: str = Field(default="", max_length=100)  # 丁目・番地
    building: str = Field(default="", max_length=100)  # 建物名・部屋番号

    is_city_resident: bool = Field(default=False)  # 市内在住 (derived from the address and the configured city)
    is_in_facility: bool = Field(default=False)  # 施設入所
    facility_name: str = Field(default="", max_length=100)
    needs_large_print: bool = Field(default=False)  # letters and slips in large print
    has_reading_history_consent: bool = Field(default=False)  # 読書記録の保存に同意
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))

    # Normalised search keys (hiragana, no spaces, half-width): maintained by the service layer.
    name_key: str = Field(default="", max_length=100)
    kana_key: str = Field(default="", max_length=100)
    given_kana_key: str = Field(default="", max_length=100)
    phone_key: str = Field(default="", max_length=20)

    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))

    @property
    def address_lines(self) -> list[str]:
        return address_lines(self.prefecture, self.city, self.town, self.block, self.building)


def address_lines(prefecture: str, city: str, town: str, block: str, building: str) -> list[str]:
    """The address as printed: the street address, then the building and room on a line of its own."""
    first = f"{prefecture}{city}{town}{block}"
    return [first, building] if building else [first]


class Proxy(SQLModel, table=True):
    """Someone who acts for the patron: family, carer, care manager."""

    __tablename__ = "patron_proxy"

    id: int | None = Field(default=None, primary_key=True)
    patron_id: int = Field(foreign_key="patron.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    name_kana: str = Field(default="", max_length=100)
    relation: ProxyRelation = Field(sa_type=enum_type(ProxyRelation))
    organisation: str = Field(default="", max_length=100)  # e.g. the care manager's office
    phone: str = Field(default="", max_length=20)
    fax: str = Field(default="", max_length=20)
    email: str = Field(default="", max_length=254)
    postal_code: str = Field(default="", max_length=8)
    address: str = Field(default="", max_length=200)
    receives_letters: bool = Field(default=False)  # letters go to the proxy (○○様方)
    notes: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
