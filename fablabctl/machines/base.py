"""The driver protocol every machine speaks, whatever is behind it (OctoPrint, Marlin, GRBL).

How the job layer uses a driver::

    driver = make_driver(driver_type, connection)      # fablabctl.machines.factory
    await driver.connect()
    async with driver.subscribe() as events:           # subscribe before starting: nothing is missed
        await driver.start(gcode_path)
        async for event in events:
            ...                                         # progress, temperatures, messages, state
            if event.kind in TERMINAL_EVENTS:           # job_done / job_failed / job_cancelled
                break

After a crash, `await driver.status()` tells whether the machine is still printing (OctoPrint keeps
printing on its own; a serial machine stops when its host stops streaming).

Every call has a timeout; every failure is a `MachineError` with a stable code and a FR/EN message.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from fablabctl.i18n import Text
from fablabctl.machines.gate import PolicyGate
from fablabctl.specs import DEFAULT_PRINTER, MachineSpec


class MachineState(StrEnum):
    OFFLINE = "offline"
    IDLE = "idle"
    BUSY = "busy"  # running a job
    PAUSED = "paused"
    ERROR = "error"


class EventKind(StrEnum):
    STATE = "state"
    PROGRESS = "progress"
    TEMPERATURE = "temperature"
    MESSAGE = "message"  # something the firmware said
    ERROR = "error"
    JOB_DONE = "job_done"
    JOB_FAILED = "job_failed"
    JOB_CANCELLED = "job_cancelled"


TERMINAL_EVENTS = frozenset({EventKind.JOB_DONE, EventKind.JOB_FAILED, EventKind.JOB_CANCELLED})


@dataclass(frozen=True, slots=True)
class MachineEvent:
    kind: EventKind
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Heater:
    actual: float
    target: float


@dataclass(slots=True)
class MachineStatus:
    state: MachineState = MachineState.OFFLINE
    temperatures: dict[str, Heater] = field(default_factory=dict)  # "hotend", "bed"
    done: int = 0  # lines (serial) or bytes (OctoPrint)
    total: int = 0
    unit: str = "lines"
    position: dict[str, float] = field(default_factory=dict)
    last_error: str | None = None
    job: str | None = None  # file name of the running job

    @property
    def progress(self) -> float:
        return self.done / self.total if self.total else 0.0


class MachineError(Exception):
    """A failure talking to a machine: `code` is stable, `message` says it in French and English."""

    code = "MACHINE_ERROR"

    def __init__(self, message: Text, *, code: str | None = None) -> None:
        super().__init__(message.en)
        self.message = message
        if code:
            self.code = code


INTERNAL_CODE = "DRIVER_INTERNAL_ERROR"


def internal_error(exc: BaseException) -> Text:
    """A bug in a driver still ends its job, with the machine made safe: never a job left running."""
    name = type(exc).__name__
    return Text(
        f"Erreur interne du pilote ({name}) : le travail est arrêté et la machine mise en sécurité.",
        f"Internal driver error ({name}): the job is stopped and the machine made safe.",
    )


class MachineOffline(MachineError):
    code = "MACHINE_OFFLINE"


class MachineTimeout(MachineError):
    code = "MACHINE_TIMEOUT"


class MachineBusy(MachineError):
    code = "MACHINE_BUSY"


class MachineRefused(MachineError):
    code = "MACHINE_REFUSED"


class EventHub:
    """Fan-out of driver events to any number of listeners (the dispatcher, the CLI, tests)."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[MachineEvent]] = set()

    def emit(self, kind: EventKind, **data: Any) -> None:
        event = MachineEvent(kind, data)
        for queue in list(self._queues):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[MachineEvent]]:
        queue: asyncio.Queue[MachineEvent] = asyncio.Queue(maxsize=10_000)
        self._queues.add(queue)

        async def iterate() -> AsyncIterator[MachineEvent]:
            while True:
                yield await queue.get()

        try:
            yield iterate()
        finally:
            self._queues.discard(queue)


class Driver(abc.ABC):
    """Base of the three drivers: shared status, events and the public protocol."""

    kind = "machine"
    default_spec: ClassVar[MachineSpec] = DEFAULT_PRINTER  # whose safety policy applies until told

    def __init__(self) -> None:
        self.hub = EventHub()
        self._status = MachineStatus()
        self.gate = PolicyGate(self.default_spec)  # the G-code policy, run on every job line sent

    def use_policy(self, spec: MachineSpec) -> None:
        """Check job lines against this machine's limits (from its record), from the next job on."""
        self.gate.spec = spec

    def subscribe(self) -> contextlib.AbstractAsyncContextManager[AsyncIterator[MachineEvent]]:
        return self.hub.subscribe()

    def _set_state(self, state: MachineState) -> None:
        if state is not self._status.state:
            self._status.state = state
            self.hub.emit(EventKind.STATE, state=state.value)

    async def status(self) -> MachineStatus:
        return self._status

    @abc.abstractmethod
    async def connect(self) -> None: ...

    @abc.abstractmethod
    async def disconnect(self) -> None: ...

    @abc.abstractmethod
    async def start(self, path: Path) -> None: ...

    @abc.abstractmethod
    async def pause(self) -> None: ...

    @abc.abstractmethod
    async def resume(self) -> None: ...

    @abc.abstractmethod
    async def cancel(self) -> None: ...

    @abc.abstractmethod
    async def emergency_stop(self) -> None: ...

    async def attach(self, job_name: str) -> bool:
        """After a restart of the service: follow a job the machine is still running on its own.

        Only machines with their own host (OctoPrint) can; a serial machine stops when nobody streams.
        """
        return False


def job_lines(path: Path) -> list[str]:
    """The commands to stream: comments and blank lines removed, as the firmware would ignore them."""
    lines = []
    with path.open("r", encoding="utf-8", errors="replace") as stream:
        for raw in stream:
            line = raw.split(";", 1)[0].strip()
            if line:
                lines.append(line)
    return lines
