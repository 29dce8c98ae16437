"""Writing and reading the audit trail. Values of personal fields are never recorded, only names."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlmodel import Session

from outreach.audit.models import AuditEvent

log = logging.getLogger(__name__)


# Events about a patron's case are keyed by the patron's id (the record itself is named in `detail`),
# so the patron's page can show them all: the record, proxies, evidence, applications, approvals,
# notes, the reader profile and loan requests.
PATRON_KEYED = ("patron", "patron_proxy", "disability_certificate", "care_certification", "visit_difficulty",
                "application", "approval", "case_note", "reader_profile", "loan_request")


def record(
    session: Session,
    *,
    actor_id: int | None,
    actor_username: str,
    action: str,
    entity_type: str,
    entity_id: int | None = None,
    fields: Iterable[str] = (),
    detail: str = "",
) -> AuditEvent:
    """Append one event; it is committed with the unit of work it describes."""
    event = AuditEvent(
        actor_id=actor_id,
        actor_username=actor_username,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        fields=",".join(sorted(fields))[:2000],
        detail=detail[:500],
    )
    session.add(event)
    return event


def list_events(
    session: Session,
    *,
    entity_types: Sequence[str] = (),
    entity_id: int | None = None,
    actor_username: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[Sequence[AuditEvent], int]:
    """Events newest first, filtered, with the total count for paging."""
    query = select(AuditEvent)
    if entity_types:
        query = query.where(AuditEvent.entity_type.in_(entity_types))
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    if actor_username:
        query = query.where(AuditEvent.actor_username == actor_username)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(page_size)
        .offset((max(page, 1) - 1) * page_size)
    ).all()
    return rows, total


def record_export(session: Session, actor: object, what: str, detail: str = "") -> None:
    """A download carrying personal data (labels, slips, address lists, letters): who took it and when."""
    record(session, actor_id=getattr(actor, "id", None), actor_username=getattr(actor, "username", "system"),
           action="export", entity_type=what, detail=detail)
