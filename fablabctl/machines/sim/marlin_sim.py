"""A Marlin-like 3D printer on a pty: line numbers and checksums, `ok`, `Resend:`, `busy:`,
heaters that take time, M105/M155 temperature reports, M115 capabilities, and injectable faults."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from fablabctl.machines.marlin_protocol import parse_numbered
from fablabctl.machines.sim.base import PtySimulator

FIRMWARE = "Marlin 2.1.2.1 (fablabctl simulator)"
PARAM = re.compile(r"([A-Z])(-?\d+(?:\.\d+)?)")


@dataclass
class MarlinFaults:
    """What goes wrong, keyed by the host's line number (N)."""

    corrupt_lines: set[int] = field(default_factory=set)  # received garbled once: checksum error + Resend
    drop_ok_lines: set[int] = field(default_factory=set)  # executed, but the `ok` is lost
    busy_storm: dict[int, int] = field(default_factory=dict)  # line -> how many `busy:` before its ok
    disconnect_at_line: int | None = None  # the cable is pulled when this line arrives
    thermal_runaway_at_line: int | None = None  # the firmware halts when this line arrives


@dataclass
class Heater:
    actual: float = 22.0
    target: float = 0.0


class MarlinSimulator(PtySimulator):
    """`with MarlinSimulator() as sim: Serial(sim.port)`; `sim.executed` lists what ran, in order."""

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
    ) -> None:
        self.command_s, self.heat_rate, self.home_s = command_s, heat_rate, home_s
        self.faults = faults or MarlinFaults()
        self.report_interval_s = report_interval_s
        super().__init__(bytes_per_s)
        self.executed: list[str] = []
        self.received_lines = 0
        self.last_line = 0
        self.hotend, self.bed = Heater(), Heater()
        self.position = {"X": 0.0, "Y": 0.0, "Z": 0.0, "E": 0.0}
        self.autoreport_s = 0.0
        self.halted = False
        self._corrupted_once: set[int] = set()
        self._last_tick = time.monotonic()
        self._last_report = time.monotonic()

    def _greet(self) -> None:
        self._send("start")
        self._send(f"echo:{FIRMWARE}")

    # ------------------------------------------------------------------ I/O loop

    def _send(self, text: str) -> None:
        self.pty.write((text + "\n").encode())

    def _run(self) -> None:
        buffer = b""
        while not self._stop.is_set() and not self.pty.closed.is_set():
            chunk = self.pty.read(0.02)
            self._tick()
            if not chunk:
                continue
            buffer += chunk
            while b"\n" in buffer:
                raw, buffer = buffer.split(b"\n", 1)
                # stray control bytes (another program's probe, line noise) are not part of a command
                line = "".join(c for c in raw.decode("ascii", errors="replace") if c.isprintable()).strip()
                if line and not self.halted:
                    self._line(line)

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

    def _line(self, line: str) -> None:
        if line.startswith("M112"):  # emergency parser: acted on at once
            self.executed.append("M112")
            self.halted = True
            self._send("Error:Printer halted. kill() called!")
            return
        parsed = parse_numbered(line)
        if parsed is None:
            self._execute(line)  # unnumbered commands are accepted as Marlin does
            return
        number, command, good = parsed
        self.received_lines += 1
        if number == self.faults.disconnect_at_line:
            self.pty.close()
            return
        if number in self.faults.corrupt_lines and number not in self._corrupted_once:
            self._corrupted_once.add(number)
            good = False
        if not good:
            self._send(f"Error:checksum mismatch, Last Line: {self.last_line}")
            self._send(f"Resend: {self.last_line + 1}")
            self._send("ok")
            return
        if command.startswith("M110"):
            match = PARAM.search(command[4:])
            self.last_line = int(float(match.group(2))) if match else number
            self.executed.append(command)
            self._send("ok")
            return
        if number != self.last_line + 1:
            if number <= self.last_line:  # a duplicate after a resend: Marlin ignores it silently
                self._send("ok")
                return
            self._send(f"Error:Line Number is not Last Line Number+1, Last Line: {self.last_line}")
            self._send(f"Resend: {self.last_line + 1}")
            self._send("ok")
            return
        self.last_line = number
        if number == self.faults.thermal_runaway_at_line:
            self._send("Error:Thermal Runaway, system stopped! Heater_ID: 0")
            self._send("Error:Printer halted. kill() called!")
            self.halted = True
            return
        for _ in range(self.faults.busy_storm.get(number, 0)):
            self._send("echo:busy: processing")
            time.sleep(0.05)
        reply = self._execute(command)
        if number not in self.faults.drop_ok_lines:
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
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))

    def _wait_heat(self, heater: Heater) -> None:
        while abs(heater.actual - heater.target) > 1.0 and not self._stop.is_set() and heater.target > 0:
            time.sleep(0.05)
            self._tick()
            self._send(self._temps() + " W:?")
