"""Laser G-code, parsed back: every closed contour cut exactly `passes` times, holes before the part
around them, nothing outside the bed, power never above the material's, laser off on every travel."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Point, Polygon

from fablabctl.geometry.contours import chain, nest
from fablabctl.geometry.dxf_load import load_drawing
from fablabctl.geometry.operations import LayerRules, Operation
from fablabctl.specs import DEFAULT_LASER
from fablabctl.toolpath.laser import generate_framing, generate_laser_job, run_time
from fablabctl.toolpath.materials import load_materials
from fablabctl.toolpath.result import ToolpathError
from tests.validation import cases

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
logging.getLogger("ezdxf").setLevel(logging.ERROR)


def burns(gcode: Path) -> tuple[list[tuple[np.ndarray, int]], list[str]]:
    """Each burning run (points, S), and every problem seen: moves firing while travelling, etc."""
    runs: list[tuple[np.ndarray, int]] = []
    problems: list[str] = []
    power, current, laser_on = 0, [], False
    position = np.zeros(2)
    for number, raw in enumerate(gcode.read_text().splitlines(), 1):
        line = raw.split(";")[0].strip()
        if not line:
            continue
        words = dict((w[0], float(w[1:])) for w in line.split() if w[0] in "XYSF" and len(w) > 1)
        if line.startswith(("M3", "M4")):
            laser_on = True
        if line.startswith("M5"):
            laser_on = False
        if line.startswith("G0"):
            if words.get("S", 0) != 0 or power != 0:
                problems.append(f"line {number}: travel with power")
            position = np.array([words.get("X", position[0]), words.get("Y", position[1])])
            continue
        if line.startswith("G1"):
            if "S" in words:
                if current and power:
                    runs.append((np.array(current), power))
                power = int(words["S"])
                current = [position.copy()] if power else []
            if "X" in words or "Y" in words:
                position = np.array([words.get("X", position[0]), words.get("Y", position[1])])
                if power and laser_on:
                    current.append(position.copy())
    if laser_on:
        problems.append("laser left on")
    return runs, problems


def closed_contours(dxf: Path) -> list[Polygon]:
    drawing = load_drawing(dxf, rules=LayerRules(), max_entities=10**6, max_depth=16)
    return [
        Polygon(c.points) for c in nest(chain(drawing.polylines)) if c.closed and c.operation is Operation.CUT
    ]


def offset_of(dxf: Path) -> np.ndarray:
    drawing = load_drawing(dxf, rules=LayerRules(), max_entities=10**6, max_depth=16)
    low = np.vstack([p.points for p in drawing.polylines]).min(axis=0)
    return np.where(low < 0, -low, 0.0)


@pytest.mark.parametrize(
    "source",
    [
        "generated panel",
        "dxf/prusa__MK3-front-plate.dxf",
        "dxf/voron0__Side_Panel.dxf",
        "dxf/openscad__polygon-holes-touch.dxf",
        "dxf/dxf2gcode__Lueftergitter_R14.dxf",
    ],
)
@pytest.mark.parametrize("material", ["plywood-poplar-3mm", "acrylic-3mm"])
def test_every_contour_cut_passes_times_holes_first(source: str, material: str, tmp_path: Path) -> None:
    dxf = cases.dxf_good_panel(tmp_path / "panel.dxf") if source == "generated panel" else CORPUS / source
    result = generate_laser_job(
        dxf, machine=DEFAULT_LASER, material_key=material, out_path=tmp_path / "job.nc"
    )
    mat = load_materials()[material]
    cut = mat.settings[Operation.CUT]
    cut_s = mat.s_value(Operation.CUT, DEFAULT_LASER.laser_s_max, DEFAULT_LASER.laser_max_power_s)
    runs, problems = burns(result.gcode_path)
    assert problems == []
    assert max(s for _, s in runs) <= cut_s <= DEFAULT_LASER.laser_max_power_s
    all_points = np.vstack([p for p, _ in runs])
    assert all_points.min() >= 0 and all_points[:, 0].max() <= 400 and all_points[:, 1].max() <= 300
    shift = offset_of(dxf)
    cut_runs = [Polygon(p) for p, s in runs if s == cut_s]
    contours = closed_contours(dxf)
    first_cut = {}
    for index, contour in enumerate(contours):
        moved = Polygon(np.asarray(contour.exterior.coords) + shift)
        matches = [
            i
            for i, run in enumerate(cut_runs)
            if run.buffer(0.01).contains(moved.boundary) and moved.buffer(0.01).contains(run.boundary)
        ]
        assert len(matches) == cut.passes, (index, len(matches))
        first_cut[index] = matches
    for inner, outer in ((i, o) for i in range(len(contours)) for o in range(len(contours)) if i != o):
        if (
            contours[outer].contains(Point(contours[inner].representative_point()))
            and contours[outer].area > contours[inner].area
        ):
            assert max(first_cut[inner]) < min(first_cut[outer]), "a part would drop before its hole is cut"


def test_engraving_comes_before_cutting_and_air_assist(tmp_path: Path) -> None:
    result = generate_laser_job(
        cases.dxf_good_panel(tmp_path / "p.dxf"),
        machine=DEFAULT_LASER,
        material_key="plywood-poplar-3mm",
        out_path=tmp_path / "job.nc",
    )
    text = result.gcode_path.read_text().splitlines()
    assert text[1] == "G21 G90" and "M8" in text and text[-1] == "M5" and text[-2] == "M9"
    powers = [int(line.split("S")[1]) for line in text if line.startswith("G1 F")]
    assert powers[0] == 350 and powers[-1] == 1000  # engrave (35 %) first, cut (100 %) last
    assert result.estimates["engrave_length_mm"] == pytest.approx(20, abs=0.1)


def test_kerf_grows_parts_and_shrinks_holes(tmp_path: Path) -> None:
    dxf = cases.dxf_good_panel(tmp_path / "p.dxf")
    plain = generate_laser_job(dxf, machine=DEFAULT_LASER, material_key="mdf-3mm", out_path=tmp_path / "a.nc")
    kerf = generate_laser_job(
        dxf, machine=DEFAULT_LASER, material_key="mdf-3mm", out_path=tmp_path / "b.nc", kerf_mm=0.2
    )
    area = lambda p: sorted(Polygon(r).area for r, s in burns(p.gcode_path)[0] if s == 1000)  # noqa: E731
    (hole_a, outer_a), (hole_b, outer_b) = area(plain)[::2][:2], area(kerf)[::2][:2]
    assert hole_b < hole_a and outer_b > outer_a
    assert outer_b == pytest.approx(100.2**2, rel=1e-3)


def test_travel_is_shorter_than_file_order(tmp_path: Path) -> None:
    result = generate_laser_job(
        CORPUS / "dxf/prusa__MK3-front-plate.dxf",
        machine=DEFAULT_LASER,
        material_key="cardboard-2mm",
        out_path=tmp_path / "job.nc",
    )
    assert result.estimates["travel_mm"] < 0.5 * result.estimates["travel_file_order_mm"]


def test_framing_traces_the_bounding_box_without_burning(tmp_path: Path) -> None:
    frame = generate_framing(
        cases.dxf_good_panel(tmp_path / "p.dxf"), machine=DEFAULT_LASER, out_path=tmp_path / "f.nc"
    )
    runs, problems = burns(frame.gcode_path)
    assert runs == [] and problems == []
    assert frame.estimates["bounds_mm"] == [[10.0, 10.0], [110.0, 110.0]]


def test_acceleration_model() -> None:
    assert run_time(100, 6000) == pytest.approx(100 / 100 + 100 / 1000)  # cruise + accel/decel
    assert run_time(1, 6000) == pytest.approx(2 * (1 / 1000) ** 0.5)  # too short to reach speed


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(ToolpathError) as info:
        generate_laser_job(
            cases.dxf_too_big(tmp_path / "b.dxf"),
            machine=DEFAULT_LASER,
            material_key="mdf-3mm",
            out_path=tmp_path / "x.nc",
        )
    assert info.value.code == "OUTSIDE_BED"
    with pytest.raises(ToolpathError) as info:
        generate_laser_job(
            cases.dxf_good_panel(tmp_path / "p.dxf"),
            machine=DEFAULT_LASER,
            material_key="granite",
            out_path=tmp_path / "x.nc",
        )
    assert info.value.code == "UNKNOWN_MATERIAL"
