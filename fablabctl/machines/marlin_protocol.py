"""Marlin's host protocol, as OctoPrint and Printrun speak it: pure functions, no I/O.

Lines go out as `N<n> <command>*<checksum>` where the checksum is the XOR of every byte before `*`.
`classify` turns each line the firmware prints into one `Reply`; the wording it accepts is that of
real firmware (Marlin's `language.h` and `queue.cpp`, Prusa/Marlin 1.x, OctoPrint's virtual printer,
Repetier/Teacup's `rs N`), matched the way OctoPrint's `comm.py` does: by key words, not whole
sentences, because every firmware says "line lost or garbled" differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from fablabctl.i18n import Text

TEMP = re.compile(r"\b(T\d?|B|C):\s*(-?\d+(?:\.\d+)?)\s*(?:/\s*(-?\d+(?:\.\d+)?))?")
RESEND = re.compile(r"^(?:resend|rs)\b[:\s]*N?:?\s*(\d+)", re.IGNORECASE)
OK = re.compile(r"^ok\b(?:\s+N?:?(\d+)(?=\s|$))?", re.IGNORECASE)
NUMBERED = re.compile(r"^N(\d+)\s+(.*?)\*(\d+)\s*$")
LAST_LINE = re.compile(r"last\s*line:?\s*(\d+)", re.IGNORECASE)
EXPECTED_LINE = re.compile(r"expected\s+line:?\s*(\d+)", re.IGNORECASE)
OWN_NUMBER = re.compile(r"^[Nn][ \t]*\d+[ \t]*")
OWN_CHECKSUM = re.compile(r"[ \t]*\*[ \t]*\d+[ \t]*$")

# Errors that mean "your line was lost or garbled" (OctoPrint's `_resend_request_communication_errors`
# and `_recoverable_communication_errors`): "checksum mismatch", "No Checksum with line number",
# "No Line Number with checksum", "Missing checksum", "Wrong checksum", "Line Number is not Last Line
# Number+1", "expected line 12 got 13", "format error".
LINE_ERROR_WORDS = ("checksum", "line number", "expected line", "format error")
# Errors a print survives (OctoPrint ignores them too): a typo'd command, SD card trouble.
HARMLESS_ERROR_WORDS = (
    "unknown command",
    "volume.init",
    "openroot",
    "workdir",
    "error writing to file",
    "cannot open",
    "open failed",
    "cannot enter",
)
# Said outside an `Error:` prefix too by some firmwares (LCD text `Err: MINTEMP`, kill messages).
FATAL_ANYWHERE = ("kill() called", "printer halted", "err: mintemp", "err: maxtemp", "thermal runaway")


class ReplyKind(StrEnum):
    OK = "ok"  # acknowledgement, maybe with the line number (`ok N12 P15 B3`) or a report (`ok T:...`)
    RESEND = "resend"  # `Resend: 12`, `Resend:12`, `rs N12`: send again from line 12
    LINE_ERROR = "line_error"  # a line arrived garbled or out of order; `number` = the line to resend
    BUSY = "busy"  # `echo:busy: processing`: alive, still working on the line
    WAIT = "wait"  # `wait`: the firmware's queue is empty (sign of a lost line, never an acknowledgement)
    FATAL = "fatal"  # the firmware stopped (kill, thermal protection): the job cannot go on
    START = "start"  # `start`: the firmware has just (re)booted
    TEMPERATURE = "temperature"  # `T:210.0 /210.0 B:60.0 /60.0 @:0 B@:0`
    ECHO = "echo"  # `echo:...` and harmless errors: shown to the operator, nothing else
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Fatal:
    """Why the firmware stopped: a stable code and a French/English explanation naming its words."""

    code: str
    reason: Text


@dataclass(frozen=True, slots=True)
class Reply:
    kind: ReplyKind
    line: str
    number: int | None = None  # OK: the acknowledged line when given; RESEND/LINE_ERROR: line to resend
    fatal: Fatal | None = None


# (code, words in the firmware's line, French, English); the first match wins, so the specific
# thermal causes come before the generic "halted"/"stopped" that Marlin prints right after them.
_FATAL_CAUSES = (
    (
        "MARLIN_THERMAL_RUNAWAY",
        ("thermal runaway",),
        "emballement thermique : la température n'a pas suivi la consigne (thermistance mal fixée "
        "ou chauffe défaillante) ; l'imprimante a coupé la chauffe par sécurité",
        "thermal runaway: the temperature did not follow its target (loose thermistor or failing "
        "heater); the printer switched heating off for safety",
    ),
    (
        "MARLIN_MAXTEMP",
        ("maxtemp",),
        "température maximale dépassée (MAXTEMP) ; l'imprimante a coupé la chauffe par sécurité",
        "maximum temperature exceeded (MAXTEMP); the printer switched heating off for safety",
    ),
    (
        "MARLIN_MINTEMP",
        ("mintemp",),
        "température sous le minimum (MINTEMP) : thermistance débranchée ou coupée ?",
        "temperature below the minimum (MINTEMP): thermistor unplugged or broken?",
    ),
    (
        "MARLIN_HEATING_FAILED",
        ("heating failed",),
        "la chauffe a échoué : la température n'est pas montée à temps",
        "heating failed: the temperature did not rise in time",
    ),
    (
        "MARLIN_HEATER_MISMATCH",
        ("heater switched off",),
        "deux capteurs de température ne sont pas d'accord ; la chauffe est coupée",
        "two temperature sensors disagree; heating is switched off",
    ),
    (
        "MARLIN_HALTED",
        ("kill() called", "printer halted", "killed", "emergency", "shutdown"),
        "l'imprimante s'est arrêtée d'urgence (kill) ; il faut la redémarrer",
        "the printer halted (kill); it must be restarted",
    ),
    (
        "MARLIN_STOPPED",
        ("printer stopped", "m999"),
        "l'imprimante est à l'arrêt après une erreur (M999 ou un redémarrage nécessaire)",
        "the printer is stopped after an error (M999 or a restart needed)",
    ),
)


def fatal_cause(line: str) -> Fatal:
    """The stable code and explanation for a firmware line that ends the job."""
    lower = line.lower()
    for code, words, fr, en in _FATAL_CAUSES:
        if any(word in lower for word in words):
            return Fatal(
                code,
                Text(
                    f"L'imprimante s'est arrêtée : {fr} (elle a écrit « {line} »).",
                    f"The printer stopped: {en} (it wrote “{line}”).",
                ),
            )
    return Fatal(
        "MARLIN_FIRMWARE_ERROR",
        Text(f"L'imprimante a signalé une erreur : « {line} ».", f"The printer reported an error: “{line}”."),
    )


def _error_body(lower: str) -> str | None:
    """The text after an error prefix (`Error:`, `Error `, `Err:`, `!!`), or None for other lines."""
    for prefix in ("error:", "error ", "err:", "!!"):
        if lower.startswith(prefix):
            return lower[len(prefix) :]
    return None


def line_to_resend(error: str) -> int | None:
    """The line a line error asks for: `Last Line: 11` -> 12, `expected line 12 got 13` -> 12."""
    match = EXPECTED_LINE.search(error)
    if match:
        return int(match.group(1))
    match = LAST_LINE.search(error)
    return int(match.group(1)) + 1 if match else None


def classify(raw: str) -> Reply:
    """What one line from the firmware means to the host (see `ReplyKind`)."""
    line = raw.strip()
    lower = line.lower()
    match = OK.match(line)
    if match:
        return Reply(ReplyKind.OK, line, int(match.group(1)) if match.group(1) else None)
    match = RESEND.match(line)
    if match:
        return Reply(ReplyKind.RESEND, line, int(match.group(1)))
    body = _error_body(lower)
    if body is not None:
        if any(word in body for word in LINE_ERROR_WORDS):
            return Reply(ReplyKind.LINE_ERROR, line, line_to_resend(body))
        if any(word in body for word in HARMLESS_ERROR_WORDS):
            return Reply(ReplyKind.ECHO, line)
        return Reply(ReplyKind.FATAL, line, fatal=fatal_cause(line))
    if lower.startswith(("busy:", "echo:busy:")):
        return Reply(ReplyKind.BUSY, line)
    if lower == "wait":
        return Reply(ReplyKind.WAIT, line)
    if lower.startswith(("echo:", "//")):
        return Reply(ReplyKind.ECHO, line)
    if any(word in lower for word in FATAL_ANYWHERE) or lower.startswith("printer stopped due to errors"):
        return Reply(ReplyKind.FATAL, line, fatal=fatal_cause(line))
    if lower == "start":
        return Reply(ReplyKind.START, line)
    if ("T:" in line or "B:" in line) and TEMP.search(line):
        return Reply(ReplyKind.TEMPERATURE, line)
    return Reply(ReplyKind.OTHER, line)


def checksum(text: str) -> int:
    value = 0
    for byte in text.encode("ascii", errors="replace"):
        value ^= byte
    return value


def numbered(number: int, command: str) -> str:
    body = f"N{number} {command}"
    return f"{body}*{checksum(body)}"


def without_own_numbering(command: str) -> str:
    """A job line's own `N…` and `*…` removed (the policy checked them): the driver numbers each line
    itself, and Marlin would read `N5 N2 M104 S200*…` as an unknown command and skip it silently."""
    return OWN_NUMBER.sub("", OWN_CHECKSUM.sub("", command), count=1)


def parse_numbered(line: str) -> tuple[int, str, bool] | None:
    """(line number, command, checksum ok) for a numbered line, None for a plain one."""
    match = NUMBERED.match(line)
    if not match:
        return None
    body = line[: line.rindex("*")]
    return int(match.group(1)), match.group(2).strip(), checksum(body) == int(match.group(3))


def temperatures(line: str) -> dict[str, tuple[float, float]]:
    """{"hotend": (actual, target), "bed": (...)} from `ok T:...` or a temperature report."""
    found: dict[str, tuple[float, float]] = {}
    for name, actual, target in TEMP.findall(line):
        key = "bed" if name == "B" else "chamber" if name == "C" else "hotend"
        if key == "hotend" and "hotend" in found and name != "T0":
            continue
        found[key] = (float(actual), float(target) if target else 0.0)
    return found


@dataclass(frozen=True, slots=True)
class Capabilities:
    firmware: str = ""
    autoreport_temp: bool = False
    emergency_parser: bool = False


def capabilities(lines: list[str]) -> Capabilities:
    firmware, auto, emergency = "", False, False
    for line in lines:
        if "FIRMWARE_NAME:" in line:
            firmware = line.split("FIRMWARE_NAME:", 1)[1].split(" SOURCE_CODE_URL")[0].strip()
        elif line.startswith("Cap:AUTOREPORT_TEMP:"):
            auto = line.endswith(":1")
        elif line.startswith("Cap:EMERGENCY_PARSER:"):
            emergency = line.endswith(":1")
    return Capabilities(firmware, auto, emergency)
