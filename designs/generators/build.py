"""Write every design file of the TIG catalogue: `python -m designs.generators.build` (from the repo root).

Laser parts are DXF in millimetres ($INSUNITS = 4): outlines and holes on layer CUT, engraved text
on layer ENGRAVE as closed dot outlines. Printed parts are watertight STL extruded from 2D profiles.
"""

from __future__ import annotations

from pathlib import Path

import ezdxf
import numpy as np
import trimesh
from shapely.geometry import Point as ShapelyPoint
from shapely.geometry import Polygon, box

from designs.generators.letters import text_squares, text_width
from designs.generators.panels import Panel, box_panels, plate

ROOT = Path(__file__).resolve().parents[1]
MARGIN = 2.0


def rect(x: float, y: float, w: float, h: float) -> list[tuple[float, float]]:
    return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]


def write_panel(panel: Panel, path: Path) -> None:
    doc = ezdxf.new("R2010")
    doc.header["$INSUNITS"] = 4
    doc.layers.add("CUT", color=1)
    doc.layers.add("ENGRAVE", color=5)
    msp = doc.modelspace()
    x0, y0, _, _ = panel.shape.bounds
    dx, dy = MARGIN - x0, MARGIN - y0  # keep every coordinate positive, the outline MARGIN mm in
    shift = lambda pts: [(round(x + dx, 4), round(y + dy, 4)) for x, y in pts]  # noqa: E731
    msp.add_lwpolyline(shift(panel.outline()), close=True, dxfattribs={"layer": "CUT"})
    for hole in [*panel.slots(), *panel.holes]:
        msp.add_lwpolyline(shift(hole), close=True, dxfattribs={"layer": "CUT"})
    for x, y, r in panel.circles:
        msp.add_circle((x + dx, y + dy), r, dxfattribs={"layer": "CUT"})
    if panel.label:
        dot = panel.label_dot
        cx, cy = panel.label_at
        for square in text_squares(panel.label, cx - text_width(panel.label, dot) / 2, cy, dot):
            msp.add_lwpolyline(shift(square), close=True, dxfattribs={"layer": "ENGRAVE"})
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.saveas(path)


def beehive() -> None:
    t = 5.0
    height = 215.0
    parts = box_panels("ruche", 300, 250, height, t, 21)
    parts["face"].holes.append(rect(90, 12, 120, 12))  # entrance slot
    parts["face"].label, parts["face"].label_at = "RUCHE", (150, height * 0.62)
    opening = (70.0, 70.0, 160.0, 90.0)  # observation window, acrylic screwed on behind
    parts["dos"].holes.append(rect(*opening))
    parts["cote"].holes.append(rect(85, 150, 80, 20))  # handle
    parts["toit"].circles.append((150, 125, 20))  # feeder hole, over the middle of the box
    for name, panel in parts.items():
        write_panel(panel, ROOT / "ruche" / f"{name}.dxf")
    write_panel(window(opening, overlap=WINDOW_OVERLAP), ROOT / "ruche" / "fenetre.dxf")
    reducer = Polygon(rect(0, 0, 130, 20)).difference(box(40, 0, 90, 8))  # entrance reducer with a bee door
    extrude(reducer, 4, ROOT / "ruche" / "reducteur-entree.stl")


WINDOW_OVERLAP = 16.0  # the pane covers the opening by this much on each side
SCREW_RADIUS = 2.0  # M4 / Ø4 wood screws


def window(opening: tuple[float, float, float, float], overlap: float) -> Panel:
    """The acrylic pane over an opening: its Ø4 screw holes sit in the middle of the overlap, clear
    of the opening's edge and of the pane's edge by (overlap / 2 - radius)."""
    _, _, w, h = opening
    pane = plate("fenetre", w + 2 * overlap, h + 2 * overlap, 3)
    inset = overlap / 2
    pane.circles += [
        (inset, inset, SCREW_RADIUS),
        (pane.width - inset, inset, SCREW_RADIUS),
        (pane.width - inset, pane.height - inset, SCREW_RADIUS),
        (inset, pane.height - inset, SCREW_RADIUS),
    ]
    return pane


def insect_hotel() -> None:
    t = 3.0
    height = 150.0
    parts = box_panels("bungalow", 200, 120, height, t, 15)
    front = parts["face"]
    front.label, front.label_at, front.label_dot = "BUNGALOW", (100, height * 0.62), 2.0
    rng = np.random.default_rng(3)
    for row in range(5):
        for col in range(9):
            radius = float(rng.choice([3.0, 4.0, 5.0]))  # 6 to 10 mm holes: mason bees, leafcutters
            front.circles.append((20 + col * 20, 14 + row * 15, radius))
    for name, panel in parts.items():
        write_panel(panel, ROOT / "bungalow" / f"{name}.dxf")


def signage() -> None:
    sign = plate("panneau", 340, 120, 3)
    sign.circles += [(10, 10, 2.5), (330, 10, 2.5), (330, 110, 2.5), (10, 110, 2.5)]
    sign.label, sign.label_at = "JARDIN PARTAGE", (170, 120 * 0.62)
    write_panel(sign, ROOT / "signaletique" / "panneau.dxf")
    bracket = Polygon([(0, 0), (60, 0), (60, 5), (5, 5), (5, 40), (0, 40)])  # an L bracket profile
    extrude(bracket, 25, ROOT / "signaletique" / "equerre.stl")
    spacer = ShapelyPoint(0, 0).buffer(8, 64).difference(ShapelyPoint(0, 0).buffer(2.6, 64))
    extrude(spacer, 15, ROOT / "signaletique" / "entretoise.stl")


def extrude(profile: Polygon, height: float, path: Path) -> None:
    mesh = trimesh.creation.extrude_polygon(profile, height)
    mesh.apply_translation(-mesh.bounds[0])
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
    path.parent.mkdir(parents=True, exist_ok=True)
    mesh.export(path)


def main() -> None:
    beehive()
    insect_hotel()
    signage()


if __name__ == "__main__":
    main()
