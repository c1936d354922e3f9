"""Reading an STL for the checks: triangles to a merged `Mesh`, with the findings that belong to the
file itself (unreadable, empty, invalid coordinates, stored normals that contradict the vertices).

A binary file's float32 values are kept as stored until the vertices are merged: a million-triangle
file then costs its own size again in memory, not three times that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fablabctl.file_limits import ValidationLimits
from fablabctl.i18n import Text
from fablabctl.validation.report import Finding, Report, Severity
from fablabctl.validation.stl_mesh import Mesh
from fablabctl.validation.stl_parse import StlParseError, read_stl

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
MAX_LISTED = 20
REEXPORT = Text(
    "Réexportez le fichier depuis votre logiciel de modélisation (Fichier > Exporter > STL).",
    "Re-export the file from your modelling software (File > Export > STL).",
)


def pt(p: np.ndarray) -> list[float]:
    return [round(float(v), 2) for v in p]


def read_mesh(path: Path, *, binary: bool, limits: ValidationLimits, report: Report) -> Mesh | None:
    """The merged mesh, or None (with the finding that says why) when there is nothing to check."""
    try:
        raw = read_stl(path, binary=binary, max_triangles=limits.max_triangles, as_stored=True)
    except StlParseError as exc:
        report.add(Finding(exc.code, E, exc.message, REEXPORT, exc.location))
        return None
    report.metrics["triangles"] = len(raw.triangles)
    if len(raw.triangles) == 0:
        report.add(
            Finding(
                "STL_EMPTY",
                E,
                Text("Le fichier ne contient aucun triangle.", "The file has no triangles."),
                REEXPORT,
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
                REEXPORT,
                {"faces": bad[:MAX_LISTED].tolist()},
            )
        )
        return None
    corners, stored = raw.triangles, raw.normals
    del raw, finite
    mesh = Mesh.from_corners(corners)
    del corners  # freed before the checks allocate
    _stored_normals(np.asarray(stored, dtype=np.float64), mesh.face_normals, report)
    return mesh


def load_mesh(path: Path, *, binary: bool, limits: ValidationLimits, report: Report) -> Any:
    """The same mesh as a `trimesh.Trimesh` (the design pages draw it and fix its winding)."""
    mesh = read_mesh(path, binary=binary, limits=limits, report=report)
    return None if mesh is None else mesh.to_trimesh()


def _stored_normals(stored: np.ndarray, computed: np.ndarray, report: Report) -> None:
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
