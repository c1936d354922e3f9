"""Cutting order for a laser job: engrave, then score, then cut; a cut contour only once everything
inside it is cut (holes, slits, parts in holes: a part must not drop before its holes are done);
within that, greedy nearest neighbour on a KD-tree of every vertex, entering a closed contour at its
vertex nearest the head.

Kerf compensation (optional) grows outer contours and shrinks holes by half the kerf, so parts come
out at their drawn size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from fablabctl.geometry.contours import Contour, polygons
from fablabctl.geometry.operations import Operation

OPERATION_ORDER = (Operation.ENGRAVE, Operation.SCORE, Operation.CUT)
REBUILD_AFTER = 1024  # query size past which the tree is rebuilt without the done contours


@dataclass(frozen=True, slots=True)
class Path2D:
    points: NDArray[np.float64]  # in cutting order; a closed path ends where it started
    operation: Operation
    closed: bool
    source: int  # index of the contour in the drawing


def compensate_kerf(contours: list[Contour], kerf_mm: float) -> tuple[list[Contour], int]:
    """Offset closed cut contours by half the kerf (outward for parts, inward for holes).

    Returns the contours and how many were too small to offset (kept as drawn, never dropped).
    """
    index = [i for i, c in enumerate(contours) if c.closed and c.operation is Operation.CUT]
    if kerf_mm <= 0 or not index:
        return contours, 0
    shapes = polygons([contours[i] for i in index])
    distance = np.array([kerf_mm / 2 if contours[i].depth % 2 == 0 else -kerf_mm / 2 for i in index])
    grown = shapely.buffer(shapes, distance, join_style="mitre", mitre_limit=2.0)
    result, kept = list(contours), 0
    for i, shape in zip(index, grown, strict=True):
        if shape is None or shape.is_empty or shape.geom_type != "Polygon":
            kept += 1
            continue
        c = contours[i]
        points = np.asarray(shape.exterior.coords, dtype=np.float64)[:-1, :2]
        result[i] = Contour(points, True, c.operation, c.layer, c.colour, c.handles, c.depth)
    return result, kept


def containment(contours: list[Contour], group: list[int]) -> dict[int, list[int]]:
    """For each closed contour of `group`: the group members lying inside it (to be cut first)."""
    closed = [i for i in group if contours[i].closed]
    if not closed:
        return {}
    shapes = polygons([contours[i] for i in closed])
    areas = shapely.area(shapes)
    position = {i: k for k, i in enumerate(closed)}
    surface = shapely.point_on_surface(shapes)
    points = np.array(
        [
            surface[position[i]]
            if contours[i].closed
            else shapely.Point(contours[i].points[len(contours[i].points) // 2])
            for i in group
        ],
        dtype=object,
    )
    tree = shapely.STRtree(shapes)
    inner, outer = tree.query(points, predicate="within")
    area_of = dict(zip(closed, areas, strict=True))
    inside: dict[int, list[int]] = defaultdict(list)
    for a, b in zip(inner.tolist(), outer.tolist(), strict=True):
        i, o = group[a], closed[b]
        if i != o and (not contours[i].closed or area_of[o] > area_of[i]):
            inside[o].append(i)
    return inside


def order(contours: list[Contour], start: tuple[float, float] = (0.0, 0.0)) -> list[Path2D]:
    """The shortest of three valid orders (holes always first): greedy nearest neighbour; the
    drawing's own order entering each contour at its nearest point; and the drawing exactly as drawn.
    Greedy wins by far on real sheets; on small drawings already drawn in a sensible order it can
    lose a little, and then the drawing's order is kept: ordering never makes travel longer."""
    origin = np.array(start, dtype=np.float64)
    groups = {op: [i for i, c in enumerate(contours) if c.operation is op] for op in OPERATION_ORDER}
    groups = {op: group for op, group in groups.items() if group}
    inside = containment(contours, groups.get(Operation.CUT, []))
    drawn = {op: _drawing_sequence(contours, group, _inside(op, inside)) for op, group in groups.items()}
    best: tuple[float, list[int], list[int]] | None = None
    for strategy in ("greedy", "drawing, nearest entry", "drawing as drawn"):
        sequence: list[int] = []
        entries: list[int] = []
        here = origin
        for operation, group in groups.items():
            if strategy == "greedy":
                part, entry = _nearest_neighbour(contours, group, _inside(operation, inside), here)
            else:
                part = drawn[operation]
                entry = _entries(contours, part, here, nearest_entry=strategy != "drawing as drawn")
            here = _exit(contours[part[-1]], entry[-1])
            sequence += part
            entries += entry
        travel = _travel(contours, sequence, entries, origin)
        if best is None or travel < best[0] - 1e-9:
            best = (travel, sequence, entries)
    if best is None:
        return []
    _, sequence, entries = best
    paths: list[Path2D] = []
    for i, k in zip(sequence, entries, strict=True):
        c = contours[i]
        if c.closed:  # from the entry vertex round to it again
            points = np.concatenate([c.points[k:], c.points[: k + 1]])
        else:
            points = c.points[::-1] if k else c.points
        paths.append(Path2D(points, c.operation, c.closed, i))
    return paths


