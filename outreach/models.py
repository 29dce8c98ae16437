"""Import every area's models so that SQLModel.metadata is complete (Alembic and the app use this)."""

from outreach.audit.models import AuditEvent
from outreach.auth.models import StaffSession, StaffUser
from outreach.enrolments.models import (
    Application,
    ApplicationEvent,
    Approval,
    CareCertification,
    CaseNote,
    DisabilityCertificate,
    IssuedLetter,
    ReviewFlag,
    VisitDifficulty,
)
from outreach.patrons.models import Patron, Proxy
from outreach.reading.models import (
    ReadingRequest,
    ReadingRoom,
    ReadingRoomHours,
    ReadingSeries,
    ReadingSession,
    Volunteer,
    VolunteerAbsence,
    VolunteerAvailability,
    VolunteerRoom,
    VolunteerSkill,
)
from outreach.system.models import JobRun, LibrarySetting

__all__ = [
    "Application", "ApplicationEvent", "Approval", "AuditEvent", "CareCertification", "CaseNote",
    "DisabilityCertificate", "IssuedLetter", "JobRun", "LibrarySetting", "Patron", "Proxy", "ReviewFlag",
    "StaffSession", "StaffUser", "VisitDifficulty",
    "ReadingRequest", "ReadingRoom", "ReadingRoomHours", "ReadingSeries", "ReadingSession", "Volunteer",
    "VolunteerAbsence", "VolunteerAvailability", "VolunteerRoom", "VolunteerSkill",
]
