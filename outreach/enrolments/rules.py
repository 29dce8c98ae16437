"""Pure enrolment rules: who is eligible for which service, approval periods, application states.

Sources: 宅配サービス実施要綱 第2条・第4条, 郵送貸出サービス実施要綱 第2条・付則, and the house rule for
対面朗読 (no 要綱 in the source). Every threshold comes from :class:`outreach.policy.Policy`.
No Flask, no database: plain facts in, a decision out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from outreach.calendar import age_attained_on, age_on, format_wareki, is_open, period_end
from outreach.errors import InvalidTransitionError, NotRenewableError
from outreach.policy import DEFAULT_POLICY, Policy
from outreach.types import ApplicationState, CareLevel, CertificateKind, DisabilityCategory, Service

# --------------------------------------------------------------------------------------------------
# facts


@dataclass(frozen=True)
class CertificateFact:
    """A disability certificate (障害者手帳) as seen by staff."""

    kind: CertificateKind
    category: DisabilityCategory | None  # only for 身体障害者手帳; None for 療育・精神 or when not recorded
    grade: str | None  # 等級 as written: "1" .. "6", "A", "B1" ...; not used by the rules
    # None: no expiry (身体障害者手帳 usually has none; 精神 is renewed every 2 years)
    valid_until: date | None
    issued_on: date

    @property
    def is_visual(self) -> bool:
        """A certificate for visual impairment (視覚障害)."""
        return self.kind is CertificateKind.PHYSICAL and self.category is DisabilityCategory.VISUAL

    def is_valid_on(self, on: date) -> bool:
        """Issued on or before ``on`` and not expired: the expiry day itself still counts."""
        return self.issued_on <= on and (self.valid_until is None or on <= self.valid_until)


@dataclass(frozen=True)
class CareFact:
    """A long-term-care certification (要介護・要支援認定) and its validity period."""

    level: CareLevel
    valid_from: date
    valid_until: date | None

    def is_valid_on(self, on: date) -> bool:
        """Within the certification period, both ends included."""
        return self.valid_from <= on and (self.valid_until is None or on <= self.valid_until)


@dataclass(frozen=True)
class EligibilityFacts:
    """Plain facts about a patron on which eligibility is decided."""

    birth_date: date | None
    lives_in_city: bool  # 市内在住
    lives_in_facility: bool  # 施設等へ入所
    has_library_card: bool  # 借出券
    finds_visiting_difficult: bool | None  # 来館困難; None = not yet confirmed
    certificates: tuple[CertificateFact, ...] = ()
    care_certifications: tuple[CareFact, ...] = ()
    registered_for_mail_loans_since: date | None = None  # for the 郵送貸出 経過措置 (grandfathering)
    special_approval: bool = False  # 読書振興課長が特に必要と認めた者


# --------------------------------------------------------------------------------------------------
# decision


class Basis(StrEnum):
    """The clause under which a patron is eligible."""

    HOME_DELIVERY_DISABILITY = "home_delivery.disability"  # 宅配要綱第2条(1)
    HOME_DELIVERY_ELDERLY_CARE = "home_delivery.elderly_care"  # 宅配要綱第2条(2)
    HOME_DELIVERY_SPECIAL = "home_delivery.special"  # 宅配要綱第2条(3)
    MAIL_LOAN_VISUAL = "mail_loan.visual"  # 郵送要綱第2条
    MAIL_LOAN_GRANDFATHERED = "mail_loan.grandfathered"  # 郵送要綱付則2
    MAIL_LOAN_SPECIAL = "mail_loan.special"  # only if the policy allows special approval for mail loans
    FACE_TO_FACE_VISUAL = "face_to_face.visual"
    FACE_TO_FACE_SPECIAL = "face_to_face.special"
    FACE_TO_FACE_OPEN = "face_to_face.open"  # the policy requires no certificate


class ReasonCode(StrEnum):
    """One condition checked by :func:`decide_eligibility`."""

    LIVES_IN_CITY = "lives_in_city"
    NOT_IN_FACILITY = "not_in_facility"
    VISITING_DIFFICULT = "visiting_difficult"
    NON_VISUAL_CERTIFICATE = "non_visual_certificate"
    NOT_VISUALLY_IMPAIRED = "not_visually_impaired"
    MIN_AGE = "min_age"
    CARE_LEVEL = "care_level"
    SPECIAL_APPROVAL = "special_approval"
    LIBRARY_CARD = "library_card"
    VISUAL_CERTIFICATE = "visual_certificate"
    GRANDFATHERED = "grandfathered"


@dataclass(frozen=True)
class Reason:
    """A condition and whether the patron meets it, worded for staff and for letters."""

    code: ReasonCode
    ok: bool
    message_ja: str
    message_en: str

    def message(self, lang: str = "ja") -> str:
        return self.message_en if lang.lower().startswith("en") else self.message_ja


@dataclass(frozen=True)
class EligibilityDecision:
    """Outcome of :func:`decide_eligibility`: eligible or not, under which clause, and why."""

    service: Service
    on: date
    eligible: bool
    basis: Basis | None
    reasons: tuple[Reason, ...]

    @property
    def failing(self) -> tuple[Reason, ...]:
        """Conditions not met (the wording for a rejection letter when not eligible)."""
        return tuple(r for r in self.reasons if not r.ok)

    def reason(self, code: ReasonCode) -> Reason | None:
        """The reason with ``code``, if it was checked for this service."""
        return next((r for r in self.reasons if r.code == code), None)


# --------------------------------------------------------------------------------------------------
# wording helpers

_CARE_LEVEL_JA = {
    CareLevel.SUPPORT_1: "要支援1",
    CareLevel.SUPPORT_2: "要支援2",
    CareLevel.CARE_1: "要介護1",
    CareLevel.CARE_2: "要介護2",
    CareLevel.CARE_3: "要介護3",
    CareLevel.CARE_4: "要介護4",
    CareLevel.CARE_5: "要介護5",
}
_CARE_LEVEL_EN = {
    CareLevel.SUPPORT_1: "support level 1",
    CareLevel.SUPPORT_2: "support level 2",
    CareLevel.CARE_1: "care level 1",
    CareLevel.CARE_2: "care level 2",
    CareLevel.CARE_3: "care level 3",
    CareLevel.CARE_4: "care level 4",
    CareLevel.CARE_5: "care level 5",
}
_SERVICE_JA = {
    Service.HOME_DELIVERY: "宅配サービス",
    Service.MAIL_LOAN: "郵送貸出サービス",
    Service.FACE_TO_FACE: "対面朗読",
}
_SERVICE_EN = {
    Service.HOME_DELIVERY: "home delivery",
    Service.MAIL_LOAN: "mail loans",
    Service.FACE_TO_FACE: "face-to-face reading",
}
_STATE_JA = {
    ApplicationState.RECEIVED: "受付",
    ApplicationState.AWAITING_DECISION: "決裁待ち",
    ApplicationState.APPROVED: "承認",
    ApplicationState.REJECTED: "不承認",
    ApplicationState.WITHDRAWN: "取下げ",
}


def _ok(code: ReasonCode, ja: str, en: str) -> Reason:
    return Reason(code, True, ja, en)


def _fail(code: ReasonCode, ja: str, en: str) -> Reason:
    return Reason(code, False, ja, en)


def _iso(d: date) -> str:
    return d.isoformat()


# --------------------------------------------------------------------------------------------------
# single conditions


def _lives_in_city(facts: EligibilityFacts) -> Reason:
    if facts.lives_in_city:
        return _ok(ReasonCode.LIVES_IN_CITY, "市内に居住しています", "Lives in the city")
    return _fail(ReasonCode.LIVES_IN_CITY, "市内に居住していません", "Does not live in the city")


def _not_in_facility(facts: EligibilityFacts) -> Reason:
    if not facts.lives_in_facility:
        return _ok(ReasonCode.NOT_IN_FACILITY, "施設等に入所していません", "Does not live in a care facility")
    return _fail(
        ReasonCode.NOT_IN_FACILITY,
        "施設等に入所している方は対象外です",
        "Residents of care facilities or institutions are not eligible",
    )


def _visiting_difficult(facts: EligibilityFacts) -> Reason:
    if facts.finds_visiting_difficult is True:
        return _ok(
            ReasonCode.VISITING_DIFFICULT,
            "図書館への来館が困難です",
            "Finds it difficult to visit the library",
        )
    if facts.finds_visiting_difficult is False:
        return _fail(
            ReasonCode.VISITING_DIFFICULT,
            "図書館への来館が困難ではありません",
            "Is able to visit the library",
        )
    return _fail(
        ReasonCode.VISITING_DIFFICULT,
        "来館が困難かどうか確認されていません",
        "Difficulty visiting the library has not been confirmed",
    )


def _certificate_reason(
    code: ReasonCode, candidates: tuple[CertificateFact, ...], on: date, what_ja: str, what_en: str
) -> Reason:
    """Whether one of ``candidates`` is valid on ``on``; otherwise say whether it lapsed or is not yet issued."""
    valid = [c for c in candidates if c.is_valid_on(on)]
    if valid:
        # Prefer the one valid longest so the message names the strongest evidence.
        best = max(valid, key=lambda c: c.valid_until or date.max)
        until_ja = f"（{format_wareki(best.valid_until)}まで）" if best.valid_until else ""
        until_en = f" (until {_iso(best.valid_until)})" if best.valid_until else ""
        return _ok(code, f"有効な{what_ja}があります{until_ja}", f"Holds a valid {what_en}{until_en}")
    lapsed = [c for c in candidates if c.valid_until is not None and c.valid_until < on]
    if lapsed:
        last = max(c.valid_until for c in lapsed if c.valid_until is not None)
        return _fail(
            code,
            f"{what_ja}の有効期限が{format_wareki(last)}で切れています",
            f"The {what_en} expired on {_iso(last)}",
        )
    future = [c for c in candidates if c.issued_on > on]
    if future:
        first = min(c.issued_on for c in future)
        return _fail(
            code,
            f"{what_ja}の交付日（{format_wareki(first)}）より前の日付です",
            f"The {what_en} was issued only on {_iso(first)}",
        )
    return _fail(code, f"{what_ja}がありません", f"Holds no {what_en}")


def _non_visual_certificate(facts: EligibilityFacts, on: date) -> Reason:
    # A 身体障害者手帳 without a recorded category is not treated as visual: only a recorded 視覚障害 excludes.
    return _certificate_reason(
        ReasonCode.NON_VISUAL_CERTIFICATE,
        tuple(c for c in facts.certificates if not c.is_visual),
        on,
        "障害者手帳（視覚障害以外）",
        "disability certificate (other than visual impairment)",
    )


def _visual_certificate(facts: EligibilityFacts, on: date) -> Reason:
    return _certificate_reason(
        ReasonCode.VISUAL_CERTIFICATE,
        tuple(c for c in facts.certificates if c.is_visual),
        on,
        "視覚障害の障害者手帳",
        "disability certificate for visual impairment",
    )


def _not_visually_impaired(facts: EligibilityFacts, on: date) -> Reason:
    # 宅配要綱第2条(1) 「障害者手帳を交付されている者（視覚障害者を除く。）」: the person, not the certificate.
    if any(c.is_visual and c.is_valid_on(on) for c in facts.certificates):
        return _fail(
            ReasonCode.NOT_VISUALLY_IMPAIRED,
            "視覚障害のある方は障害者手帳による宅配サービスの対象外です（郵送貸出サービスの対象です）",
            "Visually impaired patrons do not qualify through the disability clause (mail loans serve them)",
        )
    return _ok(ReasonCode.NOT_VISUALLY_IMPAIRED, "視覚障害の障害者手帳はありません", "Not visually impaired")


def _min_age(facts: EligibilityFacts, on: date, policy: Policy) -> Reason:
    minimum = policy.home_delivery_min_age
    if facts.birth_date is None:
        return _fail(ReasonCode.MIN_AGE, "生年月日が登録されていません", "The date of birth is not recorded")
    if facts.birth_date > on:
        return _fail(ReasonCode.MIN_AGE, "生年月日が判定日より後です", "The date of birth is after the date")
    age = age_on(facts.birth_date, on)
    if age >= minimum:
        return _ok(ReasonCode.MIN_AGE, f"満{minimum}歳以上です（{age}歳）", f"Is {minimum} or older ({age})")
    reached = age_attained_on(facts.birth_date, minimum)
    return _fail(
        ReasonCode.MIN_AGE,
        f"満{minimum}歳未満です（{age}歳。{format_wareki(reached)}に満{minimum}歳）",
        f"Is under {minimum} ({age}; {minimum} on {_iso(reached)})",
    )


def _care_level(facts: EligibilityFacts, on: date, policy: Policy) -> Reason:
    minimum = policy.home_delivery_min_care_level
    min_ja, min_en = _CARE_LEVEL_JA[minimum], _CARE_LEVEL_EN[minimum]
    valid = [c for c in facts.care_certifications if c.is_valid_on(on)]
    if valid:
        best = max(valid, key=lambda c: (c.level.rank, c.valid_until or date.max))
        level_ja, level_en = _CARE_LEVEL_JA[best.level], _CARE_LEVEL_EN[best.level]
        if best.level.rank >= minimum.rank:
            until_ja = f"（{format_wareki(best.valid_until)}まで）" if best.valid_until else ""
            until_en = f" (until {_iso(best.valid_until)})" if best.valid_until else ""
            return _ok(
                ReasonCode.CARE_LEVEL,
                f"{level_ja}の認定があります{until_ja}",
                f"Certified at {level_en}{until_en}",
            )
        return _fail(
            ReasonCode.CARE_LEVEL,
            f"{level_ja}の認定は対象外です（{min_ja}以上が必要です）",
            f"Certified at {level_en}; {min_en} or higher is required",
        )
    lapsed = [c for c in facts.care_certifications if c.valid_until is not None and c.valid_until < on]
    if lapsed:
        last = max(c.valid_until for c in lapsed if c.valid_until is not None)
        return _fail(
            ReasonCode.CARE_LEVEL,
            f"要介護認定の有効期間が{format_wareki(last)}で終了しています",
            f"The care certification ended on {_iso(last)}",
        )
    future = [c for c in facts.care_certifications if c.valid_from > on]
    if future:
        first = min(c.valid_from for c in future)
        return _fail(
            ReasonCode.CARE_LEVEL,
            f"要介護認定の有効期間は{format_wareki(first)}からです",
            f"The care certification starts only on {_iso(first)}",
        )
    return _fail(
        ReasonCode.CARE_LEVEL,
        f"要介護認定（{min_ja}以上）がありません",
        f"Has no care certification ({min_en} or higher)",
    )


def _special_approval(facts: EligibilityFacts, service: Service, policy: Policy) -> Reason | None:
    """None when special approval is neither possible for the service nor claimed (nothing to say)."""
    allowed = policy.allows_special_approval(service)
    if facts.special_approval and allowed:
        return _ok(
            ReasonCode.SPECIAL_APPROVAL,
            "読書振興課長が特に必要と認めています",
            "Specially approved by the section chief",
        )
    if facts.special_approval:
        return _fail(
            ReasonCode.SPECIAL_APPROVAL,
            f"{_SERVICE_JA[service]}には課長の特別承認の規定がありません",
            f"Special approval does not apply to {_SERVICE_EN[service]}",
        )
    if allowed:
        return _fail(
            ReasonCode.SPECIAL_APPROVAL,
            "読書振興課長による特別な承認はありません",
            "No special approval by the section chief",
        )
    return None


def _library_card(facts: EligibilityFacts) -> Reason:
    if facts.has_library_card:
        return _ok(ReasonCode.LIBRARY_CARD, "借出券があります", "Has a library card")
    return _fail(ReasonCode.LIBRARY_CARD, "借出券が交付されていません", "Has no library card")


def is_grandfathered_registration(registered_since: date, policy: Policy = DEFAULT_POLICY) -> bool:
    """郵送要綱付則2: a registration from this day is covered by the transitional clause (「令和3年4月1日以前より」:
    the effective day itself counts unless the policy says otherwise)."""
    effective = policy.mail_loan_rules_effective_on
    if policy.mail_loan_grandfather_includes_effective_day:
        return registered_since <= effective
    return registered_since < effective


def _grandfathered(facts: EligibilityFacts, policy: Policy) -> Reason:
    effective = policy.mail_loan_rules_effective_on
    since = facts.registered_for_mail_loans_since
    word_ja = "以前" if policy.mail_loan_grandfather_includes_effective_day else "より前"
    word_en = "on or before" if policy.mail_loan_grandfather_includes_effective_day else "before"
    if since is None:
        return _fail(
            ReasonCode.GRANDFATHERED,
            f"{format_wareki(effective)}{word_ja}からの利用登録はありません（経過措置の対象外）",
            f"Was not registered {word_en} {_iso(effective)} (no transitional right)",
        )
    if is_grandfathered_registration(since, policy):
        return _ok(
            ReasonCode.GRANDFATHERED,
            f"{format_wareki(effective)}{word_ja}から利用しています（経過措置）",
            f"Registered {word_en} {_iso(effective)} (transitional right)",
        )
    return _fail(
        ReasonCode.GRANDFATHERED,
        f"利用登録が{format_wareki(since)}で、{format_wareki(effective)}{word_ja}ではありません（経過措置の対象外）",
        f"Registered on {_iso(since)}, not {word_en} {_iso(effective)} (no transitional right)",
    )


# --------------------------------------------------------------------------------------------------
# the decision


def decide_eligibility(
    facts: EligibilityFacts, service: Service, on: date, policy: Policy = DEFAULT_POLICY
) -> EligibilityDecision:
    """Decide whether a patron is eligible for ``service`` on ``on``; lapsed evidence does not count."""
    if service is Service.HOME_DELIVERY:
        return _decide_home_delivery(facts, on, policy)
    if service is Service.MAIL_LOAN:
        return _decide_mail_loan(facts, on, policy)
    return _decide_face_to_face(facts, on, policy)


def _first_basis(options: list[tuple[bool, Basis]]) -> Basis | None:
    return next((basis for met, basis in options if met), None)


def _decide_home_delivery(facts: EligibilityFacts, on: date, policy: Policy) -> EligibilityDecision:
    # 宅配要綱第2条: 本市に居住している者（施設等へ入所している者を除く。）で、次の各号に該当するもの.
    # Residence and "not in a facility" govern every clause, including (3) special approval; visiting
    # difficulty is part of (1) and (2), and (3) covers those "equivalent" to them, so it applies too.
    general = [_lives_in_city(facts), _not_in_facility(facts), _visiting_difficult(facts)]
    non_visual = _non_visual_certificate(facts, on)
    disability = [non_visual]
    if policy.home_delivery_excludes_visually_impaired:
        disability.append(_not_visually_impaired(facts, on))
    # (2) has no visual-impairment exclusion: a visually impaired person of 65+ at 要介護2+ qualifies.
    elderly = [_min_age(facts, on, policy), _care_level(facts, on, policy)]
    special = _special_approval(facts, Service.HOME_DELIVERY, policy)

    options = [
        (all(r.ok for r in disability), Basis.HOME_DELIVERY_DISABILITY),
        (all(r.ok for r in elderly), Basis.HOME_DELIVERY_ELDERLY_CARE),
        (special is not None and special.ok, Basis.HOME_DELIVERY_SPECIAL),
    ]
    basis = _first_basis(options) if all(r.ok for r in general) else None
    reasons = (*general, *disability, *elderly, *((special,) if special else ()))
    return EligibilityDecision(Service.HOME_DELIVERY, on, basis is not None, basis, reasons)


def _decide_mail_loan(facts: EligibilityFacts, on: date, policy: Policy) -> EligibilityDecision:
    # 郵送要綱第2条: 借出券を交付された本市に居住している視覚障害者で、障害者手帳の交付を受けている者.
    residence = _lives_in_city(facts) if policy.mail_loan_requires_city_residence else None
    main = [residence] if residence else []
    if policy.mail_loan_requires_library_card:
        main.append(_library_card(facts))
    main.append(_visual_certificate(facts, on))
    # 付則2: 「第2条の規定に関わらず、引き続き」: grandfathering waives the whole of 第2条, residence included.
    grandfathered = _grandfathered(facts, policy)
    special = _special_approval(facts, Service.MAIL_LOAN, policy)

    options = [
        (all(r.ok for r in main), Basis.MAIL_LOAN_VISUAL),
        (grandfathered.ok, Basis.MAIL_LOAN_GRANDFATHERED),
        (special is not None and special.ok and (residence is None or residence.ok), Basis.MAIL_LOAN_SPECIAL),
    ]
    basis = _first_basis(options)
    reasons = (*main, grandfathered, *((special,) if special else ()))
    return EligibilityDecision(Service.MAIL_LOAN, on, basis is not None, basis, reasons)


def _decide_face_to_face(facts: EligibilityFacts, on: date, policy: Policy) -> EligibilityDecision:
    # No 要綱 in the source: 対面朗読協力者 offer 「視覚に障害がある利用者への読書支援」, and the other city's
    # plan speaks of 「図書館利用に障害のある方」. So: a visual-impairment certificate, or the chief's special
    # approval for a print-disabled patron without one; residence only if the policy asks for it.
    general = [_lives_in_city(facts)] if policy.face_to_face_requires_city_residence else []
    visual = _visual_certificate(facts, on) if policy.face_to_face_requires_visual_certificate else None
    special = _special_approval(facts, Service.FACE_TO_FACE, policy)

    options = [
        (visual is None, Basis.FACE_TO_FACE_OPEN),
        (visual is not None and visual.ok, Basis.FACE_TO_FACE_VISUAL),
        (special is not None and special.ok, Basis.FACE_TO_FACE_SPECIAL),
    ]
    basis = _first_basis(options) if all(r.ok for r in general) else None
    reasons = (*general, *((visual,) if visual else ()), *((special,) if special else ()))
    return EligibilityDecision(Service.FACE_TO_FACE, on, basis is not None, basis, reasons)


# --------------------------------------------------------------------------------------------------
# review of approvals in force

# A special approval (特に必要と認めた者) stands on the chief's judgement instead of a certificate or care
# level, but residence, "not in a facility" and visiting difficulty still govern it (宅配要綱第2条本文), and the
# policy must still allow special approval for the service.
_SPECIAL_APPROVAL_CONDITIONS = frozenset({
    ReasonCode.LIVES_IN_CITY, ReasonCode.NOT_IN_FACILITY, ReasonCode.VISITING_DIFFICULT, ReasonCode.SPECIAL_APPROVAL,
})


def review_reasons(
    facts: EligibilityFacts, service: Service, on: date, policy: Policy = DEFAULT_POLICY, *, is_special: bool = False
) -> tuple[Reason, ...]:
    """Why an approval in force should be reviewed on ``on`` (empty: the rules still cover it).

    A special approval is re-checked with the chief's approval as a fact, and only the conditions that
    govern it are reasons (moving away, entering a facility ...), not the certificate it never needed."""
    if is_special:
        facts = replace(facts, special_approval=True)
    decision = decide_eligibility(facts, service, on, policy)
    if decision.eligible:
        return ()
    if is_special:
        governing = tuple(r for r in decision.failing if r.code in _SPECIAL_APPROVAL_CONDITIONS)
        return governing or decision.failing
    return decision.failing


def is_review_settled(current: Iterable[str], kept: Iterable[str] | None) -> bool:
    """Whether a change was already reviewed: the last review kept the service for these same reasons
    (or more). A reason that was not there when the service was kept needs a new review."""
    return kept is not None and set(current) <= set(kept)


# --------------------------------------------------------------------------------------------------
# approval periods


def approval_period(
    service: Service, decided_on: date, policy: Policy = DEFAULT_POLICY
) -> tuple[date, date | None]:
    """Approval runs from the decision day to the day before the same date N years later (宅配: 3年); None = no end.

    A decision on 29 Feb ends on 28 Feb N years later (民法第143条, see ``calendar.period_end``).
    """
    years = policy.approval_years(service)
    return decided_on, (period_end(decided_on, years=years) if years is not None else None)


def renewal_period(
    previous_valid_until: date | None,
    service: Service,
    policy: Policy = DEFAULT_POLICY,
    decided_on: date | None = None,
) -> tuple[date, date | None]:
    """A renewal starts the day after the previous approval ends, so service continues without a gap.

    If the renewal is decided after the previous approval has lapsed, it starts on the decision day:
    an approval is never back-dated over a period in which no shipments were allowed.
    """
    years = policy.approval_years(service)
    if previous_valid_until is None or years is None:
        raise NotRenewableError(
            "approval.not_renewable",
            f"{_SERVICE_JA[service]}の承認には期限がないため、更新の必要はありません",
            f"An approval for {_SERVICE_EN[service]} has no end date and needs no renewal",
        )
    starts_on = previous_valid_until + timedelta(days=1)
    if decided_on is not None and decided_on > starts_on:
        starts_on = decided_on
    return starts_on, period_end(starts_on, years=years)


def is_renewal_due(valid_until: date | None, on: date, policy: Policy = DEFAULT_POLICY) -> bool:
    """Renewal work is due from ``renewal_notice_days`` before the end of an approval (and stays due after it lapses)."""
    if valid_until is None:
        return False
    return on >= valid_until - timedelta(days=policy.renewal_notice_days)


def renewal_deadline(valid_until: date, issued_on: date, policy: Policy = DEFAULT_POLICY) -> date:
    """The day a renewal notice asks the patron to apply by: ``renewal_deadline_days`` before the approval ends,
    so that the chief can decide before it lapses, brought forward to an open day. A notice sent later than
    that asks for the application by the last day of the approval instead (never a day already past)."""
    deadline = valid_until - timedelta(days=policy.renewal_deadline_days)
    while not is_open(deadline, policy) and deadline > issued_on:
        deadline -= timedelta(days=1)
    if deadline <= issued_on:
        return max(valid_until, issued_on)
    return deadline


def is_approval_in_force(valid_from: date, valid_until: date | None, on: date, ended_on: date | None = None) -> bool:
    """Whether an approval covers ``on`` (both ends included) and the service was not ended before it;
    after that no shipment goes out. enrolments.services.in_force_condition is the same rule in SQL."""
    return valid_from <= on and (valid_until is None or on <= valid_until) and (ended_on is None or on <= ended_on)


# --------------------------------------------------------------------------------------------------
# application state machine

# 受付 → 決裁待ち → 承認 / 不承認; 取下げ is possible until decided; 決裁待ち → 受付 sends an application back
# for missing documents (差戻し). Decided and withdrawn applications are final: a new case is a new application.
ALLOWED_TRANSITIONS: Mapping[ApplicationState, frozenset[ApplicationState]] = {
    ApplicationState.RECEIVED: frozenset({ApplicationState.AWAITING_DECISION, ApplicationState.WITHDRAWN}),
    ApplicationState.AWAITING_DECISION: frozenset(
        {
            ApplicationState.APPROVED,
            ApplicationState.REJECTED,
            ApplicationState.WITHDRAWN,
            ApplicationState.RECEIVED,
        }
    ),
    ApplicationState.APPROVED: frozenset(),
    ApplicationState.REJECTED: frozenset(),
    ApplicationState.WITHDRAWN: frozenset(),
}


def check_transition(from_state: ApplicationState, to_state: ApplicationState) -> None:
    """Raise ``InvalidTransitionError`` unless an application may move from ``from_state`` to ``to_state``."""
    if to_state in ALLOWED_TRANSITIONS[from_state]:
        return
    raise InvalidTransitionError(
        "application.invalid_transition",
        f"申込を「{_STATE_JA[from_state]}」から「{_STATE_JA[to_state]}」にすることはできません",
        f"An application cannot go from {from_state.value} to {to_state.value}",
    )
