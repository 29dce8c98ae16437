"""Plain, frozen data the document layer takes in.  No ORM objects, no Flask: services copy
what a letter needs into these classes, so letters can be rendered (and tested) anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from outreach.types import MaterialType, Service

__all__ = [
    "Addressee",
    "ApplicantDetails",
    "LabelData",
    "LetterData",
    "LetterDataError",
    "LetterKind",
    "Library",
    "OverdueItem",
    "PickLine",
    "SlipData",
    "SlipItem",
    "MAIL_LOAN_MARKING",
    "format_postal_code",
    "postal_marking",
    "sender_care_of",
]

#: Marking required on free "specified recorded matter" (郵便法第27条, 郵便規則) both ways.
MAIL_LOAN_MARKING = "特定録音物等郵便物"


class LetterDataError(ValueError):
    """A letter was asked for without the facts it must state (e.g. an approval with no period)."""


class LetterKind(StrEnum):
    APPLICATION_FORM = "application_form"  # 申込書 (様式第1号)
    APPROVAL = "approval"  # 承認書 (様式第2号)
    REJECTION = "rejection"  # 不承認通知書 (様式第3号)
    RENEWAL_NOTICE = "renewal_notice"  # 承認期間満了・更新のご案内
    SERVICE_ENDED = "service_ended"  # サービス終了のお知らせ
    OVERDUE_REMINDER = "overdue_reminder"  # 返却のお願い (督促)


_POSTAL = re.compile(r"^\s*〒?\s*([0-9０-９]{3})\s*[-‐－ー−]?\s*([0-9０-９]{4})\s*$")
_FW_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def format_postal_code(code: str) -> str:
    """``6620944`` / ``〒662-0944`` / ``６６２－０９４４`` → ``662-0944``; anything else unchanged."""
    m = _POSTAL.match(code or "")
    if not m:
        return (code or "").strip()
    return f"{m.group(1)}-{m.group(2)}".translate(_FW_DIGITS)


def _lines(value: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split("\n")
    return tuple(s.strip() for s in value if s and s.strip())


@dataclass(frozen=True, slots=True)
class Library:
    """The sending library (差出人)."""

    name: str  # 西宮市立中央図書館
    section: str  # 読書振興課
    postal_code: str
    address: str
    phone: str
    fax: str = ""
    email: str = ""
    #: Who signs official letters and to whom applications are addressed (e.g. 西宮市立中央図書館長).
    #: Empty: the library name is used.
    head_title: str = ""
    #: Printed after the signer on official letters (公印を省略する運用).  Empty to leave a seal space.
    seal_note: str = "（公印省略）"

    def __post_init__(self) -> None:
        object.__setattr__(self, "postal_code", format_postal_code(self.postal_code))

    @property
    def signer(self) -> str:
        return self.head_title or self.name


@dataclass(frozen=True, slots=True)
class Addressee:
    """Where a letter or label goes.

    With a proxy (代理人) the mail goes to the proxy's address, written the Japanese way:
    ``〒… / address / 代理人名 様方 / 利用者名 様``; when the proxy is an organisation (care office)
    ``事業所名 気付 / 利用者名 様``.  ``address_lines`` is then the proxy's address: the caller
    chooses the address, letters only write it.
    """

    postal_code: str
    address_lines: tuple[str, ...]
    name: str
    proxy_name: str | None = None
    proxy_is_organisation: bool = False
    honorific: str = "様"  # 様 for people; 行 / 御中 for the library on return labels

    def __post_init__(self) -> None:
        object.__setattr__(self, "postal_code", format_postal_code(self.postal_code))
        object.__setattr__(self, "address_lines", _lines(self.address_lines))
        object.__setattr__(self, "name", self.name.strip())
        if self.proxy_name is not None:
            proxy = self.proxy_name.strip()
            object.__setattr__(self, "proxy_name", proxy or None)
        if not self.name:
            raise LetterDataError("addressee name is empty")

    @property
    def care_of_line(self) -> str | None:
        """``山田一郎 様方`` / ``○○ケアプランセンター 気付`` / None."""
        if not self.proxy_name:
            return None
        return f"{self.proxy_name} {'気付' if self.proxy_is_organisation else '様方'}"

    @property
    def name_line(self) -> str:
        return f"{self.name} {self.honorific}".rstrip()


@dataclass(frozen=True, slots=True)
class OverdueItem:
    title: str
    due_on: date
    barcode: str = ""


@dataclass(frozen=True, slots=True)
class ApplicantDetails:
    """What a prefilled application form (申込書) shows; every field may be left empty."""

    name: str = ""
    name_kana: str = ""
    birth_date: date | None = None
    postal_code: str = ""
    address: str = ""
    phone: str = ""
    fax: str = ""
    email: str = ""
    card_number: str = ""  # 利用者カード（借出券）番号
    #: key of the ticked eligibility option in the form template (e.g. "disability", "elderly_care")
    eligibility: str = ""
    eligibility_detail: str = ""  # 手帳の種類・等級 / 要介護度 …
    proxy_name: str = ""
    proxy_relation: str = ""  # 続柄
    proxy_phone: str = ""
    proxy_address: str = ""
    contact_preference: str = ""  # key of the ticked contact option ("phone", "fax", "mail", "proxy")
    materials: tuple[str, ...] = ()  # keys of ticked material options (mail loans)
    notes: str = ""

    def __post_init__(self) -> None:
        if self.postal_code:
            object.__setattr__(self, "postal_code", format_postal_code(self.postal_code))


_REQUIRED: dict[LetterKind, tuple[str, ...]] = {
    LetterKind.APPLICATION_FORM: (),
    LetterKind.APPROVAL: ("issued_on", "addressee", "valid_from"),
    LetterKind.REJECTION: ("issued_on", "addressee", "rejection_reason"),
    LetterKind.RENEWAL_NOTICE: ("issued_on", "addressee", "valid_until", "renewal_deadline"),
    LetterKind.SERVICE_ENDED: ("issued_on", "addressee", "ended_on", "ending_reason"),
    LetterKind.OVERDUE_REMINDER: ("issued_on", "addressee", "overdue_items"),
}


@dataclass(frozen=True, slots=True)
class LetterData:
    """Everything one letter states.  Which fields are required depends on ``kind``."""

    kind: LetterKind
    library: Library
    service: Service
    issued_on: date | None = None
    document_number: str = ""  # 文書番号, e.g. 西図読第123号
    addressee: Addressee | None = None
    large_print: bool = False  # 拡大文字版: 18 pt+ BIZ UDGothic throughout
    show_western_year: bool = True  # 令和8年（2026年）11月21日 in the date line
    contact_person: str = ""  # 担当者名 in the contact block
    applied_on: date | None = None  # 申込日 ("…付けで申込みのありました")
    # approval
    valid_from: date | None = None
    valid_until: date | None = None  # None for a service without a fixed period (郵送貸出)
    # rejection
    rejection_reason: str = ""
    # ending
    ended_on: date | None = None
    ending_reason: str = ""
    # renewal
    renewal_deadline: date | None = None
    # overdue
    overdue_items: tuple[OverdueItem, ...] = ()
    # application form
    applicant: ApplicantDetails | None = None
    #: further ${placeholders} for the wording, e.g. max_books, max_av, loan_period (from policy)
    extra_values: Mapping[str, object] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", LetterKind(self.kind))
        object.__setattr__(self, "service", Service(self.service))
        object.__setattr__(self, "overdue_items", tuple(self.overdue_items))
        missing = [name for name in _REQUIRED[self.kind] if not getattr(self, name)]
        if missing:
            raise LetterDataError(f"{self.kind.value} letter needs: {', '.join(missing)}")
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise LetterDataError("valid_until is before valid_from")


@dataclass(frozen=True, slots=True)
class LabelData:
    """One address label: who it goes to, the postal marking, and a small sender block."""

    addressee: Addressee
    sender_lines: tuple[str, ...] = ()
    marking: str = ""  # e.g. 特定録音物等郵便物; empty for none
    ref: str = ""  # tiny staff reference (shipment number), never personal data
    #: The sender's own name (the patron on a return label): printed whole on a line of its own
    #: under ``sender_lines``, never cut; the address gives way first.
    sender_name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "sender_lines", _lines(self.sender_lines))
        object.__setattr__(self, "sender_name", (self.sender_name or "").strip())

    @classmethod
    def outbound(
        cls, addressee: Addressee, library: Library, *, marking: str = "", ref: str = ""
    ) -> LabelData:
        """Library → patron."""
        return cls(addressee, library_sender_lines(library), marking, ref)

    @classmethod
    def return_to_library(
        cls, library: Library, patron: Addressee, *, marking: str = "", honorific: str = "行", ref: str = ""
    ) -> LabelData:
        """Patron → library (返送用ラベル): addressed to the library, the patron as sender.

        ``行`` is the customary honorific a sender prints on its own return address.  The patron's
        name is ``sender_name``: it is never cut, however long the address."""
        to = Addressee(
            postal_code=library.postal_code,
            address_lines=(library.address,),
            name=f"{library.name} {library.section}".strip(),
            honorific=honorific,
        )
        postal = f"〒{patron.postal_code} " if patron.postal_code else ""
        sender = [f"{postal}{' '.join(patron.address_lines)}".strip()]
        if patron.proxy_name:
            sender.append(sender_care_of(patron.proxy_name, organisation=patron.proxy_is_organisation))
        return cls(to, tuple(sender), marking, ref, sender_name=patron.name)


def sender_care_of(proxy_name: str, *, organisation: bool = False) -> str:
    """The 方 line of an address the sender writes for themselves (寄宿先): ``渡辺 清 方``.

    On the addressee side the same person is ``渡辺 清 様方``; writing one's own address the
    honorific is dropped and only 方 remains (「差出人の寄宿先は『○○方』とし、『様』は使わない」).
    The space keeps 方 from reading as part of the given name (渡辺 清方 looks like 清方).  An
    organisation stays ``○○ケアプランセンター 気付`` on both sides."""
    return f"{proxy_name.strip()} {'気付' if organisation else '方'}"


def library_sender_lines(library: Library) -> tuple[str, ...]:
    lines = [f"{library.name} {library.section}".strip(), f"〒{library.postal_code} {library.address}"]
    if library.phone:
        lines.append(f"電話 {library.phone}")
    return tuple(lines)


def postal_marking(service: Service, *, home_delivery: str = "") -> str:
    """The marking a shipment of ``service`` must carry.

    Mail loans travel free as 特定録音物等郵便物 (郵便法第27条) and must say so; home delivery goes
    as ordinary paid mail (library-configured text such as ``ゆうメール`` or nothing)."""
    if Service(service) is Service.MAIL_LOAN:
        return MAIL_LOAN_MARKING
    return home_delivery


@dataclass(frozen=True, slots=True)
class SlipItem:
    barcode: str
    title: str
    material: MaterialType
    shelf_location: str = ""


@dataclass(frozen=True, slots=True)
class SlipData:
    """A packing slip (貸出資料一覧) that travels in the parcel to the patron."""

    patron_name: str
    items: tuple[SlipItem, ...]
    due_on: date
    library: Library
    service: Service
    shipped_on: date | None = None
    shipment_ref: str = ""  # 発送番号
    large_print: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(self.items))
        object.__setattr__(self, "service", Service(self.service))


@dataclass(frozen=True, slots=True)
class PickLine:
    """One item staff must fetch from the shelves for a shipment (no patron name: staff need the
    shipment number only, 利用者の秘密)."""

    shelf_location: str  # 請求記号 / 配架場所
    barcode: str
    title: str
    material: MaterialType
    shipment_ref: str
    library_location: str = ""  # 所蔵館 / 書庫 when picking spans places
