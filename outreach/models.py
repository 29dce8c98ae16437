"""Import every area's models so that SQLModel.metadata is complete (Alembic and the app use this)."""

from outreach.audit.models import AuditEvent
from outreach.auth.models import StaffSession, StaffUser
from outreach.catalog.models import CatalogImport, CatalogImportRow, CatalogItem
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
from outreach.loans.models import Loan, LoanRequest, LoanRequestLine, ReaderProfile
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
from outreach.reports.models import HistoricalFigure
from outreach.shipments.models import PlannedItem, PlannedShipment, Shipment, ShipmentRun
from outreach.system.models import JobRun, LibrarySetting

__all__ = [
    "HistoricalFigure",
    "Application", "ApplicationEvent", "Approval", "AuditEvent", "CareCertification", "CaseNote",
    "DisabilityCertificate", "IssuedLetter", "JobRun", "LibrarySetting", "Patron", "Proxy", "ReviewFlag",
    "StaffSession", "StaffUser", "VisitDifficulty",
    "ReadingRequest", "ReadingRoom", "ReadingRoomHours", "ReadingSeries", "ReadingSession", "Volunteer",
    "VolunteerAbsence", "VolunteerAvailability", "VolunteerRoom", "VolunteerSkill",
    "CatalogImport", "CatalogImportRow", "CatalogItem", "Loan", "LoanRequest", "LoanRequestLine", "ReaderProfile",
    "PlannedItem", "PlannedShipment", "Shipment", "ShipmentRun",
]
