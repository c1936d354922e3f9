"""The geometry the pages draw the problems with: hole edges, flipped faces, DXF paths and markers."""

from __future__ import annotations

import struct
from pathlib import Path

import ezdxf
import numpy as np

from fablabctl.designs.preview import dxf_view, stl_problems, stl_triangles
from fablabctl.file_limits import ValidationLimits
from fablabctl.specs import DEFAULT_LASER, DEFAULT_PRINTER
from fablabctl.validation.validate import validate_file
from tests.web.meshes import cube_stl

LIMITS = ValidationLimits(
    max_file_bytes=10_000_000, max_triangles=100_000, max_dxf_entities=10_000, max_block_depth=8
)


def test_a_cube_with_a_hole_shows_the_four_edges_of_the_hole(tmp_path: Path) -> None:
    path = cube_stl(tmp_path / "hole.stl", 20.0, drop_faces=2)
    data = stl_problems(path, LIMITS, [DEFAULT_PRINTER])
    assert data["hole_edge_count"] == 4 and len(data["hole_edges"]) == 4 * 6
    assert data["box"] == {"min": [0.0, 0.0, 0.0], "max": [20.0, 20.0, 20.0]}
    assert data["bed"]["size"] == [250.0, 210.0, 210.0] and not data["flipped_triangles"]
    assert len(stl_triangles(path, LIMITS)) == 10 * 9 * 4


def test_faces_wound_against_their_neighbours_are_the_ones_shown(tmp_path: Path) -> None:
    path = cube_stl(tmp_path / "ok.stl", 10.0)
    raw = bytearray(path.read_bytes())
    offset = 84  # first triangle: swap its 2nd and 3rd vertices
    record = list(struct.unpack_from("<12f", raw, offset))
    record[6:9], record[9:12] = record[9:12], record[6:9]
    struct.pack_into("<12f", raw, offset, *record)
    path.write_bytes(bytes(raw))
    data = stl_problems(path, LIMITS, [DEFAULT_PRINTER])
    flipped = np.array(data["flipped_triangles"]).reshape(-1, 3, 3)
    assert len(flipped) == 1
    assert sorted(map(tuple, flipped[0])) == sorted(map(tuple, np.array(record[3:12]).reshape(3, 3)))


def test_an_open_contour_is_drawn_dashed_with_its_numbered_ends(tmp_path: Path) -> None:
    doc = ezdxf.new()
    doc.header["$INSUNITS"] = 4
    doc.layers.add("CUT", color=1)
    msp = doc.modelspace()
    msp.add_lwpolyline([(10, 10), (60, 10), (60, 60), (10, 60), (10, 12)], dxfattribs={"layer": "CUT"})
    path = tmp_path / "open.dxf"
    doc.saveas(path)
    report = validate_file(path, machines=[DEFAULT_LASER], limits=LIMITS).to_dict("fr")
    assert any(f["code"] == "DXF_OPEN_CONTOUR" for f in report["findings"])
    view = dxf_view(path, LIMITS, [DEFAULT_LASER], report)
    assert [p.closed for p in view.paths] == [False] and view.paths[0].operation == "cut"
    marker = next(m for m in view.markers if m.code == "DXF_OPEN_CONTOUR")
    assert marker.end is not None and "Contour ouvert" in marker.message
    # page coordinates: y grows downwards, the point (10, 10) sits near the bottom left
    assert 0 < marker.x < view.width / 2 and view.height / 2 < marker.y < view.height
