"""Jobs nobody follows any more: left behind by a crash, or by a runner task that died.

At start-up (`reconcile`) and every few seconds for this process's own jobs (`watchdog.py`):

- `preparing` / `waiting_operator`: nothing ran yet, so the job goes back to the queue.
- `running` / `paused` on a machine still running that file (an OctoPrint keeps printing across our
  restarts; a serial driver of this process may still be streaming): followed again.
- `running` / `paused` anywhere else: `interrupted` with the cause, for an operator to say whether
  the part is done, failed or must be printed again. Resuming a print from a given layer is out of
  scope: a serial machine stops when its host stops streaming, and restarting mid-part needs a
  person at the machine.

A job claimed by another live `fablabctl` process on this host (a second dispatcher of the same
site) is left to it.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl.clock import utc_now
from fablabctl.db.models import Job, JobEvent, Machine, Site
from fablabctl.db.retry import Transactions
from fablabctl.fleet.service import to_spec
from fablabctl.machines.base import Driver, MachineError, MachineState
from fablabctl.queue import events
from fablabctl.queue.claims import release_machine
from fablabctl.queue.jobs import transition
from fablabctl.queue.links import Links
from fablabctl.queue.reasons import Reason, split
from fablabctl.queue.states import ACTIVE_STATES, JobState
from fablabctl.specs import MachineSpec

log = logging.getLogger(__name__)
RESTART = Reason("SERVICE_RESTARTED")
INTERRUPTED_BY_RESTART = Reason("INTERRUPTED_BY_RESTART")
REATTACHED = Reason("REATTACHED")
FOLLOWER_LOST = Reason("FOLLOWER_LOST")
REQUEUED = Reason("FOLLOWER_LOST_BEFORE_START")
FOLLOWED_AGAIN = Reason("FOLLOWED_AGAIN")


@dataclass(frozen=True, slots=True)
class LeftJob:
    job_id: int
    state: str
    gcode_path: str | None
    claimed_by: str | None
    machine_id: int
    driver_type: str
    connection: dict[str, object]
    spec: MachineSpec


@dataclass(frozen=True, slots=True)
class Reattached:
    job_id: int
    machine_id: int
    paused: bool = False


def _active_jobs(session: Session, site: str, worker: str | None) -> list[LeftJob]:
    query = (
        select(Job, Machine)
        .join(Machine, Machine.id == Job.machine_id)
        .join(Site, Site.id == Machine.site_id)
        .where(Site.name == site, Job.state.in_([s.value for s in ACTIVE_STATES]))
        .order_by(Job.id)
    )
    if worker is not None:
        query = query.where(Job.claimed_by == worker)
    return [
        LeftJob(
            job.id,
            job.state,
            job.gcode_path,
            job.claimed_by,
            machine.id,
            machine.driver,
            dict(machine.connection),
            to_spec(machine),
        )
        for job, machine in session.execute(query)
    ]


def _settle(session: Session, job_id: int, machine_id: int, to: JobState, reason: Reason) -> None:
    job = session.get(Job, job_id)
    if job is None or JobState(job.state) not in ACTIVE_STATES:  # settled meanwhile (or by an earlier try)
        release_machine(session, machine_id, job_id)
        return
    transition(session, job, to, actor=None, reason=reason)
    job.requested_action = None
    if to is JobState.QUEUED:
        job.machine_id, job.claimed_by = None, None
    release_machine(session, machine_id, job_id)


def _claim_for(session: Session, job_id: int, worker: str, reason: Reason) -> None:
    """This process follows the job again: recorded in its history and on the event stream."""
    job = session.get(Job, job_id)
    if job is None:
        return
    job.claimed_by = worker
    text, code, params = split(reason)
    session.add(
        JobEvent(
            job_id=job.id,
            from_state=job.state,
            to_state=job.state,
            actor_id=None,
            reason=text,
            reason_code=code,
            reason_params=params,
            at=utc_now(),
        )
    )
    data = events.job_state(job, job.state, reason=reason)
    events.defer(session, events.JOB_STATE, data, owner_id=job.owner_id)


def alive_elsewhere(claimed_by: str | None, me: str) -> bool:
    """Whether `claimed_by` ("site@host:pid") is another fablabctl process still alive on this host."""
    if not claimed_by or claimed_by == me:
        return False
    host, _, pid = claimed_by.partition("@")[2].rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        command = Path(f"/proc/{int(pid)}/cmdline").read_bytes()
    except OSError:
        return False
    return b"fablabctl" in command


async def still_running(driver: Driver, gcode_path: str | None) -> bool:
    """Whether the machine is still running this job's file (re-attaching when the driver can)."""
    if not gcode_path:
        return False
    name = Path(gcode_path).name
    try:
        if await driver.attach(name):
            return True
        status = await driver.status()
    except MachineError as exc:
        log.warning("cannot ask the machine about %s: %s", name, exc.message.en)
        return False
    return status.job == name and status.state in (MachineState.BUSY, MachineState.PAUSED)


