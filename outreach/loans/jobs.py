"""The daily overdue job (with its privacy sweep), in the scheduler's job shape. Safe to repeat:
one run per day is claimed in ``job_run``."""

from __future__ import annotations

import logging
from datetime import date

from sqlmodel import Session

from outreach.loans import services
from outreach.reading import services as reading_services
from outreach.system.services import claim_job_run, finish_job_run

log = logging.getLogger(__name__)

OVERDUE_JOB = "loans.overdue"


def overdue(session: Session, on: date) -> str:
    """Find loans past their due date (they stop new shipments, 規則第9条2, and put the patron on the
    overdue work list for a reminder); forget who read what (closed loans, reading-session titles) for
    patrons without history consent; and end the access of volunteer readers whose retirement day has come
    (利用者の秘密を守る: a retired reader no longer sees patrons' sessions)."""
    claim = claim_job_run(session, OVERDUE_JOB, on.isoformat())
    if claim is None:
        return f"{on.isoformat()}: already done today"
    newly = services.mark_overdue(session, on)
    forgotten = services.privacy_sweep(session)
    retired = reading_services.end_retired_volunteers(session, on)
    _rows, patrons = services.overdue_worklist(session, on, page_size=1)
    summary = (f"{newly} loans newly overdue; {patrons} patrons with overdue items; {forgotten} reading records "
               f"anonymised; {retired} retired volunteer accounts deactivated")
    finish_job_run(claim, summary)
    log.info("overdue job %s: %s", on.isoformat(), summary)
    return f"{on.isoformat()}: {summary}"
