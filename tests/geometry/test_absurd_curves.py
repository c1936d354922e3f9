"""Curves no laser could cut (a radius of 1e15, a circle 1e30 from the origin, NaN) must still be read
in bounded time and memory: a fuzzed CIRCLE with a radius of 1e15 once asked ezdxf for billions of
chord points and took a test worker to 21 GB. The loads run in a child process under a 2 GiB
address-space ceiling, so a regression fails this test instead of the machine."""

from __future__ import annotations

import json
import math
import resource
import subprocess
import sys
from pathlib import Path

import ezdxf
import numpy as np
import pytest

from fablabctl.file_limits import ValidationLimits
from fablabctl.geometry import DxfLoadError, load_drawing
from fablabctl.geometry.chord import FLATTEN_MM, chord_distance

CEILING = 2 * 1024**3
CHILD = """
import json, logging, sys
from pathlib import Path
logging.getLogger("ezdxf").setLevel(logging.CRITICAL)
from fablabctl.geometry import load_drawing
from fablabctl.file_limits import ValidationLimits
drawing = load_drawing(Path(sys.argv[1]), limits=ValidationLimits())
print(json.dumps({
    "points": [len(c.points) for c in drawing.contours],
    "size": [float(v) for v in drawing.extents.size] if drawing.extents else None,
    "skipped": [s.kind for s in drawing.unsupported],
}))
"""


def _ceiling() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CEILING, CEILING))


def load_bounded(path: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_ceiling,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_huge_curves_flatten_to_a_few_thousand_points(tmp_path: Path) -> None:
    doc = ezdxf.new("R2010")
    doc.header["$INSUNITS"] = 4
    msp = doc.modelspace()
    msp.add_circle((0, 0), 1e15)
    msp.add_arc((1e30, 1e30), 1, 0, 270)  # rounding at 1e30 is far above 0.02 mm
    msp.add_ellipse((0, 0), major_axis=(1e14, 0), ratio=0.5)
    msp.add_lwpolyline([(0, 0, 0, 0, 1), (1e13, 0, 0, 0, 1)], format="xyseb", close=True)
    msp.add_spline([(0, 0), (1e12, 1e12), (2e12, 0), (3e12, 1e12)])
    doc.saveas(tmp_path / "absurd.dxf")
    result = load_bounded(tmp_path / "absurd.dxf")
    points = result["points"]
    assert isinstance(points, list) and len(points) == 4, result  # the arc at 1e30 rounds to a dot
    assert result["skipped"] == ["zero-length / longueur nulle"]
    assert all(2 <= n <= 20_000 for n in points), points
    assert result["size"] is not None and max(result["size"]) >= 2e15 * 0.99  # type: ignore[arg-type]


def test_nan_and_infinite_radii_are_skipped_not_flattened(tmp_path: Path) -> None:
    entities = "".join(
        f"0\nCIRCLE\n8\ncut\n10\n0\n20\n0\n40\n{radius}\n" for radius in ("nan", "inf", "-inf")
    )
    text = f"0\nSECTION\n2\nENTITIES\n{entities}0\nCIRCLE\n8\ncut\n10\n5\n20\n5\n40\n2\n0\nENDSEC\n0\nEOF\n"
    (tmp_path / "nan.dxf").write_text(text)
    result = load_bounded(tmp_path / "nan.dxf")
    assert result["points"] and len(result["points"]) == 1  # type: ignore[arg-type]  # the real circle
    assert len(result["skipped"]) == 3  # type: ignore[arg-type]


def test_hatch_with_a_huge_arc_boundary_is_refused_as_too_large(tmp_path: Path) -> None:
    doc = ezdxf.new("R2010")
    doc.layers.add("gravure")
    hatch = doc.modelspace().add_hatch(dxfattribs={"layer": "gravure"})
    edges = hatch.paths.add_edge_path()
    edges.add_arc((0, 0), 1e15, 0, 180)
    edges.add_line((-1e15, 0), (1e15, 0))
    doc.saveas(tmp_path / "hatch.dxf")
    result = load_bounded(tmp_path / "hatch.dxf")
    assert result["skipped"] == ["HATCH (trop grand / too large)"]


def test_an_array_of_ten_billion_copies_is_refused_before_any_copy(tmp_path: Path) -> None:
    doc = ezdxf.new("R2010")
    block = doc.blocks.new("TILE")
    block.add_lwpolyline([(0, 0), (5, 0), (5, 5)], close=True)
    insert = doc.modelspace().add_blockref("TILE", (0, 0))
    insert.dxf.row_count, insert.dxf.column_count = 100_000, 100_000
    insert.dxf.row_spacing = insert.dxf.column_spacing = 10
    doc.saveas(tmp_path / "array.dxf")
    with pytest.raises(DxfLoadError) as info:
        load_drawing(tmp_path / "array.dxf", limits=ValidationLimits(max_dxf_entities=5_000))
    assert info.value.code == "DXF_TOO_MANY_ENTITIES"


def test_inch_curves_keep_the_tolerance_in_millimetres(tmp_path: Path) -> None:
    doc = ezdxf.new("R2010")
    doc.header["$INSUNITS"] = 1
    doc.modelspace().add_circle((2, 2), 1)  # 25.4 mm radius
    doc.saveas(tmp_path / "inch.dxf")
    (circle,) = load_drawing(tmp_path / "inch.dxf", limits=ValidationLimits()).contours
    chord = np.hypot(*np.diff(np.vstack([circle.points, circle.points[:1]]), axis=0).T).max()
    sagitta = 25.4 - math.sqrt(25.4**2 - (chord / 2) ** 2)
    assert sagitta <= FLATTEN_MM + 1e-9


def test_chord_distance_is_the_fixed_tolerance_for_anything_a_bed_holds() -> None:
    assert chord_distance(2_000.0, 2_000.0, 1.0) == FLATTEN_MM
    assert chord_distance(2e15, 1e15, 1.0) == pytest.approx(2e9)
    assert chord_distance(2.0, 1e30, 1.0) == pytest.approx(1e21)
    assert chord_distance(math.nan, 1.0, 1.0) is None and chord_distance(1.0, math.inf, 1.0) is None
