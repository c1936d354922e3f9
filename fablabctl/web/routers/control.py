"""Acting on machines now: the emergency stop (one machine or all) and laser framing before a cut.

These reach the drivers of the process that runs the dispatcher (`fablabctl serve`); see
`web/control.py`. The firmware is told first, then the audit row and the event are committed
before the answer.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from fablabctl.errors import Conflict, not_found
from fablabctl.people.roles import STAFF, require
from fablabctl.toolpath.laser import FRAMING_MAX_FRACTION
from fablabctl.web import control
from fablabctl.web.deps import ContextDep, CurrentUser
from fablabctl.web.params import Id
from fablabctl.web.transactions import CommitFirstRoute, run_in_session

router = APIRouter(tags=["machines"], route_class=CommitFirstRoute)


class StoppedOut(BaseModel):
    machine_id: int
    name: str


class EmergencyStopOut(BaseModel):
    stopped: list[StoppedOut] = Field(description="Machines whose firmware got M112 / Grbl reset")
    not_reached: list[StoppedOut] = Field(
        description="Machines this process does not drive: switch them off at the mains"
    )


class FramingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    power: Annotated[float, Field(ge=0, le=FRAMING_MAX_FRACTION)] = Field(
        default=control.FRAMING_POWER, description="Fraction of full power (0: laser off; at most 0.05)"
    )


class FramingOut(BaseModel):
    job_id: int
    machine_id: int
    bounds_mm: list[list[float]]
    duration_s: float


async def _stop(request: Request, context: ContextDep, actor: CurrentUser, machine_id: int | None) -> Any:
    """One machine: straight to its firmware once the caller is known (no other database trip first);
    all: the list of machines is read first. Names, audit and event come after the stop."""
    require(actor, STAFF)

    def names() -> dict[int, str]:
        return run_in_session(context.sessions, lambda s: control.staff_machines(s, actor), write=False)

    machines = await run_in_threadpool(names) if machine_id is None else {}
    wanted = list(machines) if machine_id is None else [machine_id]
    stopped = await control.emergency_stop(control.links_of(request.app.state), machines, wanted)
    if machine_id is not None:
        machines = await run_in_threadpool(names)
        if machine_id not in machines:
            raise not_found("machine", machine_id)
        stopped = [control.Stopped(s.machine_id, machines[s.machine_id]) for s in stopped]
    if not stopped:
        raise Conflict("ESTOP_NOT_REACHED", control.NOT_HERE)
    await control.record_after_stop(request.app.state, context.sessions, actor, stopped)
    reached = {s.machine_id for s in stopped}
    return EmergencyStopOut(
        stopped=[StoppedOut(machine_id=s.machine_id, name=s.name) for s in stopped],
        not_reached=[StoppedOut(machine_id=m, name=machines[m]) for m in wanted if m not in reached],
    )


@router.post("/machines/emergency-stop")
async def emergency_stop_all(request: Request, context: ContextDep, actor: CurrentUser) -> EmergencyStopOut:
    """EMERGENCY STOP of every machine this server drives (M112 / Grbl soft reset), at once. Staff only.
    409 `ESTOP_NOT_REACHED` when this process drives none: switch them off at the mains."""
    result: EmergencyStopOut = await _stop(request, context, actor, None)
    return result


@router.post("/machines/{machine_id}/emergency-stop")
async def emergency_stop_one(
    machine_id: Id, request: Request, context: ContextDep, actor: CurrentUser
) -> EmergencyStopOut:
    """EMERGENCY STOP of one machine (M112 / Grbl soft reset), straight to the firmware. Staff only."""
    result: EmergencyStopOut = await _stop(request, context, actor, machine_id)
    return result


@router.post("/jobs/{job_id}/framing")
async def frame_job(
    job_id: Id, request: Request, context: ContextDep, actor: CurrentUser, body: FramingIn | None = None
) -> FramingOut:
    """Trace the job's outline on the laser at low power (default 1 %) so the operator can check the
    sheet's place; only while the job waits for the operator. Answers once the laser is at rest."""
    power = body.power if body is not None else control.FRAMING_POWER
    item = await run_in_threadpool(
        run_in_session,
        context.sessions,
        lambda s: control.framing_input(s, actor, job_id, context.settings.designs_dir),
        write=False,
    )
    framing = control.framing_of(request.app.state)
    estimates = await framing.run(context, control.links_of(request.app.state), job_id, item, power)
    await run_in_threadpool(
        run_in_session,
        context.sessions,
        lambda s: control.record_framing(s, actor, job_id, item, power),
        write=True,
    )
    return FramingOut(
        job_id=job_id,
        machine_id=item.machine_id,
        bounds_mm=estimates.get("bounds_mm", []),
        duration_s=float(estimates.get("duration_s", 0.0)),
    )
