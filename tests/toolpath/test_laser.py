"""Laser G-code, parsed back: every closed cut contour cut exactly `passes` times, holes (and slits)
before the part around them, nothing outside the bed, S never above the material's or the machine's,
laser off on every travel, M5 at the end. On generated cases and real third-party drawings."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Polygon

from fablabctl.file_limits import ValidationLimits
from fablabctl.geometry import Operation, load_drawing
from fablabctl.geometry.placement import place
from fablabctl.specs import DEFAULT_LASER, MachineSpec
from fablabctl.toolpath.laser import generate_framing, generate_laser_job
from fablabctl.toolpath.materials import load_materials
from fablabctl.toolpath.result import ToolpathError
from fablabctl.validation.gcode import validate_gcode
from tests.toolpath.test_laser_reader import parse

CASES = Path(__file__).resolve().parents[1] / "validation" / "cases" / "dxf"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "dxf"
LIMITS = ValidationLimits()
logging.getLogger("ezdxf").setLevel(logging.CRITICAL)
SOURCES = [
    CASES / "good_panel.dxf",
    CASES / "finger_panel.dxf",
    CASES / "curves.dxf",
    CASES / "needs_rotation.dxf",
    CORPUS / "prusa__MK3-front-plate.dxf",
    CORPUS / "voron0__Side_Panel.dxf",
    CORPUS / "dxf2gcode__lwpoly-bulge.dxf",
    CORPUS / "dxf2gcode__Lueftergitter_R14.dxf",
    CORPUS / "openscad__polygon-holes-touch.dxf",
]


def placed_cut_contours(dxf: Path, machine: MachineSpec = DEFAULT_LASER) -> list[tuple[Polygon | None, int]]:
    """The drawing's cut contours where the job puts them: (polygon if closed, depth)."""
    drawing = load_drawing(dxf, limits=LIMITS)
    assert drawing.extents is not None
    placement = place(drawing.extents, machine)
    return [
        (Polygon(placement.apply(c.points)) if c.closed else None, c.depth)
        for c in drawing.contours
        if c.operation is Operation.CUT
    ]


def same_ring(burn: np.ndarray, polygon: Polygon) -> bool:
    if len(burn) < 4 or not np.allclose(burn[0], burn[-1]):
        return False  # an open path is not this closed contour
    ring = Polygon(burn)
    return bool(
        ring.buffer(0.005).contains(polygon.exterior) and polygon.buffer(0.005).contains(ring.exterior)
    )


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
@pytest.mark.parametrize("material", ["plywood-poplar-3mm", "acrylic-3mm"])
def test_every_contour_cut_passes_times_holes_first(source: Path, material: str, tmp_path: Path) -> None:
    result = generate_laser_job(source, machine=DEFAULT_LASER, material=material, out_path=tmp_path / "j.nc")
    mat = load_materials()[material]
    cut_s = mat.s_value(Operation.CUT, DEFAULT_LASER)
    job = parse(result.gcode_path)
    assert job.problems == []
    assert job.lines[-1] == "M5" and "G21 G90" in job.lines[:4] and "M4 S0" in job.lines[:5]
    allowed = {mat.s_value(op, DEFAULT_LASER) for op in mat.settings}
    assert {b.s for b in job.burns} <= allowed and job.max_s <= DEFAULT_LASER.laser_max_power_s
    points = np.array(job.all_points)
    assert points.min() >= 0 and points[:, 0].max() <= 400 and points[:, 1].max() <= 300
    cut_burns = [i for i, b in enumerate(job.burns) if b.s == cut_s]
    contours = placed_cut_contours(source)
    cut_at: list[list[int]] = []
    for polygon, _ in contours:
        if polygon is None:
            cut_at.append([])
            continue
        matches = [i for i in cut_burns if same_ring(job.burns[i].points, polygon)]
        assert len(matches) == mat.settings[Operation.CUT].passes
        cut_at.append(matches)
    for (inner, _), inner_at in zip(contours, cut_at, strict=True):
        for (outer, _), outer_at in zip(contours, cut_at, strict=True):
            if inner is None or outer is None or inner is outer or not inner_at or not outer_at:
                continue
            if outer.area > inner.area and outer.contains(inner.representative_point()):
                assert max(inner_at) < min(outer_at), "a part would drop before its hole is cut"
    assert validate_gcode(result.gcode_path, machine=DEFAULT_LASER, limits=LIMITS).ok  # the safety policy


