"""Job requests and records as the API and CLI exchange them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fablabctl.i18n import DEFAULT_LANG, Lang
from fablabctl.queue.reasons import render


class JobSubmit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    design_id: int
    material: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    quantity: Annotated[int, Field(ge=1, le=100)] = 1
    kind: Literal["printer", "laser"] | None = Field(
        default=None, description="Deduced from the file (STL: printer, DXF: laser); needed for G-code."
    )
    cohort_id: int | None = None
    priority: Annotated[int, Field(ge=-10, le=10)] = 0
    pinned_machine_id: int | None = None


class JobReject(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1000)]


class JobCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    design_id: int
    kind: str
    material: str
    quantity: int
    priority: int
    state: str
    reason: str | None = Field(description="Why the job is in this state, in the reader's language")
    reason_code: str | None = Field(
        default=None, description="The reason's stable code (README); null when a person typed it"
    )
    reason_params: dict[str, Any] | None = None
    owner_id: int
    submitted_by_id: int
    approved_by_id: int | None
    cohort_id: int | None
    pinned_machine_id: int | None
    machine_id: int | None
    attempt_of_id: int | None
    run_of_id: int | None
    run_number: int
    settings: dict[str, Any]
    requested_action: str | None
    progress: float
    estimates: dict[str, Any]
    machine_seconds: float
    queued_at: datetime | None
    preparing_at: datetime | None
    running_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, job: object, lang: Lang = DEFAULT_LANG) -> JobOut:
        """The job as the API shows it, its reason in `lang`."""
        out = cls.model_validate(job)
        out.reason = render(out.reason_code, out.reason_params, out.reason, lang)
        return out


class JobEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    from_state: str | None
    to_state: str
    actor_id: int | None = Field(description="The person who made or asked for this move; null: the service")
    reason: str | None
    reason_code: str | None = None
    reason_params: dict[str, Any] | None = None
    at: datetime

    @classmethod
    def of(cls, event: object, lang: Lang = DEFAULT_LANG) -> JobEventOut:
        out = cls.model_validate(event)
        out.reason = render(out.reason_code, out.reason_params, out.reason, lang)
        return out


class JobResolve(BaseModel):
    """What the operator found after a crash interrupted a job."""

    model_config = ConfigDict(extra="forbid")
    outcome: Literal["done", "failed", "cancelled"]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None
