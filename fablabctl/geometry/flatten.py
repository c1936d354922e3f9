"""Walk a DXF's modelspace, expand blocks, and flatten every supported entity to polylines in mm.

A chord never strays more than 0.02 mm (`FLATTEN_MM`) from the true curve, well below a laser's kerf
(0.1-0.2 mm). ARCs, CIRCLEs, bulged LWPOLYLINEs and cubic SPLINEs (ezdxf's exact Bézier pieces) are
only read during the walk and flattened together at its end (`curve_batch`: arcs on the true circle,
a few numpy passes for the whole drawing); ELLIPSEs, POLYLINEs, rational or non-cubic SPLINEs and
tilted arcs go through `ezdxf.path.make_path` one at a time. Only absurdly large curves get a coarser,
relative tolerance (`chord.chord_distance`), so that a hostile file cannot ask for billions of points.
LINEs and bulge-free LWPOLYLINEs are read directly.

Blocks: INSERTs are expanded with `virtual_entities()` (MINSERT arrays through `multi_insert()`),
nested up to `max_depth`; a block met again inside itself is reported as recursive instead of
being followed. Entities on layer "0" or coloured BYBLOCK inside a block take the INSERT's.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import ezdxf.path
import numpy as np
from ezdxf.lldxf.const import DXFError
from ezdxf.math import arc_angle_span_deg
from numpy.typing import NDArray

from fablabctl.geometry.arcs import MIN_RADIUS, MIN_SPAN, arc_points
from fablabctl.geometry.chord import chord_distance, path_chord_distance, points_chord_distance
from fablabctl.geometry.curve_batch import CurveBatch
from fablabctl.geometry.hatch import hatch_scanlines
from fablabctl.geometry.operations import LayerRules, Operation

log = logging.getLogger(__name__)

# ezdxf turns arcs into cubic Béziers before flattening: with its default (4 per full circle) a
# 200 mm radius strays 0.054 mm off the true circle; 16 per circle keeps that below 0.0001 mm
BEZIERS_PER_CIRCLE = 16
CURVES = frozenset({"LINE", "LWPOLYLINE", "POLYLINE", "ARC", "CIRCLE", "ELLIPSE", "SPLINE"})
TEXTS = frozenset({"TEXT", "MTEXT", "ATTRIB"})
# annotations that carry no cutting intent; never reported
SILENT = frozenset({"POINT", "DIMENSION", "VIEWPORT", "LEADER", "MLEADER", "SEQEND", "VERTEX", "ATTDEF"})
# surfaces and solids a 2D laser cannot follow
UNSUPPORTED = frozenset({"3DSOLID", "MESH", "IMAGE", "REGION", "BODY", "SURFACE", "3DFACE", "WIPEOUT"})
FILLS = frozenset({"HATCH", "SOLID", "TRACE", "MPOLYGON"})
BYBLOCK, BYLAYER = 0, 256
NOT_FINITE = "NaN/inf coordinates"
ZERO_LENGTH = "zero-length / longueur nulle"
ZERO_MM = 1e-6
# what ezdxf raises on damaged entities of an untrusted file (DXFError covers its attribute errors)
DAMAGE = (
    DXFError,
    ValueError,
    TypeError,
    ZeroDivisionError,
    IndexError,
    KeyError,
    AttributeError,
    OverflowError,
)


class TooManyEntities(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Polyline:
    points: NDArray[np.float64]  # (n, 2) in mm; closed ones do not repeat the first point
    closed: bool
    layer: str
    colour: int
    handle: str
    operation: Operation


@dataclass(frozen=True, slots=True)
class Skipped:
    """An entity we did not turn into geometry: unsupported type, text, fill, or damaged."""

    kind: str
    handle: str
    layer: str
    operation: Operation
    text: str = ""


@dataclass(frozen=True, slots=True)
class BlockProblem:
    block: str
    handle: str
    recursive: bool  # True: the block inserts itself; False: nested deeper than the limit


@dataclass
class Flattened:
    polylines: list[Polyline] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    blocks: list[BlockProblem] = field(default_factory=list)
    entities: int = 0
    ignored: int = 0
    fills: int = 0  # HATCHes on engrave layers, filled with scan lines


@dataclass(frozen=True, slots=True)
class _Later:
    """A curve recorded in the batch, flattened with all the others at the end of the walk."""

    item: int
    meta: tuple[str, int, str, Operation]  # layer, colour, handle, operation


@dataclass(frozen=True, slots=True)
class _Context:
    """What an entity inherits from the INSERT chain above it."""

    handle: str | None = None  # top-level INSERT handle (virtual entities have none)
    layer: str = "0"
    colour: int = 7
    blocks: tuple[str, ...] = ()


class Flattener:
    def __init__(
        self,
        rules: LayerRules,
        layer_colours: dict[str, int],
        to_mm: float,
        *,
        max_entities: int,
        max_depth: int,
    ) -> None:
        self.rules, self.layer_colours, self.to_mm = rules, layer_colours, to_mm
        self.max_entities, self.max_depth = max_entities, max_depth
        self.result = Flattened()
        self._ops: dict[tuple[str, int], Operation] = {}
        self._batch = CurveBatch()
        # in drawing order: a finished polyline, or (curve index in the batch, its layer...) to come
        self._parts: list[Polyline | _Later] = []

    def run(self, entities: Any) -> Flattened:
        self._walk(entities, None)
        flat = self._batch.flatten(self.to_mm, ZERO_MM)
        polylines = self.result.polylines
        for part in self._parts:
            if isinstance(part, Polyline):
                polylines.append(part)
                continue
            points, closed, problem = flat[part.item]
            if problem:  # as `_add` says it
                self._skip(NOT_FINITE if problem == "nan" else ZERO_LENGTH, part.meta)
            else:
                polylines.append(Polyline(points, closed and len(points) >= 3, *part.meta))
        self._parts = []
        return self.result

    def _walk(self, entities: Any, context: _Context | None) -> None:
        for entity in entities:
            self.result.entities += 1
            if self.result.entities > self.max_entities:
                raise TooManyEntities(self.max_entities)
            try:
                if entity.dxftype() == "INSERT":
                    self._insert(entity, context)
                else:
                    self._entity(entity, context)
            except DAMAGE as exc:  # a damaged entity is reported as such; the rest of the drawing counts
                self._damaged(entity, context, exc)

    def _insert(self, insert: Any, context: _Context | None) -> None:
        name = str(insert.dxf.get("name", "?"))
        chain = context.blocks if context else ()
        handle = context.handle if context and context.handle else str(insert.dxf.get("handle", "?"))
        if name in chain or len(chain) >= self.max_depth:
            self.result.blocks.append(BlockProblem(name, handle, recursive=name in chain))
            return
        layer, colour = self._layer_colour(insert, context)
        inner = _Context(handle, layer, colour, (*chain, name))
        if insert.mcount > self.max_entities:  # an array of a billion copies is refused before any copy
            raise TooManyEntities(self.max_entities)
        inserts = insert.multi_insert() if insert.mcount > 1 else (insert,)
        for single in inserts:
            self._walk(list(single.virtual_entities()), inner)

    def _layer_colour(self, entity: Any, context: _Context | None) -> tuple[str, int]:
        layer = str(entity.dxf.get("layer", "0"))
        colour = int(entity.dxf.get("color", BYLAYER))
        if context is not None:
            if layer == "0":
                layer = context.layer
            if colour == BYBLOCK:
                colour = context.colour
        if colour in (BYLAYER, BYBLOCK):
            colour = self.layer_colours.get(layer, 7)
        return layer, abs(colour)

    def _op(self, layer: str, colour: int) -> Operation:
        key = (layer, colour)
        op = self._ops.get(key)
        if op is None:
            op = self._ops[key] = self.rules.operation(layer, colour)
        return op

    def _entity(self, entity: Any, context: _Context | None) -> None:
        kind = entity.dxftype()
        if kind in SILENT:
            return
        layer, colour = self._layer_colour(entity, context)
        handle = context.handle if context and context.handle else str(entity.dxf.get("handle", "?"))
        op = self._op(layer, colour)
        if op is Operation.IGNORE:
            self.result.ignored += 1
            return
        if kind == "HATCH" and op is Operation.ENGRAVE:
            self._fill(entity, layer, colour, handle, op)
            return
        if kind not in CURVES:
            text = ""
            if kind in TEXTS:
                text = str(entity.plain_text() if kind == "MTEXT" else entity.dxf.get("text", ""))[:60]
            self.result.skipped.append(Skipped(kind, handle, layer, op, text))
            return
        self._curve(entity, kind, layer, colour, handle, op)

    def _damaged(self, entity: Any, context: _Context | None, exc: Exception) -> None:
        try:
            kind, handle = str(entity.dxftype()), str(entity.dxf.get("handle", "?"))
        except DAMAGE:
            kind, handle = "?", "?"
        if context and context.handle:
            handle = context.handle
        layer = context.layer if context else "?"
        log.info("damaged %s entity %s: %s", kind, handle, exc)
        damaged = f"{kind} (abîmée / damaged)"
        self.result.skipped.append(Skipped(damaged, handle, layer, Operation.CUT))

    def _fill(self, hatch: Any, layer: str, colour: int, handle: str, op: Operation) -> None:

        try:
            lines = hatch_scanlines(hatch, self.to_mm)
        except ValueError:  # too big a fill; damaged boundaries go to _damaged
            self.result.skipped.append(Skipped("HATCH (trop grand / too large)", handle, layer, op))
            return
        self.result.fills += 1
        for line in lines:
            self._add(line, False, layer, colour, handle, op)

    def _curve(self, entity: Any, kind: str, layer: str, colour: int, handle: str, op: Operation) -> None:
        scale = self.to_mm
        if kind == "LINE":  # most of any big drawing: checked on plain floats, one small array
            s, e = entity.dxf.start, entity.dxf.end
            sx, sy, ex, ey = s.x * scale, s.y * scale, e.x * scale, e.y * scale
            if not all(map(math.isfinite, (sx, sy, ex, ey))):
                self._skip(NOT_FINITE, (layer, colour, handle, op))
            elif abs(ex - sx) < ZERO_MM and abs(ey - sy) < ZERO_MM:
                self._skip(ZERO_LENGTH, (layer, colour, handle, op))
            else:
                points = np.array(((sx, sy), (ex, ey)), dtype=np.float64)
                self._parts.append(Polyline(points, False, layer, colour, handle, op))
            return
        meta = (layer, colour, handle, op)
        if kind == "LWPOLYLINE" and _flat_ocs(entity):
            self._lwpolyline(entity, meta)
            return
        if kind in ("ARC", "CIRCLE"):
            self._arc(entity, kind, meta)
            return
        if kind == "SPLINE" and self._spline(entity, meta):
            return
        path = ezdxf.path.make_path(entity, segments=BEZIERS_PER_CIRCLE)
        closed_entity = _is_closed_entity(entity, kind)
        # sub_paths() copies every path: only a multi-path (a POLYLINE with gaps...) needs it
        distance = path_chord_distance(path, scale)
        if distance is None:
            self._skip(NOT_FINITE, meta)
            return
        for sub in path.sub_paths() if path.has_sub_paths else (path,):
            flat = np.array(
                [(v.x, v.y) for v in sub.flattening(distance, segments=2)], dtype=np.float64
            ).reshape(-1, 2)
            closed = closed_entity or bool(sub.is_closed)
            if closed and len(flat) > 1 and np.allclose(flat[0], flat[-1], atol=1e-9):
                flat = flat[:-1]
            self._add(flat * scale, closed, *meta)

    def _arc(self, entity: Any, kind: str, meta: tuple[str, int, str, Operation]) -> None:
        """ARC and CIRCLE on the true circle (geometry.arcs); in the XY plane, through the batch."""
        radius, centre = abs(float(entity.dxf.radius)), entity.dxf.center
        distance = chord_distance(2 * radius, max(abs(centre.x), abs(centre.y)) + radius, self.to_mm)
        if distance is None:
            self._skip(NOT_FINITE, meta)
            return
        if not _flat_ocs(entity):  # mirrored or tilted: one at a time
            flat, closed = arc_points(entity, kind, distance=distance)
            self._add(flat * self.to_mm, closed or kind == "CIRCLE", *meta)
            return
        if radius <= MIN_RADIUS:
            return
        if kind == "CIRCLE":
            start, span = 0.0, 2 * math.pi
        else:
            begin, end = float(entity.dxf.start_angle), float(entity.dxf.end_angle)
            start, span = math.radians(begin), math.radians(arc_angle_span_deg(begin, end))
            if span < MIN_SPAN:
                return
        item = self._batch.add_arc(float(centre.x), float(centre.y), radius, start, span, distance)
        self._parts.append(_Later(item, meta))

    def _lwpolyline(self, entity: Any, meta: tuple[str, int, str, Operation]) -> None:
        """Read from ezdxf's own vertex array (x, y, widths, bulge); bulged ones through the batch."""
        values = np.asarray(entity.lwpoints.values, dtype=np.float64).reshape(-1, 5)
        points, closed = values[:, :2], bool(entity.closed)
        if entity.has_arc and len(points) > 1:  # a bulge bows out at most |bulge| chords
            extent = float(np.ptp(points, axis=0).max()) * (1.0 + float(np.abs(values[:, 4]).max()))
            distance = chord_distance(extent, float(np.abs(points).max()) + extent, self.to_mm)
            if distance is None:
                self._skip(NOT_FINITE, meta)
                return
            self._parts.append(_Later(self._batch.add_polyline(points, values[:, 4], closed, distance), meta))
            return
        if closed and len(points) > 1 and (points[0] == points[-1]).all():
            points = points[:-1]
        self._add(points * self.to_mm if self.to_mm != 1.0 else points, closed, *meta)

    def _spline(self, entity: Any, meta: tuple[str, int, str, Operation]) -> bool:
        """A cubic, non-rational, clamped SPLINE (what CAD tools export) as ezdxf's exact Bézier
        pieces, flattened in the batch; False for any other kind (left to ezdxf's path code)."""
        spline = entity.construction_tool()
        if spline.degree != 3 or spline.is_rational or not spline.is_clamped:
            return False
        controls = np.array(
            [(v.x, v.y) for bezier in spline.bezier_decomposition() for v in bezier], dtype=np.float64
        ).reshape(-1, 4, 2)
        if not len(controls):
            return False
        distance = points_chord_distance(controls.reshape(-1, 2), self.to_mm)
        if distance is None:
            self._skip(NOT_FINITE, meta)
            return True
        closed = _is_closed_entity(entity, "SPLINE")
        self._parts.append(_Later(self._batch.add_beziers(controls, closed, distance), meta))
        return True

    def _add(
        self, points: NDArray[np.float64], closed: bool, layer: str, colour: int, handle: str, op: Operation
    ) -> None:
        """Keep the polyline in drawing order; NaN/inf and dots are reported as skipped, fewer than
        2 points dropped."""
        if len(points) < 2:
            return
        low, high = points.min(axis=0).tolist(), points.max(axis=0).tolist()  # NaN and inf carry through
        if not all(map(math.isfinite, (*low, *high))):
            self._skip(NOT_FINITE, (layer, colour, handle, op))
        elif max(high[0] - low[0], high[1] - low[1]) < ZERO_MM:  # a dot: the laser would only burn a pit
            self._skip(ZERO_LENGTH, (layer, colour, handle, op))
        else:
            self._parts.append(Polyline(points, closed and len(points) >= 3, layer, colour, handle, op))

    def _skip(self, kind: str, meta: tuple[str, int, str, Operation]) -> None:
        layer, _colour, handle, op = meta
        self.result.skipped.append(Skipped(kind, handle, layer, op))


def _flat_ocs(entity: Any) -> bool:
    """True when the polyline's own coordinate system is the world's (no mirrored extrusion)."""
    extrusion = entity.dxf.get("extrusion", None)
    return extrusion is None or (abs(extrusion[0]) < 1e-12 and abs(extrusion[1]) < 1e-12 and extrusion[2] > 0)


def _is_closed_entity(entity: Any, kind: str) -> bool:
    if kind == "CIRCLE":
        return True
    if kind in ("LWPOLYLINE", "POLYLINE"):
        return bool(entity.is_closed)
    if kind == "ELLIPSE":
        span = (float(entity.dxf.end_param) - float(entity.dxf.start_param)) % (2 * np.pi)
        return span < 1e-6 or span > 2 * np.pi - 1e-6  # start == end (mod 2π): a full ellipse
    if kind == "SPLINE":
        return bool(entity.closed)
    return False
