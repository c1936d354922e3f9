"""Machine records: create, read, update, retire; and the `MachineSpec` the pure layers need."""

from __future__ import annotations

from typing import cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.db.models import Job, Machine, User
from fablabctl.errors import Conflict, Invalid, not_found
from fablabctl.fleet.schemas import MachineCreate, MachineUpdate, check_connection
from fablabctl.i18n import Text
from fablabctl.people.roles import MACHINE_KEEPERS, require
from fablabctl.sites import get_or_create_site
from fablabctl.specs import DriverType, MachineKind, MachineSpec


def to_spec(machine: Machine) -> MachineSpec:
    return MachineSpec(
        name=machine.name,
        kind=cast(MachineKind, machine.kind),
        driver=cast(DriverType, machine.driver),
        bed_x_mm=machine.bed_x_mm,
        bed_y_mm=machine.bed_y_mm,
        bed_z_mm=machine.bed_z_mm,
        nozzle_mm=machine.nozzle_mm,
        max_hotend_c=machine.max_hotend_c,
        max_bed_c=machine.max_bed_c,
        laser_s_max=machine.laser_s_max,
        laser_max_power_s=machine.laser_max_power_s,
        materials=tuple(machine.materials),
    )


def _name_taken(name: str) -> Conflict:
    return Conflict(
        "MACHINE_NAME_TAKEN",
        Text(f"Une machine s'appelle déjà « {name} ».", f"A machine named '{name}' already exists."),
    )


def create_machine(
    *, session: Session, actor: User | None, data: MachineCreate, default_site: str
) -> Machine:
    """Add a machine (admins and operators; `actor=None` for the server-side CLI and demo setup)."""
    if actor is not None:
        require(actor, MACHINE_KEEPERS)
    if session.scalar(select(Machine.id).where(Machine.name == data.name)) is not None:
        raise _name_taken(data.name)
    site = get_or_create_site(session, data.site or default_site)
    machine = Machine(site_id=site.id, **data.model_dump(exclude={"site"}), state="offline")
    session.add(machine)
    try:
        session.flush()
    except IntegrityError:
        raise _name_taken(data.name) from None
    audit.record(session, actor=actor, action="machine.create", target_type="machine", target_id=machine.id)
    return machine


def list_machines(*, session: Session, kind: str | None = None) -> list[Machine]:
    query = select(Machine).order_by(Machine.name)
    if kind is not None:
        query = query.where(Machine.kind == kind)
    return list(session.scalars(query))


def get_machine(*, session: Session, machine_id: int) -> Machine:
    machine = session.get(Machine, machine_id)
    if machine is None:
        raise not_found("machine", machine_id)
    return machine


def machine_by_name(*, session: Session, name: str) -> Machine | None:
    return session.scalar(select(Machine).where(Machine.name == name))


def update_machine(*, session: Session, actor: User, machine_id: int, data: MachineUpdate) -> Machine:
    require(actor, MACHINE_KEEPERS)
    machine = get_machine(session=session, machine_id=machine_id)
    changed = data.model_dump(exclude_unset=True)
    if "connection" in changed:
        try:
            check_connection(machine.driver, changed["connection"] or {})
        except ValueError as exc:
            raise Invalid(
                "BAD_CONNECTION", Text(f"Connexion invalide : {exc}", f"Invalid connection: {exc}")
            ) from None
    power = changed.get("laser_max_power_s")  # null leaves it as it is (below)
    if power is not None and power > machine.laser_s_max:
        raise Invalid(
            "LASER_POWER_ABOVE_MAX",
            Text(
                "La puissance maximale dépasse $30 de la machine.",
                "The maximum power exceeds the machine's $30.",
            ),
        )
    for field, value in changed.items():
        if value is not None or field == "loaded_material":
            setattr(machine, field, value)
    audit.record(
        session,
        actor=actor,
        action="machine.update",
        target_type="machine",
        target_id=machine.id,
        fields=sorted(changed),
    )
    return machine


def delete_machine(*, session: Session, actor: User, machine_id: int) -> None:
    require(actor, MACHINE_KEEPERS)
    machine = get_machine(session=session, machine_id=machine_id)
    busy = session.scalar(
        select(Job.id).where(
            Job.machine_id == machine.id,
            Job.state.in_(("preparing", "waiting_operator", "running", "paused")),
        )
    )
    if busy is not None:
        raise Conflict(
            "MACHINE_BUSY",
            Text(
                "La machine a un travail en cours : annulez-le d'abord.",
                "The machine has a job in progress: cancel it first.",
            ),
        )
    session.delete(machine)
    audit.record(session, actor=actor, action="machine.delete", target_type="machine", target_id=machine_id)
