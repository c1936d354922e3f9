"""Machine records: everyone logged in reads them; admins and operators change them."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from fablabctl.fleet import service
from fablabctl.fleet.schemas import MachineCreate, MachineOut, MachineUpdate
from fablabctl.queue import records
from fablabctl.web.deps import ContextDep, CurrentUser, SessionDep
from fablabctl.web.params import Id
from fablabctl.web.transactions import CommitFirstRoute

router = APIRouter(prefix="/machines", tags=["machines"], route_class=CommitFirstRoute)


@router.get("")
def list_machines(
    session: SessionDep, actor: CurrentUser, kind: Literal["printer", "laser"] | None = None
) -> list[MachineOut]:
    return [MachineOut.model_validate(m) for m in service.list_machines(session=session, kind=kind)]


@router.get("/stats")
def machine_stats(session: SessionDep, actor: CurrentUser) -> list[records.MachineStats]:
    """The odometer: hours run, jobs done and failed, per machine (for maintenance)."""
    return records.machine_stats(session=session)


@router.post("", status_code=201)
def create_machine(
    body: MachineCreate, session: SessionDep, actor: CurrentUser, context: ContextDep
) -> MachineOut:
    machine = service.create_machine(
        session=session, actor=actor, data=body, default_site=context.settings.site
    )
    return MachineOut.model_validate(machine)


@router.get("/{machine_id}")
def get_machine(machine_id: Id, session: SessionDep, actor: CurrentUser) -> MachineOut:
    return MachineOut.model_validate(service.get_machine(session=session, machine_id=machine_id))


@router.patch("/{machine_id}")
def update_machine(
    machine_id: Id, body: MachineUpdate, session: SessionDep, actor: CurrentUser
) -> MachineOut:
    machine = service.update_machine(session=session, actor=actor, machine_id=machine_id, data=body)
    return MachineOut.model_validate(machine)


@router.delete("/{machine_id}", status_code=204)
def delete_machine(machine_id: Id, session: SessionDep, actor: CurrentUser) -> None:
    service.delete_machine(session=session, actor=actor, machine_id=machine_id)
