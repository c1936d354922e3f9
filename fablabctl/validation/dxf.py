"""DXF checks for the laser: readable, right units, only cuttable geometry, closed contours on cut
layers, nothing burnt twice, inside the bed; with the cut length per operation for the estimate.

This module reads the file and reports on the document (type, recovery, units, blocks, entities);
`dxf_shapes` reports on the geometry. Every finding has a stable code (see docs/laser.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from fablabctl.file_limits import ValidationLimits
from fablabctl.geometry.drawing import LoadedDrawing, load_drawing
from fablabctl.geometry.dxf_read import DxfLoadError
from fablabctl.geometry.flatten import Skipped
from fablabctl.geometry.gc_pause import gc_paused
from fablabctl.geometry.operations import LayerRules
from fablabctl.i18n import Text
from fablabctl.specs import DEFAULT_LASER, MachineSpec
from fablabctl.validation.dxf_shapes import shape_findings
from fablabctl.validation.report import Finding, Report, Severity

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
REEXPORT = Text(
    "Réexportez-le (Inkscape : Enregistrer sous > DXF R14 ; LibreCAD/FreeCAD : DXF R12 ou 2000).",
    "Export it again (Inkscape: Save as > DXF R14; LibreCAD/FreeCAD: DXF R12 or 2000).",
)
LOOKS_LIKE = {
    "zip": Text("une archive ZIP", "a ZIP archive"),
    "gzip": Text("une archive compressée", "a compressed archive"),
    "png": Text("une image PNG", "a PNG image"),
    "jpeg": Text("une photo JPEG", "a JPEG photo"),
    "gif": Text("une image GIF", "a GIF image"),
    "pdf": Text("un PDF", "a PDF"),
    "dwg": Text("un fichier DWG (format AutoCAD natif)", "a DWG file (AutoCAD's native format)"),
    "svg": Text("un dessin SVG", "an SVG drawing"),
    "xml": Text("un fichier XML", "an XML file"),
    "binary": Text("des données binaires", "binary data"),
    "text": Text("du texte", "plain text"),
    "empty": Text("un fichier vide", "an empty file"),
}


def validate_dxf(
    path: Path,
    *,
    machines: Sequence[MachineSpec] = (),
    limits: ValidationLimits = ValidationLimits(),
    rules: LayerRules | None = None,
) -> Report:
    """Everything a trainer would say about this DXF before it goes to the laser (never raises for bad
    input). With no machine given, `DEFAULT_LASER` is used; `report.fits` names the machines it fits."""
    report = Report(file_type="dxf")
    try:
        drawing = load_drawing(path, limits=limits, rules=rules)
    except DxfLoadError as exc:
        report.add(_load_error(exc, limits))
        return report
    report.metrics["entities"] = drawing.entities
    with gc_paused():
        _document_findings(drawing, report)
        shape_findings(drawing, list(machines) or [DEFAULT_LASER], report)
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
            Text(
                "Simplifiez le dessin ou répartissez-le sur plusieurs fichiers.",
                "Simplify the drawing or split it into several files.",
            ),
            exc.location,
        )
    if exc.code == "DXF_NOT_DXF":
        what = LOOKS_LIKE.get(exc.detail, LOOKS_LIKE["binary"])
        return Finding(
            exc.code,
            E,
            Text(
                f"Ce fichier n'est pas un DXF : il contient {what.fr}.",
                f"This file is not a DXF: it contains {what.en}.",
            ),
            Text(
                "Dans votre logiciel de dessin, choisissez Fichier > Exporter > DXF.",
                "In your drawing software, choose File > Export > DXF.",
            ),
            exc.location,
        )
    return Finding(
        "DXF_UNREADABLE",
        E,
        Text(
            "Ce fichier DXF est illisible, même en mode réparation : sa structure est abîmée.",
            "This DXF file cannot be read, even in repair mode: its structure is damaged.",
        ),
        REEXPORT,
    )


def _document_findings(drawing: LoadedDrawing, report: Report) -> None:
    _recovery(drawing, report)
    _units(drawing, report)
    _blocks(drawing, report)
    _skipped(drawing, report)


def _recovery(drawing: LoadedDrawing, report: Report) -> None:
    if drawing.decimal_commas:
        report.add(
            Finding(
                "DXF_DECIMAL_COMMAS",
                W,
                Text(
                    f"{drawing.decimal_commas} nombres sont écrits avec une virgule décimale (« 2,5 ») au "
                    "lieu d'un point : ils ont été lus comme tels (2,5 = 2.5). Vérifiez les dimensions.",
                    f"{drawing.decimal_commas} numbers are written with a decimal comma ('2,5') instead of "
                    "a point: they were read as such (2,5 = 2.5). Check the dimensions.",
                ),
                Text(
                    "Réexportez le DXF avec un point décimal (réglages régionaux du logiciel de dessin).",
                    "Export the DXF again with a decimal point (the drawing software's regional settings).",
                ),
                {"numbers": drawing.decimal_commas},
            )
        )
    if not drawing.recovered:
        return
    report.add(
        Finding(
            "DXF_RECOVERED",
            W,
            Text(
                f"Fichier abîmé, lu en mode réparation ({len(drawing.recovery_notes)} correction(s), "
                f"{drawing.unfixed_errors} erreur(s) non corrigée(s)) : vérifiez les dimensions et les "
                "contours de ce rapport.",
                f"Damaged file read in repair mode ({len(drawing.recovery_notes)} fix(es), "
                f"{drawing.unfixed_errors} unfixed error(s)): check the dimensions and contours in this "
                "report.",
            ),
            REEXPORT,
            {"fixes": list(drawing.recovery_notes), "errors": drawing.unfixed_errors},
        )
    )


def _units(drawing: LoadedDrawing, report: Report) -> None:
    units = drawing.units
    report.metrics["units"] = units.name
    if units.insunits == 0:
        imperial = units.measurement == 0
        report.add(
            Finding(
                "DXF_UNITLESS",
                W,
                Text(
                    "Le fichier ne dit pas son unité ($INSUNITS) : on suppose des millimètres."
                    + (" Attention : il se dit en système impérial (pouces ?)." if imperial else ""),
                    "The file does not state its unit ($INSUNITS): millimetres are assumed."
                    + (" Beware: it says it uses imperial measurement (inches?)." if imperial else ""),
                ),
                Text(
                    "Vérifiez les dimensions ci-dessous ; réglez les unités du document en mm.",
                    "Check the dimensions below; set the document units to mm.",
                ),
                {"insunits": None if not units.declared else 0, "measurement": units.measurement},
            )
        )
    elif units.insunits != 4:
        report.add(
            Finding(
                "DXF_UNITS_CONVERTED",
                INFO,
                Text(
                    f"Dessin en {units.name} : converti en millimètres (x{units.to_mm:g}).",
                    f"Drawing in {units.name}: converted to millimetres (x{units.to_mm:g}).",
                ),
                location={"insunits": units.insunits, "unit": units.name, "scale": units.to_mm},
            )
        )


def _blocks(drawing: LoadedDrawing, report: Report) -> None:
    if not drawing.blocks:
        return
    problem = drawing.blocks[0]
    if problem.recursive:
        message = Text(
            f"Le bloc « {problem.block} » s'insère lui-même : il ne peut pas être dessiné.",
            f"Block '{problem.block}' inserts itself: it cannot be drawn.",
        )
    else:
        message = Text(
            f"Le bloc « {problem.block} » est imbriqué trop profondément (plus de niveaux que permis).",
            f"Block '{problem.block}' is nested too deeply (more levels than allowed).",
        )
    report.add(
        Finding(
            "DXF_BLOCK_TOO_DEEP",
            E,
            message,
            Text("Éclatez les blocs dans votre logiciel.", "Explode the blocks in your software."),
            {
                "block": problem.block,
                "handle": problem.handle,
                "recursive": problem.recursive,
                "count": len(drawing.blocks),
            },
        )
    )


def _skipped(drawing: LoadedDrawing, report: Report) -> None:
    counts = Counter(s.kind for s in drawing.unsupported)
    first: dict[str, Skipped] = {}
    for skipped in drawing.unsupported:
        first.setdefault(skipped.kind, skipped)
    for kind, count in sorted(counts.items()):
        where = first[kind]
        fill = kind.split(" ")[0] in ("HATCH", "SOLID", "TRACE", "MPOLYGON")
        report.add(
            Finding(
                "DXF_UNSUPPORTED_ENTITY",
                W,
                Text(
                    f"{count} entité(s) {kind} ignorée(s) : le laser ne sait pas les suivre.",
                    f"{count} {kind} entit{'y' if count == 1 else 'ies'} ignored: the laser cannot "
                    "follow them.",
                ),
                Text(
                    "Mettez ce remplissage sur un calque de gravure (« gravure »), ou remplacez-le par des "
                    "contours."
                    if fill
                    else "Convertissez-les en contours (polylignes) dans votre logiciel.",
                    "Put this fill on an engrave layer ('engrave'), or replace it with outlines."
                    if fill
                    else "Convert them to outlines (polylines) in your software.",
                ),
                {"handle": where.handle, "layer": where.layer, "type": kind, "count": count},
            )
        )
    if drawing.texts:
        where = drawing.texts[0]
        report.add(
            Finding(
                "DXF_TEXT_NOT_OUTLINED",
                E,
                Text(
                    f"{len(drawing.texts)} texte(s) (ex. « {where.text} ») ne sont pas convertis en "
                    "contours : "
                    "le laser ne peut pas les découper ni les graver tels quels.",
                    f"{len(drawing.texts)} text(s) (e.g. '{where.text}') are not converted to outlines: the "
                    "laser cannot cut or engrave them as they are.",
                ),
                Text(
                    "Inkscape : Chemin > Objet en chemin ; LibreCAD : Outils > Éclater le texte ; "
                    "Fusion : Esquisse > Éclater le texte.",
                    "Inkscape: Path > Object to Path; LibreCAD: Tools > Explode Text; "
                    "Fusion: Sketch > Explode Text.",
                ),
                {"handle": where.handle, "layer": where.layer, "count": len(drawing.texts)},
            )
        )
    if drawing.fills:
        report.add(
            Finding(
                "DXF_FILL_ENGRAVED",
                INFO,
                Text(
                    f"{drawing.fills} remplissage(s) (HATCH) sur un calque de gravure : gravés en lignes "
                    "parallèles.",
                    f"{drawing.fills} fill(s) (HATCH) on an engrave layer: engraved as parallel lines.",
                ),
                location={"count": drawing.fills},
            )
        )
    report.metrics["ignored_entities"] = drawing.ignored
    report.metrics["operations"] = sorted({c.operation.value for c in drawing.contours})
