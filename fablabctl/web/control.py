"""Acting on the machines this serving process drives: the emergency stop and laser framing.

Both go straight to the driver the dispatcher holds (`app.state.dispatcher.links`), so they work only
in the process that runs the dispatcher (`fablabctl serve`); another process (an in-process CLI call,
`fablabctl dispatch` elsewhere) says so plainly, so nobody believes a machine stopped when it did not.
The firmware gets the stop first; the audit row and the event are written after. Used by the API
(`routers/control.py`) and the pages (`pages/estop.py`, `pages/operator.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from fablabctl import audit
from fablabctl.context import ServiceContext
from fablabctl.db.models import Design, Job, Machine, User
from fablabctl.designs.service import design_path
from fablabctl.errors import Conflict, FablabError, Invalid, not_found
from fablabctl.fleet.service import list_machines, to_spec
from fablabctl.i18n import Text
from fablabctl.machines.base import TERMINAL_EVENTS, Driver, EventKind, MachineError, MachineState
from fablabctl.people.roles import STAFF, require
from fablabctl.queue import events
from fablabctl.queue.states import JobState
from fablabctl.specs import MachineSpec
from fablabctl.toolpath.laser import FRAMING_MAX_FRACTION, generate_framing
from fablabctl.toolpath.result import ToolpathError
from fablabctl.web.transactions import run_in_session

log = logging.getLogger(__name__)
FRAMING_POWER = 0.01  # 1 % of full power: a faint line on the sheet, never a mark
FRAMING_SLACK_S = 15.0

NOT_HERE = Text(
    "Aucune machine pilotée par ce serveur : coupez l'alimentation de la machine.",
    "No machine is driven by this server: switch the machine off at the mains.",
)
FRAMING_NOT_HERE = Text(
    "Ce laser n'est pas piloté par ce serveur : cadrage impossible d'ici.",
    "This laser is not driven by this server: framing cannot be done from here.",
)
FRAMING_BUSY = Text(
    "Cadrage en cours sur cette machine : attendez qu'il finisse.",
    "Framing in progress on this machine: wait for it to finish.",
)


@dataclass(frozen=True, slots=True)
class Stopped:
    machine_id: int
    name: str


def links_of(app_state: Any) -> Any:
    """The dispatcher's machine links, or None in a process without a dispatcher."""
    dispatcher = getattr(app_state, "dispatcher", None)
    return dispatcher.links if dispatcher is not None else None


def _driver(links: Any, machine_id: int) -> Driver | None:
    link = links.get(machine_id) if links is not None else None
    return link.driver if link is not None else None


# ---------------------------------------------------------------------- emergency stop


def staff_machines(session: Session, actor: User) -> dict[int, str]:
    """Staff only; the machines' names by id."""
    require(actor, STAFF)
    return {m.id: m.name for m in list_machines(session=session)}


async def emergency_stop(links: Any, machines: dict[int, str], ids: list[int]) -> list[Stopped]:
    """M112 / Grbl reset to each machine of `ids` this process drives, at once, all in parallel."""
    targets = [(mid, driver) for mid in ids if (driver := _driver(links, mid)) is not None]

    async def stop(machine_id: int, driver: Driver) -> Stopped | None:
        try:
            await driver.emergency_stop()
        except MachineError as exc:  # the stop itself failed: say so, keep stopping the others
            log.error("emergency stop of machine %s failed: %s", machine_id, exc.message.en)
            return None
        return Stopped(machine_id, machines.get(machine_id, f"#{machine_id}"))

    results = await asyncio.gather(*(stop(mid, driver) for mid, driver in targets))
    return [r for r in results if r is not None]


_RECORDS: set[asyncio.Task[None]] = set()  # records waiting for a busy database (kept from the GC)


async def record_after_stop(
    app_state: Any, factory: sessionmaker[Session], actor: User, stopped: list[Stopped]
) -> None:
    """The stop has reached the firmware: its audit row and event are written now or, when the
    database is busy or down, by the dispatcher's retrying transactions as soon as it takes them.
    The answer says the machines stopped either way, since they did: a "busy, try again" after an
    emergency stop would tell the operator the opposite of what happened."""

    def work(session: Session) -> None:
        record_stop(session, actor, stopped)

    try:
        await run_in_threadpool(run_in_session, factory, work, write=True)
        return
    except FablabError as error:
        if error.code != "DB_BUSY":
            raise
    dispatcher = getattr(app_state, "dispatcher", None)
    if dispatcher is None:  # nothing was stopped without a dispatcher: unreachable in practice
        log.error("emergency stop sent, its audit row not written: the database is busy")
        return
    log.warning("emergency stop sent; its audit row waits for the database")
    task = asyncio.get_running_loop().create_task(
        dispatcher.db.run(work, attempts=None, what="emergency stop record")
    )
    _RECORDS.add(task)
    task.add_done_callback(_RECORDS.discard)


def record_stop(session: Session, actor: User, stopped: list[Stopped]) -> None:
    for item in stopped:
        audit.record(
            session,
            actor=actor,
            action="machine.emergency_stop",
            target_type="machine",
            target_id=item.machine_id,
        )
        events.defer(
            session,
            events.MACHINE_MESSAGE,
            {
                "machine_id": item.machine_id,
                "text": f"{item.name}: emergency stop",
                "text_fr": f"{item.name} : arrêt d'urgence",
                "code": "EMERGENCY_STOP",
            },
        )


# ---------------------------------------------------------------------- laser framing


