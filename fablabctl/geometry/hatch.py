"""Fill a HATCH on an engrave layer with parallel scan lines, the vector equivalent of a raster fill.

The boundary paths are combined even-odd (islands stay unengraved, as the HATCH shows them), then cut
by horizontal lines `HATCH_PITCH_MM` apart (0.2 mm: a diode laser's spot, so lines just touch).
"""

from __future__ import annotations

from functools import reduce
from typing import Any

import ezdxf.path
import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiLineString, Polygon
from shapely.geometry.base import BaseGeometry

from fablabctl.geometry.chord import path_chord_distance

HATCH_PITCH_MM = 0.2
MAX_SCANLINES = 20_000  # a fill taller than 4 m at 0.2 mm is not an engraving


def hatch_scanlines(hatch: Any, to_mm: float, pitch: float = HATCH_PITCH_MM) -> list[NDArray[np.float64]]:
    """Open 2-point polylines (mm) covering the HATCH's filled area; raises ValueError when too big."""
    rings = []
    for path in ezdxf.path.from_hatch(hatch):
        distance = path_chord_distance(path, to_mm)
        if distance is None:
            continue  # NaN/inf boundary: nothing to fill
        points = np.array([(v.x, v.y) for v in path.flattening(distance)], dtype=np.float64) * to_mm
        if len(points) >= 3 and np.isfinite(points).all():
            rings.append(Polygon(points).buffer(0))
    if not rings:
        return []
    area: BaseGeometry = reduce(lambda a, b: a.symmetric_difference(b), rings)
    if area.is_empty:
        return []
    x0, y0, x1, y1 = area.bounds
    count = int((y1 - y0) / pitch)
    if count > MAX_SCANLINES:
        raise ValueError(f"hatch fill needs {count} scan lines (max {MAX_SCANLINES})")
    ys = y0 + pitch / 2 + pitch * np.arange(max(count, 1))
    lines = MultiLineString([[(x0 - 1, y), (x1 + 1, y)] for y in ys])
    cut = area.intersection(lines)
    pieces = shapely.get_parts(cut)
    result = []
    for piece in pieces:
        if piece.geom_type == "LineString" and piece.length > 0:
            result.append(np.asarray(piece.coords, dtype=np.float64)[:, :2])
    return result
