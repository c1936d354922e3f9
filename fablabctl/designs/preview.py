"""What a page needs to draw a design and its problems on it: mesh triangles and the edges of its holes
and flipped faces (STL), contours by operation with open ends, doubles and the bed (DXF).

Plain data only (lists, numbers, bytes): the web page draws them, this module decides nothing new. The
problems are the validation report's own; this adds the geometry that shows *where* they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fablabctl.file_limits import ValidationLimits
from fablabctl.specs import DEFAULT_LASER, DEFAULT_PRINTER, MachineSpec
from fablabctl.validation.report import Report

MAX_EDGES = 20_000
MAX_FLIPPED = 5_000
MAX_VIEW_TRIANGLES = 400_000
MAX_SVG_POINTS = 200_000


def _bed(machines: list[MachineSpec], kind: str, size: np.ndarray | None) -> MachineSpec:
    """The machine the page draws: the smallest of that kind the part fits on, else the largest."""
    candidates = sorted((m for m in machines if m.kind == kind), key=lambda m: m.bed_x_mm * m.bed_y_mm)
    if not candidates:
        return DEFAULT_PRINTER if kind == "printer" else DEFAULT_LASER
    if size is not None:
        for machine in candidates:
            if size[0] <= machine.bed_x_mm and size[1] <= machine.bed_y_mm:
                return machine
    return candidates[-1]


def _mesh(path: Path, limits: ValidationLimits) -> Any:
    from fablabctl.validation.sniff import detect_type
    from fablabctl.validation.stl import load_mesh

    kind = detect_type(path)
    if not kind.startswith("stl"):
        return None
    return load_mesh(path, binary=kind == "stl_binary", limits=limits, report=Report(file_type="stl"))


def stl_triangles(path: Path, limits: ValidationLimits) -> bytes:
    """The triangles as little-endian float32 x,y,z (9 per triangle), thinned out for very big meshes."""
    mesh = _mesh(path, limits)
    if mesh is None:
        return b""
    triangles = mesh.triangles
    if len(triangles) > MAX_VIEW_TRIANGLES:
        triangles = triangles[:: int(np.ceil(len(triangles) / MAX_VIEW_TRIANGLES))]
    return np.ascontiguousarray(triangles, dtype="<f4").tobytes()


def stl_problems(path: Path, limits: ValidationLimits, machines: list[MachineSpec]) -> dict[str, Any]:
    """Hole edges, faces wound against their neighbours, the box of the part and the bed it goes on."""
    import trimesh

    from fablabctl.validation.stl_shape import edge_use

    mesh = _mesh(path, limits)
    if mesh is None:
        return {"readable": False}
    open_edges = edge_use(mesh).open_edges
    hole_edges = mesh.vertices[open_edges[:MAX_EDGES]].reshape(-1).round(3).tolist()
    flipped: list[float] = []
    inverted = False
    if not mesh.is_winding_consistent:
        fixed = mesh.copy()
        trimesh.repair.fix_winding(fixed)  # type: ignore[no-untyped-call]
        changed = np.nonzero((fixed.faces != mesh.faces).any(axis=1))[0]
        # the smaller side of the disagreement is the one that is "wrong"
        if len(changed) > len(mesh.faces) / 2:
            changed = np.setdiff1d(np.arange(len(mesh.faces)), changed)
        flipped = mesh.triangles[changed[:MAX_FLIPPED]].reshape(-1).round(3).tolist()
    elif mesh.is_watertight and mesh.volume < 0:
        inverted = True
    low, high = mesh.bounds
    bed = _bed(machines, "printer", high - low)
    return {
        "readable": True,
        "triangles": len(mesh.faces),
        "shown_triangles": min(len(mesh.faces), MAX_VIEW_TRIANGLES),
        "hole_edges": hole_edges,
        "hole_edge_count": len(open_edges),
        "flipped_triangles": flipped,
        "inverted": inverted,
        "box": {"min": low.round(3).tolist(), "max": high.round(3).tolist()},
        "bed": {"name": bed.name, "size": [bed.bed_x_mm, bed.bed_y_mm, bed.bed_z_mm]},
    }


@dataclass
class SvgPath:
    d: str
    operation: str
    closed: bool
    layer: str
    outside: bool = False


@dataclass
class SvgMarker:
    number: int
    x: float
    y: float
    code: str
    severity: str
    message: str
    end: tuple[float, float] | None = None


@dataclass
class DrawingView:
    """A DXF ready for an SVG: page coordinates (y down) in mm, paths by operation, numbered markers."""

    width: float
    height: float
    bed: tuple[float, float, float, float]  # x, y, w, h in page coordinates
    bed_name: str
    paths: list[SvgPath] = field(default_factory=list)
    markers: list[SvgMarker] = field(default_factory=list)
    readable: bool = True
    marker_radius: float = 2.0
    operations: list[str] = field(default_factory=list)


def dxf_view(
    path: Path, limits: ValidationLimits, machines: list[MachineSpec], report: dict[str, Any]
) -> DrawingView:
    """The drawing as the laser sees it, with the report's located findings as numbered markers."""
    from fablabctl.geometry.drawing import load_drawing
    from fablabctl.geometry.dxf_read import DxfLoadError

    try:
        drawing = load_drawing(path, limits=limits)
    except DxfLoadError:
        return DrawingView(1, 1, (0, 0, 0, 0), "", readable=False)
    extents = drawing.extents
    size = extents.size if extents is not None else None
    bed = _bed(machines, "laser", size)
    bed_xy = np.array([bed.bed_x_mm, bed.bed_y_mm])
    low = np.minimum(extents.low if extents is not None else np.zeros(2), 0.0)
    high = extents.high if extents is not None else bed_xy
    if (size is None) or bool((size > bed_xy * 0.4).any()) or bool((high > bed_xy).any()):
        high = np.maximum(high, bed_xy)  # a big (or too big) drawing: show the whole bed around it
    span = high - low
    pad = float(max(span.max() * 0.04, 2.0))
    x0, y_top = float(low[0]) - pad, float(high[1]) + pad

    def page(x: float, y: float) -> tuple[float, float]:
        return round(x - x0, 2), round(y_top - y, 2)

    view = DrawingView(
        width=round(float(span[0]) + 2 * pad, 2),
        height=round(float(span[1]) + 2 * pad, 2),
        bed=(*page(0.0, bed.bed_y_mm), bed.bed_x_mm, bed.bed_y_mm),
        bed_name=bed.name,
        marker_radius=round(float(span.max()) * 0.012 + 0.5, 2),
    )
    budget = MAX_SVG_POINTS
    step = max(1, int(np.ceil(sum(len(c.points) for c in drawing.contours) / budget)))
    for contour in drawing.contours:
        pts = contour.points[::step] if len(contour.points) > 3 * step else contour.points
        xs = np.round(pts[:, 0] - x0, 2)
        ys = np.round(y_top - pts[:, 1], 2)
        d = "M" + " L".join(f"{x:g} {y:g}" for x, y in zip(xs.tolist(), ys.tolist(), strict=True))
        outside = bool(
            contour.points.min(axis=0).min() < -0.01
            or contour.points[:, 0].max() > bed.bed_x_mm + 0.01
            or contour.points[:, 1].max() > bed.bed_y_mm + 0.01
        )
        view.paths.append(
            SvgPath(
                d + (" Z" if contour.closed else ""),
                contour.operation.value,
                contour.closed,
                contour.layer,
                outside,
            )
        )
    view.operations = sorted({p.operation for p in view.paths})
    number = 0
    for finding in report.get("findings", []):
        location = finding.get("location") or {}
        point = location.get("point")
        if not (isinstance(point, list) and len(point) >= 2):
            continue
        number += 1
        end = location.get("end")
        view.markers.append(
            SvgMarker(
                number,
                *page(float(point[0]), float(point[1])),
                code=finding.get("code", ""),
                severity=finding.get("severity", ""),
                message=finding.get("message", ""),
                end=page(float(end[0]), float(end[1])) if isinstance(end, list) and len(end) >= 2 else None,
            )
        )
    return view
