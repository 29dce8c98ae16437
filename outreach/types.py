"""Enumerations shared by forms, models, rules and letters.

Values are stable English identifiers stored in the database; the Japanese label a librarian sees
comes from ``label()`` (translated through Flask-Babel in the UI).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # accounts, settings, audit trail
    CHIEF = "chief"  # 読書振興課長: decides applications
    LIBRARIAN = "librarian"  # 担当職員: cases
    VOLUNTEER = "volunteer"  # 対面朗読協力者: own sessions only


class ContactPreference(StrEnum):
    PHONE = "phone"
    FAX = "fax"
    EMAIL = "email"
    MAIL = "mail"
    PROXY = "proxy"


class ProxyRelation(StrEnum):
    FAMILY = "family"  # 家族
    CARER = "carer"  # 介護者・ヘルパー
    CARE_MANAGER = "care_manager"  # ケアマネジャー
    OTHER = "other"


class Service(StrEnum):
    HOME_DELIVERY = "home_delivery"  # 宅配サービス
    MAIL_LOAN = "mail_loan"  # 郵送貸出サービス
    FACE_TO_FACE = "face_to_face"  # 対面朗読


# The services that lend items (face-to-face reading lends none): shipments, limits, statistics table (1).
LENDING_SERVICES = (Service.HOME_DELIVERY, Service.MAIL_LOAN)


class CertificateKind(StrEnum):
    PHYSICAL = "physical"  # 身体障害者手帳
    INTELLECTUAL = "intellectual"  # 療育手帳
    MENTAL = "mental"  # 精神障害者保健福祉手帳


class DisabilityCategory(StrEnum):
    """Category of a 身体障害者手帳 (physical disability certificate)."""

    VISUAL = "visual"  # 視覚障害
    HEARING = "hearing"  # 聴覚・平衡機能障害
    SPEECH = "speech"  # 音声・言語・そしゃく機能障害
    LIMB = "limb"  # 肢体不自由
    INTERNAL = "internal"  # 内部障害


class CareLevel(StrEnum):
    """要介護認定の区分, ordered from lightest to heaviest."""

    SUPPORT_1 = "support_1"  # 要支援1
    SUPPORT_2 = "support_2"  # 要支援2
    CARE_1 = "care_1"  # 要介護1
    CARE_2 = "care_2"  # 要介護2
    CARE_3 = "care_3"  # 要介護3
    CARE_4 = "care_4"  # 要介護4
    CARE_5 = "care_5"  # 要介護5

    @property
    def rank(self) -> int:
        return list(CareLevel).index(self)


class Channel(StrEnum):
    """How an application or a loan request reached the library."""

    COUNTER = "counter"  # 窓口
    PHONE = "phone"  # 電話
    FAX = "fax"  # FAX
    MAIL = "mail"  # 郵送
    INTERNET = "internet"  # インターネット


class ApplicationState(StrEnum):
    RECEIVED = "received"  # 受付
    AWAITING_DECISION = "awaiting_decision"  # 決裁待ち
    APPROVED = "approved"  # 承認
    REJECTED = "rejected"  # 不承認
    WITHDRAWN = "withdrawn"  # 取下げ


class MaterialType(StrEnum):
    BOOK = "book"  # 図書
    LARGE_PRINT = "large_print"  # 大活字本
    BRAILLE_PICTURE_BOOK = "braille_picture_book"  # 点訳絵本
    BRAILLE_BOOK = "braille_book"  # 点字図書
    AUDIO_CD = "audio_cd"  # CD
    DAISY = "daisy"  # デイジー
    OTHER_AV = "other_av"  # その他視聴覚資料

    @property
    def is_audio_visual(self) -> bool:
        """CDs, DAISY and other recordings count as audio-visual; everything printed is a book."""
        return self in _AUDIO_VISUAL


# Asked millions of times by the monthly planner: a set, not a tuple.
_AUDIO_VISUAL = frozenset({MaterialType.AUDIO_CD, MaterialType.DAISY, MaterialType.OTHER_AV})


class ItemStatus(StrEnum):
    AVAILABLE = "available"
    ON_LOAN = "on_loan"
    LOST = "lost"
    WITHDRAWN = "withdrawn"


class ApprovalStatus(StrEnum):
    ACTIVE = "active"  # 有効
    EXPIRED = "expired"  # 期間満了 (set by the daily job once valid_until has passed)
    ENDED = "ended"  # 利用終了 (moved away, entered a facility, withdrew, ...)


class EndReason(StrEnum):
    """Why a service ended for a patron (利用終了の理由)."""

    MOVED_AWAY = "moved_away"  # 転出
    ENTERED_FACILITY = "entered_facility"  # 施設入所
    DECEASED = "deceased"  # 死亡
    WITHDREW = "withdrew"  # 本人・代理人からの辞退
    ELIGIBILITY_LOST = "eligibility_lost"  # 要件の喪失


class CaseNoteKind(StrEnum):
    CONTACT = "contact"  # 連絡（電話・FAX・メール）
    HOME_VISIT = "home_visit"  # 訪問
    READING_CONSULTATION = "reading_consultation"  # 読書相談（宅配要綱第10条）
    OTHER = "other"


class LetterKind(StrEnum):
    APPLICATION_FORM = "application_form"  # 申込書（様式第1号）
    APPROVAL = "approval"  # 承認書（様式第2号）
    REJECTION = "rejection"  # 不承認通知書（様式第3号）
    RENEWAL_NOTICE = "renewal_notice"  # 更新のお知らせ
    SERVICE_ENDED = "service_ended"  # 利用終了のお知らせ
    OVERDUE = "overdue"  # 返却のお願い


class DifficultyBasis(StrEnum):
    """How it was established that the patron finds it difficult to visit the library (来館困難)."""

    SELF_REPORT = "self_report"  # 本人・家族の申告
    HOME_VISIT = "home_visit"  # 職員の訪問で確認
    CARE_MANAGER = "care_manager"  # ケアマネジャー等の意見
    DOCUMENT = "document"  # 手帳・認定等の書類から判断


class ReadingKind(StrEnum):
    """What a volunteer reader can read aloud, and what a face-to-face reading request asks for (対面朗読)."""

    GENERAL = "general"  # 一般の図書・新聞・雑誌
    ENGLISH = "english"  # 英語の資料
    TECHNICAL = "technical"  # 専門書（医学・法律・理工など）
    BRAILLE_PROOFREADING = "braille_proofreading"  # 点訳校正


class ReadingRequestStatus(StrEnum):
    OPEN = "open"  # 受付中: sessions are being scheduled or held
    CLOSED = "closed"  # 終了


class ReadingSessionState(StrEnum):
    """One face-to-face reading session (対面朗読の1回)."""

    SCHEDULED = "scheduled"  # 日程決定・協力者の確認待ち
    CONFIRMED = "confirmed"  # 協力者が確認
    DECLINED = "declined"  # 協力者が辞退: the room and patron stay booked until another reader is assigned
    HELD = "held"  # 実施
    CANCELLED = "cancelled"  # 取消
    NO_SHOW = "no_show"  # 利用者が来館せず


class CancelledBy(StrEnum):
    PATRON = "patron"  # 利用者の都合
    VOLUNTEER = "volunteer"  # 協力者の都合
    LIBRARY = "library"  # 図書館の都合


class LoanRequestState(StrEnum):
    """A loan request (貸出申込) for a patron and service."""

    OPEN = "open"  # 受付済み: waiting for the next monthly run
    DONE = "done"  # 発送済み or nothing left to send
    CANCELLED = "cancelled"  # 取消


class ItemSource(StrEnum):
    """Why an item is in a request or a shipment."""

    NAMED = "named"  # the patron asked for it (by barcode or title)
    CHOSEN = "chosen"  # おまかせ: chosen from the reader profile


class LoanStatus(StrEnum):
    ON_LOAN = "on_loan"  # 貸出中
    RETURNED = "returned"  # 返却済み
    LOST = "lost"  # 紛失


class RunState(StrEnum):
    """The monthly shipment run (月次発送) of one month."""

    PLANNED = "planned"  # 計画済み: the librarian reviews and adjusts the plan
    COMMITTING = "committing"  # 確定処理中 (resumable: the next run completes it)
    COMMITTED = "committed"  # 確定済み


class SkipReason(StrEnum):
    """Why a patron gets no shipment this month."""

    APPROVAL_EXPIRED = "approval_expired"  # 承認期間満了
    SERVICE_ENDED = "service_ended"  # 利用終了
    NOT_APPROVED = "not_approved"  # 承認・登録なし
    OVERDUE = "overdue"  # 延滞資料あり（規則第9条2）
    ALREADY_SHIPPED = "already_shipped"  # 今月発送済み
    NOTHING_REQUESTED = "nothing_requested"  # 申込みも読書プロフィールもない
    NOTHING_AVAILABLE = "nothing_available"  # 申込資料がどれも貸出できない
    HELD = "held"  # 職員が今月の発送を見合わせた
