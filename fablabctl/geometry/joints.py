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
    steps: Counter[float] = Counter()
    for contour in contours:
        if not contour.closed or contour.operation is not Operation.CUT or contour.depth != 0:
            continue
        points = contour.points
        if len(points) < 8:
            continue
        d = np.roll(points, -1, axis=0) - points  # segment i runs from point i to point i+1
        length = np.hypot(d[:, 0], d[:, 1])
        unit = d / np.where(length > 0, length, 1.0)[:, None]
        before, after = np.roll(unit, 1, axis=0), np.roll(unit, -1, axis=0)
        parallel = np.einsum("ij,ij->i", before, after) > 0.999
        square = (np.abs(np.einsum("ij,ij->i", before, unit)) < 1e-3) & (
            np.abs(np.einsum("ij,ij->i", unit, after)) < 1e-3
        )
        for value in length[parallel & square & (length > 0)]:
            steps[round(float(value) / ROUND_MM) * ROUND_MM] += 1
    if not steps:
        return None
    depth, count = steps.most_common(1)[0]
    return round(depth, 2) if count >= MIN_STEPS else None
