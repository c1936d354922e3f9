"""Finger-jointed plywood boxes, designed in 3D: every piece of every joint has one owner.

The box is five slabs of sheet thickness `t` around an inside of `width` x `depth` x `height`:
front and back (y = 0..t and depth-t..depth), two sides outside the front and back's width
(x = -t..0 and width..width+t), and a floor under all of them (z = -t..0). Where two slabs meet,
the t x t strip along the edge is cut into an odd number of fingers that belong in turn to one
panel and the other, the first and last to the panel listed first; corner cubes where three slabs
meet belong to the front or back. Each panel is its own slab minus what the others own, so the
parts fill each other exactly: no gap, no overlap (tests/queue/test_catalogue.py assembles them).

Drawn sizes are the sizes wanted. The laser's kerf would make tabs thinner and slots wider; the
job compensates it from the material library (kerf plus a press-fit allowance), not the drawing.

The roof rests on the walls and is located by two tabs on the top of the front and of the back,
which go into slots in the roof left ROOF_CLEARANCE mm loose all round (with the press-fit allowance
taken off by preparation, still loose): the roof lifts off, and cannot slide off.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shapely.geometry import Polygon, box
from shapely.ops import unary_union

Point = tuple[float, float]
ROOF_TAB = 20.0  # width of the roof's locating tabs
ROOF_TAB_AT = (0.25, 0.75)  # their centres, as a share of the front's width
ROOF_CLEARANCE = 0.4  # the roof's slots are this much longer at each end: it lifts off by hand


def fingers(length: float, target: float) -> int:
    count = max(3, round(length / target))
    return count if count % 2 == 1 else count + 1


def strips(start: float, end: float, target: float, owner_first: bool) -> list[tuple[float, float]]:
    """The fingers along [start, end] that belong to the first panel (owner_first) or the second."""
    count = fingers(end - start, target)
    width = (end - start) / count
    wanted = 0 if owner_first else 1
    return [(start + i * width, start + (i + 1) * width) for i in range(count) if i % 2 == wanted]


@dataclass
class Panel:
    """One flat part: a shape (slots are its interior rings), extra holes and circles, a label."""

    name: str
    shape: Polygon
    thickness: float
    holes: list[list[Point]] = field(default_factory=list)  # closed polygons, in the shape's frame
    circles: list[tuple[float, float, float]] = field(default_factory=list)  # (x, y, radius) holes
    label: str = ""
    label_at: tuple[float, float] = (0.0, 0.0)  # centre of the label's baseline row
    label_dot: float = 3.0  # mm per dot of the engraved letters

    @property
    def width(self) -> float:
        x0, _, x1, _ = self.shape.bounds
        return float(x1 - x0)

    @property
    def height(self) -> float:
        _, y0, _, y1 = self.shape.bounds
        return float(y1 - y0)

    def outline(self) -> list[Point]:
        """Counter-clockwise outer outline."""
        ring = self.shape.exterior
        coords = list(ring.coords)[:-1]
        if not ring.is_ccw:
            coords.reverse()
        return [(round(x, 4), round(y, 4)) for x, y in coords]

    def slots(self) -> list[list[Point]]:
        return [[(round(x, 4), round(y, 4)) for x, y in list(r.coords)[:-1]] for r in self.shape.interiors]


def plate(name: str, width: float, height: float, t: float) -> Panel:
    return Panel(name, box(0, 0, width, height), t)


def _union(*parts: Polygon) -> Polygon:
    shape = unary_union(parts).simplify(0)
    assert isinstance(shape, Polygon), "a panel must be one piece"
    return shape


def box_panels(
    prefix: str, width: float, depth: float, height: float, t: float, finger: float, overhang: float = 15.0
) -> dict[str, Panel]:
    """Front, back, side, floor and roof of an open-top box closed by a roof; inside sizes in mm.

    Frames: front/back drawn as seen from the front (x, z), sides from the left (y, z), floor and
    roof from above (x, y); x = 0, y = 0, z = 0 is the inside front-left-bottom corner.
    """
    w, d, h = width, depth, height
    up = strips(0, h, finger, owner_first=True)  # front/back vs sides, along z: front/back own the ends
    across = strips(0, w, finger, owner_first=True)  # front/back vs floor, along x: front/back own the ends
    along = (t, d - t)  # sides vs floor, along y between the front and back slabs: sides own the ends
    side_down = strips(*along, finger, owner_first=True)
    floor_side = strips(*along, finger, owner_first=False)
    tabs_top = [(w * share - ROOF_TAB / 2, w * share + ROOF_TAB / 2) for share in ROOF_TAB_AT]

    wall = _union(
        box(0, 0, w, h),
        *(box(-t, z0, 0, z1) for z0, z1 in up),
        *(box(w, z0, w + t, z1) for z0, z1 in up),
        *(box(x0, -t, x1, 0) for x0, x1 in across),
        box(-t, -t, 0, 0),  # the corner cubes where front, side and floor meet
        box(w, -t, w + t, 0),
        *(box(x0, h, x1, h + t) for x0, x1 in tabs_top),
    )
    up_side = strips(0, h, finger, owner_first=False)
    side = _union(
        box(t, 0, d - t, h),
        *(box(0, z0, t, z1) for z0, z1 in up_side),
        *(box(d - t, z0, d, z1) for z0, z1 in up_side),
        *(box(y0, -t, y1, 0) for y0, y1 in side_down),
    )
    across_floor = strips(0, w, finger, owner_first=False)
    floor = _union(
        box(0, t, w, d - t),
        *(box(x0, 0, x1, t) for x0, x1 in across_floor),
        *(box(x0, d - t, x1, d) for x0, x1 in across_floor),
        *(box(-t, y0, 0, y1) for y0, y1 in floor_side),
        *(box(w, y0, w + t, y1) for y0, y1 in floor_side),
    )
    roof_outline = box(-t - overhang, -overhang, w + t + overhang, d + overhang)
    c = ROOF_CLEARANCE
    roof_slots = [box(x0 - c, y0 - c, x1 + c, y0 + t + c) for x0, x1 in tabs_top for y0 in (0, d - t)]
    roof = Polygon(roof_outline.exterior.coords, [s.exterior.coords for s in roof_slots])
    return {
        "face": Panel(f"{prefix}-face", wall, t),
        "dos": Panel(f"{prefix}-dos", wall, t),  # symmetric: the back is the front seen from behind
        "cote": Panel(f"{prefix}-cote", side, t),
        "fond": Panel(f"{prefix}-fond", floor, t),
        "toit": Panel(f"{prefix}-toit", roof, t),
    }
