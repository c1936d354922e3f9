"""Generators for broken and hostile design files: each returns a path; the tests hold the expected codes."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import ezdxf
import numpy as np
import trimesh


def stl_box(path: Path, size: tuple[float, float, float] = (20, 20, 20)) -> Path:
    trimesh.creation.box(extents=size).export(path)
    return path


def stl_binary(path: Path, triangles: np.ndarray, declared: int | None = None) -> Path:
    """Write a binary STL by hand, optionally lying about the triangle count."""
    count = len(triangles) if declared is None else declared
    body = b"".join(struct.pack("<12fH", 0, 0, 0, *tri.reshape(-1), 0) for tri in triangles)
    path.write_bytes(b"fablabctl test".ljust(80, b" ") + struct.pack("<I", count) + body)
    return path


def box_triangles(size: float = 20.0) -> np.ndarray:
    box = trimesh.creation.box(extents=(size, size, size))
    return np.asarray(box.triangles, dtype=np.float32)


def open_box(path: Path) -> Path:
    return stl_binary(path, box_triangles()[:-2])  # two triangles missing: one square hole


def flipped_box(path: Path) -> Path:
    return stl_binary(path, box_triangles()[:, ::-1, :])  # every face inside out


def mixed_winding(path: Path) -> Path:
    tris = box_triangles()
    tris[0] = tris[0][::-1]
    return stl_binary(path, tris)


def nan_box(path: Path) -> Path:
    tris = box_triangles()
    tris[3, 1, 2] = np.nan
    return stl_binary(path, tris)


def degenerate_and_duplicate(path: Path) -> Path:
    tris = box_triangles()
    flat = np.array([[[0, 0, 0], [1, 1, 1], [2, 2, 2]]], dtype=np.float32)
    return stl_binary(path, np.concatenate([tris, tris[:1], flat]))


def two_bodies(path: Path) -> Path:
    a = trimesh.creation.box(extents=(10, 10, 10))
    b = trimesh.creation.box(extents=(10, 10, 10))
    b.apply_translation((30, 0, 0))
    trimesh.util.concatenate([a, b]).export(path)
    return path


def huge_part(path: Path) -> Path:
    return stl_box(path, (600, 50, 50))


def diagonal_part(path: Path) -> Path:
    """290 mm long but thin: fits a 250x210 bed only turned diagonally."""
    return stl_box(path, (290, 10, 10))


def tall_part(path: Path) -> Path:
    """20 x 200 x 230: too tall as modelled, fits laid down."""
    return stl_box(path, (20, 200, 230))


def tiny_part(path: Path) -> Path:
    return stl_box(path, (0.8, 0.5, 0.3))


def thin_wall(path: Path) -> Path:
    return stl_box(path, (40, 0.2, 20))


def overhang(path: Path) -> Path:
    """A T shape: the bar of the T overhangs in the air."""
    stem = trimesh.creation.box(extents=(10, 10, 30))
    bar = trimesh.creation.box(extents=(60, 10, 5))
    bar.apply_translation((0, 0, 17.5))
    mesh = trimesh.util.concatenate([stem, bar])  # two touching solids: no boolean engine needed
    mesh.export(path)
    return path


def truncated_claiming_billions(path: Path) -> Path:
    return stl_binary(path, box_triangles()[:2], declared=4_000_000_000)


def ascii_broken(path: Path) -> Path:
    path.write_text("solid x\n facet normal 0 0 1\n  outer loop\n   vertex 0 0 zero\n")
    return path


def ascii_truncated(path: Path) -> Path:
    path.write_text("solid x\n facet normal 0 0 1\n  outer loop\n   vertex 0 0 0\n   vertex 1 0 0\n")
    return path


def png_renamed(path: Path) -> Path:
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    return path


def zip_renamed(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.stl", "solid x\nendsolid x\n")
    return path


def latin1_text(path: Path) -> Path:
    path.write_bytes("Ceci n'est pas un modèle : déjà vu, à bientôt\n".encode("latin-1") * 20)
    return path


def empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


# ---------------------------------------------------------------- DXF


def dxf_doc(units: int | None = 4) -> ezdxf.document.Drawing:
    doc = ezdxf.new("R2010")
    if units is None:
        del doc.header["$INSUNITS"]
    else:
        doc.header["$INSUNITS"] = units
    doc.layers.add("CUT", color=1)
    doc.layers.add("ENGRAVE", color=5)
    return doc


def square(msp: object, x: float, y: float, size: float, layer: str = "CUT") -> None:
    msp.add_lwpolyline(
        [(x, y), (x + size, y), (x + size, y + size), (x, y + size)],
        close=True,  # type: ignore[attr-defined]
        dxfattribs={"layer": layer},
    )


def dxf_good_panel(path: Path) -> Path:
    doc = dxf_doc()
    msp = doc.modelspace()
    square(msp, 10, 10, 100)
    msp.add_circle((60, 60), 10, dxfattribs={"layer": "CUT"})  # a hole
    square(msp, 30, 30, 5, layer="ENGRAVE")
    doc.saveas(path)
    return path


def dxf_open_contour(path: Path) -> Path:
    doc = dxf_doc()
    msp = doc.modelspace()
    msp.add_lwpolyline([(0, 0), (100, 0), (100, 100), (0, 100), (0, 2)], dxfattribs={"layer": "CUT"})
    doc.saveas(path)
    return path


def dxf_lines_closed(path: Path) -> Path:
    """A square made of four separate LINEs, in shuffled directions: closed once chained."""
    doc = dxf_doc()
    msp = doc.modelspace()
    for a, b in (((0, 0), (50, 0)), ((50, 50), (50, 0)), ((50, 50), (0, 50)), ((0, 0), (0, 50))):
        msp.add_line(a, b, dxfattribs={"layer": "CUT"})
    doc.saveas(path)
    return path


def dxf_text(path: Path) -> Path:
    doc = dxf_doc()
    msp = doc.modelspace()
    square(msp, 0, 0, 100)
    msp.add_text("Ruche", dxfattribs={"layer": "ENGRAVE", "height": 10}).set_placement((20, 20))
    doc.saveas(path)
    return path


def dxf_recursive_block(path: Path) -> Path:
    doc = dxf_doc()
    block = doc.blocks.new("LOOP")
    block.add_line((0, 0), (10, 0))
    block.add_blockref("LOOP", (1, 1))
    doc.modelspace().add_blockref("LOOP", (0, 0))
    doc.saveas(path)
    return path


def dxf_inches(path: Path) -> Path:
    doc = dxf_doc(units=1)
    square(doc.modelspace(), 0, 0, 4)  # 4 inches = 101.6 mm
    doc.saveas(path)
    return path


def dxf_unitless(path: Path) -> Path:
    doc = dxf_doc(units=None)
    square(doc.modelspace(), 0, 0, 50)
    doc.saveas(path)
    return path


def dxf_duplicate(path: Path) -> Path:
    doc = dxf_doc()
    msp = doc.modelspace()
    square(msp, 0, 0, 50)
    square(msp, 0, 0, 50)
    doc.saveas(path)
    return path


def dxf_too_big(path: Path) -> Path:
    doc = dxf_doc()
    square(doc.modelspace(), 0, 0, 600)
    doc.saveas(path)
    return path


def dxf_hatch(path: Path) -> Path:
    doc = dxf_doc()
    msp = doc.modelspace()
    square(msp, 0, 0, 50)
    hatch = msp.add_hatch(color=5)
    hatch.paths.add_polyline_path([(10, 10), (20, 10), (20, 20)], is_closed=True)
    doc.saveas(path)
    return path


def dxf_negative(path: Path) -> Path:
    doc = dxf_doc()
    square(doc.modelspace(), -20, -20, 50)
    doc.saveas(path)
    return path


def dxf_empty(path: Path) -> Path:
    dxf_doc().saveas(path)
    return path


def dxf_arcs_and_bulges(path: Path) -> Path:
    """A rounded slot: LWPOLYLINE with bulges, plus an ellipse and a spline, all closed."""
    doc = dxf_doc()
    msp = doc.modelspace()
    msp.add_lwpolyline(
        [(0, 0, 0, 0, 1), (40, 0, 0, 0, 1)], format="xyseb", close=True, dxfattribs={"layer": "CUT"}
    )
    msp.add_ellipse((100, 50), major_axis=(20, 0), ratio=0.5, dxfattribs={"layer": "CUT"})
    msp.add_spline(
        [(150, 0), (170, 30), (190, 0), (170, -30), (150, 0)], dxfattribs={"layer": "CUT"}
    ).closed = True
    doc.saveas(path)
    return path


# ---------------------------------------------------------------- G-code


def gcode(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
