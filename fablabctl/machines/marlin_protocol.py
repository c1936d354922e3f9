"""Marlin's host protocol, as OctoPrint and Printrun speak it: pure functions, no I/O.

Lines go out as `N<n> <command>*<checksum>` where the checksum is the XOR of every byte before `*`.
Replies: `ok` (maybe with temperatures), `Resend: <n>` / `rs <n>`, `echo:busy: processing`,
`Error:...`, temperature reports `T:210.0 /210.0 B:60.0 /60.0`, and M115 capability lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TEMP = re.compile(r"\b(T\d?|B|C):\s*(-?\d+(?:\.\d+)?)\s*(?:/\s*(-?\d+(?:\.\d+)?))?")
RESEND = re.compile(r"^(?:Resend|rs)[:\s]\s*N?(\d+)", re.IGNORECASE)
NUMBERED = re.compile(r"^N(\d+)\s+(.*?)\*(\d+)\s*$")
# errors that only ask for a resend; anything else is the firmware giving up
RECOVERABLE_ERRORS = (
    "checksum mismatch",
    "line number is not last line number+1",
    "no line number with checksum",
    "no checksum with line number",
    "format error",
)


def checksum(text: str) -> int:
    value = 0
    for byte in text.encode("ascii", errors="replace"):
        value ^= byte
    return value


def numbered(number: int, command: str) -> str:
    body = f"N{number} {command}"
    return f"{body}*{checksum(body)}"


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


def resend_line(line: str) -> int | None:
    match = RESEND.match(line.strip())
    return int(match.group(1)) if match else None


def is_busy(line: str) -> bool:
    return "busy:" in line.lower()


def is_ok(line: str) -> bool:
    return line == "ok" or line.startswith("ok ") or line.startswith("ok:")


def is_error(line: str) -> bool:
    return line.lower().startswith("error:") or line.lower().startswith("!!")


def recoverable(error_line: str) -> bool:
    lower = error_line.lower()
    return any(text in lower for text in RECOVERABLE_ERRORS)


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
