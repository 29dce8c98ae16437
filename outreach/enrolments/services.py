"""Every read and write of evidence, applications, approvals, review flags and the case log.

Services flush and never commit; the route, command or job that calls them commits once.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session

from outreach.audit import services as audit
from outreach.auth.models import StaffUser
from outreach.calendar import format_wareki
from outreach.db import utcnow
from outreach.enrolments import rules
from outreach.enrolments.models import (
    Application,
    ApplicationEvent,
    Approval,
    CareCertification,
    CaseNote,
    DisabilityCertificate,
    ReviewFlag,
    VisitDifficulty,
)
from outreach.errors import DomainError
from outreach.patrons.models import Patron, Proxy
from outreach.policy import Policy
from outreach.system.services import current_policy
from outreach.types import (
    ApplicationState,
    ApprovalStatus,
    CaseNoteKind,
    CertificateKind,
    Channel,
    EndReason,
    Role,
    Service,
)

log = logging.getLogger(__name__)

OPEN_STATES = (ApplicationState.RECEIVED, ApplicationState.AWAITING_DECISION)


class EnrolmentError(DomainError):
    """A case-management operation that the rules do not allow; nothing was changed."""


def _error(code: str, ja: str, en: str) -> EnrolmentError:
    return EnrolmentError(code, ja, en)


# ------------------------------------------------------------------------------------------------
# approvals in force (used by the batch, reading sessions and statistics)


def in_force_condition(on: date, approval: Any = Approval):  # type: ignore[no-untyped-def]
    """SQL condition: an approval that is in force on ``on`` (started, not past its end, not ended).

    ``approval`` may be an alias of the Approval table.
    """
    return and_(
        approval.valid_from <= on,
        or_(approval.valid_until.is_(None), approval.valid_until >= on),
        or_(approval.ended_on.is_(None), approval.ended_on >= on),
    )


def active_approval(session: Session, patron_id: int, service: Service, on: date) -> Approval | None:
    """The patron's approval or registration for ``service`` in force on ``on``, if any."""
    return session.scalars(
        select(Approval)
        .where(Approval.patron_id == patron_id, Approval.service == service, in_force_condition(on))
        .order_by(Approval.valid_from.desc(), Approval.id.desc())
    ).first()


def active_approvals_stmt(service: Service, on: date) -> Select:  # type: ignore[type-arg]
    """Set-based: every approval for ``service`` in force on ``on`` (for batches and statistics)."""
    return select(Approval).where(Approval.service == service, in_force_condition(on)).order_by(Approval.patron_id)


def approvals_of(session: Session, patron_id: int) -> Sequence[Approval]:
    """All approvals of a patron, newest first."""
    return session.scalars(
        select(Approval).where(Approval.patron_id == patron_id).order_by(Approval.valid_from.desc(), Approval.id.desc())
    ).all()


# ------------------------------------------------------------------------------------------------
# evidence


def add_certificate(
    session: Session, patron: Patron, *, data: Mapping[str, Any], actor: StaffUser, today: date
) -> DisabilityCertificate:
    """Record a disability certificate that staff have seen (dates may not lie in the future)."""
    kind = CertificateKind(data["kind"])
    if data["issued_on"] > today:
        raise _error("evidence.issued_in_future", "交付日が未来の日付です。", "The issue date is in the future.")
    if data["seen_on"] > today:
        raise _error("evidence.seen_in_future", "確認日が未来の日付です。", "The date the document was seen is in the future.")
    if data.get("valid_until") and data["valid_until"] < data["issued_on"]:
        raise _error("evidence.ends_before_issue", "有効期限が交付日より前です。",
                     "The validity ends before the certificate was issued.")
    if kind is CertificateKind.PHYSICAL and not data.get("category"):
        raise _error("evidence.category_required", "身体障害者手帳は障害の種別を選んでください。",
                     "Choose the category of a physical disability certificate.")
    certificate = DisabilityCertificate(
        patron_id=patron.id, kind=kind, category=data.get("category") if kind is CertificateKind.PHYSICAL else None,
        grade=data.get("grade") or "", number=data.get("number") or "", issued_on=data["issued_on"],
        valid_until=data.get("valid_until"), document_seen=data["document_seen"], seen_on=data["seen_on"],
        seen_by_id=actor.id,
    )
    session.add(certificate)
    session.flush()
    _audit(session, actor, "create", "disability_certificate", patron.id, data.keys(), f"certificate {certificate.id}")
    return certificate


