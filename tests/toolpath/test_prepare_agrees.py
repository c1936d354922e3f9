"""Preparation agrees with validation: it refuses what validation refuses (same message), fixes
what validation promised it would fix (and says so), cuts a doubled edge once, compensates the
material's kerf by default, and warns when the joints are cut for another sheet thickness."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import ezdxf
import pytest

from fablabctl.specs import DEFAULT_LASER, DEFAULT_PRINTER
from fablabctl.toolpath.materials import load_materials
from fablabctl.toolpath.prepare import default_kerf, prepare_design
from fablabctl.toolpath.result import ToolpathError
from fablabctl.validation.validate import validate_file
from tests.validation import cases

ROOT = Path(__file__).resolve().parents[2]


def test_prepare_refuses_what_validation_refuses_with_the_same_message(tmp_path: Path) -> None:
    dxf = cases.dxf_open_contour(tmp_path / "open.dxf")
    finding = validate_file(dxf, machines=[DEFAULT_LASER]).errors[0]
    with pytest.raises(ToolpathError) as info:
        prepare_design(dxf, machine=DEFAULT_LASER, material="plywood-poplar-3mm", cache_dir=tmp_path)
    assert info.value.code == finding.code == "DXF_OPEN_CONTOUR"
    assert info.value.message_fr == finding.message.fr and info.value.message_en == finding.message.en
    result = subprocess.run(
        [sys.executable, "-m", "fablabctl", "prepare", str(dxf), "-o", str(tmp_path / "o.nc")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "300", "FABLAB_DATA_DIR": str(tmp_path / "var")},
        cwd=tmp_path,
    )
    assert result.returncode == 1 and not (tmp_path / "o.nc").exists()
    assert "DXF_OPEN_CONTOUR" in result.stderr and "Traceback" not in result.stderr


def test_a_doubled_edge_is_cut_once(tmp_path: Path) -> None:
    doc = ezdxf.new()
    doc.header["$INSUNITS"] = 4
    edges = [((0, 0), (50, 0)), ((50, 0), (50, 30)), ((50, 30), (0, 30)), ((0, 30), (0, 0))]
    for a, b in [*edges, ((50, 30), (50, 0))]:
        doc.modelspace().add_line(a, b, dxfattribs={"layer": "CUT"})
    doc.saveas(tmp_path / "twice.dxf")
    result = prepare_design(
        tmp_path / "twice.dxf", machine=DEFAULT_LASER, material="mdf-3mm", cache_dir=tmp_path, kerf_mm=0
    )
    assert result.estimates["cut_length_mm"] == pytest.approx(2 * 160)  # two passes on MDF, each edge once
    assert result.estimates["paths"] == 1


def test_the_kerf_comes_from_the_material_by_default(tmp_path: Path) -> None:
    library = load_materials()
    for key in ("plywood-poplar-3mm", "plywood-poplar-5mm", "mdf-3mm"):
        material = library[key]
        assert material.kerf_mm > 0 and material.press_fit_mm > 0  # finger-joint sheets hold by themselves
        assert default_kerf(key, DEFAULT_LASER) == pytest.approx(material.kerf_mm + material.press_fit_mm)
    assert library["acrylic-3mm"].press_fit_mm == 0  # a sign, no joints: cut to size
    panel = cases.dxf_good_panel(tmp_path / "p.dxf")
    result = prepare_design(panel, machine=DEFAULT_LASER, material="plywood-poplar-3mm", cache_dir=tmp_path)
    assert result.settings["kerf_mm"] == pytest.approx(0.2)
    exact = prepare_design(
        panel, machine=DEFAULT_LASER, material="plywood-poplar-3mm", cache_dir=tmp_path, kerf_mm=0
    )
    # the 100 mm square grows by the kerf (outline out, holes in): longer cut than the drawing
    assert result.estimates["cut_length_mm"] > exact.estimates["cut_length_mm"]


def test_a_machine_can_have_its_own_kerf(tmp_path: Path) -> None:
    (tmp_path / "materials.toml").write_text(
        '[plywood-poplar-3mm]\nfr = "CP 3"\nen = "Ply 3"\nthickness_mm = 3.0\nkerf_mm = 0.15\n'
        'press_fit_mm = 0.05\nkerf_by_machine = { "default-laser" = 0.3 }\n'
        "cut = { speed = 300, power = 1.0, passes = 2 }\n"
    )
    assert default_kerf("plywood-poplar-3mm", DEFAULT_LASER, tmp_path / "materials.toml") == pytest.approx(
        0.35
    )


def test_joints_cut_for_another_thickness_are_warned(tmp_path: Path) -> None:
    five = ROOT / "designs" / "ruche" / "cote.dxf"  # finger joints for 5 mm plywood
    wrong = prepare_design(five, machine=DEFAULT_LASER, material="plywood-poplar-3mm", cache_dir=tmp_path)
    assert [w["code"] for w in wrong.settings["warnings"]] == ["JOINT_DEPTH_MISMATCH"]
    assert "5 mm" in wrong.settings["warnings"][0]["fr"]
    right = prepare_design(five, machine=DEFAULT_LASER, material="plywood-poplar-5mm", cache_dir=tmp_path)
    assert right.settings["warnings"] == []


@pytest.mark.parametrize(
    ("make", "fix"),
    [
        (cases.mixed_winding, "fix_winding"),
        (cases.flipped_box, "fix_inversion"),
        (lambda p: cases.stl_binary(p, cases.box_triangles()), "recompute_normals"),
    ],
    ids=["one face turned", "inside out", "zero normals"],
)
def test_what_validation_lets_through_is_sliced_and_the_fix_is_said(make, fix: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    stl = make(tmp_path / "part.stl")
    assert validate_file(stl).ok
    result = prepare_design(stl, machine=DEFAULT_PRINTER, material="PLA", cache_dir=tmp_path, quality="draft")
    assert fix in result.settings["mesh_fixes"]
    assert result.estimates["filament_mm"] > 0
    again = prepare_design(stl, machine=DEFAULT_PRINTER, material="PLA", cache_dir=tmp_path, quality="draft")
    assert again.cached and fix in again.settings["mesh_fixes"]
