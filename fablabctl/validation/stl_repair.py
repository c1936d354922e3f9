"""Automatic STL repair, offered to the user and never applied silently: the result is a new file
(a new design, linked to the original), validated again like any upload.

A repair must never make a file worse: the repaired mesh is validated again and compared with the
original (`judge`); when it is not better (an error left or added, a volume changed by more than
1 %), the caller keeps the original and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import trimesh

from fablabctl.validation.report import Report
from fablabctl.validation.stl_mesh_fix import fix_mesh
from fablabctl.validation.stl_parse import read_stl

REPAIRABLE = frozenset(
    {
        "STL_DEGENERATE_FACES",
        "STL_DUPLICATE_FACES",
        "STL_INCONSISTENT_WINDING",
        "STL_INVERTED_NORMALS",
        "STL_NOT_WATERTIGHT",
        "STL_STORED_NORMALS_FLIPPED",
        "STL_ZERO_NORMALS",
    }
)
VOLUME_TOLERANCE = 0.01


@dataclass
class Repair:
    steps: list[str] = field(default_factory=list)  # what was done, in order (stable words)
    triangles_before: int = 0
    triangles_after: int = 0


def load_merged(src: Path, *, binary: bool, max_triangles: int) -> trimesh.Trimesh:
    """The file's triangles with identical vertices merged (how every slicer reads an STL)."""
    raw = read_stl(src, binary=binary, max_triangles=max_triangles)
    count = len(raw.triangles)
    return trimesh.Trimesh(
        vertices=raw.triangles.reshape(-1, 3),
        faces=np.arange(count * 3).reshape(-1, 3),
        process=True,
        validate=False,
    )


def repair_stl(src: Path, dst: Path, *, binary: bool, max_triangles: int) -> Repair:
    """Collapse degenerate faces, drop duplicates and stray scraps, fix winding and inside-out
    bodies, close holes along the surrounding faces; write a binary STL with normals recomputed."""
    mesh = load_merged(src, binary=binary, max_triangles=max_triangles)
    repair = Repair(triangles_before=len(mesh.faces))
    fixed = fix_mesh(np.asarray(mesh.vertices), np.asarray(mesh.faces, dtype=np.int64))
    repair.steps = ["merge_vertices", *fixed.steps, "recompute_normals"]
    out = fixed.mesh()
    repair.triangles_after = len(out.faces)
    data = out.export(file_type="stl")
    assert isinstance(data, bytes)  # binary STL export
    dst.write_bytes(data)
    return repair


@dataclass(frozen=True, slots=True)
class Verdict:
    better: bool
    reason: str  # stable word: "fixed", "improved", "errors_left", "new_errors", "volume_changed", ...


def _volume(report: Report) -> float | None:
    value = report.metrics.get("volume_mm3")
    return float(value) if value is not None else None


def judge(before: Report, after: Report) -> Verdict:
    """Is the repaired file better than the original? Never a new error, never a changed volume,
    and strictly fewer problems of the kinds a repair is for."""
    new_errors = {f.code for f in after.errors} - {f.code for f in before.errors}
    if new_errors:
        return Verdict(False, "new_errors")
    v0, v1 = _volume(before), _volume(after)
    if v0 is not None and v0 > 0 and (v1 is None or abs(v1 - v0) > VOLUME_TOLERANCE * v0):
        return Verdict(False, "volume_changed")
    fixable_before = {f.code for f in before.findings if f.code in REPAIRABLE}
    fixable_after = {f.code for f in after.findings if f.code in REPAIRABLE}
    if len(after.errors) < len(before.errors) or fixable_after < fixable_before:
        return Verdict(True, "fixed" if after.ok and not fixable_after else "improved")
    return Verdict(False, "errors_left" if after.errors else "nothing_to_fix")