def add_care_certification(
    session: Session, patron: Patron, *, data: Mapping[str, Any], actor: StaffUser, today: date
) -> CareCertification:
    """Record a long-term-care certification and its validity period (the end may not precede the start)."""
    if data["valid_until"] < data["valid_from"]:
        raise _error("evidence.period_reversed", "認定の有効期間の終わりが始まりより前です。",
                     "The certification's validity ends before it starts.")
    if data["seen_on"] > today:
        raise _error("evidence.seen_in_future", "確認日が未来の日付です。", "The date the document was seen is in the future.")
    certification = CareCertification(
        patron_id=patron.id, level=data["level"], valid_from=data["valid_from"], valid_until=data["valid_until"],
        document_seen=data["document_seen"], seen_on=data["seen_on"], seen_by_id=actor.id,
    )
    session.add(certification)
    session.flush()
    _audit(session, actor, "create", "care_certification", patron.id, data.keys(), f"care {certification.id}")
    return certification


def record_visit_difficulty(
    session: Session, patron: Patron, *, data: Mapping[str, Any], actor: StaffUser, today: date
) -> VisitDifficulty:
    """Record whether the patron finds it difficult to visit the library, and how that was established."""
    if data["assessed_on"] > today:
        raise _error("evidence.assessed_in_future", "確認日が未来の日付です。", "The assessment date is in the future.")
    assessment = VisitDifficulty(patron_id=patron.id, is_difficult=bool(data["is_difficult"]), basis=data["basis"],
                                 note=data.get("note") or "", assessed_on=data["assessed_on"], assessed_by_id=actor.id)
    session.add(assessment)
    session.flush()
    _audit(session, actor, "create", "visit_difficulty", patron.id, data.keys(), f"assessment {assessment.id}")
    return assessment


def delete_evidence(session: Session, patron: Patron, kind: str, evidence_id: int, actor: StaffUser) -> None:
    """Remove a piece of evidence entered by mistake (the audit trail keeps that it was removed)."""
    model = {"certificate": DisabilityCertificate, "care": CareCertification, "difficulty": VisitDifficulty}[kind]
    row = session.get(model, evidence_id)
    if row is None or row.patron_id != patron.id:
        raise _error("evidence.not_found", "その記録はありません。", "There is no such record.")
    session.delete(row)
    session.flush()
    _audit(session, actor, "delete", model.__tablename__, patron.id, (), f"{kind} {evidence_id}")


@dataclass(frozen=True)
class Evidence:
    certificates: Sequence[DisabilityCertificate]
    care_certifications: Sequence[CareCertification]
    difficulties: Sequence[VisitDifficulty]

    @property
    def latest_difficulty(self) -> VisitDifficulty | None:
        return self.difficulties[0] if self.difficulties else None


def evidence_of(session: Session, patron_id: int) -> Evidence:
    """Everything seen for a patron, newest first."""
    return Evidence(
        session.scalars(select(DisabilityCertificate).where(DisabilityCertificate.patron_id == patron_id)
                        .order_by(DisabilityCertificate.issued_on.desc(), DisabilityCertificate.id.desc())).all(),
        session.scalars(select(CareCertification).where(CareCertification.patron_id == patron_id)
                        .order_by(CareCertification.valid_from.desc(), CareCertification.id.desc())).all(),
        session.scalars(select(VisitDifficulty).where(VisitDifficulty.patron_id == patron_id)
                        .order_by(VisitDifficulty.assessed_on.desc(), VisitDifficulty.id.desc())).all(),
    )


# ------------------------------------------------------------------------------------------------
# facts for the rules (bulk, so the daily job makes a fixed number of queries whatever the size)


