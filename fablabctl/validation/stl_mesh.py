"""A light triangle mesh for checking big STL files: merged vertices, faces, and only the derived
arrays the checks read, each computed once when first asked for.

It gives the same numbers as `trimesh.Trimesh(..., process=True)` (same vertex merge: coordinates
rounded to 1e-8, first occurrence kept, in order of first occurrence; same formulas for normals,
areas, volume, watertightness, winding and bodies) without trimesh's cost on a million triangles:
the merge hashes the float32 coordinates read from the file into one 64-bit key per vertex and sorts
that (trimesh sorts 24-byte rows), and the edge checks are one sort of 64-bit edge keys.
Attribute names follow trimesh's, so the geometric estimates in `stl_shape` take either.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

MERGE_DIGITS = 8  # trimesh's tol.merge = 1e-8
TOL_ZERO = np.finfo(np.float64).resolution * 100  # trimesh's util.TOL_ZERO: below it a normal is null
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], dtype=np.uint64)


def _hash_rows(rows: NDArray[Any]) -> NDArray[np.uint64]:
    """One well-mixed 64-bit value per row of 3 integers (collisions are resolved by the caller)."""
    key = rows[:, 0].astype(np.uint64) * _MIX[0]
    key ^= rows[:, 1].astype(np.uint64) * _MIX[1]
    key ^= (key >> np.uint64(29)) + rows[:, 2].astype(np.uint64) * _MIX[2]
    key ^= key >> np.uint64(31)  # splitmix64's finaliser: every input bit reaches the top bits
    key *= np.uint64(0xBF58476D1CE4E5B9)
    key ^= key >> np.uint64(32)
    return np.asarray(key, dtype=np.uint64)


def _group(rows: NDArray[Any]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """(first, inverse): the index of the first row of each distinct row, in order of first occurrence,
    and for each row the number of its group.

    One `np.sort` of 64-bit words (hash in the high bits, row index in the low bits): numpy sorts
    those with SIMD, 10-20x faster than an argsort. Equal hashes then sit together, each run in row
    order, so a run's first entry is its first occurrence. Rows are compared with their run's first;
    the rare run where two different rows share a hash is split exactly, row by row."""
    count = len(rows)
    if count == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    index_bits = max(1, (count - 1).bit_length())
    packed = _hash_rows(rows) >> np.uint64(index_bits) << np.uint64(index_bits)
    packed |= np.arange(count, dtype=np.uint64)
    packed.sort()
    order = (packed & np.uint64((1 << index_bits) - 1)).astype(np.intp)
    high = packed >> np.uint64(index_bits)
    del packed
    starts = np.empty(count, dtype=bool)
    starts[0] = True
    np.not_equal(high[1:], high[:-1], out=starts[1:])
    del high
    run_start = np.flatnonzero(starts)[np.cumsum(starts) - 1]  # sorted position of each run's start
    head = order[run_start]  # for each sorted position: the first row of its run
    in_order = rows[order]  # one random gather; the runs' first rows are then read nearby
    same = (in_order == in_order[run_start]).all(axis=1)
    del in_order, run_start
    if not same.all():
        _split_collisions(rows, order, starts, head, same)
    representative = np.empty(count, dtype=np.intp)
    representative[order] = head
    is_first = representative == np.arange(count)
    number = np.cumsum(is_first) - 1
    return np.flatnonzero(is_first), np.asarray(number[representative])


def _split_collisions(
    rows: NDArray[Any],
    order: NDArray[np.intp],
    starts: NDArray[np.bool_],
    head: NDArray[np.intp],
    same: NDArray[np.bool_],
) -> None:
    """Runs holding different rows under one hash: give each distinct row its own first occurrence."""
    bounds = [*np.flatnonzero(starts).tolist(), len(order)]
    for position in np.flatnonzero(~same).tolist():
        run = int(np.searchsorted(bounds, position, side="right")) - 1
        begin, end = bounds[run], bounds[run + 1]
        seen: dict[bytes, int] = {}
        for k in range(begin, end):  # in row order: the first seen is the first occurrence
            head[k] = seen.setdefault(rows[order[k]].tobytes(), int(order[k]))
        same[begin:end] = True


def merge_vertices(corners: NDArray[Any]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Triangle corners (n, 3, 3) as read from the file -> merged vertices (k, 3) and faces (n, 3).

    Corners equal to 1e-8 mm are one vertex, as trimesh merges them: first by their exact bits (most
    corners of a mesh repeat exactly), then the distinct ones by their coordinates rounded to 1e-8
    (which also joins 0.0 and -0.0)."""
    flat = np.ascontiguousarray(corners).reshape(-1, 3)
    bits = flat.view(np.uint32 if flat.dtype == np.float32 else np.uint64)
    first_bits, bits_group = _group(bits)
    distinct = flat[first_bits].astype(np.float64)
    scaled = np.round(distinct * 10.0**MERGE_DIGITS).astype(np.int64)
    first_round, round_group = _group(scaled)
    # groups are numbered by first occurrence at both stages, so the first corner of a merged vertex
    # is the first corner of its first exact group: trimesh keeps that one's coordinates
    vertices = distinct[first_round]
    faces = round_group[bits_group].astype(np.int64).reshape(-1, 3)
    return vertices, faces


