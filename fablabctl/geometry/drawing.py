"""`load_drawing`: one call from a DXF path to contours in millimetres, with everything validation
needs to explain what it saw (units, recovery notes, skipped entities, texts, block problems).

Used by both `validation.dxf` (the verdict) and `toolpath.laser` (the G-code), so the tigiste's report
and the machine's job always read a drawing the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fablabctl.file_limits import ValidationLimits
from fablabctl.geometry.contours import Contour, chain, nest
from fablabctl.geometry.dxf_read import DxfLoadError, Opened, Units, open_dxf
from fablabctl.geometry.flatten import BlockProblem, Flattener, Polyline, Skipped, TooManyEntities
from fablabctl.geometry.gc_pause import gc_paused
from fablabctl.geometry.operations import LayerRules, Operation, default_rules

TEXTS = frozenset({"TEXT", "MTEXT", "ATTRIB"})


@dataclass(frozen=True, slots=True)
class Extents:
    low: NDArray[np.float64]  # (2,) mm
    high: NDArray[np.float64]

    @property
    def size(self) -> NDArray[np.float64]:
        return self.high - self.low


@dataclass
class LoadedDrawing:
    """A DXF as the laser sees it. `contours` excludes ignored layers; `polylines` are the raw pieces."""

    units: Units
    contours: list[Contour] = field(default_factory=list)
    polylines: list[Polyline] = field(default_factory=list)
    repeats: list[Polyline] = field(default_factory=list)  # open pieces drawn twice, cut once
    unsupported: list[Skipped] = field(default_factory=list)  # entities no laser can follow
    texts: list[Skipped] = field(default_factory=list)  # TEXT/MTEXT not converted to outlines
    blocks: list[BlockProblem] = field(default_factory=list)  # recursive or too deep
    recovered: bool = False
    recovery_notes: tuple[str, ...] = ()
    unfixed_errors: int = 0
    decimal_commas: int = 0
    entities: int = 0
    ignored: int = 0
    fills: int = 0  # HATCHes engraved as scan lines
    rules: LayerRules = field(default_factory=default_rules)

    @property
    def extents(self) -> Extents | None:
        """Bounding box of everything that will be cut, scored or engraved (None when nothing)."""
        if not self.contours:
            return None
        points = np.concatenate([c.points for c in self.contours])
        return Extents(points.min(axis=0), points.max(axis=0))

    def by_operation(self, operation: Operation) -> list[Contour]:
        return [c for c in self.contours if c.operation is operation]


def load_drawing(path: Path, *, limits: ValidationLimits, rules: LayerRules | None = None) -> LoadedDrawing:
    """Read, expand and flatten a DXF. Raises DxfLoadError with a stable code when there is no drawing:
    DXF_NOT_DXF, DXF_UNREADABLE, DXF_TOO_MANY_ENTITIES."""
    rules = rules or default_rules()
    opened = open_dxf(path)
    with gc_paused():  # the file is read: what follows only makes objects that live on
        return _flatten(opened, rules, limits)


def _flatten(opened: Opened, rules: LayerRules, limits: ValidationLimits) -> LoadedDrawing:
    doc = opened.doc
    msp = doc.modelspace()
    if len(msp) > limits.max_dxf_entities:  # refuse before any work
        raise DxfLoadError("DXF_TOO_MANY_ENTITIES", str(len(msp)), count=len(msp))
    layer_colours = {str(layer.dxf.name): abs(int(layer.dxf.get("color", 7) or 7)) for layer in doc.layers}
    flattener = Flattener(
        rules,
        layer_colours,
        opened.units.to_mm,
        max_entities=limits.max_dxf_entities,
        max_depth=limits.max_block_depth,
    )
    try:
        flat = flattener.run(msp)
    except TooManyEntities:
        raise DxfLoadError(
            "DXF_TOO_MANY_ENTITIES", f"> {limits.max_dxf_entities}", count=flattener.result.entities
        ) from None
    repeats: list[Polyline] = []
    contours = nest(chain(flat.polylines, repeats))
    texts = [s for s in flat.skipped if s.kind in TEXTS]
    unsupported = [s for s in flat.skipped if s.kind not in TEXTS]
    return LoadedDrawing(
        units=opened.units,
        contours=contours,
        repeats=repeats,
        polylines=flat.polylines,
        unsupported=unsupported,
        texts=texts,
        blocks=flat.blocks,
        recovered=opened.recovered,
        recovery_notes=opened.recovery_notes,
        unfixed_errors=opened.unfixed_errors,
        decimal_commas=opened.decimal_commas,
        entities=flat.entities,
        ignored=flat.ignored,
        fills=flat.fills,
        rules=rules,
    )
