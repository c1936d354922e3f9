"""Topology repairs on a triangle mesh that never open it: degenerate faces are collapsed or their
neighbour split (a T-junction is closed, not turned into a hole), holes are closed by triangles that
follow the surrounding faces (`stl_holes`), winding and inside-out bodies are turned, stray flat
pieces are dropped. Pure arrays in, arrays out; `stl_repair` writes the file and judges the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import trimesh
from numpy.typing import NDArray

from fablabctl.validation.stl_holes import fill_holes

ZERO_AREA = 1e-12
TINY_EDGE_SHARE = 1e-4  # a triangle whose shortest edge is this small next to its longest is a point


@dataclass
class MeshFix:
    vertices: NDArray[np.float64]
    faces: NDArray[np.int64]
    steps: list[str] = field(default_factory=list)

    def mesh(self) -> trimesh.Trimesh:
        return trimesh.Trimesh(self.vertices, self.faces, process=False, validate=False)


def _areas(vertices: NDArray[np.float64], faces: NDArray[np.int64]) -> NDArray[np.float64]:
    tri = vertices[faces]
    return np.asarray(0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1))


def _volume(vertices: NDArray[np.float64], faces: NDArray[np.int64]) -> float:
    """Signed volume enclosed by the faces (divergence theorem); negative when inside out."""
    t = vertices[faces]
    return float(np.einsum("ij,ij->i", t[:, 0], np.cross(t[:, 1], t[:, 2])).sum()) / 6.0


def _collapse_degenerate(fix: MeshFix) -> None:
    """Zero-area triangles: a tiny one is a point (merge its vertices), a needle has one vertex on its
    long edge (split the face across that edge at the vertex, then drop the needle)."""
    vertices = fix.vertices
    if len(fix.faces) == 0 or _areas(vertices, fix.faces).min() >= ZERO_AREA:
        return
    faces = [tuple(int(v) for v in f) for f in fix.faces]
    remap = np.arange(len(vertices))
    changed = False
    for _ in range(4 * len(faces) + 10):
        current = np.array(faces, dtype=np.int64).reshape(-1, 3)
        current = remap[current]
        repeated = (
            (current[:, 0] == current[:, 1])
            | (current[:, 1] == current[:, 2])
            | (current[:, 0] == current[:, 2])
        )
        if repeated.any():
            current = current[~repeated]
            changed = True
        faces = [tuple(int(v) for v in f) for f in current]
        if len(current) == 0:
            break
        degenerate = np.nonzero(_areas(vertices, current) < ZERO_AREA)[0]
        if len(degenerate) == 0:
            break
        index = int(degenerate[0])
        a, b, c = faces[index]
        lengths = [float(np.linalg.norm(vertices[p] - vertices[q])) for p, q in ((a, b), (b, c), (c, a))]
        changed = True
        if min(lengths) <= TINY_EDGE_SHARE * max(max(lengths), 1e-9):
            p, q = ((a, b), (b, c), (c, a))[int(np.argmin(lengths))]
            remap[remap == q] = p
            continue
        # the long edge (x, y) and the vertex m lying on it
        longest = int(np.argmax(lengths))
        x, y = ((a, b), (b, c), (c, a))[longest]
        m = ({a, b, c} - {x, y}).pop()
        faces.pop(index)
        for other, (p, q, r) in enumerate(faces):
            cyc = [(p, q, r), (q, r, p), (r, p, q)]
            match = next((rot for rot in cyc if rot[0] == y and rot[1] == x), None)
            if match is not None:  # the neighbour runs y -> x: split it at m
                _, _, d = match
                faces[other] = (y, m, d)
                faces.append((m, x, d))
                break
    if changed:
        fix.faces = remap[np.array(faces, dtype=np.int64).reshape(-1, 3)]
        fix.steps.append("collapse_degenerate_faces")


def _drop_duplicates(fix: MeshFix) -> None:
    keys = np.sort(fix.faces, axis=1)
    _, first = np.unique(keys, axis=0, return_index=True)
    if len(first) < len(fix.faces):
        fix.faces = fix.faces[np.sort(first)]
        fix.steps.append("remove_duplicate_faces")


def _split_bodies(mesh: trimesh.Trimesh) -> list[NDArray[np.int64]]:
    from trimesh.graph import connected_components

    adjacency = mesh.face_adjacency
    return [
        np.asarray(c, dtype=np.int64)
        for c in connected_components(adjacency, nodes=np.arange(len(mesh.faces)), min_len=1)
    ]


def _orient_bodies(fix: MeshFix) -> None:
    """Consistent winding, then each closed body outward (an inner cavity inside another body is kept)."""
    mesh = fix.mesh()
    if not mesh.is_winding_consistent:
        trimesh.repair.fix_winding(mesh)  # type: ignore[no-untyped-call]
        fix.faces = np.asarray(mesh.faces, dtype=np.int64)
        fix.steps.append("fix_winding")
        mesh = fix.mesh()
    bodies = _split_bodies(mesh)
    volumes = [_volume(fix.vertices, fix.faces[b]) for b in bodies]
    corners = [mesh.vertices[np.unique(mesh.faces[b])] for b in bodies]
    boxes = [(points.min(axis=0), points.max(axis=0)) for points in corners]
    faces = fix.faces.copy()
    flipped = False
    for i, (body, volume) in enumerate(zip(bodies, volumes, strict=True)):
        if volume >= 0:
            continue
        lo, hi = boxes[i]
        cavity = any(
            volumes[j] > 0 and (boxes[j][0] < lo).all() and (boxes[j][1] > hi).all()
            for j in range(len(bodies))
            if j != i
        )
        if not cavity:
            faces[body] = faces[body][:, ::-1]
            flipped = True
    if flipped:
        fix.faces = faces
        fix.steps.append("fix_inversion")


def _drop_flat_bodies(fix: MeshFix) -> None:
    """Stray triangles and zero-thickness scraps: no volume, nothing to print."""
    mesh = fix.mesh()
    bodies = _split_bodies(mesh)
    if len(bodies) < 2:
        return
    scale = float(np.ptp(mesh.vertices, axis=0).max()) or 1.0
    keep = [body for body in bodies if abs(_volume(fix.vertices, fix.faces[body])) > 1e-9 * scale**3]
    if keep and len(keep) < len(bodies):
        fix.faces = fix.faces[np.sort(np.concatenate(keep))]
        fix.steps.append("remove_stray_pieces")


def fix_mesh(vertices: NDArray[np.float64], faces: NDArray[np.int64]) -> MeshFix:
    """Merged vertices in; a closed, outward, manifold mesh out when the damage allows it."""
    fix = MeshFix(np.asarray(vertices, dtype=np.float64), np.asarray(faces, dtype=np.int64))
    _collapse_degenerate(fix)
    _drop_duplicates(fix)
    mesh = fix.mesh()
    if not mesh.is_winding_consistent:
        _orient_bodies(fix)
    filled, added = fill_holes(fix.vertices, fix.faces)
    if added:
        fix.faces = filled
        fix.steps.append("fill_holes")
    _orient_bodies(fix)
    _drop_flat_bodies(fix)  # a stray triangle closed by its own back face: no volume, dropped
    _drop_duplicates(fix)
    mesh = fix.mesh()
    mesh.remove_unreferenced_vertices()
    fix.vertices = np.asarray(mesh.vertices, dtype=np.float64)
    fix.faces = np.asarray(mesh.faces, dtype=np.int64)
    return fix