def test_operations_in_order_with_air_assist_and_speeds(tmp_path: Path) -> None:
    result = generate_laser_job(
        CASES / "colours.dxf", machine=DEFAULT_LASER, material="mdf-3mm", out_path=tmp_path / "j.nc"
    )
    job = parse(result.gcode_path)
    mat = load_materials()["mdf-3mm"]
    by_s = {mat.s_value(op, DEFAULT_LASER): op for op in mat.settings}
    sequence = [by_s[b.s] for b in job.burns]
    firsts = [sequence.index(op) for op in (Operation.ENGRAVE, Operation.SCORE, Operation.CUT)]
    lasts = [len(sequence) - 1 - sequence[::-1].index(op) for op in (Operation.ENGRAVE, Operation.SCORE)]
    assert firsts == sorted(firsts) and lasts[0] < firsts[1] and lasts[1] < firsts[2]
    for burn in job.burns:
        assert burn.feed == mat.settings[by_s[burn.s]].speed
    assert "M8" in job.lines and job.lines[-2:] == ["M9", "M5"]
    acrylic = generate_laser_job(
        CASES / "colours.dxf", machine=DEFAULT_LASER, material="acrylic-3mm", out_path=tmp_path / "a.nc"
    )
    assert "M8" not in parse(acrylic.gcode_path).lines  # acrylic: no air assist in the library


def test_slit_inside_a_part_is_cut_before_the_part(tmp_path: Path) -> None:
    import ezdxf

    doc = ezdxf.new("R2010")
    doc.header["$INSUNITS"] = 4
    msp = doc.modelspace()
    msp.add_lwpolyline([(0, 0), (100, 0), (100, 100), (0, 100)], close=True, dxfattribs={"layer": "CUT"})
    msp.add_line((20, 50), (80, 50), dxfattribs={"layer": "CUT"})  # an open slit, inside
    doc.saveas(tmp_path / "slit.dxf")
    job = parse(
        generate_laser_job(
            tmp_path / "slit.dxf", machine=DEFAULT_LASER, material="cardboard-2mm", out_path=tmp_path / "s.nc"
        ).gcode_path
    )
    assert [len(b.points) for b in job.burns] == [2, 5]


def test_machine_power_cap_and_s_scale(tmp_path: Path) -> None:
    weak = MachineSpec("weak", "laser", "grbl", 400, 300, laser_s_max=255, laser_max_power_s=200)
    result = generate_laser_job(
        CASES / "good_panel.dxf", machine=weak, material="plywood-poplar-3mm", out_path=tmp_path / "w.nc"
    )
    job = parse(result.gcode_path)
    assert job.max_s == 200  # 100 % of 255 capped by the machine's 200
    assert {b.s for b in job.burns} == {200, round(0.35 * 255)}
    assert result.settings["operations"]["cut"]["s"] == 200


def test_kerf_grows_parts_and_shrinks_holes(tmp_path: Path) -> None:
    dxf = CASES / "good_panel.dxf"

    def cut_areas(kerf: float) -> list[float]:
        result = generate_laser_job(
            dxf,
            machine=DEFAULT_LASER,
            material="cardboard-2mm",
            out_path=tmp_path / f"{kerf}.nc",
            kerf_mm=kerf,
        )
        s = load_materials()["cardboard-2mm"].s_value(Operation.CUT, DEFAULT_LASER)
        return sorted(Polygon(b.points).area for b in parse(result.gcode_path).burns if b.s == s)

    (hole, outer), (hole_k, outer_k) = cut_areas(0.0), cut_areas(0.2)
    assert outer_k == pytest.approx(100.2**2, rel=1e-4)
    assert hole_k == pytest.approx(np.pi * 9.9**2, rel=2e-3) and hole_k < hole
    assert outer_k > outer


def test_placement_rotation_and_negative_coordinates(tmp_path: Path) -> None:
    rotated = generate_laser_job(
        CASES / "needs_rotation.dxf", machine=DEFAULT_LASER, material="mdf-3mm", out_path=tmp_path / "r.nc"
    )
    assert rotated.settings["placement"]["rotated"] is True
    points = np.array(parse(rotated.gcode_path).all_points)
    assert np.allclose(points.max(axis=0), [390, 280])
    moved = generate_laser_job(
        CASES / "negative.dxf", machine=DEFAULT_LASER, material="mdf-3mm", out_path=tmp_path / "n.nc"
    )
    assert moved.settings["placement"]["offset_mm"] == [20.0, 30.0]
    kept = generate_laser_job(
        CASES / "good_panel.dxf", machine=DEFAULT_LASER, material="mdf-3mm", out_path=tmp_path / "k.nc"
    )
    assert kept.settings["placement"]["moved"] is False  # inside the bed: cut where drawn


@pytest.mark.parametrize(
    "name", ["prusa__MK3-front-plate.dxf", "dxf2gcode__Lueftergitter_R14.dxf", "visicut__HG1_Dachsparren.dxf"]
)
def test_travel_is_shorter_than_file_order_on_real_drawings(name: str, tmp_path: Path) -> None:
    result = generate_laser_job(
        CORPUS / name, machine=DEFAULT_LASER, material="cardboard-2mm", out_path=tmp_path / "j.nc"
    )
    assert result.estimates["travel_mm"] < 0.5 * result.estimates["travel_file_order_mm"]


