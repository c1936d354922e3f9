"""Finger-jointed plywood panels: a rectangle whose edges carry tabs or matching slots.

An edge of length L is cut into an odd number of fingers of equal width. On a `tabs` edge the even
fingers stick out by the sheet thickness; on a `slots` edge the even fingers are notched in by the
same amount. Two panels meeting at a corner use the same length and finger count, one with tabs and
the other with slots: they mate without kerf allowance (the laser's kerf gives the press fit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Edge = Literal["tabs", "slots", "flat"]
Point = tuple[float, float]


def fingers(length: float, target: float) -> int:
    count = max(3, round(length / target))
    return count if count % 2 == 1 else count + 1


def edge_points(length: float, mode: Edge, thickness: float, count: int) -> list[tuple[float, float]]:
    """Points of one edge in its own frame: (distance along the edge, distance out of the panel)."""
    if mode == "flat":
        return [(0.0, 0.0), (length, 0.0)]
    width = length / count
    depth = thickness if mode == "tabs" else -thickness

    def level(i: int) -> float:
        return depth if i % 2 == 0 else 0.0  # even fingers move: out for tabs, in for slots

    points = [(0.0, level(0))]
    for i in range(count - 1):
        x = (i + 1) * width
        points += [(x, level(i)), (x, level(i + 1))]
    points.append((length, level(count - 1)))
    return points


@dataclass
class Panel:
    name: str
    width: float
    height: float
    edges: tuple[Edge, Edge, Edge, Edge]  # bottom, right, top, left (counter-clockwise)
    thickness: float
    finger: float = 20.0
    holes: list[list[Point]] = field(default_factory=list)  # closed polygons, cut before the outline
    circles: list[tuple[float, float, float]] = field(default_factory=list)  # (x, y, radius) holes
    label: str = ""

    def outline(self) -> list[Point]:
        """Counter-clockwise closed outline; (0, 0) is the bottom-left corner of the unjointed rectangle."""
        corners = [(0.0, 0.0), (self.width, 0.0), (self.width, self.height), (0.0, self.height)]
        directions = [(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0)]
        outward = [(0.0, -1.0), (1.0, 0.0), (0.0, 1.0), (-1.0, 0.0)]
        lengths = [self.width, self.height, self.width, self.height]
        edges = []
        for side in range(4):
            count = fingers(lengths[side], self.finger)
            edges.append(edge_points(lengths[side], self.edges[side], self.thickness, count))
        points: list[Point] = []
        for side in range(4):
            (cx, cy), (dx, dy), (ox, oy) = corners[side], directions[side], outward[side]
            previous = (side - 1) % 4
            # the corner where the previous edge ends and this one starts: both offsets apply
            prev_out = edges[previous][-1][1]
            pox, poy = outward[previous]
            this_out = edges[side][0][1]
            points.append(
                (round(cx + pox * prev_out + ox * this_out, 4), round(cy + poy * prev_out + oy * this_out, 4))
            )
            for along, out in edges[side][1:-1]:
                points.append((round(cx + dx * along + ox * out, 4), round(cy + dy * along + oy * out, 4)))
        cleaned: list[Point] = []
        for point in points:
            if not cleaned or cleaned[-1] != point:
                cleaned.append(point)
        return cleaned
