"""The dispatcher's connections to the machines of its site: one driver per machine, kept open.

A machine that cannot be reached is retried now and then; a simulated machine gets its simulator
started here, so the demo mode runs the real serial drivers end to end.

One owner at a time: while a job runs on a machine, its runner *holds* the link, and nothing here
closes or replaces that driver (an OctoPrint that restarts, a USB port that drops). The driver
and the runner following it settle the job (re-attached, or failed with the cause); only then is
the link released, and a machine that went away is reconnected for the next job.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from fablabctl.machines.base import Driver, MachineError, MachineState
from fablabctl.machines.factory import Simulator, make_driver
from fablabctl.specs import MachineSpec

log = logging.getLogger(__name__)
RETRY_S = 10.0


@dataclass
class Link:
    machine_id: int
    driver_type: str
    connection: dict[str, Any]
    driver: Driver | None = None
    simulator: Simulator | None = None
    last_try: float = 0.0
    error: str | None = None
    settings: tuple[str, str] = field(default=("", ""))
    holder: int | None = None  # the job whose runner follows this driver; None when free


class Links:
    def __init__(self, sim_speed: float = 1.0) -> None:
        self._links: dict[int, Link] = {}
        self.sim_speed = sim_speed

    def get(self, machine_id: int) -> Link | None:
        return self._links.get(machine_id)

    def hold(self, machine_id: int, job_id: int) -> None:
        """The job's runner now follows this machine's driver: keep it as it is until `release`."""
        link = self._links.get(machine_id)
        if link is not None:
            link.holder = job_id

    def release(self, machine_id: int, job_id: int) -> None:
        link = self._links.get(machine_id)
        if link is not None and link.holder == job_id:
            link.holder = None

    async def ensure(
        self, machine_id: int, driver_type: str, connection: dict[str, Any], spec: MachineSpec | None = None
    ) -> Driver | None:
        """The connected driver, or None (with `link.error`) when the machine cannot be reached now.

        A held link is returned as it is, reachable or not: reconnecting would orphan the job
        following it. Settings changed while a job runs are applied once it ends."""
        signature = (driver_type, repr(sorted(connection.items())))
        link = self._links.get(machine_id)
        if link is not None and link.driver is not None and spec is not None:
            link.driver.use_policy(spec)  # the machine's G-code safety limits, from its next job on
        if link is not None and link.holder is not None:
            return link.driver
        if link is not None and link.settings != signature:  # the machine's settings changed: reconnect
            await self.close(machine_id)
            link = None
        if link is None:
            link = Link(machine_id, driver_type, connection, settings=signature)
            self._links[machine_id] = link
        if link.driver is not None and (await link.driver.status()).state is not MachineState.OFFLINE:
            return link.driver
        if time.monotonic() - link.last_try < RETRY_S and link.last_try:
            return None
        link.last_try = time.monotonic()
        await self._drop(link)
        driver: Driver | None = None
        try:
            options = dict(connection)
            if options.get("simulated"):
                options.setdefault("sim_speed", self.sim_speed)
            driver, link.simulator = make_driver(driver_type, options, spec)
            await driver.connect()
        except Exception as exc:  # one unreachable machine (whatever the failure) must not stop the others
            link.error = exc.message.en if isinstance(exc, MachineError) else f"{type(exc).__name__}: {exc}"
            if driver is not None:  # a half-open driver (an HTTP client, a port) is closed too
                with contextlib.suppress(Exception):
                    await driver.disconnect()
            await self._drop(link)
            log.warning("machine %s unreachable: %s", machine_id, link.error)
            return None
        link.driver, link.error = driver, None
        return driver

    async def _drop(self, link: Link) -> None:
        if link.driver is not None:
            with contextlib.suppress(MachineError):
                await link.driver.disconnect()
        if link.simulator is not None:
            link.simulator.stop()
        link.driver, link.simulator = None, None

    async def close(self, machine_id: int) -> None:
        link = self._links.pop(machine_id, None)
        if link is not None:
            await self._drop(link)

    async def close_all(self) -> None:
        for machine_id in list(self._links):
            await self.close(machine_id)