@dataclass(frozen=True, slots=True)
class FramingInput:
    machine_id: int
    machine_name: str
    spec: MachineSpec
    design: Path


def framing_input(session: Session, actor: User, job_id: int, designs_dir: Path) -> FramingInput:
    """The job must wait for the operator on a laser; staff only."""
    require(actor, STAFF)
    job = session.get(Job, job_id)
    if job is None:
        raise not_found("job", job_id)
    machine = session.get(Machine, job.machine_id) if job.machine_id else None
    if job.state != JobState.WAITING_OPERATOR.value or machine is None:
        raise Conflict(
            "FRAMING_NOT_WAITING",
            Text(
                "Le cadrage se fait quand le travail attend l'opérateur, avant la découpe.",
                "Framing is done while the job waits for the operator, before the cut.",
            ),
            state=job.state,
        )
    if machine.kind != "laser":
        raise Invalid(
            "FRAMING_NOT_A_LASER",
            Text("Le cadrage n'existe que pour un laser.", "Framing is for lasers only."),
        )
    design = session.get(Design, job.design_id)
    assert design is not None
    return FramingInput(machine.id, machine.name, to_spec(machine), design_path(designs_dir, design))


def record_framing(session: Session, actor: User, job_id: int, item: FramingInput, power: float) -> None:
    audit.record(
        session, actor=actor, action="machine.framing", target_type="job", target_id=job_id, power=power
    )
    events.defer(
        session,
        events.MACHINE_MESSAGE,
        {
            "machine_id": item.machine_id,
            "job_id": job_id,
            "text": f"{item.machine_name}: framing done",
            "text_fr": f"{item.machine_name} : cadrage fait",
            "code": "FRAMING_DONE",
        },
    )


class Framing:
    """One framing at a time per machine, in this process; `busy` lets the confirm routes wait for it."""

    def __init__(self) -> None:
        self.machines: set[int] = set()
        self.jobs: set[int] = set()

    def busy(self, job_id: int) -> bool:
        return job_id in self.jobs

    async def run(
        self, context: ServiceContext, links: Any, job_id: int, item: FramingInput, power: float
    ) -> dict[str, Any]:
        """Trace the job's outline and wait until the laser is back at rest; returns the estimates."""
        if not 0 <= power <= FRAMING_MAX_FRACTION:
            raise Invalid(
                "BAD_FRAMING_POWER",
                Text(
                    f"Puissance de cadrage entre 0 et {FRAMING_MAX_FRACTION:g}.",
                    f"Framing power between 0 and {FRAMING_MAX_FRACTION:g}.",
                ),
            )
        driver = _driver(links, item.machine_id)
        if driver is None:
            raise Conflict("FRAMING_NOT_HERE", FRAMING_NOT_HERE)
        if item.machine_id in self.machines:
            raise Conflict("FRAMING_BUSY", FRAMING_BUSY)
        if (await driver.status()).state is not MachineState.IDLE:
            raise Conflict(
                "MACHINE_NOT_IDLE",
                Text(
                    "Le laser n'est pas au repos : cadrage impossible.",
                    "The laser is not at rest: no framing.",
                ),
            )
        out = context.settings.cache_dir / "framing" / f"job-{job_id}.nc"
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            result = await asyncio.to_thread(
                generate_framing,
                item.design,
                machine=item.spec,
                out_path=out,
                power_fraction=power,
                limits=context.limits,
            )
        except ToolpathError as exc:
            raise Invalid(exc.code, Text(exc.message_fr, exc.message_en)) from None
        self.machines.add(item.machine_id)
        self.jobs.add(job_id)
        try:
            await self._trace(driver, result.gcode_path, result.duration_s)
        finally:
            self.machines.discard(item.machine_id)
            self.jobs.discard(job_id)
        return dict(result.estimates)

    @staticmethod
    async def _trace(driver: Driver, path: Path, duration_s: float) -> None:
        event = None
        async with driver.subscribe() as stream:
            try:
                await driver.start(path)  # every line passes the machine's G-code safety policy
            except MachineError as exc:
                raise Conflict(exc.code, exc.message) from None
            try:
                async with asyncio.timeout(duration_s * 3 + FRAMING_SLACK_S):
                    async for event in stream:
                        if event.kind in TERMINAL_EVENTS:
                            break
            except TimeoutError:
                with contextlib.suppress(MachineError):
                    await driver.cancel()
                raise Conflict(
                    "FRAMING_TIMEOUT",
                    Text(
                        "Le cadrage n'a pas fini à temps : arrêté.",
                        "Framing did not finish in time: stopped.",
                    ),
                ) from None
        if event is None or event.kind is not EventKind.JOB_DONE:
            data = event.data if event is not None else {}
            fr = str(data.get("reason_fr") or "le laser a signalé un échec")
            en = str(data.get("reason") or "the laser reported a failure")
            raise FablabError(
                "FRAMING_FAILED", Text(f"Cadrage arrêté : {fr}", f"Framing stopped: {en}"), status=409
            )


def framing_of(app_state: Any) -> Framing:
    framing = getattr(app_state, "framing", None)
    if framing is None:
        framing = app_state.framing = Framing()
    return framing


def refuse_confirm_while_framing(app_state: Any, job_id: int) -> None:
    """The bed check is confirmed once the laser is at rest: never while it is still tracing."""
    framing = getattr(app_state, "framing", None)
    if framing is not None and framing.busy(job_id):
        raise Conflict("FRAMING_BUSY", FRAMING_BUSY)
