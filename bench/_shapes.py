"""Test shapes for the benches, made at run time from the shared corpus (never committed).

- `sculpted_stl`: the corpus's sculpted bust (`trimesh__busted.STL`, 3,878 faces, watertight), scaled to
  about 110 mm, smoothed up by Loop subdivision (x4 faces per level), then locally refined the way
  sculpting tools add detail (some faces split at their centroid: x3 each, still watertight) to reach
  the size asked for. A real shape with real curvature, not a perfect sphere.
- `mixed_dxf`: a sheet of mixed curves (circles, arcs, lines, splines, lwpolylines with bulges) in the
  proportions of the corpus's real drawings.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

CORPUS = Path(os.environ.get("FABLAB_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
BUST = CORPUS / "stl" / "trimesh__busted.STL"
BUST_SCALE = 10.0  # 10.7 x 11.4 x 9.6 -> about 107 x 114 x 96 mm: fits a 250 x 210 x 210 printer


def sculpted_mesh(triangles: int) -> tuple[np.ndarray, np.ndarray]:
    """(vertices, faces) of the bust with about `triangles` faces (at least the base's 3,878)."""
    import trimesh
    from trimesh import remesh

    base = trimesh.load(BUST)
    vertices, faces = np.asarray(base.vertices) * BUST_SCALE, np.asarray(base.faces)
    while len(faces) * 4 <= triangles:
        if len(faces) * 4 > 300_000:  # last big level: midpoint (Loop smoothing costs 4x and adds nothing)
            vertices, faces = remesh.subdivide(vertices, faces)
        else:
            vertices, faces = remesh.subdivide_loop(vertices, faces, iterations=1)
    extra = (triangles - len(faces)) // 2  # each centroid split adds 2 faces
    if extra > 0:
        chosen = np.linspace(0, len(faces) - 1, extra).astype(np.int64)
        centres = vertices[faces[chosen]].mean(axis=1)
        new = np.arange(len(vertices), len(vertices) + extra)
        a, b, c = faces[chosen].T
        keep = np.ones(len(faces), dtype=bool)
        keep[chosen] = False
        split = np.concatenate(
            [np.column_stack([a, b, new]), np.column_stack([b, c, new]), np.column_stack([c, a, new])]
        )
        vertices = np.vstack([vertices, centres])
        faces = np.vstack([faces[keep], split])
    return vertices, faces


def sculpted_stl(path: Path, triangles: int) -> int:
    """Write the bust as a binary STL with stored normals; return its triangle count."""
    vertices, faces = sculpted_mesh(triangles)
    tri = vertices[faces].astype(np.float32)
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-30)
    record = np.dtype([("normal", "<f4", (3,)), ("vertices", "<f4", (3, 3)), ("attr", "<u2")])
    data = np.zeros(len(faces), dtype=record)
    data["normal"], data["vertices"] = normals, tri
    with path.open("wb") as stream:
        stream.write(b"fablabctl bench: sculpted bust".ljust(80, b" "))
        stream.write(np.uint32(len(faces)).tobytes())
        data.tofile(stream)
    return len(faces)


