"""What the Marlin simulator can do wrong, and how each firmware words it.

The wording is quoted from the firmware, not invented:
- Marlin 2.x `Marlin/src/core/language.h`: `STR_ERR_CHECKSUM_MISMATCH` "checksum mismatch, Last Line: ",
  `STR_ERR_NO_CHECKSUM` "No Checksum with line number, Last Line: ", `STR_ERR_LINE_NO` "Line Number is
  not Last Line Number+1, Last Line: ", `STR_RESEND` "Resend: ", `STR_ERR_KILLED` "Printer halted.
  kill() called!", `STR_T_THERMAL_RUNAWAY` "Thermal Runaway", `STR_T_MAXTEMP` "MAXTEMP triggered",
  `STR_T_MINTEMP` "MINTEMP triggered", `STR_T_HEATING_FAILED` "Heating failed", `STR_STOPPED_HEATER`
  ", system stopped! Heater_ID: "; `queue.cpp` `gcode_line_error` prints `Error:` + the message + the
  last good line, flushes its receive buffer, then `flush_and_request_resend` prints `Resend: N` and
  `ok` (Marlin 2.0.9 printed no `ok` there: `ok_after_resend=False`).
- Marlin 1.x / Prusa `MSG_ERR_NO_LINENUMBER_WITH_CHECKSUM` "No Line Number with checksum, Last Line: ",
  printed with no `Resend:` and no `ok` at all: the host must notice by itself.
- OctoPrint's virtual printer (`virtual.py`, the emulator many hosts are tested against):
  "Checksum mismatch", "Missing checksum", "expected line {} got {}", `Resend:%d` without a space,
  and `Error: Missing checksum` with no resend when it insists on checksums.
- The "other" dialect gathers what remains in the field: `rs N` (Teacup, Repetier), "Wrong checksum"
  (older OctoPrint virtual printer), "format error" (in OctoPrint `comm.py`'s list of errors that
  come with a resend request) and "expected line N got M" without a space after `Error:`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Dialect:
    checksum: str  # the checksum did not match
    no_checksum: str  # the `*NN` part was lost
    line_number: str  # the line number was not the expected one ({n}: expected, {got}: received)
    silent: str  # an error after which the firmware asks for nothing and says no `ok`
    resend: str


DIALECTS = {
    "marlin": Dialect(
        checksum="Error:checksum mismatch, Last Line: {last}",
        no_checksum="Error:No Checksum with line number, Last Line: {last}",
        line_number="Error:Line Number is not Last Line Number+1, Last Line: {last}",
        silent="Error:No Line Number with checksum, Last Line: {last}",
        resend="Resend: {n}",
    ),
    "virtual": Dialect(
        checksum="Error: Checksum mismatch",
        no_checksum="Error: Missing checksum",
        line_number="Error: expected line {n} got {got}",
        silent="Error: Missing checksum",
        resend="Resend:{n}",
    ),
    "other": Dialect(
        checksum="Error:Wrong checksum",
        no_checksum="Error:Missing checksum",
        line_number="Error:expected line {n} got {got}",
        silent="Error:format error",
        resend="rs {n}",
    ),
}

# Marlin's fatal messages: `_temp_error` prints "Error:" + cause + STR_STOPPED_HEATER + heater, then
# kill() prints "Error:Printer halted. kill() called!" and the firmware answers nothing more.
FATAL_LINES = {
    "thermal_runaway": "Error:Thermal Runaway, system stopped! Heater_ID: 0",
    "maxtemp": "Error:MAXTEMP triggered, system stopped! Heater_ID: 0",
    "mintemp": "Error:MINTEMP triggered, system stopped! Heater_ID: bed",
    "heating_failed": "Error:Heating failed, system stopped! Heater_ID: 0",
    "halted": "Error:Printer halted. kill() called!",
}
KILLED = "Error:Printer halted. kill() called!"


@dataclass
class MarlinFaults:
    """What goes wrong, keyed by the host's line number N; each fault fires once per number."""

    corrupt_lines: set[int] = field(default_factory=set)  # checksum mismatch, then Resend + ok
    no_checksum_lines: set[int] = field(default_factory=set)  # the `*NN` was lost: error, Resend + ok
    bad_number_lines: set[int] = field(default_factory=set)  # a digit of N garbled: line number error
    silent_error_lines: set[int] = field(default_factory=set)  # error with no Resend and no ok
    lost_lines: set[int] = field(default_factory=set)  # the line never arrives: nothing at all
    drop_ok_lines: set[int] = field(default_factory=set)  # executed, but the `ok` is lost
    drop_ok_after_resend: set[int] = field(default_factory=set)  # garbled, resent, then that ok lost
    duplicate_resend_lines: set[int] = field(default_factory=set)  # garbled; Resend + ok said twice
    resend_ahead_lines: set[int] = field(default_factory=set)  # executed; asks for N+1, not sent yet
    bogus_resend_lines: set[int] = field(default_factory=set)  # executed; asks for N+100, then ok
    busy_storm: dict[int, int] = field(default_factory=dict)  # line -> how many `busy:` before its ok
    busy_s: dict[int, float] = field(default_factory=dict)  # line -> seconds of a long move (busy:)
    wait_storm: dict[int, int] = field(default_factory=dict)  # line -> how many `wait` before its ok
    chatter_lines: set[int] = field(default_factory=set)  # a temperature report and an echo before ok
    fatal: dict[int, str] = field(default_factory=dict)  # line -> FATAL_LINES key: the firmware halts
    disconnect_at_line: int | None = None  # the cable is pulled when this line arrives
    deaf_at_line: int | None = None  # from this line on nothing is read; `wait` and reports go on
    reboot_at_line: int | None = None  # the board resets (power dip): `start`, line count back to 0
    thermal_runaway_at_line: int | None = None  # the firmware halts when this line arrives
    idle_wait_s: float | None = None  # Marlin's NO_TIMEOUTS: `wait` after this long without input

    def fatal_at(self, number: int) -> str | None:
        if number == self.thermal_runaway_at_line:
            return "thermal_runaway"
        return self.fatal.get(number)


RECOVERABLE = (
    "corrupt_lines",
    "no_checksum_lines",
    "bad_number_lines",
    "silent_error_lines",
    "lost_lines",
    "drop_ok_lines",
    "drop_ok_after_resend",
    "duplicate_resend_lines",
    "resend_ahead_lines",
    "chatter_lines",
)


def random_faults(seed: int, lines: int, rate: float, kinds: tuple[str, ...] = RECOVERABLE) -> MarlinFaults:
    """Recoverable faults scattered over job lines 10..`lines` (about `rate` of them), reproducibly."""
    rng = random.Random(seed)
    faults = MarlinFaults()
    for number in range(10, lines + 1):
        if rng.random() < rate:
            kind = rng.choice((*kinds, "busy_storm", "wait_storm"))
            if kind == "busy_storm":
                faults.busy_storm[number] = rng.randint(1, 5)
            elif kind == "wait_storm":
                faults.wait_storm[number] = rng.randint(1, 5)
            else:
                getattr(faults, kind).add(number)
    return faults