class Mesh:
    """Merged vertices and faces, with trimesh's derived quantities (same names, same formulas)."""

    def __init__(self, vertices: NDArray[np.float64], faces: NDArray[np.int64]) -> None:
        self.vertices, self.faces = vertices, faces

    @classmethod
    def from_corners(cls, corners: NDArray[Any]) -> Mesh:
        return cls(*merge_vertices(corners))

    @cached_property
    def triangles(self) -> NDArray[np.float64]:
        return np.asarray(self.vertices[self.faces], dtype=np.float64)

    @cached_property
    def triangles_cross(self) -> NDArray[np.float64]:
        tri = self.triangles
        vectors = tri[:, 1:, :] - tri[:, :2, :]
        return np.asarray(np.cross(vectors[:, 0], vectors[:, 1]), dtype=np.float64)

    @cached_property
    def face_normals(self) -> NDArray[np.float64]:
        crosses = self.triangles_cross
        norm = np.sqrt(np.dot(crosses * crosses, [1.0, 1.0, 1.0]))
        valid = norm > TOL_ZERO
        norm[valid] **= -1
        unit = crosses * norm.reshape((-1, 1))
        unit[~valid] = 0.0
        return np.asarray(unit, dtype=np.float64)

    @cached_property
    def area_faces(self) -> NDArray[np.float64]:
        return np.asarray(np.sqrt((self.triangles_cross**2).sum(axis=1)) / 2.0, dtype=np.float64)

    @cached_property
    def area(self) -> float:
        return float(self.area_faces.sum())

    @property
    def triangles_center(self) -> NDArray[np.float64]:
        return np.asarray(self.triangles.mean(axis=1), dtype=np.float64)

    @cached_property
    def bounds(self) -> NDArray[np.float64]:
        return np.array([self.vertices.min(axis=0), self.vertices.max(axis=0)])

    @property
    def extents(self) -> NDArray[np.float64]:
        return np.asarray(np.ptp(self.bounds, axis=0), dtype=np.float64)

    @cached_property
    def volume(self) -> float:
        """Signed volume, trimesh's integral (geometrictools' polyhedral mass properties, first term)."""
        tri = self.triangles
        f1 = tri[:, 0, 0] + tri[:, 1, 0] + tri[:, 2, 0]
        integral = np.zeros((1, len(f1)))
        integral[0] = self.triangles_cross[:, 0] * f1
        return float(integral.sum(axis=1)[0] / 6.0)

    @cached_property
    def edges_sorted(self) -> NDArray[np.int64]:
        edges = self.faces[:, [0, 1, 1, 2, 2, 0]].reshape((-1, 2))
        return np.sort(edges, axis=1)

    @cached_property
    def _edge_groups(self) -> tuple[NDArray[np.int64], NDArray[np.int64], bool]:
        """(distinct edge keys a * k + b with a < b, how many faces use each, winding consistent)."""
        edges = self.faces[:, [0, 1, 1, 2, 2, 0]].reshape((-1, 2))
        k = max(len(self.vertices), 1)
        low, high = np.minimum(edges[:, 0], edges[:, 1]), np.maximum(edges[:, 0], edges[:, 1])
        backward = (edges[:, 0] > edges[:, 1]).astype(np.int64)
        combined = np.sort((low * k + high) * 2 + backward)
        keys = combined >> 1
        starts = np.concatenate([[0], np.nonzero(keys[1:] != keys[:-1])[0] + 1])
        counts = np.diff(np.concatenate([starts, [len(keys)]]))
        distinct = keys[starts]
        # an edge used by exactly two faces must be run once each way (a degenerate a-a edge passes)
        pairs = counts == 2
        backward_sum = np.add.reduceat(combined & 1, starts) if len(starts) else np.zeros(0, dtype=np.int64)
        degenerate = distinct // k == distinct % k
        consistent = bool(((backward_sum[pairs] == 1) | degenerate[pairs]).all())
        return distinct, counts, consistent

    @property
    def edge_counts(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Distinct edges as keys `a * len(vertices) + b` (a < b, sorted) and how many faces use each."""
        distinct, counts, _ = self._edge_groups
        return distinct, counts

    @property
    def is_watertight(self) -> bool:
        _, counts, _ = self._edge_groups
        return bool(len(counts)) and bool((counts == 2).all())

    @property
    def is_winding_consistent(self) -> bool:
        return bool(len(self.faces)) and self._edge_groups[2]

    @cached_property
    def body_count(self) -> int:
        """Connected groups of vertices (trimesh's vertex-adjacency count)."""
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import connected_components

        k = len(self.vertices)
        distinct, _, _ = self._edge_groups  # sorted a * k + b: already a row-sorted sparse matrix
        rows, cols = np.divmod(distinct, k)
        indptr = np.searchsorted(rows, np.arange(k + 1))
        graph = csr_matrix((np.ones(len(cols), dtype=np.int8), cols, indptr), shape=(k, k))
        count, _ = connected_components(graph, directed=False)
        return int(count)

    def to_trimesh(self) -> object:
        """The same mesh as a trimesh object, for the rare repairs only trimesh does (winding)."""
        import trimesh

        return trimesh.Trimesh(vertices=self.vertices, faces=self.faces, process=False, validate=False)
