"""Grbl 1.1 over USB serial: character counting against the 128-byte receive buffer.

As many lines are kept in flight as fit in Grbl's buffer (each `ok`/`error:N` frees the oldest),
so the planner never starves on short laser segments. Commands that write EEPROM go alone, once
the buffer has drained. Status is polled with `?` at 5 Hz. Hold `!`, resume `~` and soft reset
0x18 are real-time bytes. `$X` (unlock) is never sent on our own: only on the operator's request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from pathlib import Path
from typing import ClassVar, NoReturn

from fablabctl.i18n import Text
from fablabctl.machines import grbl_protocol as gp
from fablabctl.machines.base import (
    INTERNAL_CODE,
    EventKind,
    MachineBusy,
    MachineError,
    MachineRefused,
    MachineState,
    MachineTimeout,
    internal_error,
    job_lines,
)
from fablabctl.machines.gate import REFUSED_CODE, operator_command_allowed
from fablabctl.machines.serial_link import SerialDriver
from fablabctl.specs import DEFAULT_LASER, MachineSpec

log = logging.getLogger(__name__)
POLL_S = 0.2  # 5 Hz, the most Grbl's documentation recommends
BOOT_WAIT_S = 2.5  # an Arduino's bootloader after the DTR reset of opening the port: up to ~2 s
STATES = {
    "Idle": MachineState.IDLE,
    "Run": MachineState.BUSY,
    "Hold": MachineState.PAUSED,
    "Jog": MachineState.BUSY,
    "Alarm": MachineState.ERROR,
    "Door": MachineState.PAUSED,
    "Check": MachineState.IDLE,
    "Home": MachineState.BUSY,
    "Sleep": MachineState.IDLE,
}


class _JobFailed(Exception):
    def __init__(self, reason: Text, code: str = "GRBL_JOB_FAILED") -> None:
        super().__init__(reason.en)
        self.reason, self.code = reason, code


class GrblDriver(SerialDriver):
    kind = "grbl"
    firmware = "Grbl"
    default_spec: ClassVar[MachineSpec] = DEFAULT_LASER

    def __init__(
        self,
        port: str,
        baud: int = 115200,
        *,
        ack_timeout: float = 30.0,
        connect_timeout: float = 10.0,
        require_laser_mode: bool = True,
    ) -> None:
        super().__init__(port, baud, connect_timeout)
        self.ack_timeout = ack_timeout
        self.require_laser_mode = require_laser_mode
        self.version = ""
        self.settings: dict[int, str] = {}
        self.report: gp.StatusReport | None = None
        self._acks: asyncio.Queue[str] = asyncio.Queue()
        self._info: list[str] = []
        self._alarm: Text | None = None
        self._gone = False
        self._banner = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._job: asyncio.Task[None] | None = None
        self._cancel = asyncio.Event()
        self._report_event = asyncio.Event()
        self.sent_lines = 0

    # ------------------------------------------------------------------ connection

    def _connected(self) -> None:
        self._poller = asyncio.create_task(self._poll_loop(), name=f"grbl status {self.port}")

    async def _handshake(self) -> None:
        assert self.link is not None
        # opening the port resets an Arduino (DTR): its bootloader runs for up to ~2 s, then Grbl prints
        # the banner; nothing is sent meanwhile (the bootloader would eat it). Over a pty or a board
        # without auto-reset nothing comes: then a soft reset (harmless at rest, it keeps any alarm)
        # asks for the banner again. No command ever goes out before the banner is seen.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._banner.wait(), min(BOOT_WAIT_S, self.connect_timeout * 0.6))
        if not self._banner.is_set():
            self.link.write_now(gp.REALTIME_RESET)
            await self._banner.wait()
        self.settings = gp.parse_settings(await self.system("$$"))

    async def disconnect(self) -> None:
        for task in (self._job, self._poller, self._reader):
            if task and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, MachineError):
                    await task
        if self.link:
            await self.link.close()
        self._set_state(MachineState.OFFLINE)

    async def _read_loop(self) -> None:
        assert self.link is not None
        while True:
            line = await self.link.lines.get()
            if line is None:
                self._gone = True
                self._status.last_error = "disconnected"
                self._set_state(MachineState.OFFLINE)
                await self._acks.put("gone")
                return
            if line.startswith("<"):
                self._on_report(line)
            elif line == "ok" or line.startswith("error:"):
                await self._acks.put(line)
            elif line.startswith("ALARM:"):
                code = int(line.split(":", 1)[1]) if line.split(":", 1)[1].isdigit() else 0
                self._alarm = gp.alarm_text(code)
                self.hub.emit(EventKind.ERROR, message=self._alarm.en, code=line)
                self._set_state(MachineState.ERROR)
                await self._acks.put("alarm")
            elif gp.BANNER.match(line):
                self.version = gp.BANNER.match(line).group(1)  # type: ignore[union-attr]
                self._banner.set()
            else:
                self._info.append(line)
                self.hub.emit(EventKind.MESSAGE, text=line)

    def _on_report(self, line: str) -> None:
        report = gp.parse_status(line)
        if report is None:
            return
        self.report = report
        if report.mpos:
            self._status.position = dict(zip("XYZ", report.mpos, strict=False))
        state = STATES.get(report.base_state, MachineState.ERROR)
        if self._job and not self._job.done() and state is MachineState.IDLE:
            state = MachineState.BUSY  # between two lines of a job Grbl may look idle for a moment
        self._set_state(state)
        self._report_event.set()

    async def _poll_loop(self) -> None:
        while not self._gone:
            if self.link:
                self.link.write_now(gp.REALTIME_STATUS)
            await asyncio.sleep(POLL_S)

    async def fresh_report(self, timeout: float = 2.0) -> gp.StatusReport:
        self._report_event.clear()
        if self.link:
            self.link.write_now(gp.REALTIME_STATUS)
        try:
            await asyncio.wait_for(self._report_event.wait(), timeout)
        except TimeoutError:
            raise MachineTimeout(Text("Grbl ne répond pas à « ? ».", "Grbl does not answer '?'.")) from None
        assert self.report is not None
        return self.report

    # ------------------------------------------------------------------ commands outside jobs

    async def system(self, command: str) -> list[str]:
        """Send one command alone (buffer empty), wait for its `ok`; return the lines it printed.

        Only the operator's narrow list (`gate.OPERATOR_GRBL`): never a setting, a startup line, a jog."""
        assert self.link is not None
        if not operator_command_allowed(command):
            raise MachineRefused(
                Text(
                    f"Commande « {command[:40]} » refusée hors d'un travail.",
                    f"Command '{command[:40]}' refused outside a job.",
                ),
                code=REFUSED_CODE,
            )
        self._info.clear()
        while not self._acks.empty():  # replies to lines dropped by an alarm or a reset: stale now
            self._acks.get_nowait()
        await self.link.write((command.strip() + "\n").encode())
        reply = await self._next_ack()
        if reply.startswith("error:"):
            raise MachineRefused(gp.error_text(int(reply.split(":")[1])), code="GRBL_ERROR")
        return list(self._info)

    async def _next_ack(self) -> str:
        try:
            reply = await asyncio.wait_for(self._acks.get(), self.ack_timeout)
        except TimeoutError:
            raise MachineTimeout(Text("Pas de réponse de Grbl.", "No answer from Grbl.")) from None
        if reply == "gone":
            raise _JobFailed(Text(f"Laser déconnecté ({self.port}).", f"Laser disconnected ({self.port})."))
        if reply == "alarm":
            raise _JobFailed(self._alarm or Text("Alarme.", "Alarm."))
        return reply

    async def unlock(self) -> None:
        """`$X`, only when the operator asks (after checking why the alarm happened)."""
        await self.system("$X")
        self._alarm = None
        await self.fresh_report()

    async def check_mode(self, enable: bool) -> None:
        """`$C`: Grbl parses everything without moving nor firing: a dry run of a job."""
        report = await self.fresh_report()
        if (report.base_state == "Check") != enable:
            await self.system("$C")

    # ------------------------------------------------------------------ jobs

    async def start(self, path: Path) -> None:
        report = await self.fresh_report()
        if report.base_state not in ("Idle", "Check"):
            raise MachineBusy(
                Text(
                    f"Le laser n'est pas prêt ({report.state}).", f"The laser is not ready ({report.state})."
                )
            )
        if self.require_laser_mode and self.settings.get(32) != "1":
            raise MachineRefused(
                Text(
                    "Le mode laser est désactivé ($32=0) : le laser brûlerait aux arrêts. Réglez $32=1.",
                    "Laser mode is off ($32=0): the laser would burn at every stop. Set $32=1.",
                ),
                code="GRBL_LASER_MODE_OFF",
            )
        lines = [gp.clean(line) for line in job_lines(path)]
        lines = [line for line in lines if line]
        self.gate.begin(path, count=len(lines), clean=gp.clean)  # the safety policy, line by line
        self._cancel.clear()
        self._status.done, self._status.total, self._status.job = 0, len(lines), path.name
        self._set_state(MachineState.BUSY)
        self._job = asyncio.create_task(self._run_job(lines), name=f"grbl job {path.name}")

    async def _run_job(self, lines: list[str]) -> None:
        started = time.monotonic()
        try:
            await self._stream(lines)
            if self._cancel.is_set():
                self._set_state(MachineState.IDLE)
                self.hub.emit(EventKind.JOB_CANCELLED, done=self._status.done, total=len(lines))
                return
            await self._until_idle()
        except (_JobFailed, MachineError) as exc:
            await self._failed(exc.reason if isinstance(exc, _JobFailed) else exc.message, exc.code)
            return
        except Exception as exc:  # a bug: the job still ends, laser off
            log.exception("grbl job on %s", self.port)
            await self._failed(internal_error(exc), INTERNAL_CODE)
            return
        self._set_state(MachineState.IDLE)
        self.hub.emit(EventKind.JOB_DONE, lines=len(lines), seconds=round(time.monotonic() - started, 1))

    async def _failed(self, reason: Text, code: str) -> None:
        self._status.last_error = reason.en
        if self.link and not self._gone:  # stop everything, laser off: a soft reset does both
            await self._soft_reset()
        self.hub.emit(
            EventKind.JOB_FAILED, reason=reason.en, reason_fr=reason.fr, done=self._status.done, code=code
        )

    async def _soft_reset(self) -> None:
        """Hold then 0x18; once the banner is back, every reply still queued is stale and dropped."""
        assert self.link is not None
        self._banner.clear()
        self.link.write_now(gp.REALTIME_HOLD)
        self.link.write_now(gp.REALTIME_RESET)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._banner.wait(), 2.0)
        while not self._acks.empty():
            self._acks.get_nowait()

    async def _stream(self, lines: list[str]) -> None:
        """Character counting: keep the sum of in-flight line lengths under Grbl's buffer size."""
        assert self.link is not None
        in_flight: deque[tuple[int, int]] = deque()  # (index, bytes)
        used = 0
        index = 0
        checked = 0
        last_emit = 0.0
        while index < len(lines) or in_flight:
            if self._cancel.is_set():
                return
            line = lines[index] if index < len(lines) else None
            if line is not None and index >= checked:  # the safety policy, once per line, before it goes out
                if (refused := self.gate.refusal(line, index + 1)) is not None:
                    await self._stop_before(refused, in_flight)
                checked = index + 1
            eeprom = line is not None and bool(gp.EEPROM_WRITES.match(line))
            size = len(line) + 1 if line is not None else 0
            if line is not None and (not eeprom or not in_flight) and used + size <= gp.RX_BUFFER - 1:
                await self.link.write((line + "\n").encode())
                self.sent_lines += 1
                in_flight.append((index, size))
                used += size
                index += 1
                if not eeprom:
                    continue
            reply = await self._ack_or_recover(in_flight)
            if reply is None:  # lost oks: Grbl had processed everything in flight
                self._status.done = index
                in_flight.clear()
                used = 0
                continue
            done_index, freed = in_flight.popleft()
            used -= freed
            if reply.startswith("error:"):
                code = int(reply.split(":")[1])
                meaning = gp.error_text(code)
                raise _JobFailed(
                    Text(
                        f"{meaning.fr} (ligne {done_index + 1} : {lines[done_index]})",
                        f"{meaning.en} (line {done_index + 1}: {lines[done_index]})",
                    )
                )
            self._status.done = done_index + 1
            now = time.monotonic()
            if now - last_emit >= 0.5:
                last_emit = now
                self.hub.emit(EventKind.PROGRESS, done=self._status.done, total=len(lines), unit="lines")
        self.hub.emit(EventKind.PROGRESS, done=len(lines), total=len(lines), unit="lines")

    async def _stop_before(self, refused: Text, in_flight: deque[tuple[int, int]]) -> NoReturn:
        """A job line is refused: let the lines already sent finish, laser off (M5), then fail the job."""
        self.hub.emit(EventKind.ERROR, message=refused.en, code=REFUSED_CODE)
        with contextlib.suppress(MachineError, _JobFailed):
            while in_flight and await self._ack_or_recover(in_flight) is not None:
                in_flight.popleft()
            await self.system("M5")
            await self._until_idle()
        raise _JobFailed(refused, REFUSED_CODE)

    async def _ack_or_recover(self, in_flight: deque[tuple[int, int]]) -> str | None:
        """The next reply; after a silence, a status report tells whether oks were lost on the wire."""
        silent_since = time.monotonic()
        while True:
            try:
                return await asyncio.wait_for(self._next_ack(), 2.0)
            except (TimeoutError, MachineTimeout):
                pass
            report = await self.fresh_report()
            if report.rx_free == gp.RX_BUFFER and report.base_state != "Alarm":
                return None  # two silent seconds and Grbl's buffer is empty: every line in flight was taken
            if report.base_state.startswith("Hold"):
                silent_since = time.monotonic()  # paused by the operator: not silence
            if time.monotonic() - silent_since > self.ack_timeout:
                raise MachineTimeout(Text("Grbl ne répond plus.", "Grbl stopped answering."))

    async def _until_idle(self) -> None:
        """All lines are in Grbl's planner; the job is done when the machine stops moving."""
        while True:
            report = await self.fresh_report()
            if self._alarm:
                raise _JobFailed(self._alarm)
            if report.base_state == "Idle" or report.base_state == "Check":
                return
            await asyncio.sleep(POLL_S)

    async def pause(self) -> None:
        if self._job is None or self._job.done():
            raise MachineBusy(Text("Aucun travail en cours.", "No running job."))
        assert self.link is not None
        self.link.write_now(gp.REALTIME_HOLD)

    async def resume(self) -> None:
        assert self.link is not None
        self.link.write_now(gp.REALTIME_RESUME)

    async def cancel(self) -> None:
        """Hold (decelerate), then soft-reset: motion stops, the laser goes off, the buffers empty."""
        if self._job is None or self._job.done():
            raise MachineBusy(Text("Aucun travail à annuler.", "No job to cancel."))
        assert self.link is not None
        self._cancel.set()
        self.link.write_now(gp.REALTIME_HOLD)
        with contextlib.suppress(MachineTimeout):
            for _ in range(25):
                report = await self.fresh_report()
                if report.state in ("Hold:0", "Idle"):
                    break
                await asyncio.sleep(0.05)
        self.link.write_now(gp.REALTIME_RESET)
        while not self._acks.empty():
            self._acks.get_nowait()
        await self._acks.put("ok")  # wake the streamer so it sees the cancel

    async def emergency_stop(self) -> None:
        if self.link:
            self.link.write_now(gp.REALTIME_RESET)
        self._cancel.set()
        self._set_state(MachineState.ERROR)
