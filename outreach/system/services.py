"""The library's policy as stored (defaults plus changed values) and claims on scheduled job runs."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from outreach.audit import services as audit
from outreach.auth.models import StaffUser
from outreach.db import utcnow
from outreach.policy import DEFAULT_POLICY, Policy
from outreach.system.models import JobRun, LibrarySetting

log = logging.getLogger(__name__)


def current_policy(session: Session) -> Policy:
    """The policy in force: the source library's defaults with this library's changed values.

    Read once per unit of work (kept in ``session.info``): a request or a batch sees one policy.
    """
    cached = session.info.get(_POLICY_KEY)
    if cached is not None:
        return cached
    rows = session.scalars(select(LibrarySetting).order_by(LibrarySetting.key)).all()
    policy = Policy.from_mapping({row.key: json.loads(row.value) for row in rows}) if rows else DEFAULT_POLICY
    session.info[_POLICY_KEY] = policy
    return policy


_POLICY_KEY = "outreach.policy"


def save_policy_values(session: Session, values: Mapping[str, Any], actor: StaffUser | None) -> Policy:
    """Validate and store changed policy values (a PolicyError names every bad one; nothing is stored)."""
    merged = {**{r.key: json.loads(r.value) for r in session.scalars(select(LibrarySetting)).all()}, **values}
    policy = Policy.from_mapping(merged)  # raises before anything is written
    defaults = DEFAULT_POLICY.to_mapping()
    stored = policy.to_mapping()
    for key, value in stored.items():
        row = session.get(LibrarySetting, key)
        if value == defaults.get(key):
            if row is not None:
                session.delete(row)
            continue
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        if row is None:
            session.add(LibrarySetting(key=key, value=text, updated_by_id=actor.id if actor else None))
        elif row.value != text:
            row.value, row.updated_at, row.updated_by_id = text, utcnow(), actor.id if actor else None
    audit.record(session, actor_id=actor.id if actor else None, actor_username=actor.username if actor else "system",
                 action="update", entity_type="policy", fields=sorted(values))
    session.info[_POLICY_KEY] = policy
    return policy


def claim_job_run(session: Session, job: str, period: str) -> JobRun | None:
    """Claim the run of ``job`` for ``period``; None when it already ran (or another process holds it).

    The unique (job, period) key makes a re-run on the same day, or two schedulers at once, harmless.
    """
    existing = session.scalars(select(JobRun).where(JobRun.job == job, JobRun.period == period)).first()
    if existing is not None:
        return None
    run = JobRun(job=job, period=period)
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        return None
    return run


def finish_job_run(run: JobRun, summary: str) -> None:
    run.finished_at = utcnow()
    run.summary = summary[:1000]


@event.listens_for(OrmSession, "after_soft_rollback")
def _forget_policy(session: OrmSession, _previous: object) -> None:
    # A rolled-back change of the policy must not linger in the unit of work's memory.
    session.info.pop(_POLICY_KEY, None)
