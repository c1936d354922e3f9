"""All ORM models, imported here so Alembic and the services see one metadata."""

from fablabctl.db.models.audit import AuditEntry
from fablabctl.db.models.designs import Design, DesignFile
from fablabctl.db.models.jobs import Job, JobEvent
from fablabctl.db.models.machines import Machine
from fablabctl.db.models.people import AuthToken, Cohort, CohortTrainer, Enrolment, User
from fablabctl.db.models.sites import Site

__all__ = [
    "AuditEntry",
    "AuthToken",
    "Cohort",
    "CohortTrainer",
    "Design",
    "DesignFile",
    "Enrolment",
    "Job",
    "JobEvent",
    "Machine",
    "Site",
    "User",
]
