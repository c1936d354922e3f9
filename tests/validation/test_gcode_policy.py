"""The G-code safety policy, one line at a time: every bypass we could think of, and what must pass.

Each row: the line, then the refusal code (None: allowed). The printer rows run against the built-in
default printer (hotend 260 °C, bed 110 °C), the laser rows against the default laser (S1000).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fablabctl.file_limits import ValidationLimits
from fablabctl.machines import grbl_protocol as gp
from fablabctl.machines.marlin import COOL_DOWN, PARK, UNPARK
from fablabctl.specs import DEFAULT_LASER, DEFAULT_PRINTER, MachineSpec
from fablabctl.validation.gcode import validate_gcode
from fablabctl.validation.gcode_parse import checksum
from fablabctl.validation.gcode_policy import LinePolicy, check_lines
from fablabctl.validation.validate import validate_file

AMBIGUOUS, FORBIDDEN = "GCODE_AMBIGUOUS_SYNTAX", "GCODE_FORBIDDEN_COMMAND"
HOT, BED, CHAMBER = "GCODE_HOTEND_TOO_HOT", "GCODE_BED_TOO_HOT", "GCODE_CHAMBER_TOO_HOT"
POWER, STILL = "GCODE_LASER_POWER_TOO_HIGH", "GCODE_LASER_ON_WITHOUT_MOTION"


def numbered(line: str) -> str:
    """A line with a correct Marlin checksum."""
    return f"{line}*{checksum(line)}"


PRINTER_CASES: list[tuple[str, str | None]] = [
    # the issue's bypasses: R waits for heating or cooling, and nobody read it
    ("M109 R400", HOT),
    ("M190 R150", BED),
    ("M109 S200 R300", HOT),
    # spelling: case, spaces, zeros, signs
    ("M104 S400", HOT),
    ("M104S400", HOT),
    ("m104 s400", HOT),
    ("M104 s 400", HOT),
    ("M0104 S400", HOT),
    ("  M104   S+400  ", HOT),
    ("M104 S260.0001", HOT),
    ("M104 S260", None),
    ("M104 S0", None),
    ("M140 S0", None),
    ("M104", None),
    ("M109", None),
    # line numbers and checksums
    (numbered("N2 M104 S400"), HOT),
    ("N2 M104 S400*99", HOT),  # the right checksum: read as Marlin would
    ("N2 M104 S400*98", AMBIGUOUS),  # a wrong one: the line may have been altered
    (numbered("N2 M104 S200"), None),
    ("N2 M104 S200*1*2", AMBIGUOUS),
    ("M104 S200*", AMBIGUOUS),
    ("N2M104S400", HOT),
    # comments, and parentheses Marlin does not read as comments
    ("M104 S200 ; S400", None),
    ("M104 S400 ; S200", HOT),
    ("M104 (S400) S200", AMBIGUOUS),
    ("M104 S400 (S200)", AMBIGUOUS),
    ("; M104 S400", None),
    # numbers a C strtod reads further than we would
    ("M104 S2.6e2", AMBIGUOUS),
    ("M104 S26E1", AMBIGUOUS),
    ("M104 S0x1A0", AMBIGUOUS),
    ("M104 S0X1A0", AMBIGUOUS),
    ("M104 Snan", AMBIGUOUS),
    ("M104 Sinf", AMBIGUOUS),
    ("M104 S-inf", AMBIGUOUS),
    # a temperature word without a value, twice, or a second command on the line
    ("M104 S", AMBIGUOUS),
    ("M109 R", AMBIGUOUS),
    ("M104 S200 S400", AMBIGUOUS),
    ("M104 S400 S200", AMBIGUOUS),
    ("M104 S200 M104 S400", AMBIGUOUS),
    ("M104 S200 M140 S200", AMBIGUOUS),
    ("G1 X10 M104 S400", AMBIGUOUS),
    ("T0 M104 S400", AMBIGUOUS),
    # non-ASCII: full-width digits, Cyrillic М, Greek Ѕ, a non-breaking space
    ("M104 S４００", AMBIGUOUS),
    ("М104 S400", AMBIGUOUS),
    ("M104 Ѕ400", AMBIGUOUS),
    ("M104\u00a0S400", AMBIGUOUS),
    # control characters: a lone carriage return ends a line for the firmware
    ("M104 S200\rM104 S400", AMBIGUOUS),
    ("; harmless\rM104 S400", AMBIGUOUS),
    ("M104 S200\x00", AMBIGUOUS),
    ("M104 S200\x0bS400", AMBIGUOUS),
    # tools, presets, autotemp, unknown parameters
    ("M104 T0 S300", HOT),
    ("M104 T1 S210", None),
    ("M104 S210 T0", None),
    ("M104 T-1 S210", AMBIGUOUS),
    ("M104 T0.5 S210", AMBIGUOUS),
    ("M104 I1", AMBIGUOUS),
    ("M140 I0", AMBIGUOUS),
    ("M190 I2", AMBIGUOUS),
    ("M104 B300 S200 F0.1", HOT),
    ("M104 B250 S200 F0.1", None),
    ("M104 S200 F0.1", AMBIGUOUS),
    ("M109 S200 D5", AMBIGUOUS),
    ("M104 S200 X", AMBIGUOUS),
    ("M104.1 S400", AMBIGUOUS),
    ("M109.0 S400", HOT),
    ("T16", AMBIGUOUS),
    ("T0", None),
    ("T1", None),
    ("Tx", AMBIGUOUS),
    # bed and chamber
    ("M140 S111", BED),
    ("M190 S110", None),
    ("M140 S60 R200", AMBIGUOUS),
    ("M141 S80", CHAMBER),
    ("M191 R90", CHAMBER),
    ("M191 S45", None),
    # firmware, EEPROM, tuning, pins, stored code, host tricks
    ("M500", FORBIDDEN),
    ("M501", FORBIDDEN),
    ("M502", FORBIDDEN),
    ("M997", FORBIDDEN),
    ("M112", FORBIDDEN),
    ("M999", FORBIDDEN),
    ("M303 E0 S250 C8", FORBIDDEN),
    ("M303 E-1 S400 C8 U1", FORBIDDEN),
    ("M301 P1 I1 D1", FORBIDDEN),
    ("M304 P1 I1 D1", FORBIDDEN),
    ("M305 P0 R4700", FORBIDDEN),
    ("M306 T", FORBIDDEN),
    ("M145 S0 H400 B150", FORBIDDEN),
    ("M149 K", FORBIDDEN),
    ("G26 H300 B100", FORBIDDEN),
    ("M42 P8 S255", FORBIDDEN),
    ("M43 T S8", FORBIDDEN),
    ("M226 P8 S1", FORBIDDEN),
    ("M100 C5", FORBIDDEN),
    ("M260 A5 B65", FORBIDDEN),
    ("M810 M104 S400", FORBIDDEN),
    ("M810", FORBIDDEN),
    ("M819 G28|M140 S150", FORBIDDEN),
    ("M118 Resend: 1", FORBIDDEN),
    ("M118 E1 //action:cancel", FORBIDDEN),
    ("M23 evil.gco", FORBIDDEN),
    ("M24", FORBIDDEN),
    ("M28 evil.gco", FORBIDDEN),
    ("M32 evil.gco", FORBIDDEN),
    ("M30 part.gco", FORBIDDEN),
    ("M928 log.txt", FORBIDDEN),
    ("M110 N0", FORBIDDEN),
    ("M575 B9600", FORBIDDEN),
    ("M211 S0", FORBIDDEN),
    ("M121", FORBIDDEN),
    ("M81", FORBIDDEN),
    ("M350 X16", FORBIDDEN),
    ("M3 S1000", FORBIDDEN),
    ("M4 S255", FORBIDDEN),
    ("M8", FORBIDDEN),
    ("$32=0", FORBIDDEN),
    ("@pause", FORBIDDEN),
    ("@shell rm -rf /", FORBIDDEN),
    ("G1 X10 $", AMBIGUOUS),
    ("M104 S200 # S400", AMBIGUOUS),
    ("M104 S200 {S400}", AMBIGUOUS),
    ("G1 X1" + " " * 100, None),
    ("G1 X1" + " " * 100 + "Y1", AMBIGUOUS),  # longer than Marlin's command buffer
    ("M117 " + "x" * 77, None),  # 82 characters: with `N1234567 ` and `*123`, 95 bytes
    ("M117 " + "x" * 78, AMBIGUOUS),
    # Unicode "spaces" at the ends of a line: Python's strip() hides them, the firmware gets their bytes
    ("M104 S200\u00a0", AMBIGUOUS),
    ("\u1680M104 S200", AMBIGUOUS),
    ("M104 S200\u2028", AMBIGUOUS),
    ("M104 S200 ; température\u00a0", None),  # in the comment: never sent
    ("M104 S2\b00", AMBIGUOUS),  # Marlin's reader erases the previous character on a backspace
    ("M104 S2\\00", AMBIGUOUS),  # and keeps the character after a backslash
    # heating written for other firmwares (RepRapFirmware tools and heaters, Klipper macros)
    ("G10 P0 S400 R150", AMBIGUOUS),
    ("G10 P0 R200", AMBIGUOUS),
    ("G10 S400", AMBIGUOUS),
    ("G10", None),  # Marlin: retract
    ("G10 S1", None),  # Marlin: swap retract
    ("G11", None),
    ("M568 P0 S400 R150", FORBIDDEN),
    ("M143 H1 S400", FORBIDDEN),
    ("M307 H0 A1 C2 D3", FORBIDDEN),
    ("M570 S100", FORBIDDEN),
    ("HEAT", AMBIGUOUS),
    ("SET_HEATER_TEMPERATURE HEATER=extruder TARGET=400", AMBIGUOUS),
    ("PREHEAT", AMBIGUOUS),
    ("P000", AMBIGUOUS),  # Marlin's REALTIME_REPORTING_COMMANDS: a quick pause, from the line's start
    ("X10 Y10", AMBIGUOUS),
    ("S400", AMBIGUOUS),
    ("M1120", FORBIDDEN),  # the emergency parser reads M112 and kills at the end of the line
    ("M112 S1", FORBIDDEN),
    # heat on their own later, or lock, reflash, resume
    ("M86 S60 E400 B200", FORBIDDEN),  # hotend idle timeout: E and B are heating targets
    ("M309 P1 I1 D1", FORBIDDEN),
    ("G76", FORBIDDEN),
    ("M1000", FORBIDDEN),
    ("M512 P0 S1234", FORBIDDEN),
    ("M510", FORBIDDEN),
    ("M993", FORBIDDEN),
    ("M994", FORBIDDEN),
    ("M552 S0", FORBIDDEN),
    # M110 anywhere in a line renumbers Marlin's count (queue.cpp: strstr "M110")
    ("M117 M110 N99", AMBIGUOUS),
    ("M117 m110", AMBIGUOUS),
    ("M117 M112", None),  # the emergency parser only looks at the start of a line
    ("M117 50 %\\", AMBIGUOUS),  # Marlin's reader escapes the byte after a backslash
    # speed and flow factors
    ("M220 S1000", FORBIDDEN),
    ("M221 S250", FORBIDDEN),
    ("M220 S150", None),
    ("M220 B", None),
    ("M221 S95 T0", None),
    # what a real slicer writes (PrusaSlicer marlin2 start, layers and end, Cura, Prusa)
    ("M104 S215 ; set temperature", None),
    ("M109 S215 ; wait for temperature", None),
    ("M140 S60", None),
    ("M190 S60", None),
    ("M109 R200", None),
    ("M107", None),
    ("M106 S255", None),
    ("M82 ; absolute extrusion mode", None),
    ("M83", None),
    ("G92 E0", None),
    ("G28 ; home all", None),
    ("G28 X", None),
    ("G29", None),
    ("G90", None),
    ("G21", None),
    ("G1 Z.2 F720", None),
    ("G1 X10.5 Y-3 E.04 F1800", None),
    ("G1X10E5", None),
    ("G0 F9000 X120.5 Y100.25 Z0.3", None),
    ("G4 P500", None),
    ("M900 K0.04", None),
    ("M221 S100", None),
    ("M73 P10 R12", None),
    ("M201 X1000 Y1000 Z200 E5000", None),
    ("M203 X200 Y200 Z12 E120", None),
    ("M204 P1250 R1250 T1250", None),
    ("M205 X8 Y8 Z0.4 E1.5", None),
    ("M117 Impression démarrée", None),
    ("M486 S1", None),
    ("M84", None),
    ("M105", None),
    ("M115", None),
    ("M600", None),
]

LASER_CASES: list[tuple[str, str | None]] = [
    # power wherever S is written: on M3/M4, on a move, alone (modal), any case, any spacing
    ("M3 S1001", POWER),
    ("M4 S1200", POWER),
    ("G1 X10 Y10 S1200 F1200", POWER),
    ("G1X10Y10S1200F1200", POWER),
    ("S1200", POWER),
    ("s1200", POWER),
    ("S 1 2 0 0", POWER),  # Grbl drops every space
    ("G0 X0 S1200", POWER),
    ("M4 S1000", None),
    ("G1 X10 S800 F1200", None),
    ("G1 S800 X10", None),
    ("S", AMBIGUOUS),
    ("M3 S", AMBIGUOUS),
    ("G1 X1 S500 S1200", AMBIGUOUS),
    # comments: Grbl reads ( ) and ;
    ("G1 X1 (S2000)", None),
    ("G1 X1 ; S2000", None),
    ("G1 X1 (S500) S2000", POWER),
    ("G1 X1 (unclosed S2000", AMBIGUOUS),
    ("G1 X1 (a (b) S2000)", AMBIGUOUS),
    # real-time bytes and lookalikes: only ASCII reaches Grbl
    ("G1 X1 \u011a", AMBIGUOUS),  # Ě is C4 9A: 0x9A raises the spindle override
    ("G1 X1 \x18", AMBIGUOUS),
    ("G1 X1 ~", AMBIGUOUS),
    ("G1 X1 !", AMBIGUOUS),
    ("Ѕ1200", AMBIGUOUS),
    # the "spaces" strip() removes: U+1680 is E1 9A 80 on the wire (0x9A: spindle override +10 %)
    ("G1 X1\u1680", AMBIGUOUS),
    ("G1 X1\u1680(c)", AMBIGUOUS),
    ("\u1680(c)", AMBIGUOUS),  # the driver drops the comment: what is left is not a blank line
    ("\u1680", AMBIGUOUS),
    ("(a)\u1680(b)", AMBIGUOUS),
    ("G1 X1\u00a0", AMBIGUOUS),  # C2 A0: 0xA0 toggles coolant
    ("G1 X1\u0085", AMBIGUOUS),  # C2 85: 0x85 cancels a jog
    ("G1 X1 ; \u00da", None),  # Ú is C3 9A, but in a comment the driver never sends
    # exponents: Grbl stops at the E (error:20), firmwares reading with strtod would not
    ("S1e4", AMBIGUOUS),
    ("M3 S1E3", AMBIGUOUS),
    ("G1 S0 X10", None),  # spaces dropped: S0X10 is S0 then a move
    # every $ command: settings, startup blocks, jog, homing, unlock, reset, sleep
    ("$32=0", FORBIDDEN),
    ("$30=10000", FORBIDDEN),
    ("$N0=M3 S1000", FORBIDDEN),
    ("$N1=G4 P100", FORBIDDEN),
    ("$J=G91 X10 F100", FORBIDDEN),
    ("$H", FORBIDDEN),
    ("$h", FORBIDDEN),
    ("  $X", FORBIDDEN),
    ("$$", FORBIDDEN),
    ("$RST=*", FORBIDDEN),
    ("$RST=$", FORBIDDEN),
    ("$SLP", FORBIDDEN),
    ("$C", FORBIDDEN),
    ("N10 $H", AMBIGUOUS),
    # EEPROM positions and offsets
    ("G10 L2 P1 X0 Y0", FORBIDDEN),
    ("G10 L20 P1 X0", FORBIDDEN),
    ("G28.1", FORBIDDEN),
    ("G30.1", FORBIDDEN),
    ("G28", None),
    ("G30", None),
    # outputs and macros of grblHAL-like firmwares
    ("M62 P1", FORBIDDEN),
    ("M64 P0", FORBIDDEN),
    ("M6 T1", FORBIDDEN),
    ("M100", FORBIDDEN),
    ("G65 P1", FORBIDDEN),
    ("@pause", FORBIDDEN),
    # what our generator and LightBurn write
    ("G21 G90", None),
    ("G21G90", None),
    ("M4 S0", None),
    ("M3 S0", None),
    ("M7", None),
    ("M8", None),
    ("M9", None),
    ("M5", None),
    ("M5 M9", None),
    ("G0 X10.000 Y10.000 S0", None),
    ("G1 X110 Y10 F1200 S800", None),
    ("G54", None),
    ("G92 X0 Y0", None),
    ("M2", None),
    ("M30", None),
    ("N5 G1 X1", None),
]


@pytest.mark.parametrize(("line", "code"), PRINTER_CASES, ids=[repr(c[0])[:40] for c in PRINTER_CASES])
def test_printer_line(line: str, code: str | None) -> None:
    verdict = LinePolicy(DEFAULT_PRINTER).check(line, 7)
    assert (verdict.refusal.code if verdict.refusal else None) == code, verdict.refusal
    if verdict.refusal:
        assert verdict.refusal.message.fr.startswith("Ligne 7 : « ")
        assert verdict.refusal.message.en.startswith("Line 7: '")


@pytest.mark.parametrize(("line", "code"), LASER_CASES, ids=[repr(c[0])[:40] for c in LASER_CASES])
def test_laser_line(line: str, code: str | None) -> None:
    verdict = LinePolicy(DEFAULT_LASER).check(line, 3)
    assert (verdict.refusal.code if verdict.refusal else None) == code, verdict.refusal


@pytest.mark.parametrize(("line", "code"), LASER_CASES, ids=[repr(c[0])[:40] for c in LASER_CASES])
def test_what_the_grbl_driver_sends_gets_the_same_verdict(line: str, code: str | None) -> None:
    """The driver strips comments and spaces before sending: the line on the wire is judged alike."""
    wire = gp.clean(line.split(";", 1)[0])
    if not wire.strip():
        return
    verdict = LinePolicy(DEFAULT_LASER).check(wire, 3)
    assert (verdict.refusal is None) == (code is None), (wire, verdict.refusal)


def test_laser_state_is_modal() -> None:
    """A dwell is refused only while the laser is on with power; M5 or S0 make it safe."""
    lines = ["M3 S500", "G4 P1", "S0", "G4 P1", "S300", "G4 P1", "M5", "G4 P1", "M4", "G4 P0.5"]
    policy = LinePolicy(DEFAULT_LASER)
    refused = [n for n, line in enumerate(lines, 1) if policy.check(line, n).refusal]
    assert refused == [2, 6, 10]


def test_the_laser_limit_is_the_lower_of_the_machine_limit_and_grbl_max() -> None:
    weak = MachineSpec("diode", "laser", "grbl", 400, 300, laser_s_max=1000, laser_max_power_s=600)
    scaled = MachineSpec("co2", "laser", "grbl", 400, 300, laser_s_max=255, laser_max_power_s=1000)
    assert LinePolicy(weak).check("M3 S601", 1).refusal is not None
    assert LinePolicy(weak).check("M3 S600", 1).refusal is None
    assert LinePolicy(scaled).check("M3 S256", 1).refusal is not None  # beyond $30


def test_a_hotter_machine_allows_more() -> None:
    hot = MachineSpec("all-metal", "printer", "marlin", 250, 210, 210, max_hotend_c=300, max_bed_c=120)
    assert LinePolicy(hot).check("M109 R290", 1).refusal is None
    assert LinePolicy(hot).check("M109 R301", 1).refusal is not None


def test_the_drivers_own_commands_pass_the_policy() -> None:
    """Park, unpark and cool-down are constants of the Marlin driver: they obey the policy too."""
    assert check_lines(DEFAULT_PRINTER, [*PARK, *UNPARK, *COOL_DOWN, "M83"]) is None


# ---------------------------------------------------------------------- whole files


def check(tmp_path: Path, text: str, machine: MachineSpec = DEFAULT_PRINTER):  # type: ignore[no-untyped-def]
    path = tmp_path / "job.gcode"
    path.write_text(text)
    return validate_gcode(path, machine=machine, limits=ValidationLimits())


def test_the_issue_file_is_refused_at_upload_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "trap.gcode"
    path.write_text("G28\nM109 R400\nG1 X10 Y10 Z0.3 F3000\n")
    report = validate_file(path, machines=[DEFAULT_PRINTER])
    assert not report.ok
    finding = next(f for f in report.findings if f.code == HOT)
    assert finding.location["line"] == 2
    assert (
        "Ligne 2" in finding.message.fr and "M109 R400" in finding.message.fr and "260" in finding.message.fr
    )
    assert finding.hint is not None
    assert report.metrics["max_hotend_c"] == 400


def test_every_refused_line_is_reported_with_its_own_line(tmp_path: Path) -> None:
    text = "G28\n" + "".join(f"M104 S{300 + i}\nG1 X{i} Y1\n" for i in range(8)) + "M500\n"
    report = check(tmp_path, text)
    hot = [f for f in report.findings if f.code == HOT]
    assert [f.location["line"] for f in hot] == [2, 4, 6, 8, 10]  # the first five, each named
    assert hot[0].location["count"] == 8 and hot[0].location["lines"][-1] == 16
    assert next(f for f in report.findings if f.code == FORBIDDEN).location["line"] == 18


def test_binary_lines_stay_binary(tmp_path: Path) -> None:
    path = tmp_path / "bin.gcode"
    path.write_bytes(b"G28\nM104 S200\x00\n")
    assert check_lines(DEFAULT_PRINTER, ["G28"]) is None
    assert validate_gcode(path, machine=DEFAULT_PRINTER, limits=ValidationLimits()).codes == {"GCODE_BINARY"}


def test_crlf_files_read_as_usual(tmp_path: Path) -> None:
    report = check(tmp_path, "M104 S210\r\nM109 S210\r\nG28\r\nG1 X10 Y10 E1 F1200\r\n")
    assert report.ok, report.codes


def test_a_realistic_slicer_start_passes(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "; generated by PrusaSlicer 2.7.1",
            "M73 P0 R12",
            "M201 X1000 Y1000 Z200 E5000 ; sets maximum accelerations, mm/sec^2",
            "M203 X200 Y200 Z12 E120 ; sets maximum feedrates, mm / sec",
            "M204 P1250 R1250 T1250 ; sets acceleration (P, T) and retract acceleration (R), mm/sec^2",
            "M205 X8.00 Y8.00 Z0.40 E1.50 ; sets the jerk limits, mm/sec",
            "M107",
            "M140 S60",
            "M104 S215",
            "M190 S60",
            "M109 S215",
            "G28",
            "G90",
            "M83",
            "G92 E0",
            "G1 Z2 F3000",
            "G1 X5 Y5 F6000",
            "G1 Z0.3 F600",
            "G1 X80 E8 F1000 ; purge line",
            "G92 E0",
            "M900 K0.04",
            "M221 S100",
            "G1 E-.8 F2100",
            "G1 X100 Y100 E1.2 F1500",
            "M104 S0",
            "M140 S0",
            "M107",
            "M84",
        ]
    )
    report = check(tmp_path, text)
    assert report.ok, [f.message.en for f in report.errors]
    assert report.codes <= {"GCODE_CHANGES_SETTINGS"}
