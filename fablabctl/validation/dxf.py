"""DXF checks for the laser: readable, right units, only cuttable geometry, closed contours on cut
layers, nothing burnt twice, inside the bed; with the cut length per operation for the estimate."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fablabctl.geometry.contours import Contour, chain, nest
from fablabctl.geometry.dxf_load import UNIT_NAMES, DxfDrawing, DxfLoadError, Polyline, load_drawing
from fablabctl.geometry.operations import LayerRules, Operation
from fablabctl.i18n import Text
from fablabctl.specs import MachineSpec
from fablabctl.validation.limits import ValidationLimits
from fablabctl.validation.report import Finding, Report, Severity

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
TINY_MM = 0.05
MAX_LISTED = 20
ENGRAVE_OK = frozenset({"HATCH", "SOLID"})  # fills: only meaningful on engrave layers, and we do not raster


def _pt(p: np.ndarray) -> list[float]:
    return [round(float(v), 2) for v in p]


def validate_dxf(
    path: Path, *, machines: Sequence[MachineSpec], limits: ValidationLimits, rules: LayerRules | None = None
) -> Report:
    report = Report(file_type="dxf")
    try:
        drawing = load_drawing(
            path,
            rules=rules or LayerRules(),
            max_entities=limits.max_dxf_entities,
            max_depth=limits.max_block_depth,
        )
    except DxfLoadError as exc:
        report.add(_load_error(exc, limits))
        return report
    _document_findings(drawing, report)
    contours = nest(chain(drawing.polylines))
    report.metrics["entities"] = drawing.entities
    _duplicates(drawing.polylines, report)
    _contour_findings(contours, report)
    _extent_findings(contours, machines, report)
    return report


def _load_error(exc: DxfLoadError, limits: ValidationLimits) -> Finding:
    if exc.code == "DXF_TOO_MANY_ENTITIES":
        return Finding(
            exc.code,
            E,
            Text(
                f"Plus de {limits.max_dxf_entities} entités : fichier refusé.",
                f"More than {limits.max_dxf_entities} entities: file refused.",
            ),
            Text("Simplifiez le dessin.", "Simplify the drawing."),
        )
    return Finding(
        "DXF_UNREADABLE",
        E,
        Text(
            f"Ce fichier DXF est illisible, même en mode réparation : {exc.detail[:200]}",
            f"This DXF file cannot be read, even in repair mode: {exc.detail[:200]}",
        ),
        Text(
            "Réexportez-le (Inkscape : Enregistrer sous > DXF R14 ; LibreCAD/FreeCAD : DXF R12 ou 2000).",
            "Export it again (Inkscape: Save as > DXF R14; LibreCAD/FreeCAD: DXF R12 or 2000).",
        ),
    )


def _document_findings(drawing: DxfDrawing, report: Report) -> None:
    if drawing.recovered_fixes or drawing.recovered_errors:
        report.add(
            Finding(
                "DXF_RECOVERED",
                W,
                Text(
                    f"Fichier abîmé, lu en mode réparation ({drawing.recovered_fixes} corrections, "
                    f"{drawing.recovered_errors} erreurs non corrigées) : vérifiez l'aperçu.",
                    f"Damaged file read in repair mode ({drawing.recovered_fixes} fixes, "
                    f"{drawing.recovered_errors} unfixed errors): check the preview.",
                ),
                location={"fixes": drawing.recovered_fixes, "errors": drawing.recovered_errors},
            )
        )
    units = drawing.insunits
    report.metrics["units"] = UNIT_NAMES.get(units, str(units))
    if units == 0:
        report.add(
            Finding(
                "DXF_UNITLESS",
                W,
                Text(
                    "Le fichier ne dit pas son unité ($INSUNITS) : on suppose des millimètres.",
                    "The file does not state its unit ($INSUNITS): millimetres are assumed.",
                ),
                Text(
                    "Vérifiez les dimensions ci-dessous ; réglez les unités du document en mm.",
                    "Check the dimensions below; set the document units to mm.",
                ),
            )
        )
    elif units != 4:
        name = UNIT_NAMES.get(units, str(units))
        report.add(
            Finding(
                "DXF_UNITS_CONVERTED",
                INFO,
                Text(
                    f"Dessin en {name} : converti en millimètres (x{drawing.scale:g}).",
                    f"Drawing in {name}: converted to millimetres (x{drawing.scale:g}).",
                ),
                location={"insunits": units, "scale": drawing.scale},
            )
        )
    for kind, count in sorted(drawing.unsupported.items()):
        handle, layer = drawing.unsupported_where[kind]
        report.add(
            Finding(
                "DXF_UNSUPPORTED_ENTITY",
                W,
                Text(
                    f"{count} entité(s) {kind} ignorée(s) : le laser ne sait pas les suivre.",
                    f"{count} {kind} entit{'y' if count == 1 else 'ies'} ignored: the laser cannot follow "
                    "them.",
                ),
                Text(
                    "Convertissez-les en contours (polylignes)."
                    if kind not in ENGRAVE_OK
                    else "Remplacez le remplissage par des contours, ou gravez une image à part.",
                    "Convert them to outlines (polylines)."
                    if kind not in ENGRAVE_OK
                    else "Replace the fill with outlines, or engrave a separate image.",
                ),
                {"handle": handle, "layer": layer, "count": count},
            )
        )
    if drawing.texts:
        handle, layer, text = drawing.texts[0]
        report.add(
            Finding(
                "DXF_TEXT_NOT_OUTLINED",
                E,
                Text(
                    f"{len(drawing.texts)} texte(s) (ex. « {text} ») ne sont pas convertis en contours : "
                    "le laser ne peut pas les découper ni les graver tels quels.",
                    f"{len(drawing.texts)} text(s) (e.g. '{text}') are not converted to outlines: the "
                    "laser cannot cut or engrave them as they are.",
                ),
                Text(
                    "Inkscape : Chemin > Objet en chemin ; LibreCAD : Outils > Éclater le texte.",
                    "Inkscape: Path > Object to Path; LibreCAD: Tools > Explode Text.",
                ),
                {"handle": handle, "layer": layer, "count": len(drawing.texts)},
            )
        )
    if drawing.too_deep:
        report.add(
            Finding(
                "DXF_BLOCK_TOO_DEEP",
                E,
                Text(
                    "Un bloc s'insère lui-même ou est imbriqué trop profondément "
                    f"(« {drawing.too_deep[0]} »).",
                    f"A block inserts itself or is nested too deeply ('{drawing.too_deep[0]}').",
                ),
                Text("Éclatez les blocs dans votre logiciel.", "Explode the blocks in your software."),
                {"block": drawing.too_deep[0]},
            )
        )


def _duplicates(polylines: list[Polyline], report: Report) -> None:
    segments: Counter[tuple[int, ...]] = Counter()
    first_at: dict[tuple[int, ...], tuple[str, str]] = {}
    tiny = 0
    tiny_where: tuple[str, str] | None = None
    for poly in polylines:
        if poly.operation is Operation.IGNORE:
            continue
        pts = np.vstack([poly.points, poly.points[:1]]) if poly.closed else poly.points
        keys = np.round(pts / 0.01).astype(np.int64)
        lengths = np.linalg.norm(np.diff(pts, axis=0), axis=1)
        small = lengths < TINY_MM
        if small.any():
            tiny += int(small.sum())
            tiny_where = tiny_where or (poly.handle, poly.layer)
        for a, b in itertools.pairwise(keys):
            key = tuple(sorted((tuple(a), tuple(b))))
            flat = (*key[0], *key[1])
            segments[flat] += 1
            first_at.setdefault(flat, (poly.handle, poly.layer))
    doubled = [k for k, n in segments.items() if n > 1 and k[:2] != k[2:]]
    if doubled:
        handle, layer = first_at[doubled[0]]
        report.add(
            Finding(
                "DXF_DUPLICATE_SEGMENTS",
                W,
                Text(
                    f"{len(doubled)} segments sont tracés en double : le laser brûlerait deux fois.",
                    f"{len(doubled)} segments are drawn twice: the laser would burn twice.",
                ),
                Text(
                    "Supprimez les doublons (LibreCAD : Outils > Supprimer les doublons).",
                    "Delete the duplicates (e.g. 'Overkill' in AutoCAD).",
                ),
                {
                    "handle": handle,
                    "layer": layer,
                    "point": [doubled[0][0] * 0.01, doubled[0][1] * 0.01],
                    "count": len(doubled),
                },
            )
        )
    if tiny and tiny_where:
        report.add(
            Finding(
                "DXF_TINY_SEGMENTS",
                INFO,
                Text(
                    f"{tiny} segments font moins de {TINY_MM} mm (souvent des restes d'export).",
                    f"{tiny} segments are shorter than {TINY_MM} mm (often export leftovers).",
                ),
                location={"handle": tiny_where[0], "layer": tiny_where[1], "count": tiny},
            )
        )


def _contour_findings(contours: list[Contour], report: Report) -> None:
    cuttable = [c for c in contours if c.operation is not Operation.IGNORE]
    if not cuttable:
        report.add(
            Finding(
                "DXF_EMPTY",
                E,
                Text("Rien à découper ou graver dans ce fichier.", "Nothing to cut or engrave in this file."),
                Text(
                    "Vérifiez que le dessin n'est pas sur un calque ignoré ou dans un bloc non inséré.",
                    "Check the drawing is not on an ignored layer or in a block never inserted.",
                ),
            )
        )
        return
    open_cuts = [c for c in cuttable if c.operation is Operation.CUT and not c.closed]
    for contour in open_cuts[:MAX_LISTED]:
        x0, y0 = float(contour.points[0][0]), float(contour.points[0][1])
        report.add(
            Finding(
                "DXF_OPEN_CONTOUR",
                E,
                Text(
                    f"Contour ouvert sur le calque de découpe « {contour.layer} » : "
                    f"écart de {contour.gap:.2f} mm près de ({x0:.1f} ; {y0:.1f}). "
                    "La pièce ne tomberait pas.",
                    f"Open contour on cut layer '{contour.layer}': {contour.gap:.2f} mm gap near "
                    f"({x0:.1f}, {y0:.1f}). The part would not drop.",
                ),
                Text(
                    "Fermez le contour (joindre les extrémités), ou mettez ce trait sur un calque de "
                    "marquage s'il ne doit pas découper.",
                    "Close the contour (join the ends), or move the line to a score layer if it must "
                    "not cut through.",
                ),
                {
                    "handle": contour.handles[0],
                    "layer": contour.layer,
                    "point": _pt(contour.points[0]),
                    "end": _pt(contour.points[-1]),
                    "gap_mm": round(contour.gap, 3),
                },
            )
        )
    if len(open_cuts) > MAX_LISTED:
        report.metrics["open_contours_not_listed"] = len(open_cuts) - MAX_LISTED
    holes = sum(1 for c in cuttable if c.closed and c.depth % 2 == 1)
    report.metrics.update(
        {"contours": len(cuttable), "closed_contours": sum(c.closed for c in cuttable), "holes": holes}
    )
    if holes:
        report.add(
            Finding(
                "DXF_NESTED_CONTOURS",
                INFO,
                Text(
                    f"{holes} contour(s) intérieur(s) (trous) : ils seront découpés avant leur contour.",
                    f"{holes} inner contour(s) (holes): they will be cut before their outline.",
                ),
                location={"holes": holes},
            )
        )
    per_op: dict[str, float] = defaultdict(float)
    for contour in cuttable:
        per_op[contour.operation.value] += contour.length
    report.metrics["length_mm"] = {op: round(v, 1) for op, v in sorted(per_op.items())}
    report.metrics["cut_length_mm"] = round(per_op.get(Operation.CUT.value, 0.0), 1)


def _extent_findings(contours: list[Contour], machines: Sequence[MachineSpec], report: Report) -> None:
    cuttable = [c.points for c in contours if c.operation is not Operation.IGNORE]
    if not cuttable:
        return
    pts = np.vstack(cuttable)
    low, high = pts.min(axis=0), pts.max(axis=0)
    size = high - low
    report.metrics["size_mm"] = [round(float(size[0]), 2), round(float(size[1]), 2)]
    report.metrics["bounds_mm"] = [_pt(low), _pt(high)]
    report.metrics["sheet_cm2"] = round(float(size[0] * size[1]) / 100, 1)
    _unit_sanity(size, report)
    if (low < -0.01).any():
        report.add(
            Finding(
                "DXF_NEGATIVE_COORDINATES",
                W,
                Text(
                    "Une partie du dessin est en coordonnées négatives : il sera décalé vers l'origine "
                    "de la machine.",
                    "Part of the drawing has negative coordinates: it will be moved to the machine's origin.",
                ),
                location={"point": _pt(low)},
            )
        )
    if not machines:
        return
    fits = [m.name for m in machines if _fits(size, m)]
    report.fits = fits
    if not fits:
        beds = ", ".join(f"{m.name} ({m.bed_x_mm:g}x{m.bed_y_mm:g})" for m in machines)
        report.add(
            Finding(
                "DXF_OUTSIDE_BED",
                E,
                Text(
                    f"Le dessin ({size[0]:.1f} x {size[1]:.1f} mm) dépasse la zone de découpe : {beds}.",
                    f"The drawing ({size[0]:.1f} x {size[1]:.1f} mm) is larger than the work area: {beds}.",
                ),
                Text(
                    "Réduisez-le ou répartissez les pièces sur plusieurs fichiers (plusieurs plaques).",
                    "Scale it down or spread the parts over several files (several sheets).",
                ),
                {"size_mm": [round(float(size[0]), 2), round(float(size[1]), 2)]},
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
                f"Taille improbable ({size[0]:.1f} x {size[1]:.1f} mm) : l'unité du fichier est "
                f"sans doute fausse. À l'échelle x{scale:g} le dessin ferait {w:.1f} x {h:.1f} mm.",
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


def _fits(size: np.ndarray, machine: MachineSpec) -> bool:
    w, h = float(size[0]), float(size[1])
    return (w <= machine.bed_x_mm and h <= machine.bed_y_mm) or (
        h <= machine.bed_x_mm and w <= machine.bed_y_mm
    )
