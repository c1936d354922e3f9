"""Finger joints read back from a drawing: how deep its tabs and slots are cut.

A finger joint's outline steps in and out by the thickness of the sheet it was designed for. A step
is a segment between two parallel segments running the same way, at right angles to both; the most
common step length of the outer outlines is the joint depth. A drawing cut in a sheet of another
thickness makes a box that does not close (tabs stand proud, or do not reach through).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from fablabctl.geometry.contours import Contour
from fablabctl.geometry.operations import Operation

MIN_STEPS = 4  # two fingers: fewer steps than that is a notch, not a joint
ROUND_MM = 0.01


def joint_depth(contours: list[Contour]) -> float | None:
    """The depth of the finger joints on the outer cut outlines (mm), or None without joints."""
    outlines = [
        c.points
        for c in contours
        if c.closed and c.operation is Operation.CUT and c.depth == 0 and len(c.points) >= 8
    ]
    if not outlines:
        return None
    # all outlines at once: segment i runs from point i to the next point of the same outline
    sizes = np.array([len(p) for p in outlines])
    points = np.concatenate(outlines)
    first = np.repeat(np.cumsum(sizes) - sizes, sizes)
    local = np.arange(len(points)) - first
    size = np.repeat(sizes, sizes)
    nxt = first + (local + 1) % size
    d = points[nxt] - points
    length = np.hypot(d[:, 0], d[:, 1])
    unit = d / np.where(length > 0, length, 1.0)[:, None]
    before, after = unit[first + (local - 1) % size], unit[nxt]
    parallel = np.einsum("ij,ij->i", before, after) > 0.999
    square = (np.abs(np.einsum("ij,ij->i", before, unit)) < 1e-3) & (
        np.abs(np.einsum("ij,ij->i", unit, after)) < 1e-3
    )
    steps = Counter(
        round(value / ROUND_MM) * ROUND_MM for value in length[parallel & square & (length > 0)].tolist()
    )
    if not steps:
        return None
    depth, count = steps.most_common(1)[0]
    return round(depth, 2) if count >= MIN_STEPS else None
