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
from designs.generators.panels import Panel

ROOT = Path(__file__).resolve().parents[1]


def rect(x: float, y: float, w: float, h: float) -> list[tuple[float, float]]:
    return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]


def write_panel(panel: Panel, path: Path) -> None:
    doc = ezdxf.new("R2010")
    doc.header["$INSUNITS"] = 4
    doc.layers.add("CUT", color=1)
    doc.layers.add("ENGRAVE", color=5)
    msp = doc.modelspace()
    margin = panel.thickness + 2  # tabs stick out: keep every coordinate positive
    shift = lambda pts: [(x + margin, y + margin) for x, y in pts]  # noqa: E731
    msp.add_lwpolyline(shift(panel.outline()), close=True, dxfattribs={"layer": "CUT"})
    for hole in panel.holes:
        msp.add_lwpolyline(shift(hole), close=True, dxfattribs={"layer": "CUT"})
    for x, y, r in panel.circles:
        msp.add_circle((x + margin, y + margin), r, dxfattribs={"layer": "CUT"})
    if panel.label:
        dot = 3.0 if panel.width > 200 else 2.0
        x0 = (panel.width - text_width(panel.label, dot)) / 2
        for square in text_squares(panel.label, x0, panel.height * 0.62, dot):
            msp.add_lwpolyline(shift(square), close=True, dxfattribs={"layer": "ENGRAVE"})
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.saveas(path)


def box_panels(
    prefix: str, width: float, depth: float, height: float, t: float, finger: float
) -> dict[str, Panel]:
    """Front/back (tabs on three sides), sides (tabs at the bottom, slots on the verticals), floor (slots)."""
    return {
        "face": Panel(f"{prefix}-face", width, height, ("tabs", "tabs", "flat", "tabs"), t, finger),
        "dos": Panel(f"{prefix}-dos", width, height, ("tabs", "tabs", "flat", "tabs"), t, finger),
        "cote": Panel(f"{prefix}-cote", depth, height, ("tabs", "slots", "flat", "slots"), t, finger),
        "fond": Panel(f"{prefix}-fond", width, depth, ("slots", "slots", "slots", "slots"), t, finger),
        "toit": Panel(f"{prefix}-toit", width + 30, depth + 30, ("flat", "flat", "flat", "flat"), t, finger),
    }


def beehive() -> None:
    t = 5.0
    parts = box_panels("ruche", 300, 250, 215, t, 21)
    parts["face"].holes.append(rect(90, 12, 120, 12))  # entrance slot
    parts["face"].label = "RUCHE"
    parts["dos"].holes.append(rect(70, 70, 160, 90))  # observation window (acrylic behind)
    parts["cote"].holes.append(rect(85, 150, 80, 20))  # handle
    parts["toit"].circles.append((165, 140, 20))  # feeder hole
    for name, panel in parts.items():
        write_panel(panel, ROOT / "ruche" / f"{name}.dxf")
    window = Panel("fenetre", 176, 106, ("flat", "flat", "flat", "flat"), 3)
    window.circles += [(8, 8, 2), (168, 8, 2), (168, 98, 2), (8, 98, 2)]
    write_panel(window, ROOT / "ruche" / "fenetre.dxf")
    reducer = Polygon(rect(0, 0, 130, 20)).difference(box(40, 0, 90, 8))  # entrance reducer with a bee door
    extrude(reducer, 4, ROOT / "ruche" / "reducteur-entree.stl")


def insect_hotel() -> None:
    t = 3.0
    parts = box_panels("bungalow", 200, 120, 150, t, 15)
    front = parts["face"]
    front.label = "BUNGALOW"
    rng = np.random.default_rng(3)
    for row in range(5):
        for col in range(9):
            radius = float(rng.choice([3.0, 4.0, 5.0]))  # 6 to 10 mm holes: mason bees, leafcutters
            front.circles.append((20 + col * 20, 14 + row * 15, radius))
    for name, panel in parts.items():
        write_panel(panel, ROOT / "bungalow" / f"{name}.dxf")


def signage() -> None:
    plate = Panel("panneau", 340, 120, ("flat", "flat", "flat", "flat"), 3)
    plate.circles += [(10, 10, 2.5), (330, 10, 2.5), (330, 110, 2.5), (10, 110, 2.5)]
    plate.label = "JARDIN PARTAGE"
    write_panel(plate, ROOT / "signaletique" / "panneau.dxf")
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
