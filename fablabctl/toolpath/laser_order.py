"""Cutting order for a laser job: engrave, then score, then cut; holes before the part around them;
within that, the nearest next contour, entered at its nearest point (greedy nearest neighbour).

Kerf compensation (optional) grows outer contours and shrinks holes by half the kerf, so parts come
out at their drawn size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from shapely.geometry import Polygon

from fablabctl.geometry.contours import Contour
from fablabctl.geometry.operations import Operation

OPERATION_ORDER = (Operation.ENGRAVE, Operation.SCORE, Operation.CUT)


@dataclass(frozen=True, slots=True)
class Path2D:
    points: NDArray[np.float64]  # in cutting order; a closed path ends where it started
    operation: Operation
    closed: bool
    depth: int


def compensate_kerf(contour: Contour, kerf_mm: float) -> NDArray[np.float64]:
    if kerf_mm <= 0 or not contour.closed or contour.operation is not Operation.CUT:
        return contour.points
    outward = kerf_mm / 2 if contour.depth % 2 == 0 else -kerf_mm / 2  # holes shrink, outlines grow
    shape = Polygon(contour.points).buffer(outward, join_style=2, mitre_limit=2.0)
    if shape.is_empty or shape.geom_type != "Polygon":
        return contour.points  # too small to offset: keep as drawn rather than lose it
    return np.asarray(shape.exterior.coords[:-1], dtype=np.float64)


def _enter_at(points: NDArray[np.float64], closed: bool, here: NDArray[np.float64]) -> NDArray[np.float64]:
    """Closed: start at the vertex nearest `here` and come back to it. Open: start at the nearer end."""
    if closed:
        start = int(np.argmin(np.einsum("ij,ij->i", points - here, points - here)))
        rolled = np.roll(points, -start, axis=0)
        return np.vstack([rolled, rolled[:1]])
    if np.linalg.norm(points[-1] - here) < np.linalg.norm(points[0] - here):
        return points[::-1]
    return points


def order(
    contours: list[Contour], kerf_mm: float = 0.0, start: tuple[float, float] = (0.0, 0.0)
) -> list[Path2D]:
    here = np.array(start, dtype=np.float64)
    ordered: list[Path2D] = []
    for operation in OPERATION_ORDER:
        group = [c for c in contours if c.operation is operation]
        # deepest first: whatever sits inside a contour is cut before it (holes, then the part)
        for depth in sorted({c.depth for c in group}, reverse=True):
            level = [c for c in group if c.depth == depth]
            paths = [compensate_kerf(c, kerf_mm) for c in level]
            for index in _nearest_neighbour(paths, [c.closed for c in level], here):
                points = _enter_at(paths[index], level[index].closed, here)
                ordered.append(Path2D(points, operation, level[index].closed, depth))
                here = points[-1]
    return ordered


def _nearest_neighbour(
    paths: list[NDArray[np.float64]], closed: list[bool], here: NDArray[np.float64]
) -> list[int]:
    """Visit order: always the path with a vertex (closed) or an end (open) nearest the current point."""
    if not paths:
        return []
    owners, points = [], []
    for i, (path, is_closed) in enumerate(zip(paths, closed, strict=True)):
        candidates = path if is_closed else path[[0, -1]]
        owners.extend([i] * len(candidates))
        points.append(candidates)
    tree = cKDTree(np.vstack(points))
    owner = np.array(owners)
    done = np.zeros(len(paths), dtype=bool)
    sequence: list[int] = []
    position = here
    k = 8
    while len(sequence) < len(paths):
        _, idx = tree.query(position, k=min(k, len(owner)))
        chosen = next((int(owner[j]) for j in np.atleast_1d(idx) if not done[owner[j]]), None)
        if chosen is None:
            if k >= len(owner):
                chosen = int(np.nonzero(~done)[0][0])
            else:
                k *= 4
                continue
        done[chosen] = True
        sequence.append(chosen)
        ends = paths[chosen] if closed[chosen] else paths[chosen][[0, -1]]
        nearest = int(np.argmin(np.linalg.norm(ends - position, axis=1)))
        # a closed path ends where it was entered; an open one at its far end
        position = ends[nearest] if closed[chosen] else ends[1 - nearest]
        k = 8
    return sequence


def travel_length(paths: list[Path2D], start: tuple[float, float] = (0.0, 0.0)) -> float:
    here = np.array(start, dtype=np.float64)
    total = 0.0
    for path in paths:
        total += float(np.linalg.norm(path.points[0] - here))
        here = path.points[-1]
    return total + float(np.linalg.norm(here - np.array(start)))


def file_order(contours: list[Contour]) -> list[Path2D]:
    """The drawing's own order (the baseline the optimisation is measured against)."""
    result = []
    for c in contours:
        pts = np.vstack([c.points, c.points[:1]]) if c.closed else c.points
        result.append(Path2D(pts, c.operation, c.closed, c.depth))
    return result


def corner_stops(points: NDArray[np.float64], max_turn_deg: float = 45.0) -> list[int]:
    """Indices where the head must (nearly) stop: the ends, and turns sharper than `max_turn_deg`."""
    if len(points) < 3:
        return [0, len(points) - 1]
    d = np.diff(points, axis=0)
    norms = np.linalg.norm(d, axis=1)
    dots = np.einsum("ij,ij->i", d[:-1], d[1:])
    with np.errstate(invalid="ignore", divide="ignore"):
        cosines = dots / (norms[:-1] * norms[1:])
    sharp = ~(cosines >= math.cos(math.radians(max_turn_deg)))  # NaN (zero-length) counts as a stop
    return [0, *(np.nonzero(sharp)[0] + 1).tolist(), len(points) - 1]
