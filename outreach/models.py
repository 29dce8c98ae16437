"""Import every area's models so that SQLModel.metadata is complete (Alembic and the app use this)."""

from outreach.audit.models import AuditEvent
from outreach.auth.models import StaffSession, StaffUser
from outreach.patrons.models import Patron, Proxy

__all__ = ["AuditEvent", "Patron", "Proxy", "StaffSession", "StaffUser"]
