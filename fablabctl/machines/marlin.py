"""Marlin over USB serial: numbered, checksummed lines, one in flight per `ok`, resends, busy keep-alive.

The stream keeps a history of sent lines so a `Resend: N` replays from N. A missing `ok` (lost on
the wire) is detected by a timeout that any sign of life resets (`busy:`, temperature reports during
M109); the next numbered line then serves as the probe: if the firmware had not received the
previous line it asks for it again, so nothing is skipped and nothing runs twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from fablabctl.i18n import Text
from fablabctl.machines import marlin_protocol as mp
from fablabctl.machines.base import (
    EventKind,
    Heater,
    MachineBusy,
    MachineError,
    MachineOffline,
    MachineState,
    MachineTimeout,
    job_lines,
)
from fablabctl.machines.serial_link import SerialDriver

log = logging.getLogger(__name__)
PARK = ["G91", "G1 Z5 F600", "G90"]
UNPARK = ["G91", "G1 Z-5 F600", "G90"]
COOL_DOWN = ["M104 S0", "M140 S0", "M107", "M84"]
HISTORY = 2000
MAX_SILENT_TIMEOUTS = 3


class _Failed(Exception):
    """The firmware gave up (kill(), thermal runaway...) or went away: the job fails with `reason`."""

    def __init__(self, reason: Text) -> None:
        super().__init__(reason.en)
        self.reason = reason


class MarlinDriver(SerialDriver):
    kind = "marlin"
    firmware = "Marlin"

    def __init__(
        self,
        port: str,
        baud: int = 115200,
        *,
        ok_timeout: float = 10.0,
        poll_s: float = 2.0,
        connect_timeout: float = 10.0,
    ) -> None:
        super().__init__(port, baud, connect_timeout)
        self.ok_timeout, self.poll_s = ok_timeout, poll_s
        self.capabilities = mp.Capabilities()
        self._replies: asyncio.Queue[str | None] = asyncio.Queue()
        self._job: asyncio.Task[None] | None = None
        self._number = 0  # last line number acknowledged or sent
        self._history: dict[int, str] = {}
        self._pause = asyncio.Event()
        self._resume = asyncio.Event()
        self._cancel = asyncio.Event()
        self._halted: Text | None = None
        self._relative_e = False
        self._last_poll = 0.0
        self.sent_lines = 0  # numbered lines written (resends included), for benchmarks
        self._silent = 0  # consecutive timeouts: three in a row means the firmware is gone

    # ------------------------------------------------------------------ connection

    def _connected(self) -> None:
        self._set_state(MachineState.IDLE)

    async def _handshake(self) -> None:
        self._number = 0
        await self._command("M110 N0", number=0)
        self._number = 0
        info: list[str] = []
        await self._command("M115", collect=info)
        self.capabilities = mp.capabilities(info)
        if self.capabilities.autoreport_temp:
            await self._command(f"M155 S{max(1, int(self.poll_s))}")

    async def disconnect(self) -> None:
        if self._job and not self._job.done():
            self._cancel.set()
            self._job.cancel()
            with contextlib.suppress(asyncio.CancelledError, MachineError):
                await self._job
        if self._reader:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self.link:
            await self.link.close()
        self._set_state(MachineState.OFFLINE)

    async def _read_loop(self) -> None:
        assert self.link is not None
        while True:
            line = await self.link.lines.get()
            if line is None:
                self._halted = Text(
                    f"Imprimante déconnectée ({self.port}).", f"Printer disconnected ({self.port})."
                )
                await self._replies.put(None)
                if self._job is None or self._job.done():
                    self._status.last_error = self._halted.en
                    self._set_state(MachineState.OFFLINE)
                return
            temps = mp.temperatures(line) if ("T:" in line or "B:" in line) else {}
            if temps:
                self._status.temperatures = {k: Heater(a, t) for k, (a, t) in temps.items()}
                self.hub.emit(
                    EventKind.TEMPERATURE, **{k: {"actual": a, "target": t} for k, (a, t) in temps.items()}
                )
            if mp.is_error(line) and not mp.recoverable(line):
                if self._halted is None:  # the first error is the cause; "kill() called" follows it
                    self._halted = Text(
                        f"L'imprimante s'est arrêtée : {line}", f"The printer stopped: {line}"
                    )
                self.hub.emit(EventKind.ERROR, message=line)
            elif not mp.is_ok(line) and not temps and not mp.is_busy(line) and mp.resend_line(line) is None:
                self.hub.emit(EventKind.MESSAGE, text=line)
            await self._replies.put(line)

    # ------------------------------------------------------------------ one command

    async def _send_line(self, number: int, command: str) -> None:
        assert self.link is not None
        self._history.pop(number - HISTORY, None)
        self.sent_lines += 1
        await self.link.write((mp.numbered(number, command) + "\n").encode())

    async def _await_ack(self, collect: list[str] | None = None) -> int | None:
        """Wait for `ok`; return the line to resend from, or None. Any sign of life resets the timer."""
        resend: int | None = None
        deadline = time.monotonic() + self.ok_timeout
        while True:
            if self._halted:
                raise _Failed(self._halted)
            try:
                line = await asyncio.wait_for(self._replies.get(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                raise MachineTimeout(
                    Text("Pas de « ok » de l'imprimante.", "No 'ok' from the printer.")
                ) from None
            if line is None or self._halted:
                raise _Failed(self._halted or Text("Imprimante déconnectée.", "Printer disconnected."))
            deadline = time.monotonic() + self.ok_timeout
            number = mp.resend_line(line)
            if number is not None:
                resend = number
            elif mp.is_ok(line):
                return resend
            elif collect is not None:
                collect.append(line)

    async def _command(
        self, command: str, *, number: int | None = None, collect: list[str] | None = None
    ) -> None:
        """Send one numbered command and wait until it is acknowledged, replaying history on `Resend:`."""
        number = self._number + 1 if number is None else number
        self._number = number
        self._history[number] = command
        send = number
        while True:
            await self._send_line(send, self._history[send])
            try:
                resend = await self._await_ack(collect)
                self._silent = 0
            except MachineTimeout:
                self._silent += 1
                if self._silent >= MAX_SILENT_TIMEOUTS:
                    raise MachineTimeout(
                        Text("L'imprimante ne répond plus.", "The printer stopped answering.")
                    ) from None
                resend = None  # presume the ok was lost; the next numbered line will tell
            if resend is not None and resend <= number:
                if resend not in self._history:
                    raise _Failed(
                        Text(
                            f"Ligne {resend} redemandée mais trop ancienne.",
                            f"Line {resend} requested again but too old.",
                        )
                    )
                send = resend
                continue
            if send >= number:
                return
            send += 1

    # ------------------------------------------------------------------ jobs

    async def start(self, path: Path) -> None:
        if self._status.state is not MachineState.IDLE:
            raise MachineBusy(
                Text(
                    f"L'imprimante n'est pas prête ({self._status.state}).",
                    f"The printer is not ready ({self._status.state}).",
                )
            )
        lines = job_lines(path)
        self._cancel.clear()
        self._pause.clear()
        self._status.done, self._status.total, self._status.job = 0, len(lines), path.name
        self._set_state(MachineState.BUSY)
        self._job = asyncio.create_task(self._run_job(lines), name=f"marlin job {path.name}")

    async def _run_job(self, lines: list[str]) -> None:
        started = time.monotonic()
        try:
            await self._stream(lines)
        except _Failed as exc:
            self._fail(exc.reason)
            return
        except MachineTimeout as exc:
            self._fail(exc.message)
            return
        except MachineOffline as exc:
            self._fail(exc.message)
            return
        if self._cancel.is_set():
            with contextlib.suppress(_Failed, MachineError):
                for command in COOL_DOWN:
                    await self._command(command)
            self._set_state(MachineState.IDLE)
            self.hub.emit(EventKind.JOB_CANCELLED, done=self._status.done, total=self._status.total)
            return
        self._set_state(MachineState.IDLE)
        self.hub.emit(EventKind.JOB_DONE, lines=len(lines), seconds=round(time.monotonic() - started, 1))

    def _fail(self, reason: Text) -> None:
        self._status.last_error = reason.en
        self._set_state(MachineState.ERROR if self._halted else MachineState.IDLE)
        self.hub.emit(EventKind.JOB_FAILED, reason=reason.en, reason_fr=reason.fr, done=self._status.done)

    async def _stream(self, lines: list[str]) -> None:
        last_emit = 0.0
        for index, command in enumerate(lines):
            if self._cancel.is_set():
                return
            if self._pause.is_set():
                await self._hold()
                if self._cancel.is_set():
                    return
            word = command.split()[0].upper()
            if word in ("M82", "M83"):
                self._relative_e = word == "M83"
            await self._command(command)
            self._status.done = index + 1
            now = time.monotonic()
            if now - last_emit >= 0.5 or index + 1 == len(lines):
                last_emit = now
                self.hub.emit(EventKind.PROGRESS, done=index + 1, total=len(lines), unit="lines")
            if not self.capabilities.autoreport_temp and now - self._last_poll >= self.poll_s:
                self._last_poll = now
                await self._command("M105")

    async def _hold(self) -> None:
        for command in PARK:
            await self._command(command)
        self._set_state(MachineState.PAUSED)
        await self._resume.wait()  # cleared by pause(): a cancel or resume arriving meanwhile is not lost
        if self._cancel.is_set():
            return
        for command in UNPARK + (["M83"] if self._relative_e else []):
            await self._command(command)
        self._pause.clear()
        self._set_state(MachineState.BUSY)

    async def pause(self) -> None:
        if self._status.state is not MachineState.BUSY:
            raise MachineBusy(Text("Aucun travail en cours à mettre en pause.", "No running job to pause."))
        self._resume.clear()
        self._pause.set()

    async def resume(self) -> None:
        if not self._pause.is_set():
            raise MachineBusy(Text("Aucun travail en pause.", "No paused job."))
        self._resume.set()

    async def cancel(self) -> None:
        if self._job is None or self._job.done():
            raise MachineBusy(Text("Aucun travail à annuler.", "No job to cancel."))
        self._cancel.set()
        self._resume.set()

    async def emergency_stop(self) -> None:
        """M112 goes out at once, ahead of everything (Marlin's emergency parser acts on it immediately)."""
        if self.link:
            self.link.write_now(b"M112\n")
        self._halted = Text("Arrêt d'urgence.", "Emergency stop.")
        self._cancel.set()
        self._resume.set()
        self._set_state(MachineState.ERROR)
