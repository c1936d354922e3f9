"""Where a drawing lands on the laser bed: shared by validation (what we tell the tigiste) and the
laser job (what the machine does), so the report and the G-code never disagree.

Policy: a drawing already inside the bed stays where it was drawn (its position may mean something:
a mark on the sheet). Otherwise, if it fits, its lower-left corner is moved to the machine origin;
if it fits only turned a quarter turn, it is rotated 90° then moved. Else it does not fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fablabctl.geometry.drawing import Extents
from fablabctl.specs import MachineSpec

TOLERANCE_MM = 0.001


@dataclass(frozen=True, slots=True)
class Placement:
    fits: bool
    moved: bool  # translated to the origin
    rotated: bool  # turned 90° counter-clockwise first
    offset: NDArray[np.float64]  # added after the (optional) rotation
    overflow_mm: tuple[float, float]  # how much larger than the bed the drawing is (0 when it fits)

    def apply(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        if self.rotated:
            points = np.column_stack([-points[:, 1], points[:, 0]])
        return points + self.offset


def _inside(low: NDArray[np.float64], high: NDArray[np.float64], machine: MachineSpec) -> bool:
    return bool(
        (low >= -TOLERANCE_MM).all()
        and high[0] <= machine.bed_x_mm + TOLERANCE_MM
        and high[1] <= machine.bed_y_mm + TOLERANCE_MM
    )


def place(extents: Extents, machine: MachineSpec) -> Placement:
    low, high = extents.low, extents.high
    w, h = float(high[0] - low[0]), float(high[1] - low[1])
    bed_x, bed_y = machine.bed_x_mm + TOLERANCE_MM, machine.bed_y_mm + TOLERANCE_MM
    if _inside(low, high, machine):
        return Placement(True, False, False, np.zeros(2), (0.0, 0.0))
    if w <= bed_x and h <= bed_y:
        return Placement(True, True, False, -low, (0.0, 0.0))
    if h <= bed_x and w <= bed_y:
        # rotated: (x, y) -> (-y, x); the new lower-left corner is (-high_y, low_x)
        return Placement(True, True, True, np.array([high[1], -low[0]]), (0.0, 0.0))
    over = (max(0.0, w - machine.bed_x_mm), max(0.0, h - machine.bed_y_mm))
    return Placement(False, False, False, np.zeros(2), over)
