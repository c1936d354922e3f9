"""Closing a mesh's holes so that the shape is restored, not cut.

Each hole's border is triangulated without adding vertices by dynamic programming over the loop
(Liepa, "Filling holes in meshes", 2003), choosing the triangles that continue the faces around the
hole: the cost of a triangle is the angle it makes with the existing face across each border edge
(weight 1) and with its neighbouring new triangles (a small weight). A planar hole therefore closes
flat, and a hole across a box's edge closes along that edge instead of cutting the corner off (a
plain fan or the smallest-area choice would cut it). Large planar holes are ear-clipped in their
plane. Two holes touching at one vertex are told apart (the border walk is split where it passes a
vertex twice).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

MAX_DP_EDGES = 160  # O(n^3) choices, vectorised over the apex: well under a second
INNER_WEIGHT = 0.2
FOLD_PENALTY = 10.0  # a new triangle turned over onto its neighbour (angle near 180 degrees)


def _unit(v: NDArray[np.float64]) -> NDArray[np.float64]:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.asarray(np.where(norm > 0, v / np.where(norm > 0, norm, 1.0), 0.0))


def _angle(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    cos = np.clip(np.einsum("...i,...i->...", a, b), -1.0, 1.0)
    angle = np.arccos(cos)
    return np.asarray(angle + FOLD_PENALTY * (angle > np.radians(150)))


def boundary_loops_directed(faces: NDArray[np.int64]) -> tuple[list[list[int]], dict[tuple[int, int], int]]:
    """Holes as vertex loops in the order new faces must follow (each border edge reversed), and
    for each border edge (as the new face runs it) the existing face across it."""
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    owner = np.tile(np.arange(len(faces)), 3)
    keys = np.sort(directed, axis=1)
    _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    single = counts[inverse.ravel()] == 1
    following: dict[int, list[int]] = {}
    across: dict[tuple[int, int], int] = {}
    for (u, v), face in zip(directed[single].tolist(), owner[single].tolist(), strict=True):
        following.setdefault(v, []).append(u)  # the new face runs v -> u
        across[(v, u)] = face
    loops: list[list[int]] = []
    for origin in list(following):
        while following.get(origin):
            walk, vertex = [origin], following[origin].pop()
            while vertex != origin and following.get(vertex):
                walk.append(vertex)
                vertex = following[vertex].pop()
            if vertex == origin:  # a closed walk: split where it passes a vertex twice (a pinch)
                loops += _simple_cycles(walk)
    return loops, across


def _simple_cycles(walk: list[int]) -> list[list[int]]:
    """A closed walk as simple loops: two holes touching at one vertex are two holes."""
    cycles: list[list[int]] = []
    stack: list[int] = []
    where: dict[int, int] = {}
    for vertex in walk:
        if vertex in where:
            start = where[vertex]
            cycle = stack[start:]
            for v in cycle[1:]:
                del where[v]
            del stack[start + 1 :]
            if len(cycle) >= 3:
                cycles.append(cycle)
        else:
            where[vertex] = len(stack)
            stack.append(vertex)
    if len(stack) >= 3:
        cycles.append(stack)
    return cycles


def _triangulate_dp(points: NDArray[np.float64], border: NDArray[np.float64]) -> list[tuple[int, int, int]]:
    """Triangles (i, k, j) over loop indices; `border[i]` is the normal of the face across edge i->i+1."""
    n = len(points)
    cost = np.full((n, n), np.inf)
    apex = np.full((n, n), -1, dtype=np.int64)
    normal = np.zeros((n, n, 3))  # normal of the triangle chosen on (i, j)
    for i in range(n - 1):
        cost[i, i + 1] = 0.0
    for span in range(2, n):
        for i in range(n - span):
            j = i + span
            ks = np.arange(i + 1, j)
            tri_n = _unit(np.cross(points[ks] - points[i], points[j] - points[i]))
            area = 0.5 * np.linalg.norm(np.cross(points[ks] - points[i], points[j] - points[i]), axis=1)
            left = np.where((ks == i + 1)[:, None], border[i], normal[i, ks])
            left_w = np.where(ks == i + 1, 1.0, INNER_WEIGHT)
            right = np.where((ks == j - 1)[:, None], border[np.minimum(ks, n - 1)], normal[ks, j])
            right_w = np.where(ks == j - 1, 1.0, INNER_WEIGHT)
            total = (
                cost[i, ks]
                + cost[ks, j]
                + left_w * _angle(tri_n, left)
                + right_w * _angle(tri_n, right)
                + np.where(area > 1e-12, 0.0, FOLD_PENALTY)
            )
            if i == 0 and j == n - 1:
                total = total + _angle(tri_n, border[n - 1][None, :])
            best = int(np.argmin(total))
            cost[i, j] = total[best]
            apex[i, j] = ks[best]
            normal[i, j] = tri_n[best]
    triangles: list[tuple[int, int, int]] = []
    stack = [(0, n - 1)]
    while stack:
        i, j = stack.pop()
        if j - i < 2:
            continue
        k = int(apex[i, j])
        triangles.append((i, k, j))
        stack += [(i, k), (k, j)]
    return triangles


def _triangulate_flat(points: NDArray[np.float64]) -> list[tuple[int, int, int]] | None:
    """Ear clipping in the loop's own plane, for a large hole that is flat; None if it is not."""
    import mapbox_earcut

    centre = points.mean(axis=0)
    _, _, axes = np.linalg.svd(points - centre)
    local = (points - centre) @ axes[:2].T
    if np.abs((points - centre) @ axes[2]).max() > 1e-3 * max(float(np.ptp(local, axis=0).max()), 1e-9):
        return None
    indices = mapbox_earcut.triangulate_float64(local, np.array([len(local)], dtype=np.uint32))
    # earcut's winding follows its own convention: match the loop's (its signed area in the plane)
    x, y = local[:, 0], local[:, 1]
    loop_sign = np.sign(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))
    out: list[tuple[int, int, int]] = []
    for a, b, c in indices.reshape(-1, 3).tolist():
        (ux, uy), (vx, vy) = local[b] - local[a], local[c] - local[a]
        out.append((a, b, c) if np.sign(ux * vy - uy * vx) == loop_sign else (a, c, b))
    return out


def fill_holes(vertices: NDArray[np.float64], faces: NDArray[np.int64]) -> tuple[NDArray[np.int64], int]:
    """The faces with every fillable hole closed, and how many triangles were added."""
    if len(faces) == 0:
        return faces, 0
    loops, across = boundary_loops_directed(faces)
    if not loops:
        return faces, 0
    tri = vertices[faces]
    face_normals = _unit(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]))
    added: list[tuple[int, int, int]] = []
    for loop in loops:
        points = vertices[loop]
        if len(loop) <= MAX_DP_EDGES:
            border = np.array(
                [face_normals[across[(loop[i], loop[(i + 1) % len(loop)])]] for i in range(len(loop))]
            )
            local = _triangulate_dp(points, border)
        else:
            flat = _triangulate_flat(points)
            if flat is None:
                continue
            local = flat
        added += [(loop[a], loop[b], loop[c]) for a, b, c in local]
    if not added:
        return faces, 0
    return np.vstack([faces, np.array(added, dtype=np.int64)]), len(added)