def facts_for(session: Session, patron_ids: Iterable[int]) -> dict[int, rules.EligibilityFacts]:
    """Plain eligibility facts for many patrons at once: six queries, no query per patron."""
    ids = sorted(set(patron_ids))
    if not ids:
        return {}
    certificates: dict[int, list[rules.CertificateFact]] = defaultdict(list)
    care: dict[int, list[rules.CareFact]] = defaultdict(list)
    difficulty: dict[int, bool] = {}
    mail_since: dict[int, date] = {}
    for chunk in _chunks(ids, 900):
        for c in session.scalars(select(DisabilityCertificate).where(DisabilityCertificate.patron_id.in_(chunk))):
            certificates[c.patron_id].append(rules.CertificateFact(c.kind, c.category, c.grade or None,
                                                                   c.valid_until, c.issued_on))
        for c in session.scalars(select(CareCertification).where(CareCertification.patron_id.in_(chunk))):
            care[c.patron_id].append(rules.CareFact(c.level, c.valid_from, c.valid_until))
        rows = session.execute(
            select(VisitDifficulty.patron_id, VisitDifficulty.is_difficult)
            .where(VisitDifficulty.patron_id.in_(chunk))
            .order_by(VisitDifficulty.patron_id, VisitDifficulty.assessed_on, VisitDifficulty.id)
        )
        for patron_id, is_difficult in rows:
            difficulty[patron_id] = is_difficult  # the newest assessment wins
        for patron_id, since in session.execute(
            select(Approval.patron_id, func.min(Approval.valid_from))
            .where(Approval.patron_id.in_(chunk), Approval.service == Service.MAIL_LOAN)
            .group_by(Approval.patron_id)
        ):
            mail_since[patron_id] = since
        # 付則2: a first registration before the rules took effect, recorded on an approved application
        for patron_id, since in session.execute(
            select(Application.patron_id, func.min(Application.first_registered_on))
            .where(Application.patron_id.in_(chunk), Application.service == Service.MAIL_LOAN,
                   Application.state == ApplicationState.APPROVED, Application.first_registered_on.is_not(None))
            .group_by(Application.patron_id)
        ):
            mail_since[patron_id] = min(since, mail_since.get(patron_id, since))
    facts = {}
    for chunk in _chunks(ids, 900):
        for patron in session.scalars(select(Patron).where(Patron.id.in_(chunk))):
            facts[patron.id] = rules.EligibilityFacts(
                birth_date=patron.birth_date,
                lives_in_city=patron.is_city_resident,
                lives_in_facility=patron.is_in_facility,
                has_library_card=bool(patron.card_number),
                finds_visiting_difficult=difficulty.get(patron.id),
                certificates=tuple(certificates[patron.id]),
                care_certifications=tuple(care[patron.id]),
                registered_for_mail_loans_since=mail_since.get(patron.id),
            )
    return facts


def decide(
    session: Session, patron: Patron, service: Service, on: date, *, special: bool = False, policy: Policy | None = None,
    first_registered_on: date | None = None,
) -> rules.EligibilityDecision:
    """What the rules say about this patron and service on ``on`` (with the chief's special approval, or a
    first mail-loan registration recorded on the application being decided, when given)."""
    facts = facts_for(session, [patron.id])[patron.id]
    if special:
        facts = dataclasses.replace(facts, special_approval=True)
    if first_registered_on is not None and service is Service.MAIL_LOAN:
        since = facts.registered_for_mail_loans_since
        facts = dataclasses.replace(facts, registered_for_mail_loans_since=min(since or date.max, first_registered_on))
    return rules.decide_eligibility(facts, service, on, policy or current_policy(session))


def decide_application(session: Session, application: Application, on: date) -> rules.EligibilityDecision:
    """What the rules say about an application on ``on``, with what is recorded on it."""
    patron = session.get(Patron, application.patron_id)
    assert patron is not None
    return decide(session, patron, application.service, on, first_registered_on=application.first_registered_on)


# ------------------------------------------------------------------------------------------------
# applications


def get_application(session: Session, application_id: int) -> Application | None:
    return session.get(Application, application_id)


def applications_of(session: Session, patron_id: int) -> Sequence[Application]:
    return session.scalars(select(Application).where(Application.patron_id == patron_id)
                           .order_by(Application.received_on.desc(), Application.id.desc())).all()


def application_events(session: Session, application_id: int) -> Sequence[ApplicationEvent]:
    return session.scalars(select(ApplicationEvent).where(ApplicationEvent.application_id == application_id)
                           .order_by(ApplicationEvent.at, ApplicationEvent.id)).all()


def receive_application(
    session: Session,
    patron: Patron,
    *,
    service: Service,
    received_on: date,
    channel: Channel,
    proxy_id: int | None,
    note: str,
    actor: StaffUser,
    today: date,
) -> Application:
    """Take an application (申込). One open application per patron and service; a patron whose approval is
    still in force applies for a renewal (更新), which continues the approval without a gap."""
    if received_on > today:
        raise _error("application.received_in_future", "受付日が未来の日付です。", "The date received is in the future.")
    if proxy_id is not None:
        proxy = session.get(Proxy, proxy_id)
        if proxy is None or proxy.patron_id != patron.id:
            raise _error("application.unknown_proxy", "この利用者の代理人ではありません。",
                         "That person is not a proxy of this patron.")
    open_one = session.scalars(select(Application.id).where(
        Application.patron_id == patron.id, Application.service == service, Application.state.in_(OPEN_STATES))).first()
    if open_one is not None:
        raise _error("application.already_open", "このサービスには未決定の申込がすでにあります。",
                     "This patron already has an undecided application for this service.")
    current = active_approval(session, patron.id, service, today)
    application = Application(patron_id=patron.id, service=service, received_on=received_on, channel=channel,
                              proxy_id=proxy_id, note=note, is_renewal=current is not None and current.valid_until is not None)
    if current is not None and current.valid_until is None:
        raise _error("application.already_registered", "この利用者はすでにこのサービスに登録されています。",
                     "This patron is already registered for this service.")
    session.add(application)
    session.flush()
    _event(session, application, None, ApplicationState.RECEIVED, actor, "")
    _audit(session, actor, "create", "application", patron.id, ("service", "received_on", "channel"),
           f"application {application.id}")
    return application


