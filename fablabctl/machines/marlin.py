"""Marlin over USB serial: the thin async side of the host protocol.

What each firmware line means is decided in `marlin_protocol.classify`; what to send, resend or give
up on is decided by `marlin_stream.LineFlow` (job lines stream with up to `window` lines in flight, as
long as they fit in the firmware's receive buffer; resends from the line the firmware names, a
deadline that only `busy:` extends, one resend after a timeout, then failure). Commands outside a
job's stream (handshake, polling, parking) go one at a time, after the lines in flight are through.
This module only moves bytes and time between the serial link and those two, and runs jobs:
`_send_line` is the one place a numbered line is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from pathlib import Path

from fablabctl.i18n import Text
from fablabctl.machines import marlin_protocol as mp
from fablabctl.machines.base import (
    INTERNAL_CODE,
    EventKind,
    Heater,
    MachineBusy,
    MachineError,
    MachineState,
    internal_error,
    job_lines,
)
from fablabctl.machines.gate import REFUSED_CODE
from fablabctl.machines.marlin_link import LoopSerialLink
from fablabctl.machines.marlin_protocol import ReplyKind, without_own_numbering
from fablabctl.machines.marlin_stream import (
    HISTORY,
    LONG_TIMEOUT,
    RX_BUFFER,
    WINDOW,
    Acked,
    Action,
    Done,
    Failed,
    LineFlow,
    Write,
)
from fablabctl.machines.serial_link import SerialDriver

log = logging.getLogger(__name__)
PARK = ["G91", "G1 Z5 F600", "G90"]
UNPARK = ["G91", "G1 Z-5 F600", "G90"]
COOL_DOWN = ["M104 S0", "M140 S0", "M107", "M84"]
OK_REPLY = mp.Reply(ReplyKind.OK, "ok")
SHOWN = frozenset({ReplyKind.ECHO, ReplyKind.OTHER, ReplyKind.LINE_ERROR, ReplyKind.START})
COLLECTED = frozenset({ReplyKind.ECHO, ReplyKind.OTHER, ReplyKind.TEMPERATURE})


class _Failed(MachineError):
    """The job cannot go on (firmware stopped, link lost, policy refusal...): `code` says which."""

    def __init__(self, reason: Text, code: str = "MARLIN_FAILED") -> None:
        super().__init__(reason, code=code)
        self.reason = reason


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class MarlinDriver(SerialDriver):
    kind = "marlin"
    firmware = "Marlin"
    link_type = LoopSerialLink

    def __init__(
        self,
        port: str,
        baud: int = 115200,
        *,
        ok_timeout: float = 10.0,
        poll_s: float = 2.0,
        connect_timeout: float = 10.0,
        history: int = HISTORY,
        long_timeout: float = LONG_TIMEOUT,
        window: int = WINDOW,
        rx_buffer: int = RX_BUFFER,
    ) -> None:
        super().__init__(port, baud, connect_timeout)
        self.ok_timeout, self.poll_s = ok_timeout, poll_s
        self.capabilities = mp.Capabilities()
        self.flow = LineFlow(
            ok_timeout=ok_timeout,
            long_timeout=long_timeout,
            history=history,
            window=window,
            rx_buffer=rx_buffer,
        )
        self._actions: deque[Action] = deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None  # wakes `_next_actions` at the flow's deadline
        self._collect: list[str] | None = None
        self._job: asyncio.Task[None] | None = None
        self._pause = asyncio.Event()
        self._resume = asyncio.Event()
        self._cancel = asyncio.Event()
        self._halted: Text | None = None
        self._halt_code = "MARLIN_HALTED"
        self._relative_e = False
        self._last_poll = 0.0
        self.sent_lines = 0  # numbered lines written (resends included), for benchmarks
        self._unacked: deque[tuple[int, int]] = deque()  # (line number, job lines done once it is acked)

    # ------------------------------------------------------------------ connection

    def _connected(self) -> None:
        self._set_state(MachineState.IDLE)

    async def _handshake(self) -> None:
        self._halted = None
        await self._command("M110 N0", number=0)
        info: list[str] = []
        self._collect = info
        try:
            await self._command("M115")
        finally:
            self._collect = None
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
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.link:
            await self.link.close()
        self._set_state(MachineState.OFFLINE)

    async def _read_loop(self) -> None:
        link = self.link
        assert link is not None
        if isinstance(link, LoopSerialLink) and link.in_loop:  # each line handled as it is read
            ended = asyncio.get_running_loop().create_future()

            def deliver(line: str | None) -> None:
                if not self._on_line(line):
                    _wake(ended)

            link.deliver_to(deliver)
            await ended
            return
        while self._on_line(await link.lines.get()):
            pass

    def _on_line(self, line: str | None) -> bool:
        """One line from the firmware (None: the port went away); False once there will be no more."""
        if line is None:
            self._halt(
                Text(f"Imprimante déconnectée ({self.port}).", f"Printer disconnected ({self.port})."),
                "MACHINE_DISCONNECTED",
            )
            if self._job is None or self._job.done():
                self._set_state(MachineState.OFFLINE)
            return False
        reply = OK_REPLY if line == "ok" else mp.classify(line)
        if reply is not OK_REPLY:
            self._observe(line, reply)
        actions = self.flow.feed(reply, asyncio.get_running_loop().time())
        if actions:
            self._push(actions)
        elif self._wakeup is not None:
            self._arm()  # maybe a nearer wake-up time (a resend's grace)
        return True

    def _observe(self, line: str, reply: mp.Reply) -> None:
        """Status and events from one firmware line: temperatures, messages, fatal errors."""
        kind = reply.kind
        if ("T:" in line or "B:" in line) and kind in (ReplyKind.OK, ReplyKind.TEMPERATURE):
            temps = mp.temperatures(line)
            if temps:
                self._status.temperatures = {k: Heater(a, t) for k, (a, t) in temps.items()}
                self.hub.emit(
                    EventKind.TEMPERATURE, **{k: {"actual": a, "target": t} for k, (a, t) in temps.items()}
                )
        if kind is ReplyKind.FATAL and reply.fatal is not None:
            self.hub.emit(EventKind.ERROR, message=line, code=reply.fatal.code)
            self._halt(reply.fatal.reason, reply.fatal.code)
        elif kind in SHOWN:
            self.hub.emit(EventKind.MESSAGE, text=line)
        if self._collect is not None and kind in COLLECTED:
            self._collect.append(line)

    def _halt(self, reason: Text, code: str) -> None:
        """The firmware stopped or went away: the first cause is kept (`kill() called` follows it)."""
        if self._halted is None:
            self._halted, self._halt_code = reason, code
        if self.flow.busy:
            self._push([Failed(self._halt_code, self._halted)])
        elif self._job is None or self._job.done():
            self._status.last_error = self._halted.en
            self._set_state(MachineState.ERROR)

    def _push(self, actions: list[Action]) -> None:
        self._actions.extend(actions)
        if self._wakeup is not None:
            _wake(self._wakeup)

    # ------------------------------------------------------------------ one command

    async def _send_line(self, number: int) -> None:
        """The one place a numbered line is written to the firmware (resends included)."""
        assert self.link is not None
        self.sent_lines += 1
        await self.link.write(self.flow.encoded(number))

    async def _command(self, command: str, *, number: int | None = None) -> None:
        """Send one command and return once the firmware has acknowledged it (resends in between)."""
        if self._halted is not None:
            raise _Failed(self._halted, self._halt_code)
        loop = asyncio.get_running_loop()
        try:
            await self._drain(loop)  # the job's lines in flight first
            self._actions.clear()
            write = self.flow.submit(command, loop.time(), number=number)
            await self._send_line(write.number)
            await self._drain(loop)
        except BaseException:
            self.flow.abandon()
            raise

    async def _stream_line(self, command: str) -> None:
        """Send one job line, with up to `window` lines in flight (see `LineFlow.room`)."""
        if self._halted is not None:
            raise _Failed(self._halted, self._halt_code)
        loop = asyncio.get_running_loop()
        try:
            while self.flow.busy and not self.flow.room(command):
                await self._carry_out(await self._next_actions(loop))
            if self.flow.busy:
                write = self.flow.send_ahead(command)
            else:
                self._actions.clear()
                write = self.flow.submit(command, loop.time())
            await self._send_line(write.number)
        except BaseException:
            self.flow.abandon()
            raise

    async def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        """Until every line written is acknowledged (resends in between)."""
        while self.flow.busy:
            await self._carry_out(await self._next_actions(loop))

    async def _carry_out(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Write):
                await self._send_line(action.number)
            elif isinstance(action, Done):
                return
            elif not isinstance(action, Acked):
                raise _Failed(action.reason, action.code)

    async def _next_actions(self, loop: asyncio.AbstractEventLoop) -> list[Action]:
        """Wait for the flow's next decision: a firmware line (via `_push`) or its own deadline."""
        while not self._actions:
            future: asyncio.Future[None] = loop.create_future()
            self._wakeup = future
            self._arm()
            try:
                await future
            finally:
                self._wakeup = None
            if not self._actions:  # the timer (maybe early: the deadline moved): `tick` knows
                self._actions.extend(self.flow.tick(loop.time()))
        actions = list(self._actions)
        self._actions.clear()
        return actions

    def _arm(self) -> None:
        """The timer for the flow's deadline. Every `ok` moves the deadline later: the timer is left
        where it is then (it fires, finds the deadline later and is set again), and only moved for a
        nearer time, so a line costs no timer of its own."""
        wake_at = self.flow.wake_at()
        if wake_at is None:
            return
        timer = self._timer
        if timer is not None and timer.when() <= wake_at:
            return
        if timer is not None:
            timer.cancel()
        self._timer = asyncio.get_running_loop().call_at(wake_at, self._timer_fired)

    def _timer_fired(self) -> None:
        self._timer = None
        if self._wakeup is not None:
            _wake(self._wakeup)

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
        self.gate.begin(path, count=len(lines))  # the safety policy, on each line as it is sent
        self._cancel.clear()
        self._pause.clear()
        self._status.done, self._status.total, self._status.job = 0, len(lines), path.name
        self._set_state(MachineState.BUSY)
        self._job = asyncio.create_task(self._run_job(lines), name=f"marlin job {path.name}")

    async def _run_job(self, lines: list[str]) -> None:
        started = time.monotonic()
        try:
            await self._stream(lines)
            if self._halted is not None:  # an emergency stop between two lines: a failure, not a cancel
                raise _Failed(self._halted, self._halt_code)
        except MachineError as exc:
            self._count_done()
            self._fail(exc.message, exc.code)
            return
        except Exception as exc:  # a bug: the job still ends, heaters off if the printer still listens
            log.exception("marlin job on %s", self.port)
            self.flow.abandon()
            self._count_done()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._cool_down(), 2 * self.ok_timeout)
            self._fail(internal_error(exc), INTERNAL_CODE)
            return
        if self._cancel.is_set():
            with contextlib.suppress(_Failed, MachineError):
                await self._cool_down()
            self._set_state(MachineState.IDLE)
            self.hub.emit(EventKind.JOB_CANCELLED, done=self._status.done, total=self._status.total)
            return
        self._set_state(MachineState.IDLE)
        self.hub.emit(EventKind.JOB_DONE, lines=len(lines), seconds=round(time.monotonic() - started, 1))

    async def _cool_down(self) -> None:
        for command in COOL_DOWN:
            await self._command(command)

    def _fail(self, reason: Text, code: str) -> None:
        self._status.last_error = reason.en
        self._set_state(MachineState.ERROR if self._halted else MachineState.IDLE)
        self.hub.emit(
            EventKind.JOB_FAILED, reason=reason.en, reason_fr=reason.fr, code=code, done=self._status.done
        )

    async def _stream(self, lines: list[str]) -> None:
        await self._command("M110 N0", number=0)  # each job numbers from 1: no resend reaches an old job
        self._unacked.clear()
        last_emit = 0.0
        for index, command in enumerate(lines):
            if self._cancel.is_set():
                return
            if self._pause.is_set():
                await self._hold()
                if self._cancel.is_set():
                    return
            if (refused := self.gate.refusal(command, index + 1)) is not None:
                self.hub.emit(EventKind.ERROR, message=refused.en, code=REFUSED_CODE)
                for safe in COOL_DOWN:  # heaters off before the job fails: the machine is left safe
                    await self._command(safe)
                raise _Failed(refused, REFUSED_CODE)
            command = without_own_numbering(command)
            word = command.split()[0].upper()
            if word in ("M82", "M83"):
                self._relative_e = word == "M83"
            await self._stream_line(command)
            self._unacked.append((self.flow.top, index + 1))
            self._count_done()
            now = time.monotonic()
            if now - last_emit >= 0.5 or index + 1 == len(lines):
                last_emit = now
                self.hub.emit(EventKind.PROGRESS, done=index + 1, total=len(lines), unit="lines")
            if not self.capabilities.autoreport_temp and now - self._last_poll >= self.poll_s:
                self._last_poll = now
                await self._command("M105")
        try:
            await self._drain(asyncio.get_running_loop())  # the last lines acknowledged: the job is done
        except BaseException:
            self.flow.abandon()
            raise
        finally:
            self._count_done()

    def _count_done(self) -> None:
        """Job lines done = those the firmware acknowledged (lines in flight are not done yet)."""
        while self._unacked and self._unacked[0][0] <= self.flow.acked:
            self._status.done = self._unacked.popleft()[1]

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
        self._halt(Text("Arrêt d'urgence.", "Emergency stop."), "MACHINE_EMERGENCY_STOP")
        self._cancel.set()
        self._resume.set()
        self._set_state(MachineState.ERROR)
