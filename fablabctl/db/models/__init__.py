"""All ORM models, imported here so Alembic and the services see one metadata."""

from fablabctl.db.models.admin import MaterialEntry, RuntimeSetting
from fablabctl.db.models.attendance import (
    Absence,
    AttendanceEntry,
    Contribution,
    EnrolmentTerms,
    JournalEntry,
    PixAssessment,
    ReferentNotice,
    TimetableSlot,
)
from fablabctl.db.models.audit import AuditEntry
from fablabctl.db.models.designs import Design, DesignFile
from fablabctl.db.models.jobs import Job, JobEvent
from fablabctl.db.models.machines import Machine
from fablabctl.db.models.people import AuthToken, Cohort, CohortTrainer, Enrolment, User
from fablabctl.db.models.sites import Site
from fablabctl.db.models.sync import (
    SyncConflict,
    SyncLink,
    SyncOdometer,
    SyncOutbox,
    SyncState,
    SyncToken,
)

__all__ = [
    "Absence",
    "AttendanceEntry",
    "AuditEntry",
    "AuthToken",
    "Cohort",
    "CohortTrainer",
    "Contribution",
    "Design",
    "DesignFile",
    "Enrolment",
    "EnrolmentTerms",
    "Job",
    "JobEvent",
    "JournalEntry",
    "Machine",
    "MaterialEntry",
    "PixAssessment",
    "ReferentNotice",
    "RuntimeSetting",
    "Site",
    "SyncConflict",
    "SyncLink",
    "SyncOdometer",
    "SyncOutbox",
    "SyncState",
    "SyncToken",
    "TimetableSlot",
    "User",
]