def _inside(operation: Operation, inside: dict[int, list[int]]) -> dict[int, list[int]]:
    return inside if operation is Operation.CUT else {}


def _exit(contour: Contour, entry: int) -> NDArray[np.float64]:
    """Where the head is after cutting `contour` entered at `entry` (closed: that vertex; open: 0
    from its first point, 1 reversed from its last)."""
    point: NDArray[np.float64] = contour.points[entry if contour.closed else -1 + entry]
    return point


def _entries(
    contours: list[Contour], sequence: list[int], here: NDArray[np.float64], *, nearest_entry: bool
) -> list[int]:
    """Entry of each contour along `sequence`: its vertex nearest the head (closed), its nearer end
    (open; the first on a tie), or its first point as drawn."""
    entries: list[int] = []
    for i in sequence:
        c = contours[i]
        if not nearest_entry:
            entry = 0
        elif c.closed:
            delta = c.points - here
            entry = int(np.argmin(np.einsum("ij,ij->i", delta, delta)))
        else:
            a, b = c.points[0], c.points[-1]
            entry = int(float(np.hypot(*(b - here))) < float(np.hypot(*(a - here))))
        entries.append(entry)
        here = _exit(c, entry)
    return entries


def _travel(
    contours: list[Contour], sequence: list[int], entries: list[int], origin: NDArray[np.float64]
) -> float:
    """Laser-off distance from `origin` through every contour (entered as `entries` say) and home."""
    if not sequence:
        return 0.0
    starts = np.array(
        [
            contours[i].points[k] if contours[i].closed else contours[i].points[-k]
            for i, k in zip(sequence, entries, strict=True)
        ]
    )
    ends = np.array([_exit(contours[i], k) for i, k in zip(sequence, entries, strict=True)])
    hops = np.vstack([starts, origin]) - np.vstack([origin, ends])
    return float(np.hypot(hops[:, 0], hops[:, 1]).sum())


def _containers(inside: dict[int, list[int]]) -> dict[int, list[int]]:
    containers: dict[int, list[int]] = defaultdict(list)
    for o, members in inside.items():
        for m in members:
            containers[m].append(o)
    return containers


def _drawing_sequence(contours: list[Contour], group: list[int], inside: dict[int, list[int]]) -> list[int]:
    """The drawing's order, except that a contour waits until everything inside it is cut."""
    waiting = {o: len(members) for o, members in inside.items()}
    containers = _containers(inside)
    deferred: set[int] = set()
    sequence: list[int] = []
    ready: list[int] = []
    for i in group:
        if waiting.get(i, 0):
            deferred.add(i)
            continue
        ready.append(i)
        while ready:
            current = ready.pop(0)
            sequence.append(current)
            for o in containers.get(current, ()):
                waiting[o] -= 1
                if waiting[o] == 0 and o in deferred:
                    deferred.discard(o)
                    ready.append(o)
    return sequence


