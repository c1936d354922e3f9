"""A Grbl 1.1 laser on a pty: a real 128-byte receive buffer (overflow loses bytes, as on the
Arduino), a 15-block planner that drains at the programmed feed, real-time `?` `!` `~` and 0x18,
the extended real-time bytes of Grbl 1.1's serial interrupt (any byte >= 0x80 never reaches the line
buffer; 0x99-0x9D set the spindle override, which scales the laser power up to `$30`, 0x90-0x94 the
feed override), `ok` / `error:N` / `ALARM:N`, `$$` settings, check mode, and injectable faults."""

from __future__ import annotations

import math
import re
import time
from collections import deque
from dataclasses import dataclass, field

from fablabctl.machines.grbl_protocol import RX_BUFFER
from fablabctl.machines.sim.base import PtySimulator

VERSION = "1.1h"
PLANNER_BLOCKS = 15
WORD = re.compile(r"([A-Z])(-?\d*\.?\d+)")
SUPPORTED_G = {
    0,
    1,
    2,
    3,
    4,
    10,
    17,
    18,
    19,
    20,
    21,
    28,
    30,
    40,
    49,
    53,
    54,
    55,
    56,
    57,
    58,
    59,
    61,
    80,
    90,
    91,
    92,
    93,
    94,
}
SUPPORTED_M = {0, 1, 2, 3, 4, 5, 7, 8, 9, 30, 56}
DEFAULT_SETTINGS = {
    0: "10",
    1: "25",
    2: "0",
    3: "0",
    4: "0",
    5: "0",
    6: "0",
    10: "1",
    11: "0.010",
    12: "0.002",
    13: "0",
    20: "0",
    21: "0",
    22: "0",
    23: "0",
    24: "25.000",
    25: "500.000",
    26: "250",
    27: "1.000",
    30: "1000",
    31: "0",
    32: "1",
    100: "80.000",
    101: "80.000",
    102: "80.000",
    110: "6000.000",
    111: "6000.000",
    112: "500.000",
    120: "1000.000",
    121: "1000.000",
    122: "10.000",
    130: "400.000",
    131: "300.000",
    132: "50.000",
}


# Grbl 1.1 `config.h`: CMD_SPINDLE_OVR_RESET 0x99, COARSE_PLUS 0x9A, COARSE_MINUS 0x9B, FINE_PLUS 0x9C,
# FINE_MINUS 0x9D (10 % and 1 % steps, kept within 10-200 %); the feed override is 0x90-0x94 the same way
SPINDLE_OVR = {0x9A: 10, 0x9B: -10, 0x9C: 1, 0x9D: -1}
FEED_OVR = {0x91: 10, 0x92: -10, 0x93: 1, 0x94: -1}


@dataclass
class GrblFaults:
    """Keyed by the number of lines the simulator has received (1-based)."""

    alarm_at_line: int | None = None  # ALARM:1 (hard limit) when this line arrives
    disconnect_at_line: int | None = None
    drop_ok_lines: set[int] = field(default_factory=set)
    corrupt_lines: set[int] = field(default_factory=set)  # line noise: the line arrives garbled


@dataclass
class Block:
    line: str
    seconds: float
    target: tuple[float, float, float]


