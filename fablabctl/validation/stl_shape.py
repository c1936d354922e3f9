"""Geometric estimates on a mesh: bed fit with the rotation that makes it fit, unit mistakes,
thin walls and overhangs. Each is an approximation that says what it measures."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fablabctl.specs import MachineSpec

# `mesh` below is a `stl_mesh.Mesh` or a `trimesh.Trimesh`: the same attribute names and numbers.
# trimesh and scipy are imported where used: checking an STL should not pay for their start-up.

OVERHANG_ANGLE_DEG = 45.0
BED_CONTACT_MM = 0.2


@dataclass(frozen=True, slots=True)
class Fit:
    fits: bool
    rotation: str | None = None  # None: as is; else a human description ("90° about Z", "lay on its side")
    size_mm: tuple[float, float, float] | None = None


AXIS_ORDERS = {
    (0, 1, 2): None,
    (1, 0, 2): "90° autour de Z / 90° about Z",
    (0, 2, 1): "couchée : 90° autour de X / laid down: 90° about X",
    (2, 1, 0): "couchée : 90° autour de Y / laid down: 90° about Y",
    (1, 2, 0): "couchée puis tournée / laid down and turned",
    (2, 0, 1): "couchée puis tournée / laid down and turned",
}


def bed_fit(mesh: Any, machine: MachineSpec) -> Fit:
    """Does the part fit as is, turned 90°, laid down, or turned diagonally on the bed?"""
    bed = (machine.bed_x_mm, machine.bed_y_mm, machine.bed_z_mm or math.inf)
    extents = tuple(float(v) for v in mesh.extents)
    for order, label in AXIS_ORDERS.items():
        size = (extents[order[0]], extents[order[1]], extents[order[2]])
        if all(s <= b + 1e-6 for s, b in zip(size, bed, strict=True)):
            return Fit(True, label, size)
    # a long part may fit along the bed's diagonal: smallest rectangle of its footprint
    if extents[2] <= bed[2]:
        import trimesh
        from scipy.spatial import QhullError

        hull = mesh.vertices[:, :2]
        if np.ptp(hull, axis=0).min() <= 0:  # a flat line: no rectangle to turn
            return Fit(False)
        try:
            _, rect = trimesh.bounds.oriented_bounds_2D(hull)  # type: ignore[no-untyped-call]
        except (QhullError, ValueError):  # footprint degenerate (collinear points): nothing to turn
            return Fit(False)
        w, d = float(rect[0]), float(rect[1])
        theta = np.radians(np.linspace(0.0, 90.0, 181))
        across = w * np.cos(theta) + d * np.sin(theta)
        along = w * np.sin(theta) + d * np.cos(theta)
        ok = (across <= bed[0]) & (along <= bed[1])
        if ok.any():
            angle = float(np.degrees(theta[np.argmax(ok)]))
            label = f"en diagonale, tournée d'environ {angle:.0f}° / diagonally, turned about {angle:.0f}°"
            return Fit(True, label, (float(across[np.argmax(ok)]), float(along[np.argmax(ok)]), extents[2]))
    return Fit(False)


def unit_guess(max_extent: float) -> list[tuple[str, float]]:
    """Plausible other units for a part under 5 mm or over 2 m: (unit it was drawn in, scale to mm)."""
    if max_extent <= 0:
        return []
    if max_extent < 5.0:
        candidates = [("cm", 10.0), ("in", 25.4), ("m", 1000.0)]
    elif max_extent > 2000.0:
        candidates = [("µm", 0.001), ("0.1 mm", 0.1), ("in x 25.4", 1 / 25.4)]
    else:
        return []
    return [(unit, scale) for unit, scale in candidates if 8.0 <= max_extent * scale <= 400.0]


def overhang_share(mesh: Any) -> tuple[float, NDArray[np.float64] | None]:
    """Share of the surface facing down steeper than 45° (not counting what lies on the bed)."""
    area = mesh.area_faces
    total = float(area.sum())
    if total <= 0:
        return 0.0, None
    limit = -math.cos(math.radians(OVERHANG_ANGLE_DEG))
    z_min = float(mesh.bounds[0][2])
    on_bed = mesh.triangles[:, :, 2].max(axis=1) <= z_min + BED_CONTACT_MM
    down = (mesh.face_normals[:, 2] < limit) & ~on_bed
    share = float(area[down].sum()) / total
    if not down.any():
        return share, None
    worst = int(np.argmax(np.where(down, area, -1.0)))
    return share, mesh.triangles_center[worst]


MAX_SANE_MM = 1e9  # far past any bed; beyond it a k-d tree's distances overflow


def thin_wall_points(mesh: Any, nozzle_mm: float, samples: int = 4000) -> NDArray[np.float64]:
    """Surface points whose opposite wall is closer than the nozzle width.

    Estimated from random surface samples: a point is thin when another sample within `nozzle_mm`
    faces the other way and lies behind it (inside the material). Cheap and approximate, it finds
    walls thinner than one extrusion line; it does not measure exact thickness.
    """
    if len(mesh.faces) == 0 or mesh.area <= 0:
        return np.empty((0, 3))
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(0)  # deterministic: the same file always gets the same report
    points, faces = sample_surface(mesh, samples, rng)
    if not np.isfinite(points).all() or float(np.abs(points).max(initial=0.0)) > MAX_SANE_MM:
        return np.empty((0, 3))  # absurd coordinates: the size check already refuses the part
    normals = mesh.face_normals[faces]
    tree = cKDTree(points)
    pairs = tree.query_pairs(r=nozzle_mm, output_type="ndarray")
    if len(pairs) == 0:
        return np.empty((0, 3))
    a, b = pairs[:, 0], pairs[:, 1]
    opposite = np.einsum("ij,ij->i", normals[a], normals[b]) < -0.7
    behind = np.einsum("ij,ij->i", points[b] - points[a], normals[a]) < -0.05 * nozzle_mm
    thin = a[opposite & behind]
    return np.asarray(points[np.unique(thin)], dtype=np.float64)


def sample_surface(
    mesh: Any, count: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """`trimesh.sample.sample_surface` (same draws, same points), reading only the sampled faces."""
    weight_cum = np.cumsum(mesh.area_faces)
    face_index = np.searchsorted(weight_cum, rng.random(count) * weight_cum[-1])
    picked = mesh.faces[face_index]
    origins = mesh.vertices[picked[:, 0]]
    vectors = mesh.vertices[picked[:, 1:]] - np.tile(origins, (1, 2)).reshape((-1, 2, 3))
    lengths = rng.random((len(vectors), 2, 1))
    lengths[lengths.sum(axis=1).reshape(-1) > 1.0] -= 1.0
    lengths = np.abs(lengths)
    return (vectors * lengths).sum(axis=1) + origins, face_index


def duplicate_face_indices(faces: NDArray[np.int64]) -> NDArray[np.int64]:
    """Faces using the same three vertices as an earlier face (in any order)."""
    if len(faces) == 0:
        return np.empty(0, dtype=np.int64)
    ordered = np.sort(faces, axis=1)
    k = int(ordered.max()) + 1
    if k < 2_000_000:  # k**3 < 2**63: one exact integer key per face
        keys = (ordered[:, 0] * k + ordered[:, 1]) * k + ordered[:, 2]
        _, first = np.unique(keys, return_index=True)
    else:
        _, first = np.unique(ordered, axis=0, return_index=True)
    mask = np.ones(len(faces), dtype=bool)
    mask[first] = False
    return np.nonzero(mask)[0]


@dataclass(frozen=True, slots=True)
class EdgeUse:
    """How many faces use each edge: 1 is a hole's border, more than 2 is non-manifold."""

    open_edges: NDArray[np.int64]  # (k, 2) vertex pairs used by a single face
    shared_by_more: int


