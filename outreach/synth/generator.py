"""Pure, deterministic builders of synthetic rows (plain dicts keyed by column name).

Nothing here touches a database: :class:`Synth` takes a seed, a size, "today", the first free id of
each table and a sample of real postal addresses, and yields rows in foreign-key order. The same
inputs give the same rows, so a benchmark can be rebuilt exactly. Proportions are those of a
plausible outreach service: most patrons are elderly home-delivery users with a care certification,
about a third are visually impaired mail-loan users (many also read face to face), and every
approval age occurs (new, long-standing, expiring soon, expired, ended).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from outreach.calendar import add_months, due_date, first_open_day_of_month
from outreach.catalog import rules as catalog_rules
from outreach.patrons import rules as patron_rules
from outreach.types import (
    LENDING_SERVICES,
    ApprovalStatus,
    CareLevel,
    CertificateKind,
    Channel,
    ContactPreference,
    DifficultyBasis,
    DisabilityCategory,
    EndReason,
    ItemSource,
    ItemStatus,
    LoanRequestState,
    LoanStatus,
    MaterialType,
    ProxyRelation,
    ReadingKind,
    ReadingRequestStatus,
    ReadingSessionState,
    RunState,
    Service,
)

# (kanji, katakana reading), most common first: the weights below make the top names frequent.
FAMILY_NAMES: tuple[tuple[str, str], ...] = (
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"), ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ"),
    ("吉田", "ヨシダ"), ("山田", "ヤマダ"), ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"),
    ("井上", "イノウエ"), ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ"),
    ("山崎", "ヤマザキ"), ("森", "モリ"), ("池田", "イケダ"), ("橋本", "ハシモト"), ("阿部", "アベ"),
    ("石川", "イシカワ"), ("山下", "ヤマシタ"), ("中島", "ナカジマ"), ("石井", "イシイ"), ("小川", "オガワ"),
    ("前田", "マエダ"), ("岡田", "オカダ"), ("長谷川", "ハセガワ"), ("藤田", "フジタ"), ("後藤", "ゴトウ"),
    ("近藤", "コンドウ"), ("村上", "ムラカミ"), ("遠藤", "エンドウ"), ("青木", "アオキ"), ("坂本", "サカモト"),
)
FEMALE_NAMES: tuple[tuple[str, str], ...] = (
    ("和子", "カズコ"), ("幸子", "サチコ"), ("節子", "セツコ"), ("洋子", "ヨウコ"), ("恵子", "ケイコ"),
    ("美智子", "ミチコ"), ("京子", "キョウコ"), ("久子", "ヒサコ"), ("弘子", "ヒロコ"), ("花子", "ハナコ"),
    ("敏子", "トシコ"), ("静子", "シズコ"), ("文子", "フミコ"), ("清子", "キヨコ"), ("千代子", "チヨコ"),
    ("由美子", "ユミコ"), ("裕子", "ユウコ"), ("明美", "アケミ"), ("さくら", "サクラ"), ("陽子", "ヨウコ"),
)
MALE_NAMES: tuple[tuple[str, str], ...] = (
    ("清", "キヨシ"), ("茂", "シゲル"), ("博", "ヒロシ"), ("勇", "イサム"), ("実", "ミノル"),
    ("進", "ススム"), ("正", "タダシ"), ("隆", "タカシ"), ("一郎", "イチロウ"), ("和夫", "カズオ"),
    ("正男", "マサオ"), ("三郎", "サブロウ"), ("武", "タケシ"), ("修", "オサム"), ("昭", "アキラ"),
    ("健一", "ケンイチ"), ("誠", "マコト"), ("豊", "ユタカ"), ("浩二", "コウジ"), ("義雄", "ヨシオ"),
)
SUBJECTS = ("時代小説", "推理小説", "歴史", "旅行", "料理", "健康", "園芸", "俳句", "短歌", "随筆",
            "落語", "音楽", "将棋", "自然", "伝記", "恋愛小説", "ユーモア", "宗教", "美術", "動物")
TITLE_HEADS = (("春", "ハル"), ("夏", "ナツ"), ("秋", "アキ"), ("冬", "フユ"), ("月", "ツキ"), ("星", "ホシ"),
               ("海", "ウミ"), ("山", "ヤマ"), ("川", "カワ"), ("風", "カゼ"), ("花", "ハナ"), ("雪", "ユキ"),
               ("港", "ミナト"), ("庭", "ニワ"), ("町", "マチ"), ("夢", "ユメ"), ("旅", "タビ"), ("空", "ソラ"))
TITLE_TAILS = (("物語", "モノガタリ"), ("日記", "ニッキ"), ("の記憶", "ノキオク"), ("だより", "ダヨリ"),
               ("の人々", "ノヒトビト"), ("紀行", "キコウ"), ("の謎", "ノナゾ"), ("暮らし", "クラシ"),
               ("手帖", "テチョウ"), ("の歌", "ノウタ"), ("事件", "ジケン"), ("帖", "チョウ"))
# 100 slots of material types, in proportions of an outreach collection (large print and DAISY are common).
MATERIAL_CYCLE: tuple[MaterialType, ...] = tuple(
    [MaterialType.BOOK] * 45 + [MaterialType.LARGE_PRINT] * 20 + [MaterialType.BRAILLE_PICTURE_BOOK] * 6
    + [MaterialType.BRAILLE_BOOK] * 4 + [MaterialType.AUDIO_CD] * 8 + [MaterialType.DAISY] * 14
    + [MaterialType.OTHER_AV] * 3
)
SHELVES = {
    MaterialType.BOOK: "中央 一般書架", MaterialType.LARGE_PRINT: "中央 大活字コーナー",
    MaterialType.BRAILLE_PICTURE_BOOK: "中央 点字資料室", MaterialType.BRAILLE_BOOK: "中央 点字資料室",
    MaterialType.AUDIO_CD: "中央 視聴覚", MaterialType.DAISY: "中央 録音資料", MaterialType.OTHER_AV: "中央 視聴覚",
}
MAIL_TYPES = (MaterialType.BRAILLE_PICTURE_BOOK, MaterialType.AUDIO_CD, MaterialType.DAISY, MaterialType.OTHER_AV)
# Care levels of approved home-delivery patrons: 要介護2 or higher, with a few whose level has since
# been re-assessed lower (they appear on the review list, as in real life).
CARE_WEIGHTS = ((CareLevel.SUPPORT_2, 1), (CareLevel.CARE_1, 2), (CareLevel.CARE_2, 30),
                (CareLevel.CARE_3, 27), (CareLevel.CARE_4, 22), (CareLevel.CARE_5, 18))
HISTORY_MONTHS = 19  # the previous fiscal year in full and the current one up to last month


def material_of(index: int) -> MaterialType:
    """The material type of the catalogue item with this 0-based index (a fixed cycle, so rows agree)."""
    return MATERIAL_CYCLE[(index * 37) % len(MATERIAL_CYCLE)]


@dataclass(frozen=True)
class PostalPlace:
    postal_code: str  # 662-0911
    prefecture: str
    city: str
    town: str


@dataclass(frozen=True)
class Ids:
    """The first free id of each table (the service reads them; rows get explicit ids)."""

    staff_user: int = 1
    patron: int = 1
    patron_proxy: int = 1
    disability_certificate: int = 1
    care_certification: int = 1
    visit_difficulty: int = 1
    approval: int = 1
    catalog_item: int = 1
    reader_profile: int = 1
    loan_request: int = 1
    loan_request_line: int = 1
    shipment_run: int = 1
    shipment: int = 1
    loan: int = 1
    reading_volunteer: int = 1
    reading_request: int = 1
    reading_session: int = 1
    card_serial: int = 1  # the next synthetic card number


@dataclass
class Counters:
    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


@dataclass(frozen=True)
class SynthSpec:
    patrons: int
    seed: int
    today: date
    local_places: Sequence[PostalPlace]  # the library's own city (home delivery)
    national_places: Sequence[PostalPlace]  # anywhere in Japan (mail loans)
    room_ids: Sequence[int]  # reading rooms (seeded by the migrations)
    existing_runs: Mapping[str, tuple[int, date, date]] = field(default_factory=dict)  # month → (id, ship, due)
    library_prefecture: str = "兵庫県"
    library_city: str = "西宮市"
    ids: Ids = Ids()
    items_per_patron: int = 16  # catalogue copies per patron: enough for a full month's selection

    @property
    def reserve_size(self) -> int:
        """Copies at the end of the catalogue kept for overdue loans (about 1 % of patrons have one)."""
        return 500 + self.patrons // 20

    @property
    def catalog_size(self) -> int:
        return self.patrons * self.items_per_patron + self.reserve_size


Row = dict[str, Any]
Batch = list[tuple[str, Row]]  # (table, row) in foreign-key order


class Synth:
    """Deterministic row builder. Call :meth:`staff`, :meth:`catalogue`, :meth:`runs`, then :meth:`patrons`."""

    def __init__(self, spec: SynthSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.ids = Counters({k: v for k, v in spec.ids.__dict__.items()})
        self.now = datetime.combine(spec.today, time(0, 0), tzinfo=UTC)
        self.staff_id = 0
        self.volunteer_ids: list[int] = []
        self.month_runs: dict[str, tuple[int, date, date]] = {}
        first_month = add_months(spec.today.replace(day=1), -HISTORY_MONTHS)
        self.months = [add_months(first_month, i) for i in range(HISTORY_MONTHS)]
        self._family_weights = [1 / (rank + 1) ** 0.7 for rank in range(len(FAMILY_NAMES))]
        # the reserve at the end of the catalogue: items still out on overdue loans
        self.reserve_start = spec.ids.catalog_item + spec.patrons * spec.items_per_patron
        self._reserve_next = self.reserve_start
        self._subject_authors = [self._author(i) for i in range(60)]

    # ---------------------------------------------------------------------------------------- staff

    def staff(self) -> Iterator[tuple[str, Row]]:
        """One (inactive) librarian who 'saw' the evidence, and the volunteer readers with their accounts."""
        self.staff_id = self.ids.take("staff_user")
        yield "staff_user", self._user(self.staff_id, f"synth-staff-{self.staff_id}", "合成 職員", "librarian")
        volunteers = max(3, self.spec.patrons // 2000)
        for n in range(volunteers):
            uid = self.ids.take("staff_user")
            vid = self.ids.take("reading_volunteer")
            family, given = self._name(female=n % 3 != 0)
            yield "staff_user", self._user(uid, f"synth-reader-{uid}", family[0] + " " + given[0], "volunteer")
            yield "reading_volunteer", {
                "id": vid, "user_id": uid, "name": f"{family[0]} {given[0]}", "name_kana": f"{family[1]} {given[1]}",
                "phone": self._phone(), "email": "", "postal_code": "", "address": "",
                "pledge_signed_on": self.spec.today - timedelta(days=400 + n), "retired_on": None, "notes": "",
                "created_at": self.now, "updated_at": self.now}
            for room_id in self.spec.room_ids:
                if n % len(self.spec.room_ids) == room_id % len(self.spec.room_ids) or n < 2:
                    yield "reading_volunteer_room", {"volunteer_id": vid, "room_id": room_id}
            yield "reading_volunteer_skill", {"volunteer_id": vid, "kind": ReadingKind.GENERAL.value}
            self.volunteer_ids.append(vid)

    def _user(self, uid: int, username: str, display: str, role: str) -> Row:
        # An unusable password hash: synthetic accounts cannot log in.
        return {"id": uid, "username": username, "display_name": display, "password_hash": "!synthetic",
                "role": role, "is_active": False, "failed_login_count": 0, "locked_until": None,
                "last_login_at": None, "created_at": self.now, "updated_at": self.now}

    # ------------------------------------------------------------------------------------ catalogue

    def _author(self, i: int) -> tuple[str, str]:
        family = FAMILY_NAMES[(i * 7) % len(FAMILY_NAMES)]
        given = (MALE_NAMES + FEMALE_NAMES)[(i * 11) % (len(MALE_NAMES) + len(FEMALE_NAMES))]
        return f"{family[0]}{given[0]}", f"{family[1]} {given[1]}"

    def catalogue(self) -> Iterator[tuple[str, Row]]:
        """Every material type; titles from a few thousand works; the reserve at the end starts out on loan."""
        keys_cache: dict[tuple[str, str, str, str], dict[str, str]] = {}
        first = self.spec.ids.catalog_item
        for n in range(self.spec.catalog_size):
            material = material_of(n)
            head, tail = TITLE_HEADS[n % len(TITLE_HEADS)], TITLE_TAILS[(n // len(TITLE_HEADS)) % len(TITLE_TAILS)]
            volume = (n // (len(TITLE_HEADS) * len(TITLE_TAILS))) % 30 + 1
            title, title_kana = f"{head[0]}{tail[0]} 第{volume}巻", f"{head[1]}{tail[1]} ダイ{volume}カン"
            author, _author_kana = self._subject_authors[(n * 13) % len(self._subject_authors)]
            subjects = f"{SUBJECTS[n % len(SUBJECTS)]};{SUBJECTS[(n * 7 + 3) % len(SUBJECTS)]}"
            call_number = f"913.{(n % 9) + 1}/{head[1][:2]}"
            cache_key = (title, title_kana, author, subjects)
            keys = keys_cache.get(cache_key)
            if keys is None:
                keys = catalog_rules.derived_keys(title, title_kana, author, subjects, call_number)
                keys_cache[cache_key] = keys
            item_id = first + n
            yield "catalog_item", {
                "id": item_id, "barcode": f"3{item_id:011d}", "title": title, "title_kana": title_kana,
                "author": author, "material_type": material.value, "subjects": subjects,
                "shelf_location": SHELVES[material], "call_number": call_number, "is_lendable": n % 97 != 0,
                "is_unsuitable": n % 211 == 0, "unsuitable_reason": "破損のため" if n % 211 == 0 else "",
                "unsuitable_by_id": None,
                "status": (ItemStatus.ON_LOAN if item_id >= self.reserve_start else ItemStatus.AVAILABLE).value,
                **{**keys, "call_number_key": catalog_rules.call_number_key(call_number)},
                "created_at": self.now, "updated_at": self.now}

    def _random_item(self, allowed: Sequence[MaterialType] | None = None) -> tuple[int, MaterialType]:
        while True:
            n = self.rng.randrange(self.spec.patrons * self.spec.items_per_patron)
            material = material_of(n)
            if allowed is None or material in allowed:
                return self.spec.ids.catalog_item + n, material

    # ----------------------------------------------------------------------------------------- runs

    def runs(self) -> Iterator[tuple[str, Row]]:
        """A committed monthly run for every month of history (counts filled in by the service)."""
        for first in self.months:
            month = f"{first.year:04d}-{first.month:02d}"
            if month in self.spec.existing_runs:  # a second fill adds to the runs already there
                self.month_runs[month] = self.spec.existing_runs[month]
                continue
            shipping_on = first_open_day_of_month(first.year, first.month)
            due_on = due_date(shipping_on)
            run_id = self.ids.take("shipment_run")
            self.month_runs[month] = (run_id, shipping_on, due_on)
            stamp = datetime.combine(shipping_on, time(1, 0), tzinfo=UTC)
            yield "shipment_run", {
                "id": run_id, "month": month, "shipping_on": shipping_on, "due_on": due_on,
                "state": RunState.COMMITTED.value, "plan_version": 1, "planned_at": stamp, "planned_by_id": None,
                "committed_at": stamp, "committed_by_id": None, "lease_owner": "", "lease_host": "",
                "lease_pid": None, "lease_until": None, "patrons_considered": 0, "shipments_planned": 0,
                "items_planned": 0, "excluded": 0, "shipments_done": 0, "items_done": 0, "items_dropped": 0,
                "last_error": ""}

    # -------------------------------------------------------------------------------------- patrons

    def _name(self, female: bool) -> tuple[tuple[str, str], tuple[str, str]]:
        family = self.rng.choices(FAMILY_NAMES, weights=self._family_weights)[0]
        given = self.rng.choice(FEMALE_NAMES if female else MALE_NAMES)
        return family, given

    def _phone(self) -> str:
        return f"0798-{self.rng.randrange(20, 80):02d}-{self.rng.randrange(10000):04d}"

    def _date_between(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randrange(max(1, (last - first).days + 1)))

    def patrons(self) -> Iterator[Batch]:
        """One batch of rows per patron: the person, proxies, evidence, approvals, profile, requests,
        a history of shipments and loans, and face-to-face reading."""
        for _n in range(self.spec.patrons):
            yield self._patron()

    def _patron(self) -> Batch:
        rng, today = self.rng, self.spec.today
        rows: Batch = []
        pid = self.ids.take("patron")
        draw = rng.random()
        primary = Service.HOME_DELIVERY if draw < 0.62 else Service.MAIL_LOAN if draw < 0.95 else Service.FACE_TO_FACE
        visual = primary is not Service.HOME_DELIVERY
        services = [primary] + ([Service.FACE_TO_FACE] if primary is Service.MAIL_LOAN and rng.random() < 0.2 else [])
        female = rng.random() < 0.64
        family, given = self._name(female)
        age = rng.randint(65, 100) if primary is Service.HOME_DELIVERY else rng.randint(20, 92)
        birth = date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))
        place = rng.choice(self.spec.local_places if primary is Service.HOME_DELIVERY or rng.random() < 0.3
                           else self.spec.national_places)
        name, kana = f"{family[0]} {given[0]}", f"{family[1]} {given[1]}"
        phone = self._phone() if rng.random() < 0.93 else ""
        in_facility = primary is Service.HOME_DELIVERY and rng.random() < 0.06
        has_proxy = rng.random() < (0.35 if primary is Service.HOME_DELIVERY else 0.1)
        consent = rng.random() < 0.3
        serial = self.ids.take("card_serial")
        rows.append(("patron", {
            "id": pid, "card_number": f"8{serial:09d}", "name": name, "name_kana": kana, "birth_date": birth,
            "phone": phone, "fax": "", "email": f"reader{serial}@example.jp" if rng.random() < 0.08 else "",
            "contact_preference": (ContactPreference.PROXY if has_proxy else ContactPreference.PHONE if phone
                                   else ContactPreference.MAIL).value,
            "postal_code": place.postal_code, "prefecture": place.prefecture, "city": place.city, "town": place.town,
            "block": f"{rng.randint(1, 9)}-{rng.randint(1, 30)}-{rng.randint(1, 20)}",
            "building": f"{place.town or place.city}ハイツ{rng.randint(1, 5)}0{rng.randint(1, 9)}" if rng.random() < 0.25 else "",
            "is_city_resident": patron_rules.is_city_resident(place.prefecture, place.city, self.spec.library_prefecture,
                                                              self.spec.library_city),
            "is_in_facility": in_facility,
            "facility_name": "特別養護老人ホーム" + (place.town or "さくら") if in_facility else "",
            "needs_large_print": rng.random() < (0.3 if primary is Service.HOME_DELIVERY else 0.05),
            "has_reading_history_consent": consent, "notes": "",
            "name_key": patron_rules.search_key(name), "kana_key": patron_rules.search_key(kana),
            "given_kana_key": patron_rules.given_name_key(kana), "phone_key": patron_rules.phone_key(phone),
            "created_at": self.now, "updated_at": self.now}))
        if has_proxy:
            pfam, pgiven = self._name(female=rng.random() < 0.5)
            care = rng.random() < 0.5
            rows.append(("patron_proxy", {
                "id": self.ids.take("patron_proxy"), "patron_id": pid,
                "name": f"{pfam[0]} {pgiven[0]}", "name_kana": f"{pfam[1]} {pgiven[1]}",
                "relation": (ProxyRelation.CARE_MANAGER if care else ProxyRelation.FAMILY).value,
                "organisation": f"{place.city}ケアプランセンター" if care else "", "phone": self._phone(), "fax": "",
                "email": "", "postal_code": place.postal_code if rng.random() < 0.5 else "",
                "address": f"{place.prefecture}{place.city}{place.town}{rng.randint(1, 9)}-{rng.randint(1, 30)}",
                "receives_letters": rng.random() < 0.6, "notes": "", "created_at": self.now, "updated_at": self.now}))
        self._evidence(rows, pid, primary, visual)
        standing = self._approvals(rows, pid, services)
        self._lending(rows, pid, primary, standing, consent)
        if Service.FACE_TO_FACE in services:
            self._reading(rows, pid, name, standing.get(Service.FACE_TO_FACE))
        return rows

    def _evidence(self, rows: Batch, pid: int, primary: Service, visual: bool) -> None:
        rng, today = self.rng, self.spec.today
        seen = self._date_between(today - timedelta(days=1500), today - timedelta(days=10))
        care = primary is Service.HOME_DELIVERY and rng.random() < 0.55
        # Home delivery needs a non-visual certificate or a care certification (宅配要綱第2条): a patron
        # without the one holds the other, as an approved patron would.
        if visual or rng.random() < 0.15 or (primary is Service.HOME_DELIVERY and not care):
            rows.append(("disability_certificate", {
                "id": self.ids.take("disability_certificate"), "patron_id": pid, "kind": CertificateKind.PHYSICAL.value,
                "category": (DisabilityCategory.VISUAL if visual else rng.choice(
                    [DisabilityCategory.LIMB, DisabilityCategory.INTERNAL, DisabilityCategory.HEARING])).value,
                "grade": rng.choice(["1級", "2級", "2級", "3級", "4級"]), "number": f"{rng.randrange(10**6):06d}",
                "issued_on": seen - timedelta(days=rng.randrange(3000)), "valid_until": None,
                "document_seen": "手帳原本", "seen_on": seen, "seen_by_id": self.staff_id, "created_at": self.now}))
        if care:
            valid_from = self._date_between(today - timedelta(days=1000), today - timedelta(days=30))
            level = rng.choices([c for c, _w in CARE_WEIGHTS], weights=[w for _c, w in CARE_WEIGHTS])[0]
            valid_until = valid_from + timedelta(days=rng.choice([365, 730, 1095]))
            if valid_until < today and rng.random() < 0.93:  # most renew their certification in time
                valid_until = today + timedelta(days=rng.randrange(30, 700))
            rows.append(("care_certification", {
                "id": self.ids.take("care_certification"), "patron_id": pid, "level": level.value,
                "valid_from": valid_from, "valid_until": valid_until,
                "document_seen": "介護保険被保険者証", "seen_on": valid_from + timedelta(days=5),
                "seen_by_id": self.staff_id, "created_at": self.now}))
        if primary is Service.HOME_DELIVERY:
            rows.append(("visit_difficulty", {
                "id": self.ids.take("visit_difficulty"), "patron_id": pid, "is_difficult": True,
                "basis": rng.choice(list(DifficultyBasis)).value, "note": "", "assessed_on": seen,
                "assessed_by_id": self.staff_id, "created_at": self.now}))

    def _approvals(self, rows: Batch, pid: int, services: Sequence[Service]) -> dict[Service, tuple[date, date | None]]:
        """Approvals of every age; returns the period in which each service was (or is) in force."""
        rng, today = self.rng, self.spec.today
        standing: dict[Service, tuple[date, date | None]] = {}
        for service in services:
            if service is Service.HOME_DELIVERY:
                valid_from = self._date_between(today - timedelta(days=1300), today - timedelta(days=20))
            else:
                valid_from = self._date_between(today - timedelta(days=3650), today - timedelta(days=20))
            years = 3 if service is Service.HOME_DELIVERY else None
            previous = None
            while True:
                valid_until = add_months(valid_from, 12 * years) - timedelta(days=1) if years else None
                expired = valid_until is not None and valid_until < today
                renewed = expired and rng.random() < 0.7
                approval_id = self.ids.take("approval")
                ended = not expired and rng.random() < 0.04
                ended_on = self._date_between(max(valid_from, today - timedelta(days=400)), today - timedelta(days=1)) \
                    if ended else None
                status = ApprovalStatus.ENDED if ended else ApprovalStatus.EXPIRED if expired else ApprovalStatus.ACTIVE
                notice = valid_until - timedelta(days=60) if valid_until and valid_until - timedelta(days=60) <= today else None
                rows.append(("approval", {
                    "id": approval_id, "patron_id": pid, "service": service.value, "application_id": None,
                    "valid_from": valid_from, "valid_until": valid_until, "status": status.value, "is_special": False,
                    "special_reason": "", "basis": "synthetic", "approved_by_id": self.staff_id,
                    "previous_approval_id": previous, "ended_on": ended_on,
                    "end_reason": rng.choice(list(EndReason)).value if ended else None, "end_note": "",
                    "ended_by_id": self.staff_id if ended else None, "renewal_notice_on": notice,
                    "created_at": self.now, "updated_at": self.now}))
                start = standing.get(service, (valid_from, None))[0]
                standing[service] = (start, ended_on or valid_until)
                if not renewed:
                    break
                assert valid_until is not None
                previous, valid_from = approval_id, valid_until + timedelta(days=1)
        return standing

    def _lending(self, rows: Batch, pid: int, primary: Service, standing: dict[Service, tuple[date, date | None]],
                 consent: bool) -> None:
        rng, today = self.rng, self.spec.today
        if primary not in LENDING_SERVICES:
            return
        allowed = MAIL_TYPES if primary is Service.MAIL_LOAN else None
        most = 17 if primary is Service.HOME_DELIVERY else 5
        if rng.random() < 0.92:
            formats = ",".join(t.value for t in (rng.sample(MAIL_TYPES, 2) if allowed else
                                                 ([MaterialType.LARGE_PRINT] if rng.random() < 0.4 else [])))
            rows.append(("reader_profile", {
                "id": self.ids.take("reader_profile"), "patron_id": pid,
                "subjects": "、".join(rng.sample(SUBJECTS, rng.randint(1, 3))) if rng.random() < 0.7 else "",
                "authors": "", "formats": formats, "exclusions": "恋愛小説" if rng.random() < 0.1 else "",
                "items_per_month": rng.choice([most, most, most - 2, max(1, most // 2)]),
                "is_monthly": rng.random() < 0.95, "updated_by_id": self.staff_id, "updated_at": self.now}))
        period = standing[primary]
        # open requests for next month: named items, sometimes "choose for me"
        if rng.random() < 0.3:
            request_id = self.ids.take("loan_request")
            rows.append(("loan_request", {
                "id": request_id, "patron_id": pid, "service": primary.value,
                "channel": rng.choice([Channel.PHONE, Channel.PHONE, Channel.FAX, Channel.MAIL, Channel.INTERNET]).value,
                "proxy_id": None, "received_on": self._date_between(today - timedelta(days=20), today),
                "choose_for_me": rng.random() < 0.3, "note": "", "state": LoanRequestState.OPEN.value,
                "items_shipped": 0, "items_cancelled": 0, "closed_on": None, "created_by_id": self.staff_id,
                "created_at": self.now, "updated_at": self.now}))
            for _ in range(rng.randint(1, 5)):
                item_id, _material = self._random_item(allowed)
                rows.append(("loan_request_line", {"id": self.ids.take("loan_request_line"), "request_id": request_id,
                                                   "item_id": item_id, "source": ItemSource.NAMED.value, "reason": "",
                                                   "created_at": self.now}))
        # a history of monthly shipments while the approval was in force
        last_month = self.months[-1]
        for first in self.months:
            month = f"{first.year:04d}-{first.month:02d}"
            run_id, shipped_on, due_on = self.month_runs[month]
            if not (period[0] <= shipped_on and (period[1] is None or shipped_on <= period[1])):
                continue
            if rng.random() >= 0.3:
                continue
            overdue = first == last_month and rng.random() < 0.03
            overdue = overdue and self._reserve_next < self.reserve_start + self.spec.reserve_size
            count = rng.randint(1, 10) if primary is Service.HOME_DELIVERY else rng.randint(1, 4)
            shipment_id = self.ids.take("shipment")
            loans = []
            for k in range(count):
                if overdue and k == 0:
                    item_id, material = self._reserve_next, material_of(self._reserve_next - self.spec.ids.catalog_item)
                    self._reserve_next += 1
                    loans.append(self._loan(shipment_id, pid, item_id, primary, material, shipped_on, due_on, None))
                    continue
                item_id, material = self._random_item(allowed)
                returned = min(today - timedelta(days=1), shipped_on + timedelta(days=rng.randint(12, 33)))
                keep = consent  # who-read-what survives closing only with consent
                loans.append(self._loan(shipment_id, pid if keep else None, item_id if keep else None, primary,
                                        material, shipped_on, due_on, returned))
            books = sum(1 for ln in loans if not MaterialType(ln["material_type"]).is_audio_visual)
            rows.append(("shipment", {
                "id": shipment_id, "run_id": run_id, "patron_id": pid, "service": primary.value, "month": month,
                "shipped_on": shipped_on, "due_on": due_on, "books_count": books,
                "audio_visual_count": len(loans) - books, "created_at": self.now}))
            rows.extend(("loan", loan) for loan in loans)

    def _loan(self, shipment_id: int, patron_id: int | None, item_id: int | None, service: Service,
              material: MaterialType, shipped_on: date, due_on: date, returned: date | None) -> Row:
        return {"id": self.ids.take("loan"), "shipment_id": shipment_id, "patron_id": patron_id, "item_id": item_id,
                "service": service.value, "material_type": material.value, "source": ItemSource.NAMED.value,
                "shipped_on": shipped_on, "due_on": due_on,
                "status": (LoanStatus.RETURNED if returned else LoanStatus.ON_LOAN).value, "closed_on": returned,
                "overdue_since": None if returned else due_on + timedelta(days=1), "reminded_on": None,
                "created_at": self.now}

    def _reading(self, rows: Batch, pid: int, name: str, period: tuple[date, date | None] | None) -> None:
        rng, today = self.rng, self.spec.today
        if period is None or not self.spec.room_ids:
            return
        room_id = rng.choice(self.spec.room_ids)
        request_id = self.ids.take("reading_request")
        received = max(period[0], today - timedelta(days=540))
        rows.append(("reading_request", {
            "id": request_id, "patron_id": pid, "room_id": room_id, "received_on": received,
            "address_as": f"{name.split(' ')[0]}さん", "preferred_times": "火曜日の午前", "duration_minutes": 120,
            "material_kind": ReadingKind.GENERAL.value, "material_description": "新聞と郵便物",
            "brings_own_material": True, "status": ReadingRequestStatus.OPEN.value, "note": "", "closed_on": None,
            "created_by_id": self.staff_id, "created_at": self.now, "updated_at": self.now}))
        day = received + timedelta(days=7)
        while day < today + timedelta(days=21):
            held = day < today
            state = (ReadingSessionState.HELD if rng.random() < 0.9 else ReadingSessionState.CANCELLED) if held \
                else ReadingSessionState.CONFIRMED
            start, end = time(10, 0), time(12, 0)
            logged = datetime.combine(day, time(13, 0), tzinfo=UTC) if state is ReadingSessionState.HELD else None
            rows.append(("reading_session", {
                "id": self.ids.take("reading_session"), "request_id": request_id, "patron_id": pid, "room_id": room_id,
                "volunteer_id": rng.choice(self.volunteer_ids), "series_id": None, "session_on": day,
                "start_time": start, "end_time": end, "state": state.value, "booked_by_id": self.staff_id,
                "confirmed_at": self.now, "declined_volunteer_id": None, "decline_reason": "",
                "cancelled_by": "patron" if state is ReadingSessionState.CANCELLED else None,
                "cancel_reason": "体調不良" if state is ReadingSessionState.CANCELLED else "",
                "cancelled_at": self.now if state is ReadingSessionState.CANCELLED else None,
                "cancelled_by_user_id": None,
                "actual_start_time": start if logged else None, "actual_end_time": end if logged else None,
                "reading_minutes": 120 if logged else None, "material_titles": "", "material_count": 2 if logged else None,
                "log_note": "", "logged_at": logged, "logged_by_id": self.staff_id if logged else None,
                "created_at": self.now, "updated_at": self.now}))
            day += timedelta(days=rng.choice([14, 28, 28]))