def record_first_registration(
    session: Session, application: Application, *, first_registered_on: date | None, actor: StaffUser, today: date
) -> None:
    """郵送要綱付則2: the chief records that the patron already received mail loans before the rules took effect
    (the day of their first registration), so the transitional clause applies; None removes it."""
    if actor is None or actor.role != Role.CHIEF:
        raise _error("first_registration.chief_only", "経過措置の登録日は課長だけが記録できます。",
                     "Only the section chief records a registration before the rules took effect.")
    if application.service is not Service.MAIL_LOAN:
        raise _error("first_registration.mail_loans_only", "経過措置は郵送貸出サービスの申込にだけあります。",
                     "Only mail-loan applications have the transitional right.")
    if application.state not in OPEN_STATES:
        raise _error("decision.already_decided", "この申込はすでに決定済みです。", "This application has already been decided.")
    if first_registered_on is not None:
        policy = current_policy(session)
        if first_registered_on > today:
            raise _error("first_registration.in_future", "登録日が未来の日付です。", "The registration date is in the future.")
        if not rules.is_grandfathered_registration(first_registered_on, policy):
            effective = policy.mail_loan_rules_effective_on
            word_ja, word_en = (("以前", "on or before") if policy.mail_loan_grandfather_includes_effective_day
                                else ("より前", "before"))
            raise _error("first_registration.after_effective_date",
                         f"経過措置の対象は{format_wareki(effective)}{word_ja}から利用している方です。",
                         f"The transitional right covers patrons registered {word_en} {effective.isoformat()}.")
    application.first_registered_on = first_registered_on
    application.updated_at = utcnow()
    _audit(session, actor, "update", "application", application.patron_id, ("first_registered_on",),
           f"application {application.id}")


def submit_for_decision(session: Session, application: Application, actor: StaffUser, note: str = "") -> None:
    """受付 → 決裁待ち: the evidence is complete and the chief may decide."""
    _transition(session, application, ApplicationState.AWAITING_DECISION, actor, note)


def send_back(session: Session, application: Application, actor: StaffUser, note: str) -> None:
    """決裁待ち → 受付 (差戻し): documents are missing; the reason is required."""
    if not note.strip():
        raise _error("application.note_required", "差戻しの理由を入力してください。", "Give the reason for sending it back.")
    _transition(session, application, ApplicationState.RECEIVED, actor, note)


def withdraw(session: Session, application: Application, actor: StaffUser, note: str = "") -> None:
    """取下げ: the patron or proxy withdrew the application before the decision."""
    _transition(session, application, ApplicationState.WITHDRAWN, actor, note)


