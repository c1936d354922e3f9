"""`prepare_design` and `fablabctl prepare`: one entry point, safety-checked, clear failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fablabctl.file_limits import ValidationLimits
from fablabctl.specs import DEFAULT_LASER, DEFAULT_PRINTER
from fablabctl.toolpath.materials import load_materials
from fablabctl.toolpath.prepare import _checked, prepare_design
from fablabctl.toolpath.result import ToolpathError
from fablabctl.toolpath.slicer import slice_stl
from tests.validation import cases

ENV = {**os.environ, "COLUMNS": "200"}


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fablabctl", "prepare", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**ENV, "FABLAB_DATA_DIR": str(cwd / "var")},
        cwd=cwd,
    )


def test_prepare_stl_and_dxf_with_the_defaults(tmp_path: Path) -> None:
    stl = cases.stl_box(tmp_path / "b.stl")
    result = run(str(stl), "-o", str(tmp_path / "b.gcode"), "--profile", "draft", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "default-printer, PLA" in result.stdout and "filament_g" in result.stdout
    assert (tmp_path / "b.gcode").read_text().count("G1") > 100
    dxf = cases.dxf_good_panel(tmp_path / "p.dxf")
    result = run(
        str(dxf), "-o", str(tmp_path / "p.nc"), "--material", "acrylic-3mm", "--kerf", "0.15", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "default-laser, acrylic-3mm" in result.stdout and "cut_length_mm" in result.stdout


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (cases.dxf_too_big, [], "OUTSIDE_BED"),
        (cases.stl_box, ["--material", "WOOD"], "UNKNOWN_MATERIAL"),
        (cases.png_renamed, [], "NOT_A_DESIGN"),
    ],
)
def test_prepare_fails_clearly(make, extra: list[str], message: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    name = {"dxf_too_big": "x.dxf", "png_renamed": "x.stl"}.get(make.__name__, "x.stl")
    result = run(str(make(tmp_path / name)), "-o", str(tmp_path / "o.gcode"), *extra, cwd=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_unsafe_results_never_leave(tmp_path: Path) -> None:
    huge = cases.huge_part(tmp_path / "huge.stl")  # the slicer happily slices what the bed cannot hold
    with pytest.raises(ToolpathError) as info:
        prepare_design(huge, machine=DEFAULT_PRINTER, material="PLA", cache_dir=tmp_path)
    assert info.value.code == "STL_TOO_LARGE_FOR_BED"  # refused as validation refuses it, before slicing
    sliced = slice_stl(huge, machine=DEFAULT_PRINTER, material="PLA", cache_dir=tmp_path)
    with pytest.raises(ToolpathError) as info:  # and were it sliced, the safety policy stops it
        _checked(sliced, DEFAULT_PRINTER, ValidationLimits())
    assert info.value.code == "GCODE_REFUSED" and "work area" in info.value.message_en
    gcode = tmp_path / "hot.gcode"
    gcode.write_text("M104 S300\nG1 X10 E1\n")
    with pytest.raises(ToolpathError, match="safety policy"):
        prepare_design(gcode, machine=DEFAULT_PRINTER, material="PLA", cache_dir=tmp_path)


def test_wrong_machine_kind(tmp_path: Path) -> None:
    with pytest.raises(ToolpathError) as info:
        prepare_design(
            cases.stl_box(tmp_path / "b.stl"), machine=DEFAULT_LASER, material="PLA", cache_dir=tmp_path
        )
    assert info.value.code == "WRONG_MACHINE_KIND"


def test_admins_can_override_materials_and_profiles(tmp_path: Path) -> None:
    data = tmp_path / "var"
    (data / "profiles").mkdir(parents=True)
    (data / "profiles" / "filament-PLA.ini").write_text(
        "filament_type = PLA\nfilament_diameter = 1.75\nfilament_density = 1.24\ntemperature = 205\n"
        "first_layer_temperature = 205\nbed_temperature = 55\nfirst_layer_bed_temperature = 55\n"
    )
    (data / "materials.toml").write_text(
        '[bamboo-3mm]\nfr = "Bambou 3 mm"\nen = "Bamboo 3 mm"\nair_assist = true\n'
        "cut = { speed = 250, power = 0.9, passes = 2 }\n"
        "engrave = { speed = 3000, power = 0.3, passes = 1 }\n"
        "score = { speed = 1500, power = 0.4, passes = 1 }\n"
    )
    assert "bamboo-3mm" in load_materials(data / "materials.toml")
    laser = prepare_design(
        cases.dxf_good_panel(tmp_path / "p.dxf"),
        machine=DEFAULT_LASER,
        material="bamboo-3mm",
        cache_dir=tmp_path / "c",
        data_dir=data,
    )
    assert laser.settings["operations"]["cut"]["s"] == 900
    printed = prepare_design(
        cases.stl_box(tmp_path / "b.stl"),
        machine=DEFAULT_PRINTER,
        material="PLA",
        cache_dir=tmp_path / "c",
        data_dir=data,
    )
    assert "M104 S205" in printed.gcode_path.read_text()
