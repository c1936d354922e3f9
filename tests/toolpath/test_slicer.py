"""Slicing for real with PrusaSlicer: G-code inside the machine, temperatures, estimates, cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from fablabctl.file_limits import ValidationLimits
from fablabctl.specs import DEFAULT_PRINTER, MachineSpec
from fablabctl.toolpath.profiles import compose
from fablabctl.toolpath.result import ToolpathError
from fablabctl.toolpath.slicer import parse_duration, slice_stl
from fablabctl.validation.gcode import validate_gcode
from tests.validation import cases

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
SMALL = MachineSpec(
    name="mini", kind="printer", driver="marlin", bed_x_mm=180, bed_y_mm=180, bed_z_mm=180, max_hotend_c=250
)


@pytest.mark.parametrize("source", ["cube", "stl/voron2__latch_x2.stl", "stl/beehive__nuc_entrance_gate.stl"])
def test_slice_real_parts(source: str, tmp_path: Path) -> None:
    stl = cases.stl_box(tmp_path / "cube.stl") if source == "cube" else CORPUS / source
    result = slice_stl(stl, machine=SMALL, material="PLA", cache_dir=tmp_path / "cache")
    report = validate_gcode(result.gcode_path, machine=SMALL, limits=ValidationLimits())
    assert report.ok, [f.code for f in report.errors]
    (x0, y0, _), (x1, y1, z1) = report.metrics["bounds_mm"]
    assert x0 >= 0 and x1 <= 180 and y0 >= 0 and y1 <= 180 and z1 <= 180
    assert report.metrics["max_hotend_c"] == 215 and report.metrics["max_bed_c"] == 60
    assert result.estimates["duration_s"] > 0 and result.estimates["filament_mm"] > 0
    assert result.estimates["filament_g"] == pytest.approx(result.estimates["filament_cm3"] * 1.24, rel=0.02)
    assert result.settings["profile"] == "PLA-normal" and not result.cached


def test_reprints_come_from_the_cache(tmp_path: Path) -> None:
    stl = cases.stl_box(tmp_path / "cube.stl")
    first = slice_stl(stl, machine=DEFAULT_PRINTER, material="PETG", cache_dir=tmp_path / "c", copies=3)
    again = slice_stl(stl, machine=DEFAULT_PRINTER, material="PETG", cache_dir=tmp_path / "c", copies=3)
    other = slice_stl(
        stl, machine=DEFAULT_PRINTER, material="PETG", cache_dir=tmp_path / "c", quality="draft"
    )
    assert again.cached and again.gcode_path == first.gcode_path and again.estimates == first.estimates
    assert other.gcode_path != first.gcode_path
    report = validate_gcode(first.gcode_path, machine=DEFAULT_PRINTER, limits=ValidationLimits())
    assert report.metrics["max_hotend_c"] == 240  # PETG profile
    # three copies use three times the filament of one (plus the same skirt and purge)
    single = slice_stl(stl, machine=DEFAULT_PRINTER, material="PETG", cache_dir=tmp_path / "c")
    assert first.estimates["filament_mm"] > 2.5 * single.estimates["filament_mm"]


def test_machine_geometry_goes_into_the_profile() -> None:
    text = compose(SMALL, "PLA", "fine").text
    assert "bed_shape = 0x0,180x0,180x180,0x180" in text and "max_print_height = 180" in text
    assert "layer_height = 0.12" in text and text.count("nozzle_diameter") == 1


def test_bad_inputs_are_clear_errors(tmp_path: Path) -> None:
    stl = cases.stl_box(tmp_path / "cube.stl")
    with pytest.raises(ToolpathError) as info:
        slice_stl(stl, machine=DEFAULT_PRINTER, material="WOOD", cache_dir=tmp_path)
    assert info.value.code == "UNKNOWN_MATERIAL" and "PLA" in info.value.message_en
    with pytest.raises(ToolpathError) as info:
        slice_stl(stl, machine=DEFAULT_PRINTER, material="PLA", cache_dir=tmp_path, quality="ultra")
    assert info.value.code == "UNKNOWN_QUALITY"
    with pytest.raises(ToolpathError) as info:
        slice_stl(
            cases.ascii_truncated(tmp_path / "cut.stl"),
            machine=DEFAULT_PRINTER,
            material="PLA",
            cache_dir=tmp_path,
        )
    # the file is read (and cleaned) before the slicer sees it: the reader's own words, no path
    assert info.value.code == "STL_TRUNCATED" and "cut.stl" not in info.value.message_en
    assert str(tmp_path) not in info.value.message_fr + info.value.message_en


def test_durations_are_parsed() -> None:
    assert parse_duration("1d 2h 3m 4s") == 93784
    assert parse_duration("41m 23s") == 2483


def test_filament_estimate_matches_the_extrusion_moves(tmp_path: Path) -> None:
    """The slicer's own estimate against the sum of E moves we read back (relative E, M83)."""
    result = slice_stl(
        cases.stl_box(tmp_path / "b.stl", (15, 15, 5)),
        machine=DEFAULT_PRINTER,
        material="PLA",
        cache_dir=tmp_path / "c",
    )
    extruded = 0.0
    for line in result.gcode_path.read_text().splitlines():
        code = line.split(";")[0].split()
        if code and code[0] in ("G1", "G0"):
            extruded += sum(float(w[1:]) for w in code[1:] if w.startswith("E"))
    purge = 8.0  # the start G-code's purge line, not counted by the slicer
    assert extruded - purge == pytest.approx(result.estimates["filament_mm"], rel=0.01)


def test_a_stuck_slicer_is_stopped(tmp_path: Path) -> None:
    with pytest.raises(ToolpathError) as info:
        slice_stl(
            CORPUS / "stl/voron2__z_joint_lower_x4.stl",
            machine=DEFAULT_PRINTER,
            material="PLA",
            cache_dir=tmp_path,
            timeout_s=0.01,
        )
    assert info.value.code == "SLICER_TIMEOUT"
    assert not list((tmp_path / "slices").glob("*.gcode"))  # nothing half-written left in the cache


def test_cache_hit_does_not_touch_the_file(tmp_path: Path) -> None:
    stl = cases.stl_box(tmp_path / "cube.stl")
    first = slice_stl(stl, machine=DEFAULT_PRINTER, material="PLA", cache_dir=tmp_path / "c")
    stamp = first.gcode_path.stat().st_mtime_ns
    again = slice_stl(stl, machine=DEFAULT_PRINTER, material="PLA", cache_dir=tmp_path / "c")
    assert again.cached and again.gcode_path.stat().st_mtime_ns == stamp
