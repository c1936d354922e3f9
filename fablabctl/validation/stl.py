"""STL checks, in the order a trainer would look: can it be read, is it a closed solid, does it fit,
is it the right size, will it print (thin walls, overhangs).

Reading is `stl_load` (a light merged mesh, not a full trimesh object: a million triangles are
checked in about the time trimesh takes to load them), topology `stl_topology`, size and
printability `stl_fit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fablabctl.file_limits import ValidationLimits
from fablabctl.specs import MachineSpec
from fablabctl.validation.report import Report
from fablabctl.validation.stl_fit import check_printability, check_size
from fablabctl.validation.stl_load import load_mesh, read_mesh
from fablabctl.validation.stl_shape import oriented
from fablabctl.validation.stl_topology import check_closed, check_faces, check_volume

__all__ = ["load_mesh", "validate_stl"]


def validate_stl(
    path: Path, *, binary: bool, machines: Sequence[MachineSpec], limits: ValidationLimits
) -> Report:
    report = Report(file_type="stl")
    mesh = read_mesh(path, binary=binary, limits=limits, report=report)
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
