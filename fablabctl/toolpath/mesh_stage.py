"""The STL handed to the slicer: the design as validation read it, with what validation promised
preparation would fix (mixed winding, an inside-out solid, zero or wrong stored normals) fixed.

Validation and preparation must agree: a file that passes validation is sliced, whatever normals
its exporter wrote. The design itself is never changed; the fixes are listed in the job's settings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh

from fablabctl.toolpath.result import ToolpathError
from fablabctl.validation.sniff import detect_type
from fablabctl.validation.stl_parse import StlParseError, read_stl

MAX_TRIANGLES = 5_000_000


def stage_stl(source: Path, target: Path, *, max_triangles: int = MAX_TRIANGLES) -> list[str]:
    """Write a clean binary STL of `source` to `target`; return the fixes made (stable words)."""
    try:
        raw = read_stl(source, binary=detect_type(source) == "stl_binary", max_triangles=max_triangles)
    except StlParseError as exc:
        raise ToolpathError(exc.code, exc.message.fr, exc.message.en) from None
    count = len(raw.triangles)
    if count == 0 or not np.isfinite(raw.triangles).all():
        raise ToolpathError(
            "STL_EMPTY",
            "Ce STL n'a aucun triangle utilisable : validez-le pour savoir pourquoi.",
            "This STL has no usable triangle: validate it to see why.",
        )
    mesh = trimesh.Trimesh(
        vertices=raw.triangles.reshape(-1, 3),
        faces=np.arange(count * 3).reshape(-1, 3),
        process=True,
        validate=False,
    )
    fixes = []
    stored = raw.normals
    lengths = np.linalg.norm(stored, axis=1)
    computed = mesh.face_normals
    if (lengths < 1e-9).any() or (np.einsum("ij,ij->i", stored, computed) < 0).any():
        fixes.append("recompute_normals")
    if not mesh.is_winding_consistent:
        trimesh.repair.fix_winding(mesh)  # type: ignore[no-untyped-call]
        fixes.append("fix_winding")
    if mesh.is_watertight and mesh.volume < 0:
        mesh.invert()
        fixes.append("fix_inversion")
    clean = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)  # normals from the vertex order
    data = clean.export(file_type="stl")
    assert isinstance(data, bytes)
    target.write_bytes(data)
    return fixes
