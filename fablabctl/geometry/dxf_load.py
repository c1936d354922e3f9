"""Read a DXF safely and flatten everything cuttable into polylines in millimetres.

`ezdxf.readfile` first, `ezdxf.recover` when the file is damaged (and we say what it fixed). Blocks
are expanded through INSERTs with a depth limit, so a block that inserts itself cannot loop. Curves
(arcs, circles, ellipses, splines, bulges) are flattened to a chord tolerance of `FLATTEN_MM`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ezdxf.path
import numpy as np
from ezdxf import recover
from ezdxf.filemanagement import readfile
from ezdxf.lldxf.const import DXFError
from ezdxf.math import Matrix44
from numpy.typing import NDArray

from fablabctl.geometry.operations import LayerRules, Operation

FLATTEN_MM = 0.02
CURVES = frozenset({"LINE", "LWPOLYLINE", "POLYLINE", "ARC", "CIRCLE", "ELLIPSE", "SPLINE"})
TEXTS = frozenset({"TEXT", "MTEXT", "ATTRIB", "ATTDEF"})
SILENT = frozenset({"POINT", "DIMENSION", "VIEWPORT", "LEADER", "MLEADER", "SEQEND", "VERTEX", "ATTDEF"})
# $INSUNITS -> millimetres per drawing unit (0: unitless, assumed mm)
UNIT_MM = {
    0: 1.0,
    1: 25.4,
    2: 304.8,
    4: 1.0,
    5: 10.0,
    6: 1000.0,
    8: 0.0000254,
    9: 0.0254,
    10: 914.4,
    13: 0.001,
    14: 100.0,
}
UNIT_NAMES = {
    0: "sans unité",
    1: "inch",
    2: "feet",
    4: "mm",
    5: "cm",
    6: "m",
    8: "microinch",
    9: "mil",
    10: "yard",
    13: "µm",
    14: "dm",
}


class DxfLoadError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True, slots=True)
class Polyline:
    points: NDArray[np.float64]  # (n, 2) in mm
    closed: bool
    layer: str
    handle: str
    operation: Operation


@dataclass
class DxfDrawing:
    polylines: list[Polyline] = field(default_factory=list)
    texts: list[tuple[str, str, str]] = field(default_factory=list)  # (handle, layer, text)
    unsupported: Counter[str] = field(default_factory=Counter)
    unsupported_where: dict[str, tuple[str, str]] = field(default_factory=dict)  # type -> (handle, layer)
    insunits: int = 0
    scale: float = 1.0
    recovered_fixes: int = 0
    recovered_errors: int = 0
    entities: int = 0
    too_deep: list[str] = field(default_factory=list)  # block names cut short


def read_document(path: Path) -> tuple[Any, int, int]:
    """(doc, fixes, errors): recover only when plain reading fails.

    The file is untrusted: on garbage, ezdxf's parsers raise many exception types (StopIteration,
    IndexError, struct errors...). Any of them means "unreadable", never a crash of the service.
    """
    try:
        return readfile(str(path)), 0, 0
    except OSError as exc:
        raise DxfLoadError("DXF_UNREADABLE", str(exc)) from None
    except Exception:  # damaged file: try the recover loader next
        pass
    try:
        doc, auditor = recover.readfile(str(path))
    except Exception as exc:  # see above: everything means unreadable
        raise DxfLoadError("DXF_UNREADABLE", str(exc) or type(exc).__name__) from None
    return doc, len(auditor.fixes), len(auditor.errors)


INSUNITS_RAW = re.compile(rb"\$INSUNITS\s*\r?\n\s*70\s*\r?\n\s*(-?\d+)")
HEADER_SCAN_BYTES = 2 * 1024 * 1024


def declared_insunits(path: Path) -> int | None:
    """$INSUNITS as written in an ASCII DXF's header, or None when the file does not set it."""
    with path.open("rb") as stream:
        head = stream.read(HEADER_SCAN_BYTES)
    end = head.find(b"ENDSEC")
    match = INSUNITS_RAW.search(head, 0, end if end > 0 else len(head))
    return int(match.group(1)) if match else None


def _is_binary(path: Path) -> bool:
    with path.open("rb") as stream:
        return stream.read(22) == b"AutoCAD Binary DXF\r\n\x1a\x00"


