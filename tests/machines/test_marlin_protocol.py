"""Every firmware line the host may read, as real firmwares print it, and what it means.

Sources of the strings: Marlin 2.x `Marlin/src/core/language.h` (STR_ERR_CHECKSUM_MISMATCH,
STR_ERR_NO_CHECKSUM, STR_ERR_LINE_NO, STR_RESEND, STR_ERR_KILLED, STR_T_THERMAL_RUNAWAY,
STR_T_MAXTEMP, STR_T_MINTEMP, STR_T_HEATING_FAILED, STR_STOPPED_HEATER, STR_ERR_STOPPED, STR_BUSY_PROCESSING,
STR_WAIT) and `queue.cpp` (ADVANCED_OK), Marlin 1.x / Prusa (MSG_ERR_NO_LINENUMBER_WITH_CHECKSUM, LCD
`Err: MINTEMP`), OctoPrint's virtual printer (`virtual.py` errors, `Resend:%d`), Repetier/Teacup (`rs N`),
Klipper (`!! ...`).
"""

from __future__ import annotations

import pytest

from fablabctl.machines.marlin_protocol import (
    ReplyKind,
    capabilities,
    checksum,
    classify,
    numbered,
    parse_numbered,
    temperatures,
)

OK, RESEND, LINE_ERROR = ReplyKind.OK, ReplyKind.RESEND, ReplyKind.LINE_ERROR
BUSY, WAIT, FATAL, ECHO = ReplyKind.BUSY, ReplyKind.WAIT, ReplyKind.FATAL, ReplyKind.ECHO
TEMPERATURE, START, OTHER = ReplyKind.TEMPERATURE, ReplyKind.START, ReplyKind.OTHER

# line as the firmware prints it -> (kind, number: acknowledged line / line to resend)
CASES: list[tuple[str, ReplyKind, int | None]] = [
    # acknowledgements
    ("ok", OK, None),
    ("ok N12 P15 B3", OK, 12),  # Marlin ADVANCED_OK
    ("ok 12", OK, 12),  # Repetier
    ("ok T:210.00 /210.00 B:60.00 /60.00 @:0 B@:0", OK, None),  # M105 reply
    ("ok C: X:10.00 Y:3.20 Z:5.20 E:1.24", OK, None),  # M114 reply (OctoPrint virtual printer)
    ("ok X:0.00 Y:0.00 Z:0.00 E:0.00 Count X:0 Y:0 Z:0", OK, None),
    ("okay", OTHER, None),
    # resend requests
    ("Resend: 12", RESEND, 12),  # Marlin STR_RESEND "Resend: "
    ("Resend:12", RESEND, 12),  # OctoPrint virtual printer "Resend:%d"
    ("Resend: N12", RESEND, 12),
    ("Resend: N:12", RESEND, 12),
    ("rs 12", RESEND, 12),  # Teacup / Repetier
    ("rs N12", RESEND, 12),
    # line lost or garbled: the line to resend is Last Line + 1, or the expected line
    ("Error:checksum mismatch, Last Line: 11", LINE_ERROR, 12),  # STR_ERR_CHECKSUM_MISMATCH
    ("Error:No Checksum with line number, Last Line: 11", LINE_ERROR, 12),  # STR_ERR_NO_CHECKSUM
    ("Error:Line Number is not Last Line Number+1, Last Line: 11", LINE_ERROR, 12),  # STR_ERR_LINE_NO
    ("Error:No Line Number with checksum, Last Line: 11", LINE_ERROR, 12),  # Marlin 1.x / Prusa
    ("Error: No Line Number with checksum, Last Line: 11", LINE_ERROR, 12),
    ("Error: expected line 12 got 13", LINE_ERROR, 12),  # OctoPrint virtual printer lineno_mismatch
    ("Error:expected line 12 got 13", LINE_ERROR, 12),
    ("Error: Checksum mismatch", LINE_ERROR, None),  # virtual printer checksum_mismatch
    ("Error: Missing checksum", LINE_ERROR, None),  # virtual printer checksum_missing
    ("Error:Missing checksum", LINE_ERROR, None),
    ("Error: Wrong checksum", LINE_ERROR, None),  # older virtual printer
    ("Error:format error", LINE_ERROR, None),
    ("error:checksum mismatch, Last Line: 0", LINE_ERROR, 1),
    # keep-alives and idle
    ("echo:busy: processing", BUSY, None),  # STR_BUSY_PROCESSING with SERIAL_ECHO_START
    ("busy: processing", BUSY, None),
    ("echo:busy: paused for user", BUSY, None),
    ("busy:processing", BUSY, None),  # OctoPrint virtual printer
    ("wait", WAIT, None),  # STR_WAIT (NO_TIMEOUTS)
    # reports and chatter
    ("T:210.00 /210.00 B:60.00 /60.00 @:0 B@:0", TEMPERATURE, None),
    (" T:25.0 /0.0 B:24.1 /0.0 T0:25.0 /0.0 @:0 B@:0", TEMPERATURE, None),
    ("T:185.4 E:0 W:?", TEMPERATURE, None),  # M109 waiting
    ('echo:Unknown command: "M9999"', ECHO, None),  # STR_UNKNOWN_COMMAND
    ("echo:Marlin 2.1.2.1", ECHO, None),
    ("echo:M117 Thermal Runaway test", ECHO, None),  # a user's message is not the firmware's verdict
    ("// action:pause", ECHO, None),
    ("Error:Unknown command: M9999", ECHO, None),  # some firmwares; OctoPrint ignores it too
    ("Error:volume.init failed", ECHO, None),  # SD card trouble
    ("FIRMWARE_NAME:Marlin 2.1.2 SOURCE_CODE_URL:x EXTRUDER_COUNT:1", OTHER, None),
    ("Cap:AUTOREPORT_TEMP:1", OTHER, None),
    ("start", START, None),
    # the firmware stopped
    ("Error:Printer halted. kill() called!", FATAL, None),  # STR_ERR_KILLED
    ("Error:Printer halted", FATAL, None),
    ("Error:Thermal Runaway, system stopped! Heater_ID: 0", FATAL, None),  # STR_T_THERMAL_RUNAWAY
    ("Error:Thermal Runaway, system stopped! Heater_ID: bed", FATAL, None),
    ("Error:MAXTEMP triggered, system stopped! Heater_ID: 0", FATAL, None),  # STR_T_MAXTEMP
    ("Error:MINTEMP triggered, system stopped! Heater_ID: bed", FATAL, None),  # STR_T_MINTEMP
    ("Error:Heating failed, system stopped! Heater_ID: 0", FATAL, None),  # STR_T_HEATING_FAILED
    ("Error: MAXTEMP triggered!", FATAL, None),  # OctoPrint virtual printer
    ("Err: MINTEMP", FATAL, None),  # LCD wording (MSG_ERR_MINTEMP)
    ("Err: MAXTEMP BED", FATAL, None),
    (" Thermal Runaway", FATAL, None),
    ("Printer stopped due to errors. Fix the error and use M999 to restart.", FATAL, None),  # STR_ERR_STOPPED
    ("!! Lost communication with MCU 'mcu'", FATAL, None),  # Klipper
    ("!!SHUTDOWN", FATAL, None),
    ("Error:Probing Failed", FATAL, None),  # anything else an error says ends the job (as OctoPrint does)
]