def approve(
    session: Session,
    application: Application,
    *,
    actor: StaffUser,
    decided_on: date,
    special_reason: str = "",
) -> Approval:
    """The chief approves (承認). Home delivery runs three years from the decision (policy); a renewal
    starts the day after the current approval ends. Special approval (特に必要と認めた者) needs a written
    reason and is marked as such; a patron the rules do not cover cannot be approved otherwise."""
    _require_chief(actor)
    _check_decision_state(application)
    _check_decision_date(application, decided_on)
    policy = current_policy(session)
    patron = session.get(Patron, application.patron_id)
    assert patron is not None
    special = bool(special_reason.strip())
    if special and not policy.allows_special_approval(application.service):
        raise _error("decision.special_not_allowed", "このサービスには特別承認の規定がありません。",
                     "This service has no special approval.")
    decision = decide(session, patron, application.service, decided_on, special=special, policy=policy,
                      first_registered_on=application.first_registered_on)
    if not decision.eligible:
        failing = "、".join(r.message_ja for r in decision.failing)
        failing_en = "; ".join(r.message_en for r in decision.failing)
        raise _error("decision.not_eligible", f"要件を満たしていないため承認できません（{failing}）。"
                     "特別承認にする場合は理由を入力してください。",
                     f"The patron does not meet the requirements ({failing_en}). For a special approval, give the reason.")
    previous = None
    if application.is_renewal:
        previous = session.scalars(select(Approval).where(
            Approval.patron_id == patron.id, Approval.service == application.service, Approval.ended_on.is_(None),
            Approval.valid_until.is_not(None)).order_by(Approval.valid_until.desc())).first()
    if previous is not None:
        valid_from, valid_until = rules.renewal_period(previous.valid_until, application.service, policy, decided_on)
    else:
        valid_from, valid_until = rules.approval_period(application.service, decided_on, policy)
    overlapping = session.scalars(select(Approval.id).where(
        Approval.patron_id == patron.id, Approval.service == application.service, Approval.ended_on.is_(None),
        Approval.valid_from <= (valid_until or date.max),
        or_(Approval.valid_until.is_(None), Approval.valid_until >= valid_from))).first()
    if overlapping is not None:
        raise _error("decision.overlap", "この期間にはすでに承認があります。", "An approval already covers this period.")
    approval = Approval(
        patron_id=patron.id, service=application.service, application_id=application.id, valid_from=valid_from,
        valid_until=valid_until, is_special=special and decision.basis is not None and decision.basis.endswith("special"),
        special_reason=special_reason.strip(), basis=decision.basis.value if decision.basis else "",
        approved_by_id=actor.id, previous_approval_id=previous.id if previous else None,
    )
    if special and not approval.is_special:
        approval.special_reason = ""  # the rules cover the patron: an ordinary approval, reason not needed
    application.decided_on = decided_on
    application.decided_by_id = actor.id
    application.is_special = approval.is_special
    application.decision_reason = approval.special_reason
    application.rule_basis = approval.basis
    application.rule_failing = ",".join(r.code.value for r in decision.failing)
    _transition(session, application, ApplicationState.APPROVED, actor, approval.special_reason)
    session.add(approval)
    session.flush()
    _audit(session, actor, "approve", "application", patron.id, ("state",), f"application {application.id}")
    return approval


def reject(session: Session, application: Application, *, actor: StaffUser, decided_on: date, reason: str) -> None:
    """The chief rejects (不承認); the reason is required and goes into the rejection letter (様式第3号)."""
    _require_chief(actor)
    _check_decision_state(application)
    _check_decision_date(application, decided_on)
    if not reason.strip():
        raise _error("decision.reason_required", "不承認の理由を入力してください。", "Give the reason for the rejection.")
    patron = session.get(Patron, application.patron_id)
    assert patron is not None
    decision = decide(session, patron, application.service, decided_on,
                      first_registered_on=application.first_registered_on)
    application.decided_on = decided_on
    application.decided_by_id = actor.id
    application.decision_reason = reason.strip()
    application.rule_basis = decision.basis.value if decision.basis else ""
    application.rule_failing = ",".join(r.code.value for r in decision.failing)
    _transition(session, application, ApplicationState.REJECTED, actor, reason.strip())
    _audit(session, actor, "reject", "application", patron.id, ("state",), f"application {application.id}")


def _require_chief(actor: StaffUser | None) -> None:
    if actor is None or actor.role != Role.CHIEF:
        raise _error("decision.chief_only", "申込の決定は課長だけが行えます。", "Only the section chief decides applications.")


def _check_decision_date(application: Application, decided_on: date) -> None:
    if decided_on < application.received_on:
        raise _error("decision.before_received", "決定日は申込の受付日より前にできません。",
                     "The decision cannot be dated before the application was received.")


def _check_decision_state(application: Application) -> None:
    if application.state in (ApplicationState.APPROVED, ApplicationState.REJECTED):
        raise _error("decision.already_decided", "この申込はすでに決定済みです。", "This application has already been decided.")
    if application.state is not ApplicationState.AWAITING_DECISION:
        rules.check_transition(application.state, ApplicationState.APPROVED)


def _transition(session: Session, application: Application, to_state: ApplicationState, actor: StaffUser,
                note: str) -> None:
    rules.check_transition(application.state, to_state)
    from_state = application.state
    application.state = to_state
    application.updated_at = utcnow()
    _event(session, application, from_state, to_state, actor, note)


def _event(session: Session, application: Application, from_state: ApplicationState | None,
           to_state: ApplicationState, actor: StaffUser | None, note: str) -> None:
    session.add(ApplicationEvent(application_id=application.id, from_state=from_state, to_state=to_state,
                                 by_id=actor.id if actor else None, note=note[:1000]))


# ------------------------------------------------------------------------------------------------
# ending a service, review flags, expiry


