"""A Marlin-like 3D printer on a pty: line numbers and checksums checked the way Marlin's `queue.cpp`
does, `ok`, `Resend:`, `busy:`, `wait`, heaters that take time, M105/M155 temperature reports, M115
capabilities, and injectable faults worded like the real firmwares (see `marlin_faults.py`).

Like the real board, it has a receive buffer of `rx_buffer` bytes (Marlin's RX_BUFFER_SIZE, 128 by
default): bytes that arrive while it is full are lost, as a UART's interrupt handler drops them
(`overflowed_bytes` counts them); a host that sends more than the firmware can hold loses lines.
With `bytes_per_s`, a `SerialWire` paces both directions like a real UART (full duplex): bytes reach
the receive buffer at the link's pace while the firmware works, and replies leave at that pace."""

from __future__ import annotations

import re
import time
from collections import Counter

from fablabctl.machines.marlin_protocol import checksum
from fablabctl.machines.sim.base import PtySimulator
from fablabctl.machines.sim.marlin_faults import DIALECTS, FATAL_LINES, KILLED, MarlinFaults
from fablabctl.machines.sim.serial_wire import SerialWire

FIRMWARE = "Marlin 2.1.2.1 (fablabctl simulator)"
PARAM = re.compile(r"([A-Z])(-?\d+(?:\.\d+)?)")
LINE_NUMBER = re.compile(r"N(\d*)")
UNKNOWN = 'echo:Unknown command: "M9999"'  # Marlin's STR_UNKNOWN_COMMAND, a harmless echo
MAX_CMD_SIZE = 96  # Marlin's line buffer: queue.cpp keeps MAX_CMD_SIZE - 1 bytes and skips the rest


class Heater:
    def __init__(self) -> None:
        self.actual, self.target = 22.0, 0.0