def load_drawing(path: Path, *, rules: LayerRules, max_entities: int, max_depth: int) -> DxfDrawing:
    doc, fixes, errors = read_document(path)
    drawing = DxfDrawing(recovered_fixes=fixes, recovered_errors=errors)
    # ezdxf fills in a default ($INSUNITS=6, metres) when the file has none: read what the file says
    declared = declared_insunits(path)
    if declared is None and doc.header.get("$ACADVER") and _is_binary(path):
        declared = int(doc.header.get("$INSUNITS", 0) or 0)  # binary DXF: no text to read, trust ezdxf
    units = declared if declared is not None else 0
    drawing.insunits = units
    drawing.scale = UNIT_MM.get(units, 1.0)
    to_mm = Matrix44.scale(drawing.scale)
    layer_colours = {layer.dxf.name: abs(int(layer.dxf.color or 7)) for layer in doc.layers}
    for entity, depth_exceeded in _walk(doc.modelspace(), max_depth, 0):
        drawing.entities += 1
        if drawing.entities > max_entities:
            raise DxfLoadError("DXF_TOO_MANY_ENTITIES", str(max_entities))
        if depth_exceeded:
            drawing.too_deep.append(str(entity.dxf.get("name", "?")))
            continue
        try:
            _collect(entity, drawing, rules, layer_colours, to_mm)
        except DXFError:  # a damaged entity: reported as unusable, the rest of the drawing still counts
            kind = f"{entity.dxftype()} (abîmée / damaged)"
            drawing.unsupported[kind] += 1
            drawing.unsupported_where.setdefault(kind, (str(entity.dxf.get("handle", "?")), "?"))
    return drawing


def _walk(entities: Any, max_depth: int, depth: int) -> Iterator[tuple[Any, bool]]:
    for entity in entities:
        if entity.dxftype() == "INSERT":
            if depth >= max_depth:
                yield entity, True
                continue
            try:
                children = list(entity.virtual_entities())
            except Exception:  # ezdxf raises several types for broken blocks; the insert is reported unusable
                yield entity, False
                continue
            yield from _walk(children, max_depth, depth + 1)
        else:
            yield entity, False


def _colour(entity: Any, layer_colours: dict[str, int]) -> int:
    colour = int(entity.dxf.get("color", 256))
    if colour == 256:  # BYLAYER
        return layer_colours.get(entity.dxf.get("layer", "0"), 7)
    return colour


def _collect(
    entity: Any, drawing: DxfDrawing, rules: LayerRules, layer_colours: dict[str, int], to_mm: Matrix44
) -> None:
    kind = entity.dxftype()
    layer = str(entity.dxf.get("layer", "0"))
    handle = str(entity.dxf.get("handle", "?"))
    if kind in TEXTS:
        text = entity.plain_text() if hasattr(entity, "plain_text") else str(entity.dxf.get("text", ""))
        drawing.texts.append((handle, layer, str(text)[:60]))
        return
    if kind in SILENT:
        return
    if kind not in CURVES:
        drawing.unsupported[kind] += 1
        drawing.unsupported_where.setdefault(kind, (handle, layer))
        return
    operation = rules.operation(layer, _colour(entity, layer_colours))
    try:
        path = ezdxf.path.make_path(entity)
    except (TypeError, ValueError, ZeroDivisionError):
        drawing.unsupported[kind] += 1
        drawing.unsupported_where.setdefault(kind, (handle, layer))
        return
    for sub in path.sub_paths():
        points = np.array([(v.x, v.y) for v in sub.transform(to_mm).flattening(FLATTEN_MM)], dtype=np.float64)
        if len(points) < 2 or not np.isfinite(points).all():
            continue
        closed = bool(sub.is_closed) or _is_closed_entity(entity)
        if closed and np.allclose(points[0], points[-1]):
            points = points[:-1]
        if len(points) >= 2:
            drawing.polylines.append(Polyline(points, closed and len(points) >= 3, layer, handle, operation))


def _is_closed_entity(entity: Any) -> bool:
    kind = entity.dxftype()
    if kind == "CIRCLE":
        return True
    if kind == "LWPOLYLINE" or kind == "POLYLINE":
        return bool(entity.is_closed)
    if kind == "ELLIPSE":
        return abs(float(entity.dxf.end_param) - float(entity.dxf.start_param)) >= 6.2831
    if kind == "SPLINE":
        return bool(entity.closed)
    return False
