"""How far a flattened chord may stray from its curve: 0.02 mm, or coarser for absurdly large curves.

Shared by the DXF walk (`flatten`) and the HATCH fill (`hatch`), which both flatten ezdxf paths.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

FLATTEN_MM = 0.02
# a chord may also stray one millionth of the curve's size, and a billionth of its distance from the
# origin (float rounding there is bigger than 0.02 mm and flattening would never end): an absurd curve
# (radius 1e15, a hostile or unit-confused file) gets a few thousand points instead of billions, and
# any curve that fits a laser bed keeps the 0.02 mm
RELATIVE_CHORD = 1e-6
RELATIVE_POSITION = 1e-9


def chord_distance(extent: float, magnitude: float, to_mm: float) -> float | None:
    """How far (drawing units) a chord may stray from a curve `extent` across whose farthest point is
    `magnitude` from the origin; None when those are not finite numbers (flattening would not end)."""
    if not (math.isfinite(extent) and math.isfinite(magnitude)):
        return None
    return max(FLATTEN_MM / to_mm, extent * RELATIVE_CHORD, magnitude * RELATIVE_POSITION)


def points_chord_distance(controls: NDArray[np.float64], to_mm: float) -> float | None:
    """`chord_distance` for a curve inside these control points ((n, 2); they enclose the curve)."""
    if not len(controls):
        return FLATTEN_MM / to_mm
    with np.errstate(all="ignore"):  # NaN and inf carry through to chord_distance's None
        extent = float(np.ptp(controls, axis=0).max())
        magnitude = float(np.abs(controls).max())
    return chord_distance(extent, magnitude, to_mm)


def path_chord_distance(path: Any, to_mm: float) -> float | None:
    """`chord_distance` for an ezdxf Path, from its control points."""
    vertices = np.array([(v.x, v.y) for v in path.control_vertices()], dtype=np.float64).reshape(-1, 2)
    return points_chord_distance(vertices, to_mm)
