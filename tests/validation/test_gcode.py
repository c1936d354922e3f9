"""The G-code safety policy, per machine kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from fablabctl.file_limits import ValidationLimits
from fablabctl.specs import DEFAULT_LASER, DEFAULT_PRINTER
from fablabctl.validation.gcode import validate_gcode
from fablabctl.validation.validate import validate_file

PRINT_OK = """; a small print
M140 S60
M104 S210
M190 S60
M109 S210
G28
G90
M82
G92 E0
G1 Z0.2 F3000
G1 X10 Y10 F6000
G1 X60 Y10 E5 F1200 ; first line
G1 X60 Y60 E10
M104 S0
M140 S0
"""
LASER_OK = """G21 G90
M4 S0
G0 X10 Y10
G1 X110 Y10 S800 F1200
G1 X110 Y110
G0 X0 Y0 S0
M5
"""


def check(tmp_path: Path, text: str, machine=DEFAULT_PRINTER):  # type: ignore[no-untyped-def]
    path = tmp_path / "job.gcode"
    path.write_text(text)
    return validate_gcode(path, machine=machine, limits=ValidationLimits())


def test_a_clean_print_passes_with_estimates(tmp_path: Path) -> None:
    report = check(tmp_path, PRINT_OK)
    assert report.ok and not report.findings
    assert report.metrics["filament_mm"] == pytest.approx(10)
    assert report.metrics["max_hotend_c"] == 210
    # 50 mm at 1200 mm/min twice = 5 s, plus travel
    assert report.metrics["duration_s"] > 5


def test_a_clean_laser_job_passes(tmp_path: Path) -> None:
    report = check(tmp_path, LASER_OK, DEFAULT_LASER)
    assert report.ok, report.codes
    assert report.metrics["cut_length_mm"] == pytest.approx(200)


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        (PRINT_OK + "M500\n", "GCODE_FORBIDDEN_COMMAND", 16),
        (PRINT_OK.replace("M104 S210", "M104 S300"), "GCODE_HOTEND_TOO_HOT", None),
        (PRINT_OK.replace("M140 S60", "M140 S130"), "GCODE_BED_TOO_HOT", None),
        (PRINT_OK + "G1 X400 Y10\n", "GCODE_OUT_OF_BOUNDS", 16),
        (PRINT_OK + "M92 X80\n", "GCODE_CHANGES_SETTINGS", 16),
        ("G1 X10 E5\n", "GCODE_NO_HEATING", None),
        ("M104 S200\n", "GCODE_NO_MOVES", None),
    ],
)
def test_printer_policy(tmp_path: Path, text: str, code: str, line: int | None) -> None:
    report = check(tmp_path, text)
    finding = next(f for f in report.findings if f.code == code)
    if line is not None:
        assert finding.location["line"] == line


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (LASER_OK.replace("S800", "S1200"), "GCODE_LASER_POWER_TOO_HIGH"),
        (LASER_OK.replace("G0 X0 Y0 S0\nM5\n", ""), "GCODE_LASER_LEFT_ON"),
        ("G21 G90\nM3 S500\nG4 P2\nM5\nG1 X1\n", "GCODE_LASER_ON_WITHOUT_MOTION"),
        ("$32=0\n" + LASER_OK, "GCODE_FORBIDDEN_COMMAND"),
        ("G10 L2 P1 X0\n" + LASER_OK, "GCODE_FORBIDDEN_COMMAND"),
        (LASER_OK.replace("X110 Y110", "X500 Y110"), "GCODE_OUT_OF_BOUNDS"),
    ],
)
def test_laser_policy(tmp_path: Path, text: str, code: str) -> None:
    assert code in check(tmp_path, text, DEFAULT_LASER).codes


def test_the_kind_is_recognised_from_the_content(tmp_path: Path) -> None:
    laser = tmp_path / "cut.nc"
    laser.write_text(LASER_OK.replace("S800", "S1200"))
    report = validate_file(laser, machines=[DEFAULT_PRINTER, DEFAULT_LASER])
    assert "GCODE_LASER_POWER_TOO_HIGH" in report.codes
    printer = tmp_path / "print.gcode"
    printer.write_text(PRINT_OK)
    assert validate_file(printer, machines=[DEFAULT_PRINTER, DEFAULT_LASER]).fits == [DEFAULT_PRINTER.name]


def test_too_many_lines_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "long.gcode"
    path.write_text("G1 X1\n" * 50)
    report = validate_gcode(path, machine=DEFAULT_PRINTER, limits=ValidationLimits(max_gcode_lines=10))
    assert report.codes == {"GCODE_TOO_LONG"}
