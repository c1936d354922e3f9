"""load_drawing on real files: units, blocks, curves, chaining, colours, fills."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import ezdxf
import numpy as np
import pytest
from shapely.geometry import Polygon

from fablabctl.file_limits import ValidationLimits
from fablabctl.geometry import DxfLoadError, LayerRules, Operation, load_drawing
from fablabctl.geometry.chord import FLATTEN_MM
from fablabctl.geometry.hatch import HATCH_PITCH_MM

CASES = Path(__file__).resolve().parents[1] / "validation" / "cases" / "dxf"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "dxf"
LIMITS = ValidationLimits()
logging.getLogger("ezdxf").setLevel(logging.CRITICAL)


def load(name: str, **kwargs: object) -> object:
    return load_drawing(CASES / name, limits=LIMITS, **kwargs)  # type: ignore[arg-type]


def test_units_inch_and_cm_become_mm() -> None:
    inch = load_drawing(CASES / "inches.dxf", limits=LIMITS)
    assert inch.units.name == "inch" and inch.units.declared and inch.units.to_mm == 25.4
    assert inch.extents is not None and np.allclose(inch.extents.size, [101.6, 101.6])
    cm = load_drawing(CASES / "centimetres.dxf", limits=LIMITS)
    assert cm.extents is not None and np.allclose(cm.extents.size, [100, 100])
    none = load_drawing(CASES / "unitless.dxf", limits=LIMITS)
    assert not none.units.declared and none.units.to_mm == 1.0


def test_binary_dxf_reads_like_ascii() -> None:
    binary = load_drawing(CASES / "binary.dxf", limits=LIMITS)
    ascii_ = load_drawing(CASES / "good_panel.dxf", limits=LIMITS)
    assert binary.units.name == "mm"
    assert [len(c.points) for c in binary.contours] == [len(c.points) for c in ascii_.contours]


def test_blocks_are_expanded_with_arrays_scale_and_rotation() -> None:
    drawing = load_drawing(CASES / "block_array.dxf", limits=LIMITS)
    closed = [c for c in drawing.contours if c.closed]
    assert len(closed) == 7 and all(c.layer == "CUT" for c in closed)  # layer 0 takes the INSERT's
    areas = sorted(round(Polygon(c.points).area) for c in closed)
    assert areas == [400] * 6 + [1600]
    big = next(c for c in closed if round(Polygon(c.points).area) == 1600)
    assert np.allclose(big.points.min(axis=0), [160, 10]) and np.allclose(big.points.max(axis=0), [200, 50])
    assert all(h != "?" for c in closed for h in c.handles)  # virtual entities carry the INSERT's handle


def test_recursive_block_is_a_problem_not_a_recursion_error() -> None:
    drawing = load_drawing(CASES / "recursive_block.dxf", limits=LIMITS)
    assert [(b.block, b.recursive) for b in drawing.blocks] == [("LOOP", True)]
    assert len(drawing.contours) == 1  # the block's own square is still there


def test_entity_limit_is_enforced_before_work() -> None:
    with pytest.raises(DxfLoadError) as info:
        load_drawing(CASES / "many_entities.dxf", limits=ValidationLimits(max_dxf_entities=10))
    assert info.value.code == "DXF_TOO_MANY_ENTITIES"


@pytest.mark.parametrize(
    ("name", "code"), [("photo_png.dxf", "DXF_NOT_DXF"), ("bad_tag.dxf", "DXF_UNREADABLE")]
)
def test_load_errors_have_codes(name: str, code: str) -> None:
    with pytest.raises(DxfLoadError) as info:
        load_drawing(CASES / name, limits=LIMITS)
    assert info.value.code == code


def test_curves_are_flattened_within_tolerance(tmp_path: Path) -> None:
    doc = ezdxf.new("R2010")
    doc.header["$INSUNITS"] = 4
    doc.modelspace().add_circle((50, 50), 30)
    doc.modelspace().add_lwpolyline([(0, 0, 0, 0, 1), (20, 0, 0, 0, 1)], format="xyseb", close=True)
    doc.saveas(tmp_path / "c.dxf")
    circle, slot = load_drawing(tmp_path / "c.dxf", limits=LIMITS).contours
    radii = np.hypot(*(circle.points - [50, 50]).T)
    assert np.allclose(radii, 30, atol=1e-4)  # vertices on the circle (Bézier error ~2e-6)
    chord = np.hypot(*np.diff(np.vstack([circle.points, circle.points[:1]]), axis=0).T).max()
    sagitta = 30 - math.sqrt(30**2 - (chord / 2) ** 2)
    assert sagitta <= FLATTEN_MM + 1e-9 and circle.closed
    assert slot.closed and Polygon(slot.points).area == pytest.approx(math.pi * 100, rel=1e-3)


def test_lines_chain_into_a_closed_contour_across_a_tiny_gap() -> None:
    drawing = load_drawing(CASES / "lines_chained.dxf", limits=LIMITS)
    (square,) = drawing.contours
    assert square.closed and len(square.handles) == 4
    assert Polygon(square.points).area == pytest.approx(2500, abs=0.2)


def test_colours_resolve_bylayer_and_map_to_operations() -> None:
    drawing = load_drawing(CASES / "colours.dxf", limits=LIMITS)
    assert {c.operation for c in drawing.contours} == {Operation.CUT, Operation.SCORE, Operation.ENGRAVE}
    panel = load_drawing(CASES / "good_panel.dxf", limits=LIMITS)
    assert {c.colour for c in panel.contours if c.layer == "CUT"} == {1}  # BYLAYER -> CUT's red
    everything_engraved = LayerRules.from_mapping({"default": "engrave", "colours": {"1": "engrave"}})
    again = load_drawing(CASES / "colours.dxf", limits=LIMITS, rules=everything_engraved)
    assert {c.operation for c in again.contours} == {Operation.ENGRAVE, Operation.SCORE}


def test_ignored_layers_are_counted_not_drawn() -> None:
    drawing = load_drawing(CASES / "only_construction.dxf", limits=LIMITS)
    assert drawing.contours == [] and drawing.ignored == 2


def test_hatch_on_engrave_layer_is_filled_with_scan_lines_around_the_island() -> None:
    drawing = load_drawing(CASES / "hatch_on_engrave.dxf", limits=LIMITS)
    lines = [c for c in drawing.contours if c.operation is Operation.ENGRAVE]
    assert drawing.fills == 1 and len(lines) > 50
    covered = sum(float(np.hypot(*(c.points[-1] - c.points[0]))) for c in lines) * HATCH_PITCH_MM
    assert covered == pytest.approx(400 - 100, rel=0.02)  # 20x20 square minus the 10x10 island
    for c in lines:
        mid = (c.points[0] + c.points[-1]) / 2
        assert not (15 < mid[0] < 25 and 15 < mid[1] < 25)


def test_texts_and_unsupported_entities_are_listed_with_handles() -> None:
    texts = load_drawing(CASES / "text.dxf", limits=LIMITS).texts
    assert [(t.kind, t.text, t.layer) for t in texts] == [("TEXT", "Ruche", "GRAVURE")]
    mesh = load_drawing(CASES / "mesh.dxf", limits=LIMITS).unsupported
    assert [m.kind for m in mesh] == ["MESH"] and mesh[0].handle != "?"


def test_real_panel_with_holes_nests() -> None:
    drawing = load_drawing(CORPUS / "prusa__MK3-front-plate.dxf", limits=LIMITS)
    depths = sorted(c.depth for c in drawing.contours)
    assert depths[0] == 0 and depths.count(0) == 1 and set(depths) == {0, 1}