@pytest.mark.parametrize(("line", "kind", "number"), CASES, ids=[case[0] for case in CASES])
def test_each_firmware_line_is_understood(line: str, kind: ReplyKind, number: int | None) -> None:
    reply = classify(line)
    assert (reply.kind, reply.number) == (kind, number)
    assert (reply.fatal is not None) == (kind is FATAL)


# fatal line -> stable code; the explanation is French first and names the firmware's own words
FATAL_CODES = [
    ("Error:Thermal Runaway, system stopped! Heater_ID: 0", "MARLIN_THERMAL_RUNAWAY", "emballement"),
    ("Error:MAXTEMP triggered, system stopped! Heater_ID: 0", "MARLIN_MAXTEMP", "maximale"),
    ("Error:MINTEMP triggered, system stopped! Heater_ID: bed", "MARLIN_MINTEMP", "minimum"),
    ("Err: MINTEMP", "MARLIN_MINTEMP", "thermistance"),
    ("Error:Heating failed, system stopped! Heater_ID: 0", "MARLIN_HEATING_FAILED", "chauffe a échoué"),
    ("Error:Printer halted. kill() called!", "MARLIN_HALTED", "arrêtée d'urgence"),
    ("!! Lost communication with MCU 'mcu'", "MARLIN_FIRMWARE_ERROR", "erreur"),
    ("Printer stopped due to errors. Fix the error and use M999 to restart.", "MARLIN_STOPPED", "M999"),
]


@pytest.mark.parametrize(("line", "code", "french"), FATAL_CODES, ids=[f"{c[1]}:{c[0]}" for c in FATAL_CODES])
def test_a_fatal_line_has_a_stable_code_and_a_french_explanation(line: str, code: str, french: str) -> None:
    fatal = classify(line).fatal
    assert fatal is not None and fatal.code == code
    assert french in fatal.reason.fr and line in fatal.reason.fr and line in fatal.reason.en


def test_numbered_lines_carry_marlins_checksum() -> None:
    line = numbered(12, "G1 X10 Y10")
    assert line == f"N12 G1 X10 Y10*{checksum('N12 G1 X10 Y10')}"
    assert parse_numbered(line) == (12, "G1 X10 Y10", True)
    assert parse_numbered(line[:-1] + str((int(line[-1]) + 1) % 10))[2] is False  # type: ignore[index]
    assert parse_numbered("G28") is None


def test_temperatures_and_capabilities() -> None:
    assert temperatures("ok T:210.00 /215.00 B:60.00 /60.00 @:0 B@:0") == {
        "hotend": (210.0, 215.0),
        "bed": (60.0, 60.0),
    }
    caps = capabilities(
        ["FIRMWARE_NAME:Marlin 2.1.2 SOURCE_CODE_URL:x", "Cap:AUTOREPORT_TEMP:1", "Cap:EMERGENCY_PARSER:0"]
    )
    assert (caps.firmware, caps.autoreport_temp, caps.emergency_parser) == ("Marlin 2.1.2", True, False)
