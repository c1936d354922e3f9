"""STL checks on the mesh's topology: flat and doubled triangles, holes, edges shared by more than two
faces, mixed winding, separate bodies, and the volume (only meaningful for a closed solid)."""

from __future__ import annotations

from typing import Any

import numpy as np

from fablabctl.i18n import Text
from fablabctl.validation.report import Finding, Report
from fablabctl.validation.stl_load import INFO, MAX_LISTED, REEXPORT, E, W, pt
from fablabctl.validation.stl_shape import boundary_loops, duplicate_face_indices, edge_use

FILLABLE_HOLE_EDGES = 32
PLA_G_PER_CM3 = 1.24


def check_faces(mesh: Any, report: Report) -> None:
    degenerate = np.nonzero(mesh.area_faces < 1e-12)[0]
    if len(degenerate):
        report.add(
            Finding(
                "STL_DEGENERATE_FACES",
                W,
                Text(
                    f"{len(degenerate)} triangles sont aplatis (surface nulle).",
                    f"{len(degenerate)} triangles are flat (zero area).",
                ),
                Text(
                    "Réparation automatique possible : ils seront supprimés.",
                    "Can be repaired: they will be removed.",
                ),
                {
                    "faces": degenerate[:MAX_LISTED].tolist(),
                    "point": pt(mesh.triangles_center[degenerate[0]]),
                },
                repairable=True,
            )
        )
    duplicates = duplicate_face_indices(mesh.faces)
    if len(duplicates):
        report.add(
            Finding(
                "STL_DUPLICATE_FACES",
                W,
                Text(
                    f"{len(duplicates)} triangles sont en double.",
                    f"{len(duplicates)} triangles are duplicated.",
                ),
                Text("Réparation automatique possible.", "Can be repaired automatically."),
                {
                    "faces": duplicates[:MAX_LISTED].tolist(),
                    "point": pt(mesh.triangles_center[duplicates[0]]),
                },
                repairable=True,
            )
        )


def check_closed(mesh: Any, report: Report) -> bool:
    """True when the mesh is a closed, consistently wound solid (volume is then meaningful)."""
    use = edge_use(mesh)
    loops = boundary_loops(use.open_edges)
    shared = use.shared_by_more
    if loops:
        points = [pt(mesh.vertices[loop].mean(axis=0)) for loop in loops[:MAX_LISTED]]
        small = all(len(loop) <= FILLABLE_HOLE_EDGES for loop in loops)
        report.add(
            Finding(
                "STL_NOT_WATERTIGHT",
                E,
                Text(
                    f"Le maillage n'est pas fermé : {len(loops)} trou(s). "
                    "L'imprimante ne saura pas ce qui est plein ou vide.",
                    f"The mesh is not closed: {len(loops)} hole(s). "
                    "The printer cannot tell inside from outside.",
                ),
                Text(
                    "Petits trous : réparation automatique possible. Sinon, fermez le volume dans "
                    "votre logiciel (ex. Meshmixer « Inspector », ou exporter un solide, pas une surface).",
                    "Small holes can be repaired automatically. Otherwise close the volume in your software "
                    "(e.g. Meshmixer 'Inspector', or export a solid, not a surface).",
                ),
                {"holes": len(loops), "points": points, "hole_edges": [len(lp) for lp in loops[:MAX_LISTED]]},
                repairable=small,
            )
        )
    if shared:
        report.add(
            Finding(
                "STL_NON_MANIFOLD",
                E,
                Text(
                    f"{shared} arêtes sont partagées par plus de deux triangles (géométrie non-manifold).",
                    f"{shared} edges are shared by more than two triangles (non-manifold geometry).",
                ),
                Text(
                    "Séparez les pièces qui se touchent par une arête, ou fusionnez-les en un seul solide.",
                    "Separate parts touching along an edge, or merge them into one solid.",
                ),
                {"edges": shared},
            )
        )
    if not mesh.is_winding_consistent:
        report.add(
            Finding(
                "STL_INCONSISTENT_WINDING",
                W,
                Text(
                    "L'orientation des triangles est incohérente : certaines faces sont à l'envers. "
                    "La préparation les retourne avant de trancher, comme tout trancheur.",
                    "Triangle orientation is inconsistent: some faces are inside out. "
                    "Preparation turns them before slicing, as every slicer does.",
                ),
                Text(
                    "Rien à faire pour imprimer ; réparation automatique possible pour un fichier propre.",
                    "Nothing to do to print; an automatic repair gives a clean file.",
                ),
                repairable=True,
            )
        )
    return not loops and not shared


def check_volume(mesh: Any, closed: bool, report: Report) -> None:
    bodies = int(mesh.body_count)
    report.metrics["bodies"] = bodies
    if bodies > 1:
        report.add(
            Finding(
                "STL_MULTIPLE_BODIES",
                INFO,
                Text(
                    f"Le fichier contient {bodies} pièces séparées : elles seront imprimées ensemble.",
                    f"The file holds {bodies} separate parts: they will be printed together.",
                ),
                location={"bodies": bodies},
            )
        )
    if not closed:
        return
    volume = float(mesh.volume)
    report.metrics["volume_mm3"] = round(abs(volume), 3)
    report.metrics["filament_g_if_solid"] = round(abs(volume) / 1000 * PLA_G_PER_CM3, 1)
    if volume < 0:
        report.add(
            Finding(
                "STL_INVERTED_NORMALS",
                W,
                Text(
                    "Le solide est « retourné » : toutes ses faces pointent vers l'intérieur. "
                    "La préparation le retourne avant de trancher, comme tout trancheur.",
                    "The solid is inside out: all its faces point inwards. "
                    "Preparation turns it before slicing, as every slicer does.",
                ),
                Text(
                    "Rien à faire pour imprimer ; réparation automatique possible pour un fichier propre.",
                    "Nothing to do to print; an automatic repair gives a clean file.",
                ),
                repairable=True,
            )
        )
    if abs(volume) < 1e-6:
        report.add(
            Finding(
                "STL_ZERO_VOLUME",
                E,
                Text("Le solide n'a pas de volume.", "The solid has no volume."),
                REEXPORT,
            )
        )