class GrblSimulator(PtySimulator):
    name = "grbl-sim"

    def __init__(
        self,
        *,
        time_scale: float = 0.001,  # real seconds per simulated second of motion
        command_s: float = 0.0,
        bytes_per_s: float | None = None,
        laser_mode: bool = True,
        faults: GrblFaults | None = None,
        latency_s: float = 0.0,  # USB-serial adapters hold replies 1-16 ms (FTDI's latency timer)
        boot_delay_s: float = 0.0,  # an Arduino's bootloader after the port opens: bytes sent are lost
    ) -> None:
        self.latency_s = latency_s
        self.boot_delay_s = boot_delay_s
        self._boot_until = 0.0
        self.bytes_during_boot = 0  # what a host sent before the banner: lost on a real board
        self._outbox: deque[tuple[float, bytes]] = deque()
        self.time_scale, self.command_s = time_scale, command_s
        self.faults = faults or GrblFaults()
        # the wire is emulated here, not in the pty: bytes arrive at the link's pace *while* Grbl parses
        super().__init__(None)
        self.bytes_per_s = bytes_per_s
        self._wire: deque[tuple[float, int]] = deque()  # (arrival time, byte)
        self._wire_clock = 0.0  # when the last byte on the wire finishes arriving
        self.settings = dict(DEFAULT_SETTINGS)
        self.settings[32] = "1" if laser_mode else "0"
        self.rx = bytearray()
        self.overflowed_bytes = 0
        self.planner: deque[Block] = deque()
        self.executed: list[str] = []
        self.received_lines = 0
        self.state = "Idle"
        self.check_mode = False
        self.position = [0.0, 0.0, 0.0]
        self.feed = 0.0
        self.power = 0.0
        self.laser_on = False
        self.absolute = True
        self.max_power_seen = 0.0  # the laser power as fired: S scaled by the spindle override, up to $30
        self.spindle_override = 100  # %
        self.feed_override = 100
        self.extended_bytes: list[int] = []  # real-time bytes >= 0x80 received, in order
        self.starved = 0  # times the planner ran dry while lines were still coming (streaming too slow)
        self._block_left = 0.0
        self._last = time.monotonic()

    def _greet(self) -> None:
        if self.boot_delay_s > 0:
            self._boot_until = time.monotonic() + self.boot_delay_s
        else:
            self._banner()

    def _send(self, text: str) -> None:
        if self.latency_s:
            self._outbox.append((time.monotonic() + self.latency_s, (text + "\r\n").encode()))
        else:
            self.pty.write((text + "\r\n").encode())

    def _flush(self) -> None:
        now = time.monotonic()
        while self._outbox and self._outbox[0][0] <= now:
            self.pty.write(self._outbox.popleft()[1])

    def _banner(self) -> None:
        self.pty.write(f"\r\nGrbl {VERSION} ['$' for help]\r\n".encode())
        if self.state == "Alarm":
            self._send("[MSG:'$H'|'$X' to unlock]")

    # ------------------------------------------------------------------ loop

    def _run(self) -> None:
        while not self._stop.is_set() and not self.pty.closed.is_set():
            if self._boot_until:  # the bootloader runs: Grbl is not there yet
                self.bytes_during_boot += len(self.pty.read(0.002))
                if time.monotonic() >= self._boot_until:
                    self._boot_until = 0.0
                    self._banner()
                continue
            self._receive(self.pty.read(0.0005 if self._wire or self.rx or self._outbox else 0.002))
            self._parse_lines()
            self._move()
            self._flush()

    def _receive(self, chunk: bytes) -> None:
        """Bytes cross the wire one after the other at `bytes_per_s`; each is handled on arrival."""
        if not self.bytes_per_s:
            for byte in chunk:
                self._byte(byte)
            return
        now = time.monotonic()
        step = 1.0 / self.bytes_per_s
        self._wire_clock = max(self._wire_clock, now)
        for byte in chunk:
            self._wire_clock += step
            self._wire.append((self._wire_clock, byte))
        while self._wire and self._wire[0][0] <= now:
            self._byte(self._wire.popleft()[1])

    def _byte(self, byte: int) -> None:
        if byte == ord("?"):
            self._send(self._status())
        elif byte == ord("!"):
            if self.state in ("Run", "Idle") and self.planner:
                self.state = "Hold:0"
        elif byte == ord("~"):
            if self.state.startswith("Hold"):
                self.state = "Run" if self.planner else "Idle"
        elif byte == 0x18:
            self._reset()
        elif byte >= 0x80:  # picked out by the serial interrupt, wherever it sits in a line
            self._extended(byte)
        elif len(self.rx) >= RX_BUFFER:
            self.overflowed_bytes += 1  # the Arduino's ring buffer is full: the byte is lost
        else:
            self.rx.append(byte)

    def _extended(self, byte: int) -> None:
        self.extended_bytes.append(byte)
        if byte == 0x99:
            self.spindle_override = 100
        elif byte in SPINDLE_OVR:
            self.spindle_override = min(200, max(10, self.spindle_override + SPINDLE_OVR[byte]))
        elif byte == 0x90:
            self.feed_override = 100
        elif byte in FEED_OVR:
            self.feed_override = min(200, max(10, self.feed_override + FEED_OVR[byte]))
        self._note_power()

    def _note_power(self) -> None:
        """The highest power the laser has fired at: S times the override, clamped to `$30`."""
        if self.laser_on:
            fired = min(self.power * self.spindle_override / 100, float(self.settings[30]))
            self.max_power_seen = max(self.max_power_seen, fired)

    def _reset(self) -> None:
        moving = self.state == "Run" and bool(self.planner)
        self.rx.clear()
        self.planner.clear()
        self._block_left = 0.0
        self.laser_on, self.power = False, 0.0
        self.spindle_override = self.feed_override = 100  # Grbl's reset restores the default overrides
        if moving:
            self.state = "Alarm"
            self._send("ALARM:3")
        elif self.state != "Alarm":
            self.state = "Idle"
        self._banner()

    def _status(self) -> str:
        x, y, z = self.position
        return (
            f"<{self.state}|MPos:{x:.3f},{y:.3f},{z:.3f}|Bf:{PLANNER_BLOCKS - len(self.planner)},"
            f"{RX_BUFFER - len(self.rx)}|FS:{self.feed:.0f},{self.power:.0f}>"
        )

    def _move(self) -> None:
        now = time.monotonic()
        elapsed, self._last = now - self._last, now
        if self.state.startswith("Hold") or self.state == "Alarm" or not self.planner:
            if not self.planner and self.state == "Run":
                self.state = "Idle"
            return
        self.state = "Run"
        while self.planner and elapsed > 0:
            if self._block_left <= 0:
                self._block_left = self.planner[0].seconds * self.time_scale
            step = min(elapsed, self._block_left)
            self._block_left -= step
            elapsed -= step
            if self._block_left <= 0:
                block = self.planner.popleft()
                self.position = list(block.target)
                if not self.planner and self.rx:
                    self.starved += 1

    # ------------------------------------------------------------------ lines

    def _parse_lines(self) -> None:
        while b"\n" in self.rx:
            if len(self.planner) >= PLANNER_BLOCKS:
                return  # the parser waits for room in the planner: the host's bytes stay in rx
            index = self.rx.index(b"\n")
            raw = bytes(self.rx[:index]).decode("ascii", errors="replace").strip()
            del self.rx[: index + 1]
            if not raw:
                continue
            self.received_lines += 1
            number = self.received_lines
            if number == self.faults.disconnect_at_line:
                self.pty.close()
                return
            if number in self.faults.corrupt_lines:
                raw = "\x7f" + raw[1:]
            if self.command_s:
                time.sleep(self.command_s)
            reply = self._line(raw)
            if number == self.faults.alarm_at_line:
                self.planner.clear()
                self.state = "Alarm"
                self._send("ALARM:1")
                self._send("[MSG:Reset to continue]")
                return
            if number not in self.faults.drop_ok_lines:
                self._send(reply)

    def _line(self, line: str) -> str:
        if line.startswith("$"):
            return self._system(line)
        if self.state == "Alarm":
            return "error:9"
        words = WORD.findall(line.upper())
        if "".join(f"{a}{b}" for a, b in words) != line.upper().replace(" ", "").split(";")[0]:
            return "error:1" if not line[:1].isalpha() else "error:2"
        target = list(self.position)
        motion = None
        for letter, value in words:
            number = float(value)
            if letter == "G":
                if number not in SUPPORTED_G and round(number, 1) not in (38.2, 43.1, 91.1):
                    return "error:20"
                if number in (0, 1, 2, 3):
                    motion = int(number)
                elif number in (90, 91):
                    self.absolute = number == 90
            elif letter == "M":
                if int(number) not in SUPPORTED_M:
                    return "error:20"
                if number in (3, 4):
                    self.laser_on = True
                    self._note_power()
                elif number == 5:
                    self.laser_on = False
            elif letter == "F":
                self.feed = number
            elif letter == "S":
                self.power = number
                self._note_power()
            elif letter in "XYZ":
                axis = "XYZ".index(letter)
                target[axis] = number if self.absolute else target[axis] + number
        self.executed.append(line)
        if motion is not None and target != self.position:
            if motion != 0 and self.feed <= 0:
                self.executed.pop()
                return "error:22"
            if self.check_mode:
                self.position = target
                return "ok"
            rate = 6000.0 if motion == 0 else self.feed
            seconds = math.dist(self.position, target) / (rate / 60.0)
            self.planner.append(Block(line, seconds, (target[0], target[1], target[2])))
            self.position = target  # the parser's position; the machine follows through the planner
            if self.state == "Idle":
                self.state = "Run"
        return "ok"

    def _system(self, line: str) -> str:
        command = line.upper()
        if command == "$$":
            for key in sorted(self.settings):
                self._send(f"${key}={self.settings[key]}")
            return "ok"
        if command == "$X":
            if self.state == "Alarm":
                self.state = "Idle"
                self._send("[MSG:Caution: Unlocked]")
            return "ok"
        if command == "$C":
            self.check_mode = not self.check_mode
            self.state = "Check" if self.check_mode else "Idle"
            self._send("[MSG:Enabled]" if self.check_mode else "[MSG:Disabled]")
            return "ok"
        if command == "$H":
            self.position = [0.0, 0.0, 0.0]
            self.state = "Idle"
            return "ok"
        if command == "$I":
            self._send(f"[VER:{VERSION}.20190825:]")
            self._send(f"[OPT:V,{PLANNER_BLOCKS},{RX_BUFFER}]")
            return "ok"
        if command == "$G":
            self._send(f"[GC:G0 G54 G17 G21 G90 G94 M5 M9 T0 F{self.feed:.0f} S{self.power:.0f}]")
            return "ok"
        match = re.match(r"^\$(\d+)=(\S+)$", command)
        if match:
            if self.state not in ("Idle", "Alarm"):
                return "error:8"
            self.settings[int(match.group(1))] = match.group(2)
            self.executed.append(line)
            time.sleep(0.01)  # EEPROM write: serial is not serviced meanwhile
            return "ok"
        return "error:3"
