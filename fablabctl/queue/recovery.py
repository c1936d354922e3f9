"""What a restarted service does with jobs its previous life left on its machines.

- `preparing` / `waiting_operator`: nothing ran yet, so the job goes back to the queue.
- `running` / `paused` on an OctoPrint printer that is still printing that file: re-attached.
- `running` / `paused` anywhere else: `interrupted`, for an operator to say whether the part is done,
  failed or must be printed again. Resuming a print from a given layer is out of scope: a serial
  machine stops when its host stops streaming, and restarting mid-part needs a person at the machine.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from fablabctl.context import ServiceContext
from fablabctl.db.engine import session_scope
from fablabctl.db.models import Job, Machine, Site
from fablabctl.machines.base import MachineError
from fablabctl.queue.claims import release_machine
from fablabctl.queue.jobs import transition
from fablabctl.queue.links import Links
from fablabctl.queue.states import JobState

log = logging.getLogger(__name__)
RESTART = "service redémarré / service restarted"


@dataclass(frozen=True, slots=True)
class Reattached:
    job_id: int
    machine_id: int


async def reconcile(context: ServiceContext, links: Links) -> list[Reattached]:
    """Settle every job left active on this site's machines; return the ones to follow again."""
    active = [
        s.value for s in (JobState.PREPARING, JobState.WAITING_OPERATOR, JobState.RUNNING, JobState.PAUSED)
    ]
    with session_scope(context.sessions) as session:
        rows = [
            (job.id, job.state, job.gcode_path, machine.id, machine.driver, dict(machine.connection))
            for job, machine in session.execute(
                select(Job, Machine)
                .join(Machine, Machine.id == Job.machine_id)
                .join(Site, Site.id == Machine.site_id)
                .where(Site.name == context.settings.site, Job.state.in_(active))
            )
        ]
    reattached = []
    for job_id, state, gcode_path, machine_id, driver_type, connection in rows:
        if state in (JobState.PREPARING.value, JobState.WAITING_OPERATOR.value):
            _settle(context, job_id, machine_id, JobState.QUEUED, RESTART)
            continue
        if driver_type == "octoprint" and not connection.get("simulated") and gcode_path:
            driver = await links.ensure(machine_id, driver_type, connection)
            try:
                if driver is not None and await driver.attach(Path(gcode_path).name):
                    reattached.append(Reattached(job_id, machine_id))
                    continue
            except MachineError as exc:
                log.warning("job %s: cannot re-attach: %s", job_id, exc.message.en)
        _settle(
            context,
            job_id,
            machine_id,
            JobState.INTERRUPTED,
            "interrompu par un redémarrage du service : vérifiez la pièce / "
            "interrupted by a service restart: check the part",
        )
    return reattached


def _settle(context: ServiceContext, job_id: int, machine_id: int, to: JobState, reason: str) -> None:
    with session_scope(context.sessions) as session:
        job = session.get(Job, job_id)
        assert job is not None
        transition(session, job, to, actor=None, reason=reason)
        if to is JobState.QUEUED:
            job.machine_id, job.claimed_by = None, None
        release_machine(session, machine_id, job_id)
