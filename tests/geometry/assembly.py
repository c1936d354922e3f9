"""Assemble a finger-jointed box in 3D from its DXF files and measure every joint.

Each panel is its cut outline (holes included) extruded to the sheet's thickness and placed by its
bounding box on the outer box (floor under everything, front/back across the floor's width, sides
across its depth, roof centred on top). Wherever two panels' slabs meet, every point must be in
exactly one panel: none is a gap (a tab that engages nothing, a slot left open), two is a collision.
The points are a grid offset from every round number, so no sample sits on a drawn edge.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import Polygon

from fablabctl.file_limits import ValidationLimits
from fablabctl.geometry.drawing import load_drawing
from fablabctl.geometry.operations import Operation

logging.getLogger("ezdxf").setLevel(logging.ERROR)
STEP = 0.25  # mm between samples across the joints
OFFSET = 0.0731  # keeps samples off drawn edges


def panel_shape(path: Path) -> Polygon:
    """The part as cut: its outer outline with its holes (slots, openings, circles)."""
    drawing = load_drawing(path, limits=ValidationLimits())
    cuts = [c for c in drawing.contours if c.closed and c.operation is Operation.CUT]
    outer = max(cuts, key=lambda c: Polygon(c.points).area)
    holes = [c.points for c in cuts if c is not outer and c.depth == 1]
    shape = Polygon(outer.points, holes)
    assert shape.is_valid, path
    return shape


@dataclass(frozen=True)
class Placed:
    """A panel in the box: its 2D shape (moved so its bounding box starts at 0, 0), which two axes
    its drawing's x and y become, and the interval it fills along the third."""

    name: str
    shape: Polygon
    axes: tuple[int, int]  # world axis of the drawing's x, of its y
    origin: tuple[float, float, float]  # world position of the drawing's (0, 0) and the slab's start
    thickness: float

    @property
    def normal(self) -> int:
        return ({0, 1, 2} - set(self.axes)).pop()

    def bounds(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        low, high = np.array(self.origin, dtype=float), np.array(self.origin, dtype=float)
        x0, y0, x1, y1 = self.shape.bounds
        low[self.axes[0]] += x0
        high[self.axes[0]] += x1
        low[self.axes[1]] += y0
        high[self.axes[1]] += y1
        high[self.normal] += self.thickness
        return low, high

    def contains(self, points: NDArray[np.float64]) -> NDArray[np.bool_]:
        n = self.normal
        inside = (points[:, n] >= self.origin[n]) & (points[:, n] <= self.origin[n] + self.thickness)
        u = points[:, self.axes[0]] - self.origin[self.axes[0]]
        v = points[:, self.axes[1]] - self.origin[self.axes[1]]
        return np.asarray(inside & shapely.contains_xy(self.shape, u, v))


def _at_origin(shape: Polygon) -> Polygon:
    x0, y0, _, _ = shape.bounds
    moved = shapely.affinity.translate(shape, -x0, -y0)
    shapely.prepare(moved)
    return moved


def place_box(folder: Path, t: float) -> list[Placed]:
    """Floor, front, back, two sides and roof of `folder` (fond, face, dos, cote, toit .dxf)."""
    floor, front, back, side, roof = (
        _at_origin(panel_shape(folder / f"{n}.dxf")) for n in ("fond", "face", "dos", "cote", "toit")
    )
    _, _, width, depth = floor.bounds
    _, _, _, side_height = side.bounds  # sides stand on the floor's underside: top of the walls
    _, _, roof_w, roof_d = roof.bounds
    return [
        Placed("fond", floor, (0, 1), (0, 0, 0), t),
        Placed("face", front, (0, 2), (0, 0, 0), t),
        Placed("dos", back, (0, 2), (0, depth - t, 0), t),
        Placed("cote gauche", side, (1, 2), (0, 0, 0), t),
        Placed("cote droit", side, (1, 2), (width - t, 0, 0), t),
        Placed("toit", roof, (0, 1), (-(roof_w - width) / 2, -(roof_d - depth) / 2, side_height), t),
    ]


@dataclass(frozen=True)
class Joint:
    first: str
    second: str
    gap_mm3: float  # in the joint, in neither panel
    overlap_mm3: float  # in both (or more)


def joints(panels: list[Placed]) -> list[Joint]:
    """Every place where two panels' slabs meet, with the volume left empty and the volume doubled."""
    found = []
    for a, b in itertools.combinations(panels, 2):
        (alo, ahi), (blo, bhi) = a.bounds(), b.bounds()
        low, high = np.maximum(alo, blo), np.minimum(ahi, bhi)
        if (high - low <= 1e-6).any():
            continue  # touching or apart: not a joint
        axes = [np.arange(lo + OFFSET * STEP, hi, STEP) for lo, hi in zip(low, high, strict=True)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
        count = np.zeros(len(grid), dtype=np.int8)
        for panel in panels:
            plo, phi = panel.bounds()
            if ((phi - low) > 0).all() and ((high - plo) > 0).all():
                count += panel.contains(grid)
        cell = STEP**3
        found.append(Joint(a.name, b.name, float((count == 0).sum() * cell), float((count > 1).sum() * cell)))
    return found
