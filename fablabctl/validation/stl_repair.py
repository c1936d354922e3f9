"""Automatic STL repair, offered to the user and never applied silently: the result is a new file
(a new design, linked to the original), validated again like any upload."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import trimesh

from fablabctl.validation.stl_parse import read_stl

REPAIRABLE = frozenset(
    {
        "STL_DEGENERATE_FACES",
        "STL_DUPLICATE_FACES",
        "STL_INCONSISTENT_WINDING",
        "STL_INVERTED_NORMALS",
        "STL_NOT_WATERTIGHT",
        "STL_STORED_NORMALS_FLIPPED",
    }
)


@dataclass
class Repair:
    steps: list[str] = field(default_factory=list)  # what was done, in order (stable words)
    triangles_before: int = 0
    triangles_after: int = 0


def repair_stl(src: Path, dst: Path, *, binary: bool, max_triangles: int) -> Repair:
    """Merge vertices, drop degenerate and duplicate faces, fix winding and inversion, fill holes;
    write a binary STL (with normals recomputed from the vertex order)."""
    raw = read_stl(src, binary=binary, max_triangles=max_triangles)
    count = len(raw.triangles)
    mesh = trimesh.Trimesh(
        vertices=raw.triangles.reshape(-1, 3),
        faces=np.arange(count * 3).reshape(-1, 3),
        process=True,
        validate=False,
    )
    repair = Repair(triangles_before=count)
    repair.steps.append("merge_vertices")
    keep = mesh.area_faces >= 1e-12
    if not keep.all():
        mesh.update_faces(keep)
        repair.steps.append("remove_degenerate_faces")
    unique = mesh.unique_faces()
    if not unique.all():
        mesh.update_faces(unique)
        repair.steps.append("remove_duplicate_faces")
    mesh.remove_unreferenced_vertices()
    if not mesh.is_winding_consistent:
        trimesh.repair.fix_winding(mesh)  # type: ignore[no-untyped-call]
        repair.steps.append("fix_winding")
    if not mesh.is_watertight:
        trimesh.repair.fill_holes(mesh)
        repair.steps.append("fill_holes")
    if mesh.is_watertight and mesh.volume < 0:
        trimesh.repair.fix_inversion(mesh)
        repair.steps.append("fix_inversion")
    repair.steps.append("recompute_normals")
    repair.triangles_after = len(mesh.faces)
    data = mesh.export(file_type="stl")
    assert isinstance(data, bytes)  # binary STL export
    dst.write_bytes(data)
    return repair