async def settle(
    left: list[LeftJob],
    *,
    links: Links,
    db: Transactions,
    worker: str,
    interrupted_reason: Reason,
    requeued_reason: Reason,
    reattached_reason: Reason = FOLLOWED_AGAIN,
) -> list[Reattached]:
    """Re-attach, re-queue or interrupt each job; return the ones to follow again."""
    reattached = []
    for item in left:
        if item.state in (JobState.PREPARING.value, JobState.WAITING_OPERATOR.value):
            await db.run(
                partial(
                    _settle,
                    job_id=item.job_id,
                    machine_id=item.machine_id,
                    to=JobState.QUEUED,
                    reason=requeued_reason,
                ),
                attempts=None,
                what=f"job {item.job_id} requeue",
            )
            continue
        link = links.get(item.machine_id)
        driver = (
            link.driver
            if link is not None and link.driver is not None
            else (await links.ensure(item.machine_id, item.driver_type, dict(item.connection), item.spec))
        )
        if driver is not None and await still_running(driver, item.gcode_path):
            await db.run(
                partial(_claim_for, job_id=item.job_id, worker=worker, reason=reattached_reason),
                attempts=None,
                what=f"job {item.job_id} re-attach",
            )
            reattached.append(Reattached(item.job_id, item.machine_id, item.state == JobState.PAUSED.value))
            log.info("job %s re-attached on machine %s", item.job_id, item.machine_id)
            continue
        await db.run(
            partial(
                _settle,
                job_id=item.job_id,
                machine_id=item.machine_id,
                to=JobState.INTERRUPTED,
                reason=interrupted_reason,
            ),
            attempts=None,
            what=f"job {item.job_id} interrupted",
        )
        log.warning("job %s on machine %s: %s", item.job_id, item.machine_id, interrupted_reason.text().en)
    return reattached


async def reconcile(*, site: str, links: Links, db: Transactions, worker: str) -> list[Reattached]:
    """At start-up: settle every job left active on this site's machines; return the ones to follow."""
    left = await db.run(partial(_active_jobs, site=site, worker=None), attempts=None, what="recovery")
    mine = [item for item in left if not alive_elsewhere(item.claimed_by, worker)]
    return await settle(
        mine,
        links=links,
        db=db,
        worker=worker,
        interrupted_reason=INTERRUPTED_BY_RESTART,
        requeued_reason=RESTART,
        reattached_reason=REATTACHED,
    )


async def orphans(*, site: str, db: Transactions, worker: str, live: set[int]) -> list[LeftJob]:
    """This process's active jobs that no runner task follows (the watchdog's question)."""
    left = await db.run(partial(_active_jobs, site=site, worker=worker), attempts=3, what="watchdog")
    return [item for item in left if item.job_id not in live]