def end_approval(
    session: Session, approval: Approval, *, reason: EndReason, ended_on: date, note: str, actor: StaffUser
) -> None:
    """End a service early (転出・施設入所・死亡・辞退・要件喪失): no shipments after ``ended_on``."""
    if approval.status is ApprovalStatus.ENDED:
        raise _error("approval.already_ended", "この承認はすでに終了しています。", "This approval has already ended.")
    if ended_on < approval.valid_from - timedelta(days=1):
        raise _error("approval.end_before_start", "終了日が承認の開始日より前です。",
                     "The end date lies before the approval started.")
    approval.status = ApprovalStatus.ENDED
    approval.ended_on = ended_on
    approval.end_reason = EndReason(reason)
    approval.end_note = note.strip()
    approval.ended_by_id = actor.id
    approval.updated_at = utcnow()
    session.execute(update(ReviewFlag).where(ReviewFlag.approval_id == approval.id, ReviewFlag.resolved_on.is_(None))
                    .values(resolved_on=ended_on, resolved_by_id=actor.id, resolution="ended"))
    _audit(session, actor, "end", "approval", approval.patron_id, ("status", "ended_on", "end_reason"),
           f"approval {approval.id}")


def keep_after_review(session: Session, flag: ReviewFlag, actor: StaffUser, today: date) -> None:
    """The librarian reviewed the change and keeps the service."""
    if flag.resolved_on is not None:
        raise _error("review.already_resolved", "この確認はすでに済んでいます。", "This review has already been resolved.")
    flag.resolved_on, flag.resolved_by_id, flag.resolution = today, actor.id, "kept"
    _audit(session, actor, "review_kept", "approval", flag.patron_id, (), f"flag {flag.id}")


def check_for_review(session: Session, patron_ids: Iterable[int], on: date) -> int:
    """Flag patrons whose approvals in force no longer meet the rules on ``on`` (moved, entered a facility,
    evidence lapsed, ...). Special approvals are re-checked for what still governs them (residence, not in a
    facility). Returns the number of new flags; an approval with an open flag is not flagged again, nor one
    whose last review kept the service for the same reasons (a new reason is a new flag)."""
    ids = sorted(set(patron_ids))
    if not ids:
        return 0
    policy = current_policy(session)
    approvals = []
    for chunk in _chunks(ids, 900):
        approvals += session.scalars(select(Approval).where(Approval.patron_id.in_(chunk), in_force_condition(on))
                                     .order_by(Approval.patron_id, Approval.id)).all()
    if not approvals:
        return 0
    latest: dict[int, ReviewFlag] = {}  # the newest flag of each approval
    for chunk in _chunks([a.id for a in approvals], 900):
        for flag in session.scalars(select(ReviewFlag).where(ReviewFlag.approval_id.in_(chunk))
                                    .order_by(ReviewFlag.approval_id, ReviewFlag.raised_on, ReviewFlag.id)):
            latest[flag.approval_id] = flag
    facts = facts_for(session, [a.patron_id for a in approvals])
    created = 0
    for approval in approvals:
        last = latest.get(approval.id)
        if last is not None and last.resolved_on is None:
            continue
        reasons = rules.review_reasons(facts[approval.patron_id], approval.service, on, policy,
                                       is_special=approval.is_special)
        if not reasons:
            continue
        codes = [r.code.value for r in reasons]
        kept = last.reason_codes.split(",") if last is not None and last.resolution == "kept" else None
        if rules.is_review_settled(codes, kept):
            continue
        session.add(ReviewFlag(patron_id=approval.patron_id, approval_id=approval.id, raised_on=on,
                               reason_codes=",".join(codes)))
        created += 1
    session.flush()
    return created


@dataclass(frozen=True)
class ReviewRow:
    """An open review flag with what the rules say about it now (for the work list)."""

    flag: ReviewFlag
    patron: Patron
    approval: Approval
    reasons: tuple[rules.Reason, ...]

    def message(self, lang: str = "ja") -> str:
        texts = [r.message(lang) for r in self.reasons]
        return "、".join(texts) if lang == "ja" else "; ".join(texts)


def open_review_flags(session: Session, on: date, limit: int = 200) -> list[ReviewRow]:
    """Open review flags, oldest first, each with the rule messages of its reasons as of ``on``."""
    rows = session.execute(
        select(ReviewFlag, Patron, Approval).join(Patron, Patron.id == ReviewFlag.patron_id)
        .join(Approval, Approval.id == ReviewFlag.approval_id)
        .where(ReviewFlag.resolved_on.is_(None)).order_by(ReviewFlag.raised_on, ReviewFlag.id).limit(limit)
    ).tuples().all()
    policy = current_policy(session)
    facts = facts_for(session, [patron.id for _flag, patron, _approval in rows])
    return [ReviewRow(flag, patron, approval, _flag_reasons(facts[patron.id], approval, flag, on, policy))
            for flag, patron, approval in rows]


