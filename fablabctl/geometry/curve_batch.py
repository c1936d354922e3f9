"""Flatten every curve of a drawing together, in a few numpy passes instead of a few per entity.

The walk (`flatten.Flattener`) only reads each ARC, CIRCLE, bulged LWPOLYLINE and cubic SPLINE and
records it here; `flatten()` then cuts all of them into chords at once. A big drawing is tens of
thousands of small curves, and per-entity numpy or ezdxf `Path` calls cost more than the arithmetic.

Chords, each within the entity's `distance` of the true curve:
- arcs (and bulges) on the circle itself at equal angles, as few as the sagitta allows
  (`arcs.arc_steps`, at least 16 per full turn);
- cubic Béziers (a SPLINE cut into Béziers by ezdxf) at equal parameter steps, n >= sqrt(0.75 M / d)
  where M bounds the control polygon's second differences: the classic bound on a chord's distance
  from a cubic (|B''| / 8n² <= d).
Every piece ends exactly on its end point, so pieces still chain end to end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from fablabctl.geometry.arcs import BULGE_ZERO, arc_steps

START, STRAIGHT, ARC, CUBIC = 0, 1, 2, 3


@dataclass
class CurveBatch:
    """Curves waiting to be flattened; each `add_*` returns the curve's index in `flatten()`."""

    _arcs: list[tuple[int, float, float, float, float, float]] = field(default_factory=list)
    _polylines: list[tuple[int, NDArray[np.float64], NDArray[np.float64], bool]] = field(default_factory=list)
    _beziers: list[tuple[int, NDArray[np.float64]]] = field(default_factory=list)
    _closed: list[bool] = field(default_factory=list)
    _distance: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self._closed)

    def _new(self, closed: bool, distance: float) -> int:
        self._closed.append(closed)
        self._distance.append(distance)
        return len(self._closed) - 1

    def add_arc(
        self, cx: float, cy: float, radius: float, start: float, sweep: float, distance: float
    ) -> int:
        """An arc in the XY plane, counter-clockwise from `start` (radians); a full turn is closed."""
        full = sweep >= 2 * math.pi - 1e-9
        item = self._new(full, distance)
        self._arcs.append((item, cx, cy, radius, start, sweep))
        return item

    def add_polyline(
        self, vertices: NDArray[np.float64], bulges: NDArray[np.float64], closed: bool, distance: float
    ) -> int:
        """A polyline with bulges (LWPOLYLINE in the XY plane); `closed` adds the closing segment."""
        item = self._new(closed, distance)
        self._polylines.append((item, vertices, bulges, closed))
        return item

    def add_beziers(self, controls: NDArray[np.float64], closed: bool, distance: float) -> int:
        """Cubic Béziers (m, 4, 2) end to end (a SPLINE's decomposition)."""
        item = self._new(closed, distance)
        self._beziers.append((item, controls))
        return item

    def flatten(self, scale: float, zero: float) -> list[tuple[NDArray[np.float64], bool, str]]:
        """(points × `scale`, closed, problem) of every curve, in the order added; a closed one does not
        repeat its start; problem: "nan" (NaN/inf), "dot" (all within `zero`) or ""."""
        if not self._closed:
            return []
        seg = _segments(self)
        order = np.argsort(seg.item, kind="stable")  # each curve: its start, then its pieces in order
        seg = seg.take(order)
        distance = np.asarray(self._distance, dtype=np.float64)[seg.item]
        steps = np.ones(len(seg.item), dtype=np.int64)
        arc = seg.kind == ARC
        steps[arc] = arc_steps(seg.radius[arc], seg.sweep[arc], distance[arc])
        turn = arc & (np.abs(seg.sweep) >= 2 * math.pi - 1e-9)  # a circle: a vertex on each quadrant point,
        steps[turn] = -(-steps[turn] // 4) * 4  # so its extents are exact
        cubic = seg.kind == CUBIC
        steps[cubic] = _cubic_steps(
            seg.p1[cubic], seg.p2[cubic], seg.start[cubic], seg.end[cubic], distance[cubic]
        )
        points = _points(seg, steps)
        owner = np.repeat(seg.item, steps)
        return _split(points, owner, np.asarray(self._closed), len(self._closed), scale, zero)


@dataclass(frozen=True, slots=True)
class _Segments:
    """One row per piece: START (a curve's first point), STRAIGHT, ARC or CUBIC."""

    item: NDArray[np.int64]
    kind: NDArray[np.int64]
    start: NDArray[np.float64]  # (n, 2) where the piece starts
    end: NDArray[np.float64]  # (n, 2) where it ends, exactly
    centre: NDArray[np.float64]  # arcs
    radius: NDArray[np.float64]
    angle: NDArray[np.float64]  # arcs: start angle
    sweep: NDArray[np.float64]  # arcs: signed sweep
    p1: NDArray[np.float64]  # cubics: inner control points
    p2: NDArray[np.float64]

    def take(self, index: NDArray[np.intp]) -> _Segments:
        return _Segments(*(getattr(self, name)[index] for name in self.__slots__))


def _cubic_steps(
    p1: NDArray[np.float64],
    p2: NDArray[np.float64],
    p0: NDArray[np.float64],
    p3: NDArray[np.float64],
    distance: NDArray[np.float64],
) -> NDArray[np.int64]:
    second = np.maximum(np.hypot(*(p0 - 2 * p1 + p2).T), np.hypot(*(p1 - 2 * p2 + p3).T))
    with np.errstate(invalid="ignore", over="ignore"):
        n = np.ceil(np.sqrt(0.75 * second / distance))
    steps: NDArray[np.int64] = np.maximum(np.nan_to_num(n, nan=1.0, posinf=1.0), 1).astype(np.int64)
    return steps


def _segments(batch: CurveBatch) -> _Segments:
    parts: list[_Segments] = []
    if batch._arcs:
        item, cx, cy, radius, angle, sweep = (np.asarray(v) for v in zip(*batch._arcs, strict=True))
        centre = np.column_stack([cx, cy]).astype(np.float64)
        begin = centre + radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
        end = centre + radius[:, None] * np.column_stack([np.cos(angle + sweep), np.sin(angle + sweep)])
        full = np.asarray(batch._closed)[item]
        end[full] = begin[full]  # a full turn ends exactly where it started
        parts.append(_rows(item, START, begin, begin))
        parts.append(_rows(item, ARC, begin, end, centre, radius, angle, sweep))
    if batch._polylines:
        parts += _polyline_segments(batch._polylines)
    if batch._beziers:
        item = np.concatenate([np.full(len(c), i) for i, c in batch._beziers])
        controls = np.concatenate([c for _, c in batch._beziers]).reshape(-1, 4, 2)
        firsts = np.array([c[0, 0] for _, c in batch._beziers]).reshape(-1, 2)
        heads = np.array([i for i, _ in batch._beziers])
        parts.append(_rows(heads, START, firsts, firsts))
        parts.append(_rows(item, CUBIC, controls[:, 0], controls[:, 3], p1=controls[:, 1], p2=controls[:, 2]))
    return _Segments(*(np.concatenate([getattr(p, n) for p in parts]) for n in _Segments.__slots__))


def _rows(
    item: NDArray[np.int64],
    kind: int,
    start: NDArray[np.float64],
    end: NDArray[np.float64],
    centre: NDArray[np.float64] | None = None,
    radius: NDArray[np.float64] | None = None,
    angle: NDArray[np.float64] | None = None,
    sweep: NDArray[np.float64] | None = None,
    *,
    p1: NDArray[np.float64] | None = None,
    p2: NDArray[np.float64] | None = None,
) -> _Segments:
    n = len(item)
    zeros, zeros2 = np.zeros(n), np.zeros((n, 2))
    return _Segments(
        np.asarray(item, dtype=np.int64),
        np.full(n, kind, dtype=np.int64),
        np.asarray(start, dtype=np.float64).reshape(n, 2),
        np.asarray(end, dtype=np.float64).reshape(n, 2),
        zeros2 if centre is None else centre,
        zeros if radius is None else np.asarray(radius, dtype=np.float64),
        zeros if angle is None else np.asarray(angle, dtype=np.float64),
        zeros if sweep is None else np.asarray(sweep, dtype=np.float64),
        zeros2 if p1 is None else p1,
        zeros2 if p2 is None else p2,
    )


def _polyline_segments(
    polylines: list[tuple[int, NDArray[np.float64], NDArray[np.float64], bool]],
) -> list[_Segments]:
    """Every segment of every bulged polyline; an arc where |bulge| >= BULGE_ZERO (as ezdxf reads it)."""
    rings = [np.concatenate([v, v[:1]]) if closed else v for _, v, _, closed in polylines]
    counts = np.array([len(r) - 1 for r in rings])
    heads = np.array([i for i, _, _, _ in polylines])
    firsts = np.array([r[0] for r in rings]).reshape(-1, 2)
    starts = np.concatenate([r[:-1] for r in rings]).reshape(-1, 2)
    ends = np.concatenate([r[1:] for r in rings]).reshape(-1, 2)
    b = np.concatenate([bulges[:n] for (_, _, bulges, _), n in zip(polylines, counts, strict=True)])
    item = np.repeat(heads, counts)
    delta = ends - starts
    chord = np.hypot(delta[:, 0], delta[:, 1])
    curved = (np.abs(b) >= BULGE_ZERO) & (chord > 0)
    straight = ~curved
    ba, ca, da = b[curved], chord[curved], delta[curved]
    theta = 4.0 * np.arctan(ba)  # signed sweep: positive counter-clockwise
    with np.errstate(divide="ignore", invalid="ignore"):
        radius = ca / (2.0 * np.abs(np.sin(theta / 2.0)))
        shift = (1.0 - ba * ba) / (4.0 * ba)  # the centre: off the chord's middle along its left normal
    centre = (starts[curved] + ends[curved]) * 0.5
    centre[:, 0] -= shift * da[:, 1]
    centre[:, 1] += shift * da[:, 0]
    angle = np.arctan2(starts[curved, 1] - centre[:, 1], starts[curved, 0] - centre[:, 0])
    # segments of one polyline keep their order: STRAIGHT and ARC rows are merged back by position
    position = np.arange(len(item))
    lines = _rows(item[straight], STRAIGHT, starts[straight], ends[straight])
    arcs = _rows(item[curved], ARC, starts[curved], ends[curved], centre, radius, angle, theta)
    merged = np.argsort(np.concatenate([position[straight], position[curved]]), kind="stable")
    both = _Segments(*(np.concatenate([getattr(lines, n), getattr(arcs, n)]) for n in _Segments.__slots__))
    return [_rows(heads, START, firsts, firsts), both.take(merged)]


def _points(seg: _Segments, steps: NDArray[np.int64]) -> NDArray[np.float64]:
    s = np.repeat(np.arange(len(steps)), steps)
    k = np.arange(1, len(s) + 1) - np.repeat(np.cumsum(steps) - steps, steps)  # 1..steps
    points = seg.end[s]  # STARTs, STRAIGHTs and the last point of each curve: exact
    inner = np.flatnonzero(k < steps[s])
    if not len(inner):
        return points
    si, t = s[inner], k[inner] / steps[s[inner]]
    kind = seg.kind[si]
    arc = kind == ARC
    if arc.any():
        a, ta = si[arc], t[arc]
        angle = seg.angle[a] + seg.sweep[a] * ta
        where = inner[arc]
        points[where, 0] = seg.centre[a, 0] + seg.radius[a] * np.cos(angle)
        points[where, 1] = seg.centre[a, 1] + seg.radius[a] * np.sin(angle)
    cubic = ~arc
    if cubic.any():
        c, tc = si[cubic], t[cubic][:, None]
        u = 1.0 - tc
        points[inner[cubic]] = (
            u**3 * seg.start[c]
            + 3 * u * u * tc * seg.p1[c]
            + 3 * u * tc * tc * seg.p2[c]
            + tc**3 * seg.end[c]
        )
    return points


def _split(
    points: NDArray[np.float64],
    owner: NDArray[np.int64],
    closed: NDArray[np.bool_],
    count: int,
    scale: float,
    zero: float,
) -> list[tuple[NDArray[np.float64], bool, str]]:
    """Points per curve, without repeated consecutive points; a curve whose ends meet is closed."""
    keep = np.ones(len(points), dtype=bool)
    keep[1:] = (owner[1:] != owner[:-1]) | np.any(points[1:] != points[:-1], axis=1)
    points, owner = points[keep], owner[keep]
    bounds = np.searchsorted(owner, np.arange(count + 1))
    first, last = points[bounds[:-1]], points[np.maximum(bounds[1:] - 1, 0)]
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.abs(first - last)
        meet = np.all(gap <= 1e-12 + 1e-9 * np.abs(last), axis=1) & (bounds[1:] - bounds[:-1] > 1)
        drop = meet & np.all(gap <= 1e-9, axis=1)
        if scale != 1.0:
            points = points * scale
        # what `Flattener` reports instead of a polyline: NaN/inf anywhere, or all within a dot
        low = np.minimum.reduceat(points, bounds[:-1])  # NaN carries through
        high = np.maximum.reduceat(points, bounds[:-1])
        finite = np.isfinite(low).all(axis=1) & np.isfinite(high).all(axis=1)
        dot = (high - low).max(axis=1) < zero
    status = np.where(finite, np.where(dot, "dot", ""), "nan").tolist()
    closed = closed | meet
    ends = bounds[1:] - drop
    starts = bounds[:-1].tolist()
    return [
        (points[a:b], c, f) for a, b, c, f in zip(starts, ends.tolist(), closed.tolist(), status, strict=True)
    ]
