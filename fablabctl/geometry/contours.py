"""From loose polylines to contours: chain segments end to end, find what is closed, what is open
(and by how much), and which closed contours sit inside others (holes, parts in parts).

Chaining joins endpoints closer than `JOIN_MM`, the way CAM tools read drawings made of separate
LINEs and ARCs. Nesting uses shapely polygons and an STRtree, so it stays fast on big sheets.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from shapely import STRtree
from shapely.geometry import Polygon

from fablabctl.geometry.dxf_load import Polyline
from fablabctl.geometry.operations import Operation

JOIN_MM = 0.01
CLOSE_MM = 0.05  # a chain whose ends are this close is treated as closed


@dataclass(frozen=True, slots=True)
class Contour:
    points: NDArray[np.float64]  # (n, 2); closed contours do not repeat the first point
    closed: bool
    operation: Operation
    layer: str
    handles: tuple[str, ...]
    depth: int = 0  # 0 = outermost; 1 = a hole in it; 2 = a part inside that hole...

    @property
    def gap(self) -> float:
        return 0.0 if self.closed else float(np.linalg.norm(self.points[-1] - self.points[0]))

    @property
    def length(self) -> float:
        pts = np.vstack([self.points, self.points[:1]]) if self.closed else self.points
        return float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum())


def _key(point: NDArray[np.float64]) -> tuple[int, int]:
    return (round(float(point[0]) / JOIN_MM), round(float(point[1]) / JOIN_MM))


def chain(polylines: list[Polyline]) -> list[Contour]:
    """Join open polylines of the same operation sharing endpoints; closed ones pass through."""
    contours: list[Contour] = []
    by_operation: dict[tuple[Operation, str], list[Polyline]] = defaultdict(list)
    for poly in polylines:
        if poly.operation is Operation.IGNORE:
            continue
        if poly.closed:
            contours.append(Contour(poly.points, True, poly.operation, poly.layer, (poly.handle,)))
        else:
            by_operation[(poly.operation, poly.layer)].append(poly)
    for (operation, layer), group in by_operation.items():
        contours.extend(_chain_group(group, operation, layer))
    return contours


def _chain_group(group: list[Polyline], operation: Operation, layer: str) -> list[Contour]:
    ends: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, poly in enumerate(group):
        ends[_key(poly.points[0])].append(i)
        ends[_key(poly.points[-1])].append(i)
    used = [False] * len(group)
    result = []
    for start in range(len(group)):
        if used[start]:
            continue
        used[start] = True
        pieces = [group[start].points]
        handles = [group[start].handle]
        for forward in (True, False):
            while True:
                tip = pieces[-1][-1] if forward else pieces[0][0]
                nxt = next((j for j in ends[_key(tip)] if not used[j]), None)
                if nxt is None:
                    break
                used[nxt] = True
                pts = group[nxt].points
                if forward:
                    pts = pts if _key(pts[0]) == _key(tip) else pts[::-1]
                    pieces.append(pts[1:])
                else:
                    pts = pts if _key(pts[-1]) == _key(tip) else pts[::-1]
                    pieces.insert(0, pts[:-1])
                handles.append(group[nxt].handle)
        points = np.vstack(pieces)
        closed = len(points) >= 3 and float(np.linalg.norm(points[-1] - points[0])) <= CLOSE_MM
        if closed:
            points = points[:-1]
        result.append(Contour(points, closed, operation, layer, tuple(handles)))
    return result


def nest(contours: list[Contour]) -> list[Contour]:
    """Set each closed cut contour's depth: how many other closed cut contours contain it.

    Only cuts nest: an engraving inside a panel is not a hole, and never makes a part drop.
    """
    closed = [c for c in contours if c.closed and len(c.points) >= 3 and c.operation is Operation.CUT]
    polygons = [Polygon(c.points).buffer(0) for c in closed]
    areas = [p.area for p in polygons]
    tree = STRtree(polygons)
    depths = [0] * len(closed)
    for i, poly in enumerate(polygons):
        if poly.is_empty:
            continue
        probe = poly.representative_point()
        for j in tree.query(probe):
            j = int(j)
            if j != i and areas[j] > areas[i] and polygons[j].contains(probe):
                depths[i] += 1
    nested = {id(c): d for c, d in zip(closed, depths, strict=True)}
    return [
        Contour(c.points, c.closed, c.operation, c.layer, c.handles, nested.get(id(c), 0)) for c in contours
    ]