def _flag_reasons(facts: rules.EligibilityFacts, approval: Approval, flag: ReviewFlag, on: date,
                  policy: Policy) -> tuple[rules.Reason, ...]:
    """The flag's reasons worded as the rules word them today (a special approval counts as a fact)."""
    if approval.is_special:
        facts = dataclasses.replace(facts, special_approval=True)
    by_code = {r.code.value: r for r in rules.decide_eligibility(facts, approval.service, on, policy).reasons}
    return tuple(by_code[code] for code in flag.reason_codes.split(",") if code in by_code)


def flags_of(session: Session, patron_id: int) -> Sequence[ReviewFlag]:
    return session.scalars(select(ReviewFlag).where(ReviewFlag.patron_id == patron_id)
                           .order_by(ReviewFlag.raised_on.desc(), ReviewFlag.id.desc())).all()


def expire_approvals(session: Session, on: date) -> int:
    """Mark approvals whose period has passed as expired (期間満了); idempotent."""
    result = session.execute(
        update(Approval).where(Approval.status == ApprovalStatus.ACTIVE, Approval.valid_until.is_not(None),
                               Approval.valid_until < on)
        .values(status=ApprovalStatus.EXPIRED, updated_at=utcnow())
    )
    return result.rowcount or 0


# ------------------------------------------------------------------------------------------------
# work lists for the dashboard


@dataclass(frozen=True)
class WorkItem:
    patron_id: int
    patron_name: str
    service: Service
    on: date | None
    detail: Any = ""  # a state for applications, the note of a planned visit
    record_id: int | None = None
    is_special: bool = False


def awaiting_decision(session: Session, limit: int = 100) -> list[WorkItem]:
    rows = session.execute(
        select(Application, Patron.name).join(Patron, Patron.id == Application.patron_id)
        .where(Application.state.in_(OPEN_STATES)).order_by(Application.received_on, Application.id).limit(limit)
    ).all()
    return [WorkItem(a.patron_id, name, a.service, a.received_on, a.state, a.id) for a, name in rows]


def _ending_soon_stmt(session: Session, on: date, columns: Any) -> Any:
    policy = current_policy(session)
    horizon = on + timedelta(days=policy.renewal_notice_days)
    successor = aliased(Approval)
    renewal_open = select(Application.id).where(
        Application.patron_id == Approval.patron_id, Application.service == Approval.service,
        Application.state.in_(OPEN_STATES)).exists()
    renewed = select(successor.id).where(successor.previous_approval_id == Approval.id).exists()
    return select(*columns).where(in_force_condition(on), Approval.valid_until.is_not(None),
                                  Approval.valid_until <= horizon, ~renewal_open, ~renewed)


def ending_soon(session: Session, on: date, limit: int = 100) -> list[WorkItem]:
    """Approvals in force that end within the renewal lead time, with no renewal taken or granted yet."""
    rows = session.execute(
        _ending_soon_stmt(session, on, (Approval, Patron.name)).join(Patron, Patron.id == Approval.patron_id)
        .order_by(Approval.valid_until, Approval.id).limit(limit)
    ).all()
    return [WorkItem(a.patron_id, name, a.service, a.valid_until, "", a.id, a.is_special) for a, name in rows]


def ending_soon_count(session: Session, on: date) -> int:
    """How many approvals are on the renewal work list (counted in the database)."""
    return session.scalar(select(func.count()).select_from(_ending_soon_stmt(session, on, (Approval.id,)).subquery())) or 0


def expired_without_renewal(session: Session, on: date, limit: int = 100) -> list[WorkItem]:
    """Expired approvals whose patron has nothing in force for the same service: no shipments go out."""
    current = aliased(Approval)
    covered = select(current.id).where(current.patron_id == Approval.patron_id, current.service == Approval.service,
                                       in_force_condition(on, current)).exists()
    rows = session.execute(
        select(Approval, Patron.name).join(Patron, Patron.id == Approval.patron_id)
        .where(Approval.status == ApprovalStatus.EXPIRED, ~covered)
        .order_by(Approval.valid_until.desc(), Approval.id).limit(limit)
    ).all()
    return [WorkItem(a.patron_id, name, a.service, a.valid_until, "", a.id, a.is_special) for a, name in rows]


def planned_visits(session: Session, on: date, limit: int = 100) -> list[WorkItem]:
    rows = session.execute(
        select(CaseNote, Patron.name).join(Patron, Patron.id == CaseNote.patron_id)
        .where(CaseNote.is_planned.is_(True)).order_by(CaseNote.occurs_on, CaseNote.id).limit(limit)
    ).all()
    return [WorkItem(n.patron_id, name, Service.HOME_DELIVERY, n.occurs_on, n.note[:80], n.id) for n, name in rows]


# ------------------------------------------------------------------------------------------------
# case log


