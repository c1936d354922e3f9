"""Input and output shapes for people, cohorts and enrolments (shared by the API and the CLI)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from fablabctl.i18n import Text, TextValueError
from fablabctl.people.passwords import MIN_LENGTH
from fablabctl.people.roles import Role
from fablabctl.plaintext import NoControl

Username = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=2, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), NoControl]
CohortName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), NoControl]
SiteName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), NoControl]
ProjectName = Annotated[str, StringConstraints(max_length=80), NoControl]
Contact = Annotated[str, StringConstraints(max_length=200), NoControl]
Password = Annotated[str, StringConstraints(min_length=MIN_LENGTH, max_length=256)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserCreate(Strict):
    username: Username
    display_name: DisplayName = Field(
        description="Display name or pseudonym: never the legal name if avoidable."
    )
    role: Role
    password: Password


class UserUpdate(Strict):
    display_name: DisplayName | None = None
    role: Role | None = None
    password: Password | None = None
    active: bool | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    created_at: datetime


class CohortCreate(Strict):
    name: CohortName
    site: SiteName | None = Field(default=None, description="Site name; the service's own site when omitted.")
    starts_on: date
    ends_on: date
    project: ProjectName | None = None
    trainer_ids: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.ends_on < self.starts_on:
            raise TextValueError(
                Text("ends_on ne peut précéder starts_on", "ends_on must not be before starts_on")
            )
        return self


class CohortUpdate(Strict):
    name: CohortName | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    project: ProjectName | None = None
    trainer_ids: list[int] | None = None


class CohortOut(BaseModel):
    id: int
    name: str
    site: str
    starts_on: date
    ends_on: date
    project: str | None
    trainer_ids: list[int]


class EnrolmentCreate(Strict):
    cohort_id: int
    user_id: int
    hours_due: float = Field(gt=0, le=400, description="Hours set by the court (TIG: 20 to 400 h).")
    referent_contact: Contact = ""


class EnrolmentUpdate(Strict):
    hours_due: float | None = Field(default=None, gt=0, le=400)
    referent_contact: Contact | None = None


class EnrolmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    cohort_id: int
    user_id: int
    hours_due: float
    referent_contact: str
    created_at: datetime