class MarlinSimulator(PtySimulator):
    """`with MarlinSimulator() as sim: Serial(sim.port)`; `sim.executed` lists what ran, in order, and
    `sim.numbered` every numbered line that ran as (N, command), M110 included."""

    name = "marlin-sim"

    def __init__(
        self,
        *,
        command_s: float = 0.0,
        heat_rate: float = 200.0,  # °C per second (real printers: ~2-5; tests want speed)
        home_s: float = 0.2,
        bytes_per_s: float | None = None,
        faults: MarlinFaults | None = None,
        report_interval_s: float = 0.5,
        dialect: str = "marlin",
        ok_after_resend: bool = True,  # Marlin 2.0.9's flush_and_request_resend printed no `ok`
        advanced_ok: bool = False,  # Marlin's ADVANCED_OK: `ok N12 P15 B3`
        busy_interval_s: float = 0.1,
        rx_buffer: int = 128,
    ) -> None:
        self.command_s, self.heat_rate, self.home_s = command_s, heat_rate, home_s
        self.faults = faults or MarlinFaults()
        self.report_interval_s = report_interval_s
        self.dialect = DIALECTS[dialect]
        self.ok_after_resend, self.advanced_ok = ok_after_resend, advanced_ok
        self.busy_interval_s = busy_interval_s
        self.rx_buffer = rx_buffer
        self.overflowed_bytes = 0
        super().__init__(None)  # the pty does not pace: `self.wire` does, both ways at once
        self.wire = SerialWire(self.pty, bytes_per_s) if bytes_per_s else None
        self.executed: list[str] = []
        self.numbered: list[tuple[int, str]] = []
        self.received: Counter[int] = Counter()  # arrivals per line number, resends included
        self.received_lines = 0
        self.last_line = 0
        self.hotend, self.bed = Heater(), Heater()
        self.position = {"X": 0.0, "Y": 0.0, "Z": 0.0, "E": 0.0}
        self.autoreport_s = 0.0
        self.halted = False
        self.deaf = False
        self._fired: set[tuple[str, int]] = set()
        self._drop_next_ok: set[int] = set()
        self._flush_input = False
        self._last_tick = self._last_report = self._last_input = time.monotonic()

    def _greet(self) -> None:
        self._send("start")
        self._send(f"echo:{FIRMWARE}")

    # ------------------------------------------------------------------ I/O loop

    def _send(self, text: str) -> None:
        if self.wire is not None:
            self.wire.send((text + "\n").encode())
        else:
            self.pty.write((text + "\n").encode())

    def stop(self) -> None:
        super().stop()
        if self.wire is not None:
            self.wire.close()

    def _receive(self) -> bytes:
        """The bytes that reached the firmware since last time (at the link's pace with a wire)."""
        wire = self.wire
        if wire is None:
            return self.pty.read(0.02)
        next_line = wire.next_line_at()
        wait = 0.02 if next_line is None else min(0.02, max(0.0, next_line - time.monotonic()))
        chunk = self.pty.read(wait)
        now = time.monotonic()
        wire.receive(chunk, now)
        return wire.arrived(now)

    def _run(self) -> None:
        buffer = b""
        while not self._stop.is_set() and not self.pty.closed.is_set():
            chunk = self._receive()
            self._tick()
            if not chunk:
                self._idle()
                continue
            if self.deaf:
                continue
            self._last_input = time.monotonic()
            room = max(0, self.rx_buffer - len(buffer))
            if len(chunk) > room:  # what came in while the buffer was full is gone
                self.overflowed_bytes += len(chunk) - room
                chunk = chunk[:room]
            buffer += chunk
            while b"\n" in buffer:
                raw, buffer = buffer.split(b"\n", 1)
                line = raw[: MAX_CMD_SIZE - 1].decode("ascii", errors="replace")
                if not line.isprintable():  # stray control bytes (a probe, line noise) are not a command
                    line = "".join(c for c in line if c.isprintable())
                line = line.strip()
                if line and not self.halted and not self.deaf:
                    self._line(line)
                if self._flush_input:  # gcode_line_error empties the receive buffer
                    self._flush_input, buffer = False, b""

    def _idle(self) -> None:
        wait_s = self.faults.idle_wait_s
        now = time.monotonic()
        if wait_s and not self.halted and now - self._last_input >= wait_s:
            self._last_input = now
            self._send("wait")

    def _tick(self) -> None:
        now = time.monotonic()
        elapsed, self._last_tick = now - self._last_tick, now
        for heater in (self.hotend, self.bed):
            step = self.heat_rate * elapsed
            target = heater.target if heater.target > 0 else 22.0
            heater.actual = (
                min(target, heater.actual + step)
                if heater.actual < target
                else max(target, heater.actual - step)
            )
        if self.autoreport_s and now - self._last_report >= self.autoreport_s and not self.halted:
            self._last_report = now
            self._send(self._temps())

    def _temps(self) -> str:
        return (
            f"T:{self.hotend.actual:.2f} /{self.hotend.target:.2f} B:{self.bed.actual:.2f} "
            f"/{self.bed.target:.2f} @:0 B@:0"
        )

    # ------------------------------------------------------------------ protocol

    def _once(self, kind: str, number: int, keys: set[int] | dict[int, int] | dict[int, float]) -> bool:
        if number in keys and (kind, number) not in self._fired:
            self._fired.add((kind, number))
            return True
        return False

    def _line_error(self, wording: str, *, got: int | None = None, repeat: int = 1) -> None:
        """Marlin's gcode_line_error + flush_and_request_resend, in the simulator's dialect."""
        last = self.last_line
        text: str = getattr(self.dialect, wording)
        self._send(text.format(last=last, n=last + 1, got=last + 1 if got is None else got))
        self._flush_input = True
        for _ in range(repeat):
            self._send(self.dialect.resend.format(n=last + 1))
            if self.ok_after_resend:
                self._send("ok")

    def _line(self, line: str) -> None:
        if line.startswith("M112"):  # emergency parser: acted on at once
            self.executed.append("M112")
            self.halted = True
            self._send(KILLED)
            return
        if not line.startswith("N"):
            if "*" in line:  # Marlin 1.x / Prusa: a checksum without a line number
                self._send(DIALECTS["marlin"].silent.format(last=self.last_line))
                return
            self._send(self._execute(line))  # unnumbered commands are accepted as Marlin does
            return
        match = LINE_NUMBER.match(line)
        number = int(match.group(1)) if match and match.group(1) else 0
        self.received[number] += 1
        self.received_lines += 1
        if self._arrival_fault(number):
            return
        star = line.rfind("*")
        m110 = "M110" in line
        if number != self.last_line + 1 and not m110:
            self._line_error("line_number", got=number)
            return
        if star < 0:
            self._line_error("no_checksum")
            return
        digits = line[star + 1 :].strip()
        if not digits.isdigit() or checksum(line[:star]) != int(digits):
            self._line_error("checksum")
            return
        command = line[len(f"N{number}") : star].strip()
        if m110:
            match = PARAM.search(command[4:])
            self.last_line = int(float(match.group(2))) if match else number
            self.numbered.append((number, command))
            self.executed.append(command)
            self._send("ok")
            return
        self.last_line = number
        self._run_line(number, command)

    def _arrival_fault(self, number: int) -> bool:
        """Faults that hit a line on the wire, before Marlin reads it; True when the line is spent."""
        f = self.faults
        if number == f.disconnect_at_line:
            self.pty.close()
            return True
        if number == f.deaf_at_line:
            self.deaf = True
            return True
        if number == f.reboot_at_line and self._once("reboot", number, {number}):
            self.last_line = 0
            self.hotend.target = self.bed.target = 0.0
            self._greet()
            return True
        if number != self.last_line + 1:
            return False
        if self._once("lost", number, f.lost_lines):
            return True
        if self._once("corrupt", number, f.corrupt_lines):
            self._line_error("checksum")
        elif self._once("no_checksum", number, f.no_checksum_lines):
            self._line_error("no_checksum")
        elif self._once("bad_number", number, f.bad_number_lines):
            self._line_error("line_number", got=number + 10)
        elif self._once("silent", number, f.silent_error_lines):
            self._send(self.dialect.silent.format(last=self.last_line))
        elif self._once("drop_after_resend", number, f.drop_ok_after_resend):
            self._drop_next_ok.add(number)
            self._line_error("checksum")
        elif self._once("duplicate", number, f.duplicate_resend_lines):
            self._line_error("checksum", repeat=2)
        else:
            return False
        return True

    def _run_line(self, number: int, command: str) -> None:
        f = self.faults
        fatal = f.fatal_at(number)
        if fatal is not None:
            self._send(FATAL_LINES[fatal])
            if fatal != "halted":
                self._send(KILLED)
            self.halted = True
            return
        for _ in range(f.busy_storm.get(number, 0) if self._once("busy", number, f.busy_storm) else 0):
            self._send("echo:busy: processing")
            time.sleep(0.05)
        if self._once("long", number, f.busy_s):
            self._wait_busy(f.busy_s[number])
        for _ in range(f.wait_storm.get(number, 0) if self._once("wait", number, f.wait_storm) else 0):
            self._send("wait")
            time.sleep(0.01)
        if self._once("chatter", number, f.chatter_lines):
            self._send(self._temps())
            self._send(UNKNOWN)
        reply = self._execute(command)
        self.numbered.append((number, command))
        if self.advanced_ok and reply == "ok":
            reply = f"ok N{number} P15 B3"
        if self._once("drop_ok", number, f.drop_ok_lines) or number in self._drop_next_ok:
            self._drop_next_ok.discard(number)
            return
        if self._once("ahead", number, f.resend_ahead_lines):  # as if this line had come twice
            self._line_error("line_number", got=number)
            return
        if self._once("bogus", number, f.bogus_resend_lines):  # instead of its ok: a line never sent
            self._send(self.dialect.resend.format(n=number + 100))
        self._send(reply)

    def _execute(self, command: str) -> str:
        self.executed.append(command)
        word = command.split()[0].upper() if command.split() else ""
        params = {k: float(v) for k, v in PARAM.findall(command[len(word) :].upper())}
        if self.command_s:
            time.sleep(self.command_s)
        if word in ("G0", "G1"):
            for axis in "XYZE":
                if axis in params:
                    self.position[axis] = params[axis]
        elif word == "G28":
            self._wait_busy(self.home_s)
            self.position.update({"X": 0.0, "Y": 0.0, "Z": 0.0})
        elif word == "M104":
            self.hotend.target = params.get("S", 0.0)
        elif word == "M140":
            self.bed.target = params.get("S", 0.0)
        elif word in ("M109", "M190"):
            heater = self.hotend if word == "M109" else self.bed
            heater.target = params.get("S", params.get("R", heater.target))
            self._wait_heat(heater)
        elif word == "M105":
            return "ok " + self._temps()
        elif word == "M115":
            for text in (
                f"FIRMWARE_NAME:{FIRMWARE} SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin "
                "PROTOCOL_VERSION:1.0 MACHINE_TYPE:fablabctl-sim EXTRUDER_COUNT:1",
                "Cap:AUTOREPORT_TEMP:1",
                "Cap:EMERGENCY_PARSER:1",
                "Cap:EEPROM:1",
            ):
                self._send(text)
        elif word == "M155":
            self.autoreport_s = params.get("S", 0.0)
        elif word == "M114":
            return "ok " + " ".join(f"{k}:{v:.2f}" for k, v in self.position.items())
        return "ok"

    def _wait_busy(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not self._stop.is_set():
            self._send("echo:busy: processing")
            time.sleep(min(self.busy_interval_s, max(0.0, end - time.monotonic())))

    def _wait_heat(self, heater: Heater) -> None:
        while abs(heater.actual - heater.target) > 1.0 and not self._stop.is_set() and heater.target > 0:
            time.sleep(0.05)
            self._tick()
            self._send(self._temps() + " W:?")
