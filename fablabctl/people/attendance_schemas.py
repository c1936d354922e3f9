"""Input and output shapes for attendance, hours, timetable and absences (API and CLI alike)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from fablabctl.i18n import Text, TextValueError

Phase = Literal["information", "formation", "fabrication"]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckIn(Strict):
    user_id: int
    at: datetime | None = Field(default=None, description="ISO 8601; a time without offset is local time.")
    phase: Phase | None = Field(default=None, description="Default: the timetable's phase that day.")


class CheckOut(Strict):
    user_id: int
    at: datetime | None = None


class Correction(Strict):
    check_in: datetime
    check_out: datetime | None = None
    phase: Phase | None = None
    cancel: bool = Field(default=False, description="The entry was a mistake: it no longer counts.")
    reason: Reason

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.check_out is not None and self.check_out <= self.check_in:
            raise TextValueError(
                Text("la sortie doit être après l'entrée", "the check-out must be after the check-in")
            )
        return self


class EntryOut(BaseModel):
    id: int
    uuid: str
    entry_uuid: str
    version: int
    supersedes: str | None
    site: str
    cohort_id: int
    user_id: int
    username: str
    display_name: str
    phase: str
    check_in: datetime
    check_out: datetime | None
    method: str
    cancelled: bool
    recorded_by_id: int | None
    reason: str
    created_at: datetime


class WarningOut(BaseModel):
    code: str
    day: date
    message: str


class DayOut(BaseModel):
    day: date
    periods: list[tuple[time, time | None]]
    phases: list[str]
    hours: float
    open: bool


class VanHoursOut(BaseModel):
    """Hours of one tigiste recorded in a van (a site other than the cohort's) and when they arrived."""

    site: str
    hours: float
    entries: int
    first_arrival: str
    last_arrival: str
    conflicts: int  # overlaps with presences recorded elsewhere, for a trainer to resolve


class HoursOut(BaseModel):
    """One tigiste's hours in a cohort: hours are decimal numbers (7.25 = 7 h 15)."""

    username: str
    display_name: str
    hours_done: float
    hours_due: float
    hours_remaining: float
    percent: float
    user_id: int
    enrolment_id: int
    days_present: int
    absences_excused: int
    absences_unexcused: int
    absences_undecided: int
    expected_end: date | None
    deadline: date | None
    measure: str
    warnings: list[WarningOut]
    days: list[DayOut]
    from_vans: list[VanHoursOut] = []  # hours recorded in a mobile Fab Lab, and when they arrived (sync)


class SlotIn(Strict):
    day: date
    starts_at: time
    ends_at: time
    phase: Phase = "formation"

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise TextValueError(Text("ends_at doit suivre starts_at", "ends_at must be after starts_at"))
        return self


class Timetable(Strict):
    slots: list[SlotIn] = Field(max_length=1000)


class SlotOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    day: date
    starts_at: time
    ends_at: time
    phase: str


class AbsenceOut(BaseModel):
    id: int
    uuid: str
    user_id: int
    username: str
    display_name: str
    day: date
    starts_at: time
    ends_at: time
    excused: bool | None
    reason: str
    notice_id: int | None


class AbsenceDecision(Strict):
    excused: bool
    reason: str = Field(default="", max_length=500)


class NoticeOut(BaseModel):
    id: int
    uuid: str
    user_id: int
    username: str
    display_name: str
    referent_contact: str
    day: date
    starts_at: time
    ends_at: time
    emailed_at: datetime | None
    email_error: str | None
