"""The dispatcher's connections to the machines of its site: one driver per machine, kept open.

A machine that cannot be reached is retried now and then; a simulated machine gets its simulator
started here, so the demo mode runs the real serial drivers end to end.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from fablabctl.machines.base import Driver, MachineError, MachineState
from fablabctl.machines.factory import Simulator, make_driver

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


class Links:
    def __init__(self, sim_speed: float = 1.0) -> None:
        self._links: dict[int, Link] = {}
        self.sim_speed = sim_speed

    def get(self, machine_id: int) -> Link | None:
        return self._links.get(machine_id)

    async def ensure(self, machine_id: int, driver_type: str, connection: dict[str, Any]) -> Driver | None:
        """The connected driver, or None (with `link.error`) when the machine cannot be reached now."""
        signature = (driver_type, repr(sorted(connection.items())))
        link = self._links.get(machine_id)
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
        try:
            options = dict(connection)
            if options.get("simulated"):
                options.setdefault("sim_speed", self.sim_speed)
            driver, simulator = make_driver(driver_type, options)
            link.simulator = simulator
            await driver.connect()
        except MachineError as exc:
            link.error = exc.message.en
            await self._drop(link)
            log.warning("machine %s unreachable: %s", machine_id, exc.message.en)
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
