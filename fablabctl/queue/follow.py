"""Following a job on its machine until it ends: driver events in, job records and bus events out.

Staff requests (pause, resume, cancel) are looked at every `ACTION_POLL_S` whatever the machine
says meanwhile: a chatty printer cannot starve a cancel. The follower ends only on a terminal
event from the driver (done, failed, cancelled), or when the driver has been offline for
`OFFLINE_GRACE_S` without one, so a job never stays `running` for a machine nobody hears.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from fablabctl.context import ServiceContext
from fablabctl.i18n import Text
from fablabctl.machines.base import (
    TERMINAL_EVENTS,
    Driver,
    EventKind,
    MachineError,
    MachineEvent,
    MachineOffline,
    MachineState,
    MachineTimeout,
)
from fablabctl.queue import events
from fablabctl.queue.reasons import Reason
from fablabctl.queue.states import JobState
from fablabctl.queue.steps import JobSteps, Outcome

log = logging.getLogger(__name__)
ACTION_POLL_S = 0.5
PROGRESS_EVERY_S = 1.0
OFFLINE_GRACE_S = 150.0  # longer than any driver's own reconnect grace (OctoPrint: 90 s)


@dataclass
class _Control:
    paused_at: float | None = None
    cancel_sent: bool = False
    refused: str | None = None  # the last request the machine could not take (logged once)


class Follower:
    def __init__(self, context: ServiceContext, steps: JobSteps) -> None:
        self.context, self.steps = context, steps
        self.offline_grace_s = OFFLINE_GRACE_S

    async def follow(
        self, job_id: int, machine_id: int, driver: Driver, *, start: Path | None, paused: bool = False
    ) -> Outcome:
        """Start (or, after a restart, re-attach to) the job and record what happens until it ends."""
        running_since = time.monotonic()
        if start is None:  # re-attached (after a restart): the machine has been running since then
            running_since -= await self.steps.seconds_running(job_id)
        async with driver.subscribe() as stream:
            if start is not None:
                try:
                    await driver.start(start)
                except MachineError as exc:
                    outcome = Outcome(JobState.FAILED, Reason.message(exc.code, exc.message))
                    await self.steps.finish(job_id, machine_id, outcome, 0.0)
                    return outcome
            event = await self._until_end(job_id, machine_id, driver, stream, paused)
        if event is None:
            outcome = Outcome(
                JobState.FAILED, Reason("MACHINE_UNREACHABLE", {"seconds": round(self.offline_grace_s)})
            )
        elif event.kind is EventKind.JOB_DONE:
            outcome = Outcome(JobState.DONE)
        elif event.kind is EventKind.JOB_CANCELLED:
            outcome = Outcome(JobState.CANCELLED, await self.steps.reason(job_id))
        else:
            fr, en = event.data.get("reason_fr"), event.data.get("reason")
            code = str(event.data.get("code") or "MACHINE_FAILED")
            outcome = Outcome(
                JobState.FAILED,
                Reason.message(code, Text(str(fr or en), str(en)))
                if isinstance(en, str) and en
                else Reason("MACHINE_FAILED"),
            )
        await self.steps.finish(job_id, machine_id, outcome, time.monotonic() - running_since)
        return outcome

    async def _until_end(
        self, job_id: int, machine_id: int, driver: Driver, stream: AsyncIterator[MachineEvent], paused: bool
    ) -> MachineEvent | None:
        iterator = aiter(stream)
        pending: asyncio.Future[MachineEvent] = asyncio.ensure_future(anext(iterator))
        control = _Control(paused_at=time.monotonic() if paused else None)
        saving: asyncio.Future[None] | None = None
        last_progress, next_poll, offline_since = 0.0, time.monotonic() + ACTION_POLL_S, None
        try:
            while True:
                done, _ = await asyncio.wait({pending}, timeout=max(0.0, next_poll - time.monotonic()))
                if done:
                    event = pending.result()
                    if event.kind in TERMINAL_EVENTS:
                        return event
                    pending = asyncio.ensure_future(anext(iterator))
                    if (
                        event.kind is EventKind.PROGRESS
                        and time.monotonic() - last_progress >= PROGRESS_EVERY_S
                    ):
                        if saving is None or saving.done():  # one write in flight at most; never blocks
                            saving = asyncio.ensure_future(self.steps.progress(job_id, _fraction(event)))
                            last_progress = time.monotonic()
                    else:
                        self._publish(machine_id, job_id, event)
                if time.monotonic() < next_poll:
                    continue
                next_poll = time.monotonic() + ACTION_POLL_S
                try:
                    await self._obey(job_id, machine_id, driver, control)
                except Exception:  # bookkeeping must never end the follow: the machine still runs
                    log.exception("job %s: handling a staff request failed", job_id)
                state = (await driver.status()).state
                offline_since = (offline_since or time.monotonic()) if state is MachineState.OFFLINE else None
                if offline_since is not None and time.monotonic() - offline_since > self.offline_grace_s:
                    return None
        finally:
            pending.cancel()
            if saving is not None:
                with contextlib.suppress(Exception):
                    await saving  # a late progress write must not land after the job's end

    async def _obey(self, job_id: int, machine_id: int, driver: Driver, control: _Control) -> None:
        """Carry out what staff asked through the API (pause, resume, cancel), then record the new state."""
        action = await self.steps.requested(job_id)
        if action is None:
            return
        try:
            if action == "pause" and control.paused_at is None:
                await driver.pause()
                await self.steps.move(job_id, JobState.PAUSED, requested_action=None)
                control.paused_at = time.monotonic()
                return
            if action == "resume" and control.paused_at is not None:
                await driver.resume()
                await self.steps.move(job_id, JobState.RUNNING, requested_action=None)
                control.paused_at = None
                return
            if action == "cancel":
                if not control.cancel_sent:
                    await driver.cancel()  # the driver's job_cancelled event ends the follow
                    control.cancel_sent = True
                return
        except (MachineOffline, MachineTimeout) as exc:  # kept: tried again when the machine answers
            if control.refused != action:
                control.refused = action
                log.warning("job %s: %s not possible yet: %s", job_id, action, exc.message.en)
                self._say(
                    machine_id,
                    job_id,
                    Text(
                        f"« {action} » en attente : {exc.message.fr}", f"'{action}' waiting: {exc.message.en}"
                    ),
                )
            return
        except MachineError as exc:
            log.warning("job %s: %s refused: %s", job_id, action, exc.message.en)
            self._say(
                machine_id,
                job_id,
                Text(f"« {action} » refusé : {exc.message.fr}", f"'{action}' refused: {exc.message.en}"),
            )
        await self.steps.clear_request(job_id)

    def _say(self, machine_id: int, job_id: int, text: Text) -> None:
        self.context.bus.publish(
            events.MACHINE_MESSAGE,
            {"machine_id": machine_id, "job_id": job_id, "text": text.en, "text_fr": text.fr},
        )

    def _publish(self, machine_id: int, job_id: int, event: MachineEvent) -> None:
        bus = self.context.bus
        if event.kind is EventKind.TEMPERATURE:
            bus.publish(events.MACHINE_TEMPERATURES, {"machine_id": machine_id, **event.data})
        elif event.kind is EventKind.STATE:
            state = str(event.data.get("state") or "")
            bus.publish(events.MACHINE_STATE, events.machine_state(machine_id, state, job_id))
        elif event.kind in (EventKind.MESSAGE, EventKind.ERROR):
            data = event.data
            message: dict[str, object] = {
                "machine_id": machine_id,
                "job_id": job_id,
                "text": str(data.get("text") or data.get("message") or ""),
                "level": event.kind.value,
            }
            for key in ("text_fr", "code"):
                if data.get(key) is not None:
                    message[key] = data[key]
            bus.publish(events.MACHINE_MESSAGE, message)


def _fraction(event: MachineEvent) -> float:
    total = event.data.get("total") or 0
    return round(event.data.get("done", 0) / total, 4) if total else 0.0