def mixed_dxf(path: Path, entities: int, *, seed: int = 1) -> dict[str, int]:
    """A 380 x 280 mm sheet of small parts drawn with every kind of curve; return the entity counts.

    Each cell holds one part, chosen in turn: a plate of LINEs and ARCs with rounded corners and a
    round hole (CIRCLE); a LWPOLYLINE outline with bulged (arc) corners and a slot; a SPLINE-edged
    leaf closed by a LINE. Cells are visited row by row, as CAD users draw (the drawing's own order).
    """
    import ezdxf

    rng = np.random.default_rng(seed)
    doc = ezdxf.new("R2010")
    doc.header["$INSUNITS"] = 4
    msp = doc.modelspace()
    doc.layers.add("cut", color=1)
    doc.layers.add("engrave", color=3)
    per_cell = 14 / 3  # 9, 2 and 3 entities per part in turn
    side = max(1, math.ceil(math.sqrt(entities / per_cell)))
    pitch_x, pitch_y = 380 / side, 280 / side
    counts: dict[str, int] = {}

    def count(kind: str, n: int = 1) -> None:
        counts[kind] = counts.get(kind, 0) + n

    total = 0
    cell = 0
    attribs = {"layer": "cut"}
    while total < entities:
        i, j = divmod(cell % (side * side), side)
        x0, y0 = 2 + j * pitch_x, 2 + i * pitch_y
        w, h = pitch_x * 0.8, pitch_y * 0.8
        r = min(w, h) * 0.15
        kind = cell % 3
        if kind == 0:  # plate: 4 lines, 4 arcs, a hole
            msp.add_line((x0 + r, y0), (x0 + w - r, y0), dxfattribs=attribs)
            msp.add_arc((x0 + w - r, y0 + r), r, 270, 0, dxfattribs=attribs)
            msp.add_line((x0 + w, y0 + r), (x0 + w, y0 + h - r), dxfattribs=attribs)
            msp.add_arc((x0 + w - r, y0 + h - r), r, 0, 90, dxfattribs=attribs)
            msp.add_line((x0 + w - r, y0 + h), (x0 + r, y0 + h), dxfattribs=attribs)
            msp.add_arc((x0 + r, y0 + h - r), r, 90, 180, dxfattribs=attribs)
            msp.add_line((x0, y0 + h - r), (x0, y0 + r), dxfattribs=attribs)
            msp.add_arc((x0 + r, y0 + r), r, 180, 270, dxfattribs=attribs)
            msp.add_circle((x0 + w / 2, y0 + h / 2), min(w, h) * rng.uniform(0.1, 0.25), dxfattribs=attribs)
            count("LINE", 4)
            count("ARC", 4)
            count("CIRCLE")
            total += 9
        elif kind == 1:  # bulged outline and a slot
            b = math.tan(math.radians(90) / 4)  # quarter-circle corners
            msp.add_lwpolyline(
                [
                    (x0 + r, y0, 0),
                    (x0 + w - r, y0, b),
                    (x0 + w, y0 + r, 0),
                    (x0 + w, y0 + h - r, b),
                    (x0 + w - r, y0 + h, 0),
                    (x0 + r, y0 + h, b),
                    (x0, y0 + h - r, 0),
                    (x0, y0 + r, b),
                ],
                format="xyb",
                close=True,
                dxfattribs=attribs,
            )
            sw, sh = w * 0.5, h * 0.12
            sx, sy = x0 + w * 0.25, y0 + h * 0.44
            msp.add_lwpolyline(
                [(sx, sy, 0), (sx + sw, sy, 1), (sx + sw, sy + sh, 0), (sx, sy + sh, 1)],
                format="xyb",
                close=True,
                dxfattribs=attribs,
            )
            count("LWPOLYLINE", 2)
            total += 2
        else:  # a leaf: two splines closed at both ends, with a vein line engraved
            tip = (x0 + w, y0 + h / 2)
            stem = (x0, y0 + h / 2)
            bulge = h * rng.uniform(0.3, 0.45)
            upper = [stem, (x0 + w * 0.3, y0 + h / 2 + bulge), (x0 + w * 0.7, y0 + h / 2 + bulge * 0.8), tip]
            lower = [stem, (x0 + w * 0.3, y0 + h / 2 - bulge), (x0 + w * 0.7, y0 + h / 2 - bulge * 0.8), tip]
            msp.add_spline(upper, dxfattribs=attribs)
            msp.add_spline(lower, dxfattribs=attribs)
            vein = {"layer": "engrave"}
            msp.add_line((x0 + w * 0.15, y0 + h / 2), (x0 + w * 0.85, y0 + h / 2), dxfattribs=vein)
            count("SPLINE", 2)
            count("LINE")
            total += 3
        cell += 1
    doc.saveas(path)
    return counts
