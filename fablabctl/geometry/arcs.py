"""ARC, CIRCLE and bulge arcs flattened on the true circle, at equal angles.

Every vertex lies exactly on the circle, as few as keep each chord's sagitta r(1 - cos(step / 2))
within a quarter of the chord distance (0.005 mm for 0.02), and at least `MIN_PER_CIRCLE` per full
turn so a small hole stays round. Chords lie inside the curve: the quarter keeps areas and lengths as
close as ezdxf's adaptive Béziers did (a 10 mm hole within 0.1 %), not just within 0.02 mm.
`arc_steps` is used by `curve_batch` for a whole drawing at once; `arc_points` flattens one ARC or
CIRCLE whose plane is not the drawing's (mirrored or tilted extrusion).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from ezdxf.math import OCS, arc_angle_span_deg
from numpy.typing import NDArray

MIN_RADIUS = 1e-12  # ezdxf makes an empty path below this
MIN_SPAN = 1e-9  # ... and for an arc spanning less than this (radians)
MIN_PER_CIRCLE = 16
SAGITTA_SHARE = 0.25  # of the chord distance
BULGE_ZERO = 1e-6  # ezdxf reads smaller bulges as straight (#329: tiny bulges crashed it)
EMPTY = np.zeros((0, 2), dtype=np.float64)


def arc_steps(
    radius: float | NDArray[np.float64],
    span: float | NDArray[np.float64],
    distance: float | NDArray[np.float64],
) -> NDArray[np.int64]:
    """Chords needed for an arc of `radius` spanning `span` radians (scalars or arrays)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        cosine = np.clip(1.0 - SAGITTA_SHARE * distance / np.asarray(radius, dtype=np.float64), -1.0, 1.0)
        step = 2.0 * np.arccos(cosine)
        needed = np.ceil(np.abs(span) / np.maximum(step, 1e-300) - 1e-9)
    least = np.ceil(np.abs(span) * (MIN_PER_CIRCLE / (2 * math.pi)) - 1e-9)
    result: NDArray[np.int64] = np.maximum(np.maximum(needed, least), 1).astype(np.int64)
    return result


def steps_for(radius: float, span: float, distance: float) -> int:
    """`arc_steps` for one arc, on plain floats (numpy's per-call cost is most of a small arc's)."""
    step = 2.0 * math.acos(min(1.0, max(-1.0, 1.0 - SAGITTA_SHARE * distance / radius)))
    needed = math.ceil(span / step - 1e-9) if step > 0 else 1
    return max(needed, math.ceil(span * (MIN_PER_CIRCLE / (2 * math.pi)) - 1e-9), 1)


def arc_points(entity: Any, kind: str, *, distance: float) -> tuple[NDArray[np.float64], bool]:
    """(points (n, 2) in drawing units, closed) of an ARC or CIRCLE; no points for an empty one.

    A closed one (a circle, an arc of a full turn) does not repeat its first point."""
    radius = abs(float(entity.dxf.radius))
    if radius <= MIN_RADIUS:
        return EMPTY, False
    if kind == "CIRCLE":
        start, span = 0.0, 2 * math.pi
    else:
        start = math.radians(float(entity.dxf.start_angle))
        span = math.radians(arc_angle_span_deg(float(entity.dxf.start_angle), float(entity.dxf.end_angle)))
        if span < MIN_SPAN:
            return EMPTY, False
    closed = span >= 2 * math.pi - MIN_SPAN
    n = steps_for(radius, span, distance)
    if closed:  # a vertex on each quadrant point (of a circle): exact extents
        n = -(-n // 4) * 4
    angles = np.arange(n if closed else n + 1, dtype=np.float64)
    angles *= span / n
    angles += start
    ring = np.empty((len(angles), 2), dtype=np.float64)
    np.cos(angles, out=ring[:, 0])
    np.sin(angles, out=ring[:, 1])
    ring *= radius
    centre, extrusion = entity.dxf.center, entity.dxf.extrusion
    if abs(extrusion[0]) < 1e-12 and abs(extrusion[1]) < 1e-12 and extrusion[2] > 0:
        ring += (centre[0], centre[1])
        return ring, closed
    ocs = OCS(extrusion)  # mirrored (0, 0, -1) or tilted: the circle's OCS axes, projected on XY
    c = ocs.to_wcs(centre)
    ux, uy = ocs.ux, ocs.uy
    axes = np.array([(ux.x, ux.y), (uy.x, uy.y)], dtype=np.float64)
    return ring @ axes + np.array([c.x, c.y]), closed
