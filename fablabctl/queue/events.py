"""The queue's events, Moonraker-style: their names, the fields each carries, and how they are built.

They travel on the service's one bus (`fablabctl.event_bus`): deferred on the database session
(`defer`) and published once the transaction commits. `shape_errors` is the bus's check
(`EventBus(check=shape_errors)`): an event off its documented shape is a bug of ours, said loudly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# the queue's modules publish with `events.defer` and read `events.Event`, from the bus
from fablabctl.event_bus import Event as Event
from fablabctl.event_bus import EventBus as EventBus
from fablabctl.event_bus import defer as defer
from fablabctl.queue.reasons import Reason, split

JOB_STATE = "notify_job_state_changed"
JOB_PROGRESS = "notify_job_progress"
MACHINE_STATE = "notify_machine_state_changed"
MACHINE_TEMPERATURES = "notify_machine_temperatures"
MACHINE_MESSAGE = "notify_machine_message"
OPERATOR_PROMPT = "notify_operator_prompt"
JOB_BLOCKED = "notify_job_blocked"
EVENT_NAMES = (
    JOB_STATE,
    JOB_PROGRESS,
    JOB_BLOCKED,
    MACHINE_STATE,
    MACHINE_TEMPERATURES,
    MACHINE_MESSAGE,
    OPERATOR_PROMPT,
)


@dataclass(frozen=True, slots=True)
class Shape:
    """The fields an event always carries, and the ones it may add (README: "Event stream")."""

    required: frozenset[str]
    optional: frozenset[str] = frozenset()
    open_ended: bool = False  # temperatures: one entry per heater, named by the machine


def _shape(required: str, optional: str = "", *, open_ended: bool = False) -> Shape:
    return Shape(frozenset(required.split()), frozenset(optional.split()), open_ended)


SHAPES: dict[str, Shape] = {
    JOB_STATE: _shape(
        "job_id from_state to_state machine_id actor_id",
        "reason reason_code reason_params requested",
    ),
    JOB_PROGRESS: _shape("job_id progress"),
    JOB_BLOCKED: _shape("job_id reason_code reason_params reason_fr reason_en"),
    MACHINE_STATE: _shape("machine_id state job_id"),
    MACHINE_TEMPERATURES: _shape("machine_id", open_ended=True),
    MACHINE_MESSAGE: _shape("machine_id text", "text_fr job_id code level"),
    OPERATOR_PROMPT: _shape("job_id machine_id machine question_fr question_en"),
}


def shapes_table() -> str:
    """The event shapes as a Markdown table (the OpenAPI description of `/api/v1/events`)."""
    lines = ["| event | always | sometimes |", "|---|---|---|"]
    for name, shape in SHAPES.items():
        always = ", ".join(f"`{k}`" for k in sorted(shape.required))
        sometimes = ", ".join(f"`{k}`" for k in sorted(shape.optional))
        if shape.open_ended:
            sometimes = "one `{actual, target}` per heater, by the heater's name"
        lines.append(f"| `{name}` | {always} | {sometimes} |")
    return "\n".join(lines)


def shape_errors(name: str, data: dict[str, Any]) -> list[str]:
    """What is wrong with this event against its documented shape (empty: it matches)."""
    shape = SHAPES.get(name)
    if shape is None:
        return [f"unknown event name {name!r}"]
    problems = [f"{name}: missing {key!r}" for key in sorted(shape.required - set(data))]
    if not shape.open_ended:
        extra = set(data) - shape.required - shape.optional
        problems += [f"{name}: undocumented {key!r}" for key in sorted(extra)]
    return problems


def job_state(
    job: Any,
    from_state: str | None,
    *,
    actor_id: int | None = None,
    reason: str | Reason | None = None,
    requested: str | None = None,
) -> dict[str, Any]:
    """`notify_job_state_changed` for `job` (a `Job` row); a staff request keeps from = to = its state."""
    data: dict[str, Any] = {
        "job_id": job.id,
        "from_state": from_state,
        "to_state": job.state,
        "machine_id": job.machine_id,
        "actor_id": actor_id,
    }
    if reason is not None:
        data["reason"], data["reason_code"], data["reason_params"] = split(reason)
    if requested is not None:
        data["requested"] = requested
    return data


def machine_state(machine_id: int, state: str, job_id: int | None) -> dict[str, Any]:
    return {"machine_id": machine_id, "state": state, "job_id": job_id}