def test_travel_never_worse_than_file_order(tmp_path: Path) -> None:
    result = generate_laser_job(
        CORPUS / "dxf2gcode__lwpoly-bulge.dxf",
        machine=DEFAULT_LASER,
        material="mdf-3mm",
        out_path=tmp_path / "j.nc",
    )
    assert result.estimates["travel_mm"] <= result.estimates["travel_file_order_mm"] + 0.1


def test_estimates_add_up(tmp_path: Path) -> None:
    result = generate_laser_job(
        CASES / "good_panel.dxf",
        machine=DEFAULT_LASER,
        material="plywood-poplar-3mm",
        out_path=tmp_path / "j.nc",
    )
    e = result.estimates
    perimeter = 400 + 2 * np.pi * 10
    assert e["cut_length_mm_by_operation"]["cut"] == pytest.approx(2 * perimeter, abs=0.5)  # 2 passes
    assert e["cut_length_mm_by_operation"]["engrave"] == pytest.approx(20)
    cut_only = 2 * perimeter / (300 / 60)  # at full speed, no acceleration
    assert cut_only < e["duration_s"] < cut_only * 1.5
    assert result.duration_s == e["duration_s"]
    assert result.settings["material"] == "plywood-poplar-3mm" and "rules" in result.settings


def test_framing_traces_the_job_box_without_burning(tmp_path: Path) -> None:
    frame = generate_framing(CASES / "good_panel.dxf", machine=DEFAULT_LASER, out_path=tmp_path / "f.nc")
    job = parse(frame.gcode_path)
    assert job.burns == [] and job.problems == [] and job.lines[-1] == "M5"
    assert frame.estimates["bounds_mm"] == [[10.0, 10.0], [110.0, 110.0]]
    faint = generate_framing(
        CASES / "good_panel.dxf", machine=DEFAULT_LASER, out_path=tmp_path / "g.nc", power_fraction=0.01
    )
    faint_job = parse(faint.gcode_path)
    assert [b.s for b in faint_job.burns] == [10] and len(faint_job.burns[0].points) == 5
    with pytest.raises(ToolpathError) as info:
        generate_framing(
            CASES / "good_panel.dxf", machine=DEFAULT_LASER, out_path=tmp_path / "h.nc", power_fraction=0.5
        )
    assert info.value.code == "BAD_FRAMING_POWER"


@pytest.mark.parametrize(
    ("case", "kwargs", "code"),
    [
        ("too_big.dxf", {}, "OUTSIDE_BED"),
        ("good_panel.dxf", {"material": "granite"}, "UNKNOWN_MATERIAL"),
        ("empty.dxf", {}, "NOTHING_TO_CUT"),
        ("only_construction.dxf", {}, "NOTHING_TO_CUT"),
        ("photo_png.dxf", {}, "DXF_NOT_DXF"),
        ("bad_tag.dxf", {}, "DXF_UNREADABLE"),
        ("good_panel.dxf", {"kerf_mm": -1.0}, "BAD_KERF"),
        ("good_panel.dxf", {"machine": MachineSpec("p", "printer", "marlin", 200, 200, 200)}, "NOT_A_LASER"),
    ],
)
def test_errors_have_codes_and_both_languages(
    case: str, kwargs: dict[str, object], code: str, tmp_path: Path
) -> None:
    args: dict[str, object] = {"machine": DEFAULT_LASER, "material": "mdf-3mm", "out_path": tmp_path / "x.nc"}
    args.update(kwargs)
    with pytest.raises(ToolpathError) as info:
        generate_laser_job(CASES / case, **args)  # type: ignore[arg-type]
    assert info.value.code == code and info.value.message_fr and info.value.message_en
    assert info.value.message_fr != info.value.message_en
    assert not (tmp_path / "x.nc").exists()


def test_missing_operation_in_material_is_refused(tmp_path: Path) -> None:
    library = tmp_path / "materials.toml"
    library.write_text('[kraft]\nfr = "Kraft"\nen = "Kraft"\ncut = { speed = 900, power = 0.5 }\n')
    with pytest.raises(ToolpathError) as info:
        generate_laser_job(
            CASES / "good_panel.dxf",
            machine=DEFAULT_LASER,
            material="kraft",
            out_path=tmp_path / "x.nc",
            materials_file=library,
        )
    assert info.value.code == "MATERIAL_MISSING_OPERATION" and "engrave" in info.value.message_en
    only_cuts = generate_laser_job(
        CASES / "needs_rotation.dxf",
        machine=DEFAULT_LASER,
        material="kraft",
        out_path=tmp_path / "y.nc",
        materials_file=library,
    )
    assert {b.s for b in parse(only_cuts.gcode_path).burns} == {500}
