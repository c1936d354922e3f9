"""STL checks, in the order a trainer would look: can it be read, is it a closed solid, does it fit,
is it the right size, will it print (thin walls, overhangs)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import trimesh

from fablabctl.i18n import Text
from fablabctl.specs import MachineSpec
from fablabctl.validation.limits import ValidationLimits
from fablabctl.validation.report import Finding, Report, Severity
from fablabctl.validation.stl_parse import StlParseError, read_stl
from fablabctl.validation.stl_shape import (
    bed_fit,
    boundary_loops,
    duplicate_face_indices,
    edge_use,
    oriented,
    overhang_share,
    thin_wall_points,
    unit_guess,
)

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
MAX_LISTED = 20
FILLABLE_HOLE_EDGES = 32
OVERHANG_WARN_SHARE = 0.05
PLA_G_PER_CM3 = 1.24


def _pt(p: np.ndarray) -> list[float]:
    return [round(float(v), 2) for v in p]


def load_mesh(
    path: Path, *, binary: bool, limits: ValidationLimits, report: Report
) -> trimesh.Trimesh | None:
    try:
        raw = read_stl(path, binary=binary, max_triangles=limits.max_triangles)
    except StlParseError as exc:
        report.add(Finding(exc.code, E, exc.message, _REEXPORT, exc.location))
        return None
    report.metrics["triangles"] = len(raw.triangles)
    if len(raw.triangles) == 0:
        report.add(
            Finding(
                "STL_EMPTY",
                E,
                Text("Le fichier ne contient aucun triangle.", "The file has no triangles."),
                _REEXPORT,
            )
        )
        return None
    finite = np.isfinite(raw.triangles).all(axis=(1, 2))
    if not finite.all():
        bad = np.nonzero(~finite)[0]
        report.add(
            Finding(
                "STL_NON_FINITE",
                E,
                Text(
                    f"{len(bad)} triangles ont des coordonnées invalides (NaN ou infini).",
                    f"{len(bad)} triangles have invalid coordinates (NaN or infinity).",
                ),
                _REEXPORT,
                {"faces": bad[:MAX_LISTED].tolist()},
            )
        )
        return None
    count = len(raw.triangles)
    mesh = trimesh.Trimesh(
        vertices=raw.triangles.reshape(-1, 3),
        faces=np.arange(count * 3).reshape(-1, 3),
        process=True,
        validate=False,
    )
    computed = mesh.face_normals
    stored = raw.normals
    stored_len = np.linalg.norm(stored, axis=1)
    flipped = (stored_len > 0.5) & (np.einsum("ij,ij->i", stored, computed) < -0.5)
    if flipped.any():
        report.add(
            Finding(
                "STL_STORED_NORMALS_FLIPPED",
                W,
                Text(
                    f"{int(flipped.sum())} normales enregistrées contredisent l'ordre des sommets.",
                    f"{int(flipped.sum())} stored normals contradict the vertex order.",
                ),
                Text(
                    "Rien à faire : la préparation recalcule les normales depuis l'ordre des sommets.",
                    "Nothing to do: preparation recomputes the normals from the vertex order.",
                ),
                {"faces": np.nonzero(flipped)[0][:MAX_LISTED].tolist()},
                repairable=True,
            )
        )
    zero = stored_len < 1e-9
    if zero.all() or (zero.any() and zero.sum() >= 0.5 * len(zero)):
        report.add(
            Finding(
                "STL_ZERO_NORMALS",
                INFO,
                Text(
                    f"{int(zero.sum())} normales enregistrées sont nulles : la préparation recalcule les "
                    "normales depuis l'ordre des sommets avant de trancher.",
                    f"{int(zero.sum())} stored normals are zero: preparation recomputes the normals from "
                    "the vertex order before slicing.",
                ),
                location={"faces": np.nonzero(zero)[0][:MAX_LISTED].tolist()},
            )
        )
    return mesh


_REEXPORT = Text(
    "Réexportez le fichier depuis votre logiciel de modélisation (Fichier > Exporter > STL).",
    "Re-export the file from your modelling software (File > Export > STL).",
)


def check_faces(mesh: trimesh.Trimesh, report: Report) -> None:
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
                    "point": _pt(mesh.triangles_center[degenerate[0]]),
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
                    "point": _pt(mesh.triangles_center[duplicates[0]]),
                },
                repairable=True,
            )
        )


def check_closed(mesh: trimesh.Trimesh, report: Report) -> bool:
    """True when the mesh is a closed, consistently wound solid (volume is then meaningful)."""
    use = edge_use(mesh)
    loops = boundary_loops(use.open_edges)
    shared = use.shared_by_more
    if loops:
        points = [_pt(mesh.vertices[loop].mean(axis=0)) for loop in loops[:MAX_LISTED]]
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


def check_volume(mesh: trimesh.Trimesh, closed: bool, report: Report) -> None:
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
                _REEXPORT,
            )
        )


def check_size(mesh: trimesh.Trimesh, machines: Sequence[MachineSpec], report: Report) -> None:
    extents = [round(float(v), 2) for v in mesh.extents]
    dims = " x ".join(f"{v:g}" for v in extents)
    report.metrics["size_mm"] = extents
    guesses = unit_guess(max(extents))
    if guesses:
        options_fr = " ou ".join(
            f"x{scale:g} ({unit}) : {' x '.join(f'{v * scale:.1f}' for v in extents)} mm"
            for unit, scale in guesses
        )
        options_en = " or ".join(
            f"x{scale:g} ({unit}): {' x '.join(f'{v * scale:.1f}' for v in extents)} mm"
            for unit, scale in guesses
        )
        report.add(
            Finding(
                "STL_SUSPICIOUS_UNITS",
                W,
                Text(
                    f"La pièce mesure {dims} mm : elle a sans doute été dessinée dans une autre unité. "
                    f"À l'échelle {options_fr}.",
                    f"The part measures {dims} mm: it was probably modelled in another unit. "
                    f"Scaled {options_en}.",
                ),
                Text(
                    "Réexportez en millimètres, ou mettez à l'échelle dans le trancheur.",
                    "Export in millimetres, or scale it in the slicer.",
                ),
                {"size_mm": extents, "scales": [scale for _, scale in guesses]},
            )
        )
    if not machines:
        return
    fits = []
    for machine in machines:
        fit = bed_fit(mesh, machine)
        if fit.fits:
            fits.append(machine.name)
            if fit.rotation and len(machines) == 1:
                turn_fr, _, turn_en = fit.rotation.partition(" / ")
                report.add(
                    Finding(
                        "STL_NEEDS_ROTATION",
                        W,
                        Text(
                            f"La pièce ne rentre sur {machine.name} qu'après rotation : {turn_fr}.",
                            f"The part only fits {machine.name} once rotated: {turn_en}.",
                        ),
                        location={"machine": machine.name},
                    )
                )
    report.fits = fits
    if not fits:
        beds = ", ".join(f"{m.name} ({m.bed_x_mm:g}x{m.bed_y_mm:g}x{m.bed_z_mm:g})" for m in machines)
        report.add(
            Finding(
                "STL_TOO_LARGE_FOR_BED",
                E,
                Text(
                    f"La pièce ({dims} mm) ne rentre sur aucune imprimante, même tournée : {beds}.",
                    f"The part ({dims} mm) fits no printer, even rotated: {beds}.",
                ),
                Text(
                    "Coupez-la en morceaux à assembler, ou réduisez l'échelle.",
                    "Split it into parts, or scale it down.",
                ),
                {"size_mm": extents},
            )
        )


def check_printability(mesh: trimesh.Trimesh, machines: Sequence[MachineSpec], report: Report) -> None:
    nozzle = min((m.nozzle_mm for m in machines), default=0.4)
    thin = thin_wall_points(mesh, nozzle)
    if len(thin):
        report.add(
            Finding(
                "STL_THIN_WALLS",
                W,
                Text(
                    f"Des parois semblent plus fines que la buse ({nozzle:g} mm) : elles risquent de ne pas "
                    "s'imprimer (estimation par échantillonnage de la surface).",
                    f"Some walls look thinner than the nozzle ({nozzle:g} mm): they may not print "
                    "(estimated from surface samples).",
                ),
                Text(
                    f"Épaississez les parois à au moins {2 * nozzle:g} mm.",
                    f"Make walls at least {2 * nozzle:g} mm.",
                ),
                {"points": [_pt(p) for p in thin[:MAX_LISTED]], "samples_thin": len(thin)},
            )
        )
    share, where = overhang_share(mesh)
    report.metrics["overhang_share"] = round(share, 3)
    if share > OVERHANG_WARN_SHARE:
        report.add(
            Finding(
                "STL_OVERHANGS",
                W,
                Text(
                    f"{share:.0%} de la surface est en surplomb à plus de 45° : il faudra des supports.",
                    f"{share:.0%} of the surface overhangs beyond 45°: supports will be needed.",
                ),
                Text(
                    "Tournez la pièce pour poser sa plus grande face à plat, ou activez les supports.",
                    "Turn the part so its largest flat face is on the bed, or enable supports.",
                ),
                {"point": _pt(where)} if where is not None else {},
            )
        )


def validate_stl(
    path: Path, *, binary: bool, machines: Sequence[MachineSpec], limits: ValidationLimits
) -> Report:
    report = Report(file_type="stl")
    mesh = load_mesh(path, binary=binary, limits=limits, report=report)
    if mesh is None:
        return report
    check_faces(mesh, report)
    closed = check_closed(mesh, report)
    # mixed winding: measured as the slicer will see it (turned), the warning above says so
    check_volume(oriented(mesh) if closed and not mesh.is_winding_consistent else mesh, closed, report)
    report.metrics["surface_mm2"] = round(float(mesh.area), 2)
    check_size(mesh, machines, report)
    if closed:
        check_printability(oriented(mesh), machines, report)
    return report
