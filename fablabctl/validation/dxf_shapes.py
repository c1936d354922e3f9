"""DXF geometry findings: empty drawing, open cut contours (gap and both ends), lines burnt twice,
crumbs, holes, lengths per operation, extents, sheet use, and where the drawing lands on the bed.

Works on the arrays of `Segments` so a 50k-entity sheet costs a few numpy passes, not a Python loop
per segment.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fablabctl.geometry.contours import Contour
from fablabctl.geometry.drawing import Extents, LoadedDrawing
from fablabctl.geometry.operations import Operation
from fablabctl.geometry.placement import place
from fablabctl.i18n import Text
from fablabctl.specs import MachineSpec
from fablabctl.validation.dxf_overlap import (
    TINY_MM,
    Segments,
    identical_contours,
    overlapping_segments,
)
from fablabctl.validation.report import Finding, Report, Severity

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
MAX_LISTED = 20


def _pt(p: np.ndarray) -> list[float]:
    return [round(float(v), 3) for v in p]


def shape_findings(drawing: LoadedDrawing, machines: Sequence[MachineSpec], report: Report) -> None:
    contours = drawing.contours
    if not contours:
        report.add(
            Finding(
                "DXF_EMPTY",
                E,
                Text("Rien à découper ou graver dans ce fichier.", "Nothing to cut or engrave in this file."),
                Text(
                    "Vérifiez que le dessin n'est pas sur un calque ignoré (construction, cotes...) ou dans "
                    "un bloc jamais inséré.",
                    "Check the drawing is not on an ignored layer (construction, dimensions...) or in a "
                    "block never inserted.",
                ),
                {"ignored_entities": drawing.ignored},
            )
        )
        return
    segs = Segments.of(contours)
    lengths = segs.per_contour(segs.lengths)
    _open_contours(contours, report)
    if drawing.repeats:  # pieces drawn twice are cut once, but said: the drawing has them twice
        copies = [
            Contour(p.points, False, p.operation, p.layer, p.colour, (p.handle,)) for p in drawing.repeats
        ]
        both = Segments.of(contours + copies)
        _twice(contours + copies, both, both.per_contour(both.lengths), report, dropped=len(copies))
    else:
        _twice(contours, segs, lengths, report)
    _tiny(contours, segs, report)
    _nesting_and_lengths(contours, segs, lengths, report)
    extents = drawing.extents
    if extents is not None:
        _extents(extents, machines, report)


def _open_contours(contours: list[Contour], report: Report) -> None:
    open_cuts = [c for c in contours if c.operation is Operation.CUT and not c.closed]
    for contour in open_cuts[:MAX_LISTED]:
        start, end = contour.points[0], contour.points[-1]
        report.add(
            Finding(
                "DXF_OPEN_CONTOUR",
                E,
                Text(
                    f"Contour ouvert sur le calque de découpe « {contour.layer} » : écart de "
                    f"{contour.gap:.2f} mm entre ({start[0]:.1f} ; {start[1]:.1f}) et "
                    f"({end[0]:.1f} ; {end[1]:.1f}). La pièce ne tomberait pas.",
                    f"Open contour on cut layer '{contour.layer}': {contour.gap:.2f} mm gap between "
                    f"({start[0]:.1f}, {start[1]:.1f}) and ({end[0]:.1f}, {end[1]:.1f}). The part would "
                    "not drop.",
                ),
                Text(
                    "Fermez le contour (joindre les extrémités), ou mettez ce trait sur un calque de "
                    "marquage s'il ne doit pas traverser.",
                    "Close the contour (join the ends), or move the line to a score layer if it must "
                    "not cut through.",
                ),
                {
                    "handle": contour.handles[0],
                    "handles": list(contour.handles[:10]),
                    "layer": contour.layer,
                    "point": _pt(start),
                    "end": _pt(end),
                    "gap_mm": round(contour.gap, 3),
                },
            )
        )
    report.metrics["open_cut_contours"] = len(open_cuts)


def _twice(
    contours: list[Contour], segs: Segments, lengths: np.ndarray, report: Report, dropped: int = 0
) -> None:
    overlaps = overlapping_segments(segs)
    kept_fr = f" La préparation ne découpe qu'une fois les {dropped} tracé(s) identique(s)." * bool(dropped)
    kept_en = f" Preparation cuts the {dropped} identical piece(s) only once." * bool(dropped)
    if overlaps.count and overlaps.owners and overlaps.point:
        a, b = (contours[i] for i in overlaps.owners)
        report.add(
            Finding(
                "DXF_DUPLICATE_SEGMENTS",
                W,
                Text(
                    f"{overlaps.count} segment(s) tracé(s) en double ou superposé(s), par ex. près de "
                    f"({overlaps.point[0]:.1f} ; {overlaps.point[1]:.1f}) : le laser brûlerait deux fois."
                    + kept_fr,
                    f"{overlaps.count} segment(s) drawn twice or overlapping, e.g. near "
                    f"({overlaps.point[0]:.1f}, {overlaps.point[1]:.1f}): the laser would burn twice."
                    + kept_en,
                ),
                Text(
                    "Supprimez les doublons (LibreCAD : Outils > Supprimer les doublons ; "
                    "AutoCAD : OVERKILL).",
                    "Delete the duplicates (LibreCAD: Tools > Remove duplicates; AutoCAD: OVERKILL).",
                ),
                {
                    "handle": b.handles[0],
                    "handles": [a.handles[0], b.handles[0]],
                    "layer": b.layer,
                    "point": list(overlaps.point),
                    "count": overlaps.count,
                },
            )
        )
    pairs = identical_contours(contours, lengths)
    if pairs:
        first, copy = (contours[i] for i in pairs[0])
        report.add(
            Finding(
                "DXF_DUPLICATE_CONTOURS",
                W,
                Text(
                    f"{len(pairs)} contour(s) dessiné(s) deux fois exactement au même endroit (calque "
                    f"« {copy.layer} ») : découpés deux fois, avec des bords brûlés.",
                    f"{len(pairs)} contour(s) drawn twice in exactly the same place (layer '{copy.layer}'): "
                    "cut twice, with burnt edges.",
                ),
                Text("Supprimez les copies.", "Delete the copies."),
                {
                    "handle": copy.handles[0],
                    "handles": [first.handles[0], copy.handles[0]],
                    "layer": copy.layer,
                    "point": _pt(copy.points[0]),
                    "count": len(pairs),
                },
            )
        )


def _tiny(contours: list[Contour], segs: Segments, report: Report) -> None:
    small = np.nonzero(segs.lengths < TINY_MM)[0]
    if not len(small):
        return
    where = contours[int(segs.owner[small[0]])]
    report.add(
        Finding(
            "DXF_TINY_SEGMENTS",
            INFO,
            Text(
                f"{len(small)} segment(s) de moins de {TINY_MM} mm (souvent des restes d'export) : le laser "
                "s'y attarde et brûle plus.",
                f"{len(small)} segment(s) shorter than {TINY_MM} mm (often export leftovers): the laser "
                "lingers there and burns more.",
            ),
            Text("Simplifiez les courbes à l'export.", "Simplify curves when exporting."),
            {
                "handle": where.handles[0],
                "layer": where.layer,
                "point": _pt(segs.start[small[0]]),
                "count": len(small),
            },
        )
    )


def _nesting_and_lengths(
    contours: list[Contour], segs: Segments, lengths: np.ndarray, report: Report
) -> None:
    closed_cuts = [i for i, c in enumerate(contours) if c.operation is Operation.CUT and c.closed]
    holes = sum(1 for i in closed_cuts if contours[i].depth % 2 == 1)
    report.metrics.update(
        {
            "contours": len(contours),
            "closed_contours": sum(c.closed for c in contours),
            "parts": len(closed_cuts) - holes,
            "holes": holes,
        }
    )
    if holes:
        report.add(
            Finding(
                "DXF_NESTED_CONTOURS",
                INFO,
                Text(
                    f"{holes} contour(s) intérieur(s) (trous) et {len(closed_cuts) - holes} pièce(s) : les "
                    "trous seront découpés avant la pièce qui les entoure.",
                    f"{holes} inner contour(s) (holes) and {len(closed_cuts) - holes} part(s): holes are cut "
                    "before the part around them.",
                ),
                location={"holes": holes, "parts": len(closed_cuts) - holes},
            )
        )
    per_op: dict[str, float] = {}
    ops = np.array([c.operation.value for c in contours])
    for op in sorted(set(ops.tolist())):
        per_op[op] = round(float(lengths[ops == op].sum()), 1)
    report.metrics["length_mm"] = per_op
    report.metrics["cut_length_mm"] = per_op.get(Operation.CUT.value, 0.0)
    areas = np.abs(segs.signed_areas())
    outer = [i for i in closed_cuts if contours[i].depth % 2 == 0]
    hole_idx = [i for i in closed_cuts if contours[i].depth % 2 == 1]
    part_area = float(areas[outer].sum() - areas[hole_idx].sum()) if outer else 0.0
    report.metrics["parts_area_cm2"] = round(max(part_area, 0.0) / 100, 1)


def _extents(extents: Extents, machines: Sequence[MachineSpec], report: Report) -> None:
    low, high, size = extents.low, extents.high, extents.size
    report.metrics["size_mm"] = _pt(size)
    report.metrics["bounds_mm"] = [_pt(low), _pt(high)]
    report.metrics["sheet_cm2"] = round(float(size[0] * size[1]) / 100, 1)  # material used: bounding box
    _unit_sanity(size, report)
    placements = {m.name: place(extents, m) for m in machines}
    report.fits = [name for name, p in placements.items() if p.fits]
    if low.min() < -0.001:
        report.add(
            Finding(
                "DXF_NEGATIVE_COORDINATES",
                W,
                Text(
                    f"Une partie du dessin est en coordonnées négatives (jusqu'à x = {low[0]:.1f}, "
                    f"y = {low[1]:.1f} mm) : il sera décalé vers l'origine de la machine.",
                    f"Part of the drawing has negative coordinates (down to x = {low[0]:.1f}, "
                    f"y = {low[1]:.1f} mm): it will be moved to the machine's origin.",
                ),
                Text(
                    "Pour garder la main sur la position, placez le coin bas-gauche en (0 ; 0).",
                    "To control the position yourself, put the lower-left corner at (0, 0).",
                ),
                {"point": _pt(low), "by_mm": _pt(np.minimum(low, 0) * -1)},
            )
        )
    if not report.fits:
        beds = ", ".join(f"{m.name} ({m.bed_x_mm:g} x {m.bed_y_mm:g} mm)" for m in machines)
        over = placements[machines[0].name].overflow_mm
        report.add(
            Finding(
                "DXF_OUTSIDE_BED",
                E,
                Text(
                    f"Le dessin ({size[0]:.1f} x {size[1]:.1f} mm) dépasse la zone de découpe de "
                    f"{over[0]:.1f} x {over[1]:.1f} mm : {beds}.",
                    f"The drawing ({size[0]:.1f} x {size[1]:.1f} mm) is larger than the work area by "
                    f"{over[0]:.1f} x {over[1]:.1f} mm: {beds}.",
                ),
                Text(
                    "Réduisez-le ou répartissez les pièces sur plusieurs fichiers (plusieurs plaques).",
                    "Scale it down or spread the parts over several files (several sheets).",
                ),
                {"size_mm": _pt(size), "over_mm": [round(v, 2) for v in over]},
            )
        )
        return
    chosen = placements[report.fits[0]]
    if chosen.rotated:
        report.add(
            Finding(
                "DXF_ROTATED",
                W,
                Text(
                    f"Le dessin ne tient sur {report.fits[0]} que tourné d'un quart de tour : "
                    "il sera tourné.",
                    f"The drawing fits {report.fits[0]} only turned a quarter turn: it will be rotated.",
                ),
                location={"machine": report.fits[0]},
            )
        )
    elif chosen.moved and low.min() >= -0.001:
        beyond = high - np.array(
            [min(m.bed_x_mm for m in machines), min(m.bed_y_mm for m in machines)], dtype=np.float64
        )
        report.add(
            Finding(
                "DXF_BEYOND_BED",
                W,
                Text(
                    f"Le dessin est placé au-delà de la zone de découpe (jusqu'à {high[0]:.1f} ; "
                    f"{high[1]:.1f} mm) : il sera ramené à l'origine.",
                    f"The drawing lies beyond the work area (up to {high[0]:.1f}, {high[1]:.1f} mm): it "
                    "will be moved to the origin.",
                ),
                Text("Placez le coin bas-gauche en (0 ; 0).", "Put the lower-left corner at (0, 0)."),
                {"point": _pt(high), "by_mm": _pt(np.maximum(beyond, 0))},
            )
        )


def _unit_sanity(size: np.ndarray, report: Report) -> None:
    """A sheet part larger than 3 m or smaller than 1 mm was most likely drawn in other units."""
    biggest = float(size.max())
    scale = None
    if biggest > 3000:
        scale = next((s for s in (0.001, 0.01, 0.1, 1 / 25.4) if 5 <= biggest * s <= 1500), None)
    elif 0 < biggest < 1:
        scale = next((s for s in (25.4, 10.0, 1000.0) if 5 <= biggest * s <= 1500), None)
    if scale is None:
        return
    w, h = float(size[0]) * scale, float(size[1]) * scale
    report.add(
        Finding(
            "DXF_SUSPICIOUS_UNITS",
            W,
            Text(
                f"Taille improbable ({size[0]:.1f} x {size[1]:.1f} mm) : l'unité du fichier est sans doute "
                f"fausse. À l'échelle x{scale:g} le dessin ferait {w:.1f} x {h:.1f} mm.",
                f"Unlikely size ({size[0]:.1f} x {size[1]:.1f} mm): the file's unit is probably wrong. "
                f"Scaled x{scale:g} the drawing would be {w:.1f} x {h:.1f} mm.",
            ),
            Text(
                "Réglez l'unité du document sur millimètres et réexportez.",
                "Set the document unit to millimetres and export again.",
            ),
            {"scale": scale},
        )
    )
