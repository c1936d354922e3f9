"""ARC and CIRCLE flattened exactly as `ezdxf.path.make_path(e, segments=16).flattening(...)` does,
without building the `Path`: the same Bézier curves (`cubic_bezier_from_ellipse`), joined by the same
rules as `ezdxf.path.tools.add_bezier4p`, flattened by the same (C-accelerated) `Bezier4P.flattening`.
Arcs and circles are most of a drawing's curves; skipping the Path objects halves their cost, and the
points are the same to the last bit (tests/geometry/test_arcs.py compares both on random arcs).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ezdxf.math import Bezier4P, ConstructionEllipse, Vec3, cubic_bezier_from_ellipse
from ezdxf.math.curvetools import reverse_bezier_curves
from numpy.typing import NDArray

MIN_RADIUS = 1e-12  # ezdxf makes an empty path below this
MIN_SPAN = 1e-9  # ... and for an arc spanning less than this (radians)


def arc_points(
    entity: Any, kind: str, *, beziers_per_circle: int, distance: float
) -> tuple[NDArray[np.float64], bool]:
    """(points (n, 2), closed as the path would say) of an ARC or CIRCLE; no points for an empty one."""
    radius = abs(entity.dxf.radius)
    if radius <= MIN_RADIUS:
        return np.zeros((0, 2)), False
    center, extrusion = entity.dxf.center, entity.dxf.extrusion
    if kind == "CIRCLE":
        ellipse = ConstructionEllipse.from_arc(center=center, radius=radius, extrusion=extrusion)
    else:
        ellipse = ConstructionEllipse.from_arc(
            center=center,
            radius=radius,
            extrusion=extrusion,
            start_angle=entity.dxf.start_angle,
            end_angle=entity.dxf.end_angle,
        )
    if abs(ellipse.param_span) < MIN_SPAN:
        return np.zeros((0, 2)), False
    curves = list(cubic_bezier_from_ellipse(ellipse, beziers_per_circle))
    if not curves:
        return np.zeros((0, 2)), False
    start: Vec3 = ellipse.start_point
    end = start
    if end.isclose(curves[-1].control_points[-1]):  # add_bezier4p: connect to the curves' end point
        curves = reverse_bezier_curves(curves)
    points = [start]
    for curve in curves:
        first, ctrl1, ctrl2, last = curve.control_points
        if not first.isclose(end):
            points.append(first)
            end = first
        if first.isclose(ctrl1, rel_tol=1e-15, abs_tol=0.0) and last.isclose(
            ctrl2, rel_tol=1e-15, abs_tol=0.0
        ):
            points.append(last)  # a straight "curve": a line
        else:
            flat = iter(Bezier4P((end, ctrl1, ctrl2, last)).flattening(distance, 2))
            next(flat)  # the start is already there
            points.extend(flat)
        end = last
    closed = start.isclose(end)
    return np.array([(v.x, v.y) for v in points], dtype=np.float64).reshape(-1, 2), closed
