"""Job duration, the way Grbl's planner moves: trapezoidal speed per segment, with the speed through
each junction limited by Grbl's junction-deviation rule, and full stops where the laser changes path.

Machine constants (docs/laser.md): acceleration 500 mm/s² ($120/$121, a typical diode laser gantry;
Grbl's generic firmware default is only 10 mm/s²), junction deviation 0.01 mm ($11, Grbl's default),
rapid travel 6000 mm/min ($110/$111 of the lab's lasers). `MachineSpec` has no field for them yet.

Forward and backward passes of the planner are both expressed with `np.minimum.accumulate` on squared
speeds, so a 20k-segment contour costs a few array operations.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

ACCEL_MM_S2 = 500.0
JUNCTION_DEVIATION_MM = 0.01
RAPID_MM_MIN = 6000.0


def junction_limits(directions: NDArray[np.float64], accel: float, deviation: float) -> NDArray[np.float64]:
    """Squared max speed (mm²/s²) through each inner junction, Grbl's planner.c formula."""
    cos_theta = -np.einsum("ij,ij->i", directions[:-1], directions[1:])
    cos_theta = np.clip(cos_theta, -1.0, 1.0)
    sin_half = np.sqrt(0.5 * (1.0 - cos_theta))
    with np.errstate(divide="ignore"):
        limit = accel * deviation * sin_half / (1.0 - sin_half)
    limit[cos_theta < -0.999999] = np.inf  # straight on
    limit[cos_theta > 0.999999] = 0.0  # a full reversal stops the head
    return np.asarray(limit, dtype=np.float64)


def polyline_time(
    points: NDArray[np.float64],
    feed_mm_min: float,
    accel: float = ACCEL_MM_S2,
    deviation: float = JUNCTION_DEVIATION_MM,
) -> float:
    """Seconds to follow `points` at `feed_mm_min`, from rest to rest."""
    return float(paths_time([points], np.array([feed_mm_min]), accel, deviation)[0])


def paths_time(
    paths: list[NDArray[np.float64]],
    feeds_mm_min: NDArray[np.float64],
    accel: float = ACCEL_MM_S2,
    deviation: float = JUNCTION_DEVIATION_MM,
) -> NDArray[np.float64]:
    """Seconds for each path, each from rest to rest, all planned in one vectorised pass: the head
    stops between paths, so a zero speed limit there separates them exactly."""
    if not paths:
        return np.zeros(0)
    d, owner = segments(paths)
    length = np.hypot(d[:, 0], d[:, 1])
    keep = length > 1e-9
    d, length, owner = d[keep], length[keep], owner[keep]
    if not len(length):
        return np.zeros(len(paths))
    v2 = (np.asarray(feeds_mm_min, dtype=np.float64)[owner] / 60.0) ** 2
    twice_a_l = 2.0 * accel * length
    limits = np.zeros(len(length) + 1)
    inner = junction_limits(d / length[:, None], accel, deviation)
    inner = np.minimum(inner, np.minimum(v2[:-1], v2[1:]))
    inner[owner[:-1] != owner[1:]] = 0.0  # end of one path, start of the next: at rest
    limits[1:-1] = inner
    ahead = np.concatenate([[0.0], np.cumsum(twice_a_l)])  # what acceleration can add from the start
    forward = np.minimum.accumulate(limits - ahead) + ahead
    behind = np.concatenate([np.cumsum(twice_a_l[::-1])[::-1], [0.0]])  # ... and deceleration to the end
    w = (np.minimum.accumulate((forward - behind)[::-1]) + behind[::-1])[::-1]
    times = segment_times(length, w[:-1], w[1:], v2, accel)
    return np.bincount(owner, weights=times, minlength=len(paths)).astype(np.float64)


def segments(paths: list[NDArray[np.float64]]) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """(every segment's vector, the path it belongs to), from one diff over all the paths' points."""
    sizes = np.array([len(p) for p in paths], dtype=np.intp)
    d = np.diff(np.concatenate(paths).reshape(-1, 2), axis=0)
    owner = np.repeat(np.arange(len(paths)), sizes)[:-1]
    inner = np.ones(len(d), dtype=bool)
    inner[(np.cumsum(sizes) - 1)[:-1]] = False  # from one path's last point to the next one's first
    return d[inner], owner[inner]


def segment_times(
    length: NDArray[np.float64],
    w0: NDArray[np.float64],
    w1: NDArray[np.float64],
    v2: float | NDArray[np.float64],
    accel: float,
) -> NDArray[np.float64]:
    """Trapezoid (or triangle) time of each segment from entry² `w0` to exit² `w1`, cruise² `v2`."""
    w0, w1 = np.maximum(w0, 0.0), np.maximum(w1, 0.0)
    v = np.sqrt(v2)
    v0, v1 = np.sqrt(w0), np.sqrt(w1)
    accel_d = (v2 - w0) / (2 * accel)
    decel_d = (v2 - w1) / (2 * accel)
    cruise = length - accel_d - decel_d
    trapezoid = (v - v0) / accel + (v - v1) / accel + np.maximum(cruise, 0.0) / v
    peak = np.sqrt(np.maximum((2 * accel * length + w0 + w1) / 2, np.maximum(w0, w1)))
    triangle = (peak - v0) / accel + (peak - v1) / accel
    return np.where(cruise >= 0, trapezoid, triangle)


def move_time(length: float, feed_mm_min: float, accel: float = ACCEL_MM_S2) -> float:
    """One straight move from rest to rest (a travel, a framing side)."""
    return float(moves_time(np.array([length]), feed_mm_min, accel).sum())


def moves_time(
    lengths: NDArray[np.float64], feed_mm_min: float, accel: float = ACCEL_MM_S2
) -> NDArray[np.float64]:
    """Straight moves, each from rest to rest."""
    lengths = np.maximum(np.asarray(lengths, dtype=np.float64), 0.0)
    zero = np.zeros(len(lengths))
    times = segment_times(lengths, zero, zero, (feed_mm_min / 60.0) ** 2, accel)
    return np.where(lengths > 0, times, 0.0)