def _nearest_neighbour(
    contours: list[Contour], group: list[int], inside: dict[int, list[int]], here: NDArray[np.float64]
) -> tuple[list[int], list[int]]:
    """Visit order of `group`: the nearest available contour each time (available: all inside it done).

    The KD-tree holds every vertex of closed contours and both ends of open ones; the nearest free
    vertex found is also where the head enters (closed) or the end it enters by (open): the entries,
    as `_entries` gives them."""
    waiting = {o: len(members) for o, members in inside.items()}
    containers = _containers(inside)
    candidates = [contours[i].points if contours[i].closed else contours[i].points[[0, -1]] for i in group]
    sizes = [len(c) for c in candidates]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    owner = np.repeat(np.arange(len(group)), sizes)
    vertices = np.vstack(candidates)
    done = np.zeros(len(group), dtype=bool)
    unavailable = np.array([waiting.get(i, 0) > 0 for i in group])  # done, or waiting for its insides
    local = {i: k for k, i in enumerate(group)}
    sequence: list[int] = []
    entries: list[int] = []
    # the tree drops the vertices of done contours once they are half of it: the nearest vertices of
    # the head are mostly those of the contour just cut, so a query asks for them and 16 more
    ids = np.arange(len(owner))
    tree, dead = cKDTree(vertices), 0
    position, k = here, 16
    while len(sequence) < len(group):
        distances, found = tree.query(position, k=min(k, len(ids)))
        distances, found = np.atleast_1d(distances), ids[np.atleast_1d(found)]
        free = ~unavailable[owner[found]]
        if free.any():
            nearest = distances[free]
            vertex = int(found[free][nearest <= nearest[0]].min())  # a tie: the first drawn, whatever k
            chosen = int(owner[vertex])
        elif dead and k >= REBUILD_AFTER:  # far from anything free: forget the done contours first
            ids = ids[~done[owner[ids]]]
            tree, dead = cKDTree(vertices[ids]), 0
            continue
        elif k < len(ids):
            k *= 4
            continue
        else:  # exhaustive fallback (never expected: containment has no cycles): first not done
            chosen = int(np.nonzero(~done)[0][0])
            vertex = offsets[chosen]
        done[chosen] = unavailable[chosen] = True
        i = group[chosen]
        sequence.append(i)
        for o in containers.get(i, ()):
            waiting[o] -= 1
            if waiting[o] == 0 and not done[local[o]]:
                unavailable[local[o]] = False
        # a closed path ends where it was entered; an open one at its far end
        entries.append(vertex - offsets[chosen])
        if contours[i].closed:
            position = vertices[vertex]
        else:
            position = vertices[offsets[chosen] + 1 - (vertex - offsets[chosen])]
        dead += sizes[chosen]
        if dead * 2 > len(ids) and len(sequence) < len(group):
            ids = ids[~done[owner[ids]]]
            tree, dead = cKDTree(vertices[ids]), 0
        k = 16 + sizes[chosen]
    return sequence, entries


def file_order(contours: list[Contour]) -> list[Path2D]:
    """The drawing exactly as drawn (its order, each contour from its first point): the baseline."""
    return [
        Path2D(np.vstack([c.points, c.points[:1]]) if c.closed else c.points, c.operation, c.closed, i)
        for i, c in enumerate(contours)
    ]


def job_travel(
    paths: list[Path2D], passes: Mapping[Operation, int], start: tuple[float, float] = (0.0, 0.0)
) -> float:
    """Laser-off distance of a job, the way `laser_gcode` moves: to each path's start for every pass
    (an open path is travelled back to its start between passes), and home at the end."""
    if not paths:
        return 0.0
    origin = np.array(start, dtype=np.float64)
    starts = np.array([p.points[0] for p in paths])
    ends = np.array([p.points[-1] for p in paths])
    repeats = np.array([passes[p.operation] - 1 for p in paths], dtype=np.float64)
    hops = np.vstack([starts, origin]) - np.vstack([origin, ends])
    again = np.hypot(*(starts - ends).T) * repeats
    return float(np.hypot(hops[:, 0], hops[:, 1]).sum() + again.sum())
