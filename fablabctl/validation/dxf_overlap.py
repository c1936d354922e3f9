"""Lines the laser would burn twice, and crumbs: vectorised over every segment of a drawing.

Overlaps: each segment is keyed by its supporting line (direction angle to 1e-4 rad, distance to the
origin to 0.01 mm); within one line, segments sorted by their start along it overlap when one starts
before the furthest end seen so far (minus 0.01 mm: touching end to end is not overlapping). A sort,
no pairwise loop: O(n log n). Identical contours (two circles drawn on top of each other, a part
pasted twice) are also reported as such, keyed by point count, bounding box and length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fablabctl.geometry.contours import Contour

ANGLE_STEP = 1e-4  # rad
OFFSET_STEP = 0.01  # mm
OVERLAP_MM = 0.01
TINY_MM = 0.05


@dataclass(frozen=True, slots=True)
class Segments:
    """Every straight segment of a set of contours, with the contour each belongs to."""

    start: NDArray[np.float64]  # (m, 2)
    end: NDArray[np.float64]  # (m, 2)
    owner: NDArray[np.intp]  # (m,) index into the contour list
    count: int  # number of contours

    @classmethod
    def of(cls, contours: list[Contour]) -> Segments:
        if not contours:
            empty = np.zeros((0, 2))
            return cls(empty, empty, np.zeros(0, dtype=np.intp), 0)
        # every contour's points end to end: segment k runs from point k to the next point of the same
        # contour (a closed one back to its first); an open contour's last point starts none
        sizes = np.array([len(c.points) for c in contours], dtype=np.intp)
        closed = np.array([c.closed for c in contours], dtype=bool)
        points = np.concatenate([c.points for c in contours]).reshape(-1, 2)
        first = np.repeat(np.cumsum(sizes) - sizes, sizes)
        size = np.repeat(sizes, sizes)
        nxt = np.arange(len(points)) + 1
        wrap = nxt - first == size
        nxt[wrap] = first[wrap]
        keep = ~wrap | np.repeat(closed, sizes)
        owner = np.repeat(np.arange(len(contours)), sizes)[keep]
        return cls(points[keep], points[nxt[keep]], owner, len(contours))

    @property
    def lengths(self) -> NDArray[np.float64]:
        delta = self.end - self.start
        return np.asarray(np.hypot(delta[:, 0], delta[:, 1]), dtype=np.float64)

    def per_contour(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.bincount(self.owner, weights=values, minlength=self.count).astype(np.float64)

    def signed_areas(self) -> NDArray[np.float64]:
        """Shoelace area of each (closed) contour; sign gives the winding."""
        cross = self.start[:, 0] * self.end[:, 1] - self.end[:, 0] * self.start[:, 1]
        return 0.5 * self.per_contour(cross)


@dataclass(frozen=True, slots=True)
class Overlaps:
    count: int  # segments lying over an earlier one
    point: tuple[float, float] | None
    owners: tuple[int, int] | None  # the two contours involved in the first one found


def overlapping_segments(segs: Segments) -> Overlaps:
    s, e = segs.start, segs.end
    d = e - s
    length = np.hypot(d[:, 0], d[:, 1])
    keep = length > 1e-9
    s, e, d, length, owner = s[keep], e[keep], d[keep], length[keep], segs.owner[keep]
    if len(s) < 2:
        return Overlaps(0, None, None)
    flip = (d[:, 0] < 0) | ((d[:, 0] == 0) & (d[:, 1] < 0))  # one direction per line
    s, e = np.where(flip[:, None], e, s), np.where(flip[:, None], s, e)
    u = np.where(flip[:, None], -d, d) / length[:, None]
    angle = np.round(np.arctan2(u[:, 1], u[:, 0]) / ANGLE_STEP).astype(np.int64)
    offset = np.round((u[:, 0] * s[:, 1] - u[:, 1] * s[:, 0]) / OFFSET_STEP).astype(np.int64)
    t0 = np.einsum("ij,ij->i", u, s)
    t1 = t0 + length
    line = _line_ids(angle, offset)
    order = np.lexsort((t0, line))
    line, t0, t1 = line[order], t0[order], t1[order]
    span = 2.0 * float(np.abs(np.concatenate([t0, t1])).max()) + 1.0
    runmax = np.maximum.accumulate(t1 + line * span) - line * span  # furthest end so far, per line
    same = line[1:] == line[:-1]
    over = same & (t0[1:] < runmax[:-1] - OVERLAP_MM)
    count = int(over.sum())
    if not count:
        return Overlaps(0, None, None)
    first = int(np.argmax(over)) + 1
    index = order[first]
    point = (round(float(s[index][0]), 3), round(float(s[index][1]), 3))
    return Overlaps(count, point, (int(owner[order[first - 1]]), int(owner[index])))


def _line_ids(angle: NDArray[np.int64], offset: NDArray[np.int64]) -> NDArray[np.intp]:
    """Number of each segment's line, lines numbered in (angle, offset) order: one sort of a packed
    64-bit key (a row-wise unique sorts pairs, several times slower)."""
    a0, o0 = int(angle.min()), int(offset.min())
    span = int(offset.max()) - o0 + 1
    if (int(angle.max()) - a0 + 1) * span < 2**62:
        key = (angle - a0) * span + (offset - o0)
        _, line = np.unique(key, return_inverse=True)
    else:  # coordinates too far apart to pack: the slower exact way
        _, line = np.unique(np.stack([angle, offset], axis=1), axis=0, return_inverse=True)
    return np.asarray(line, dtype=np.intp).reshape(-1)


def identical_contours(contours: list[Contour], lengths: NDArray[np.float64]) -> list[tuple[int, int]]:
    """Pairs (first, copy) of contours drawn twice: same point count, bounding box and length."""
    if not contours:
        return []
    sizes = np.array([len(c.points) for c in contours], dtype=np.intp)
    points = np.concatenate([c.points for c in contours]).reshape(-1, 2)
    starts = np.cumsum(sizes) - sizes
    box = np.hstack([np.minimum.reduceat(points, starts), np.maximum.reduceat(points, starts)])
    # on the 0.01 mm grid (numpy and Python both round half to even), compared as floats
    grid = np.round(box / OFFSET_STEP).tolist()
    rounded = np.round(np.asarray(lengths, dtype=np.float64) / OFFSET_STEP).tolist()
    seen: dict[tuple[float, ...], int] = {}
    pairs = []
    for i, (size, contour, corners, length) in enumerate(
        zip(sizes.tolist(), contours, grid, rounded, strict=True)
    ):
        key = (size, int(contour.closed), *corners, length)
        if key in seen:
            pairs.append((seen[key], i))
        else:
            seen[key] = i
    return pairs
