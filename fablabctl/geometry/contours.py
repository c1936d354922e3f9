"""From loose polylines to contours: chain pieces end to end, tell closed from open (and by how
much), and find which closed contours sit inside others (holes, parts in parts).

Chaining joins endpoints closer than `JOIN_MM` (a KD-tree finds them, so 0.004 and 0.006 meet even
across a rounding boundary), the way CAM tools read drawings made of separate LINEs and ARCs. A chain
whose ends are within `CLOSE_MM` is closed: a gap that small is far below the kerf and the part drops.
Nesting uses shapely vectorised predicates on an STRtree, so it stays fast on big sheets.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from fablabctl.geometry.flatten import Polyline
from fablabctl.geometry.operations import Operation

JOIN_MM = 0.01
CLOSE_MM = 0.05


@dataclass(frozen=True, slots=True)
class Contour:
    """One path the laser follows: closed contours do not repeat their first point."""

    points: NDArray[np.float64]  # (n, 2) mm
    closed: bool
    operation: Operation
    layer: str
    colour: int
    handles: tuple[str, ...]
    depth: int = 0  # closed cut contours: 0 outermost, 1 a hole in it, 2 a part in that hole...

    @property
    def gap(self) -> float:
        """Distance between the two ends of an open contour (0 when closed)."""
        return 0.0 if self.closed else float(np.linalg.norm(self.points[-1] - self.points[0]))

    @property
    def length(self) -> float:
        pts = np.vstack([self.points, self.points[:1]]) if self.closed else self.points
        return float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum())

    def segments(self) -> NDArray[np.float64]:
        """(m, 2, 2) start and end of every straight segment, the closing one included."""
        pts = np.vstack([self.points, self.points[:1]]) if self.closed else self.points
        return np.stack([pts[:-1], pts[1:]], axis=1)


def chain(polylines: list[Polyline], repeats: list[Polyline] | None = None) -> list[Contour]:
    """Join open polylines of the same operation and layer sharing endpoints; closed ones pass through.
    Open pieces drawn twice are chained once; the copies go to `repeats` when given."""
    contours: list[Contour] = []
    groups: dict[tuple[Operation, str], list[Polyline]] = defaultdict(list)
    for poly in polylines:
        if poly.operation is Operation.IGNORE:
            continue
        if poly.closed:
            contours.append(
                Contour(poly.points, True, poly.operation, poly.layer, poly.colour, (poly.handle,))
            )
        else:
            groups[(poly.operation, poly.layer)].append(poly)
    for group in groups.values():
        kept = _without_repeats(group)
        if repeats is not None and len(kept) < len(group):
            ids = {id(p) for p in kept}
            repeats.extend(p for p in group if id(p) not in ids)
        contours.extend(_chain_group(kept))
    return contours


def _without_repeats(group: list[Polyline]) -> list[Polyline]:
    """Drop open pieces drawn twice (same points, either direction): the laser would burn them twice,
    and a repeated edge would leave an end free and break a closed outline into an open one.
    Validation reports them (DXF_DUPLICATE_SEGMENTS); the job cuts each once."""
    seen: set[bytes] = set()
    kept = []
    # the points on a JOIN_MM grid (numpy rounds half to even, as Python's round does), all pieces in
    # one pass; a piece and its reverse get the same key: the smaller of the two byte strings
    sizes = [len(poly.points) for poly in group]
    grid = np.round(np.concatenate([poly.points for poly in group]) / JOIN_MM).astype(np.int64)
    ends = np.cumsum(sizes).tolist()
    for poly, a, b in zip(group, (e - n for e, n in zip(ends, sizes, strict=True)), ends, strict=True):
        piece = grid[a:b]
        key = min(piece.tobytes(), piece[::-1].tobytes())
        if key in seen:
            continue
        seen.add(key)
        kept.append(poly)
    return kept


def _nodes(group: list[Polyline]) -> NDArray[np.intp]:
    """Node id of each polyline end: (n, 2) for (start, end); ends within JOIN_MM share an id."""
    ends = np.empty((2 * len(group), 2), dtype=np.float64)
    ends[0::2] = [p.points[0] for p in group]
    ends[1::2] = [p.points[-1] for p in group]
    pairs = cKDTree(ends).query_pairs(JOIN_MM, output_type="ndarray")
    n = len(ends)
    graph = coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.intp).reshape(-1, 2)


def _next_unused(candidates: list[int], used: list[bool]) -> int:
    for j in candidates:
        if not used[j]:
            return j
    return -1


def _chain_group(group: list[Polyline]) -> list[Contour]:
    nodes = _nodes(group)
    first_node, last_node = nodes[:, 0].tolist(), nodes[:, 1].tolist()
    at_node: dict[int, list[int]] = defaultdict(list)
    for i, (a, b) in enumerate(zip(first_node, last_node, strict=True)):
        at_node[a].append(i)
        at_node[b].append(i)
    used = [False] * len(group)
    result = []
    for start in range(len(group)):
        if used[start]:
            continue
        used[start] = True
        pieces, handles = [group[start].points], [group[start].handle]
        head, tail = last_node[start], first_node[start]  # node at the forward end, at the backward end
        while head != tail:  # grow forward
            nxt = _next_unused(at_node[head], used)
            if nxt < 0:
                break
            used[nxt] = True
            a, b = first_node[nxt], last_node[nxt]
            pts = group[nxt].points if a == head else group[nxt].points[::-1]
            head = b if a == head else a
            pieces.append(pts[1:])
            handles.append(group[nxt].handle)
        while head != tail:  # then backward
            nxt = _next_unused(at_node[tail], used)
            if nxt < 0:
                break
            used[nxt] = True
            a, b = first_node[nxt], last_node[nxt]
            pts = group[nxt].points if b == tail else group[nxt].points[::-1]
            tail = a if b == tail else b
            pieces.insert(0, pts[:-1])
            handles.append(group[nxt].handle)
        points = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
        gap = math.hypot(*(points[-1] - points[0]).tolist())
        closed = len(points) >= 4 and (head == tail or gap <= CLOSE_MM)
        if closed:
            points = points[:-1]
        first = group[start]
        result.append(Contour(points, closed, first.operation, first.layer, first.colour, tuple(handles)))
    return result


def polygons(contours: list[Contour]) -> NDArray[np.object_]:
    """Shapely polygons of closed contours, built in one vectorised call (self-crossings repaired)."""
    if not contours:
        return np.array([], dtype=object)
    rings = [np.vstack([c.points, c.points[:1]]) for c in contours]
    coords = np.vstack(rings)
    ring_offsets = np.concatenate([[0], np.cumsum([len(r) for r in rings])])
    poly_offsets = np.arange(len(rings) + 1)
    shapes = shapely.from_ragged_array(shapely.GeometryType.POLYGON, coords, (ring_offsets, poly_offsets))
    invalid = ~shapely.is_valid(shapes)
    if invalid.any():
        shapes[invalid] = shapely.buffer(shapes[invalid], 0)
    return np.asarray(shapes, dtype=object)


def nest(contours: list[Contour]) -> list[Contour]:
    """Set each closed cut contour's depth: how many larger closed cut contours contain it.

    Only cuts nest: an engraving inside a panel is not a hole, and never makes a part drop.
    """
    index = [i for i, c in enumerate(contours) if c.closed and c.operation is Operation.CUT]
    if len(index) < 2:
        return contours
    shapes = polygons([contours[i] for i in index])
    areas = shapely.area(shapes)
    probes = shapely.point_on_surface(shapes)
    tree = shapely.STRtree(shapes)
    inner, outer = tree.query(probes, predicate="within")
    keep = (inner != outer) & (areas[outer] > areas[inner])
    depth = np.bincount(inner[keep], minlength=len(index))
    result = list(contours)
    for k, i in enumerate(index):
        if depth[k]:
            c = contours[i]
            result[i] = Contour(c.points, c.closed, c.operation, c.layer, c.colour, c.handles, int(depth[k]))
    return result