def add_case_note(session: Session, patron: Patron, *, kind: CaseNoteKind, occurs_on: date, is_planned: bool,
                  note: str, actor: StaffUser, today: date) -> CaseNote:
    """Log a contact or visit (読書相談); a planned visit lies today or later and shows on the dashboard."""
    if is_planned and occurs_on < today:
        raise _error("case_note.planned_in_past", "予定の日付が過去です。", "A planned visit cannot lie in the past.")
    if not is_planned and occurs_on > today:
        raise _error("case_note.done_in_future", "実施日が未来の日付です。予定として登録してください。",
                     "The date lies in the future; record it as planned.")
    case_note = CaseNote(patron_id=patron.id, kind=kind, occurs_on=occurs_on, is_planned=is_planned, note=note,
                         staff_id=actor.id)
    session.add(case_note)
    session.flush()
    _audit(session, actor, "create", "case_note", patron.id, ("kind", "occurs_on", "note"), f"note {case_note.id}")
    return case_note


def complete_planned(session: Session, case_note: CaseNote, *, done_on: date, note: str, actor: StaffUser,
                     today: date) -> None:
    """A planned visit took place: it leaves the dashboard and becomes part of the log."""
    if not case_note.is_planned:
        raise _error("case_note.not_planned", "この記録は予定ではありません。", "This entry is not a planned visit.")
    if done_on > today:
        raise _error("case_note.done_in_future", "実施日が未来の日付です。", "The date lies in the future.")
    case_note.is_planned = False
    case_note.occurs_on = done_on
    if note.strip():
        case_note.note = (case_note.note + "\n" + note.strip()).strip()
    _audit(session, actor, "update", "case_note", case_note.patron_id, ("is_planned", "occurs_on", "note"),
           f"note {case_note.id}")


def case_notes_of(session: Session, patron_id: int) -> Sequence[CaseNote]:
    return session.scalars(select(CaseNote).where(CaseNote.patron_id == patron_id)
                           .order_by(CaseNote.is_planned.desc(), CaseNote.occurs_on.desc(), CaseNote.id.desc())).all()


# ------------------------------------------------------------------------------------------------


def _chunks(values: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _audit(session: Session, actor: StaffUser | None, action: str, entity_type: str, patron_id: int | None,
           fields: Iterable[str], detail: str = "") -> None:
    audit.record(session, actor_id=actor.id if actor else None,
                 actor_username=actor.username if actor else "system", action=action, entity_type=entity_type,
                 entity_id=patron_id, fields=fields, detail=detail)


# ------------------------------------------------------------------------------------------------
# the case as shown on the patron's page


@dataclass(frozen=True)
class ServiceRow:
    service: Service
    approval: Approval | None  # in force today, else the most recent
    decision: rules.EligibilityDecision
    open_application: Application | None
    renewal_due: bool


@dataclass(frozen=True)
class PatronCase:
    services: list[ServiceRow]
    flags: Sequence[ReviewFlag]
    flag_messages: dict[int, str]
    applications: Sequence[Application]
    evidence: Evidence
    notes: Sequence[CaseNote]
    letters: Sequence[Any]


def patron_case(session: Session, patron: Patron, on: date, lang: str = "ja") -> PatronCase:
    """Everything about the patron's services for their page: approvals, what the rules say today,
    open applications, review flags, evidence, the case log and letters."""
    from outreach.correspondence.services import letters_of

    policy = current_policy(session)
    facts = facts_for(session, [patron.id])[patron.id]
    approvals = approvals_of(session, patron.id)
    applications = applications_of(session, patron.id)
    rows = []
    for service in Service:
        mine = [a for a in approvals if a.service == service]
        current = next((a for a in mine if rules.is_approval_in_force(a.valid_from, a.valid_until, on, a.ended_on)),
                       None)
        shown = current or (mine[0] if mine else None)
        open_application = next((a for a in applications if a.service == service and a.state in OPEN_STATES), None)
        rows.append(ServiceRow(
            service=service, approval=shown,
            decision=rules.decide_eligibility(facts, service, on, policy),
            open_application=open_application,
            renewal_due=bool(current and rules.is_renewal_due(current.valid_until, on, policy)),
        ))
    flags = flags_of(session, patron.id)
    by_id = {a.id: a for a in approvals}
    messages = {}
    for flag in flags:
        texts = [r.message(lang) for r in _flag_reasons(facts, by_id[flag.approval_id], flag, on, policy)]
        messages[flag.id] = "、".join(texts) if lang == "ja" else "; ".join(texts)
    return PatronCase(rows, flags, messages, applications, evidence_of(session, patron.id),
                      case_notes_of(session, patron.id), letters_of(session, patron.id))