def edge_use(mesh: Any) -> EdgeUse:
    n = max(len(mesh.vertices), 1)
    if hasattr(mesh, "edge_counts"):  # stl_mesh.Mesh: already counted, with the same keys
        keys, counts = mesh.edge_counts
    else:
        edges = mesh.edges_sorted.astype(np.int64)
        keys, counts = np.unique(edges[:, 0] * n + edges[:, 1], return_counts=True)
    single = keys[counts == 1]
    return EdgeUse(np.column_stack([single // n, single % n]), int((counts > 2).sum()))


def boundary_loops(open_edges: NDArray[np.int64]) -> list[NDArray[np.int64]]:
    """Holes: chains of single-use edges grouped into loops (vertex indices)."""
    if len(open_edges) == 0:
        return []
    import networkx as nx

    graph = nx.Graph()
    graph.add_edges_from(map(tuple, open_edges.tolist()))
    return [np.fromiter(component, dtype=np.int64) for component in nx.connected_components(graph)]


def oriented(mesh: Any) -> Any:
    """The mesh as a slicer reads it: winding made consistent, each closed solid facing outwards."""
    if mesh.is_winding_consistent and (not mesh.is_watertight or mesh.volume >= 0):
        return mesh
    import trimesh

    turned = mesh.to_trimesh() if hasattr(mesh, "to_trimesh") else mesh.copy()
    trimesh.repair.fix_winding(turned)  # type: ignore[no-untyped-call]
    if turned.is_watertight and turned.volume < 0:
        turned.invert()
    return turned
