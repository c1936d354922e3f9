"""Which laser operation a DXF layer (or colour) means: the documented, configurable convention.

Layer names win over colours. Names are matched case-insensitively, without accents, by keyword:
  cut      : cut, coupe, decoupe, découpe, contour
  engrave  : engrave, gravure, grav, raster, fill
  score    : score, mark, marquage, trait, line
  ignore   : ignore, construction, defpoints, hidden, cache, dim, cote, cotes
Otherwise the entity's colour (AutoCAD Color Index) decides, as in LightBurn and VisiCut set-ups:
  red (1) cut, blue (5) engrave, green (3) score; any other colour uses the default (cut).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum


class Operation(StrEnum):
    CUT = "cut"
    ENGRAVE = "engrave"
    SCORE = "score"
    IGNORE = "ignore"


DEFAULT_KEYWORDS: dict[Operation, tuple[str, ...]] = {
    Operation.IGNORE: ("ignore", "construction", "defpoints", "hidden", "cache", "dim", "cote"),
    Operation.ENGRAVE: ("engrave", "gravure", "grav", "raster", "fill"),
    Operation.SCORE: ("score", "mark", "marquage", "trait", "line"),
    Operation.CUT: ("cut", "coupe", "decoupe", "contour"),
}
DEFAULT_COLOURS: dict[int, Operation] = {1: Operation.CUT, 5: Operation.ENGRAVE, 3: Operation.SCORE}


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


@dataclass(frozen=True)
class LayerRules:
    """The convention; a machine can carry its own (e.g. exact layer names of its lab's template)."""

    keywords: dict[Operation, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_KEYWORDS))
    colours: dict[int, Operation] = field(default_factory=lambda: dict(DEFAULT_COLOURS))
    exact: dict[str, Operation] = field(default_factory=dict)  # layer name -> operation, checked first
    default: Operation = Operation.CUT

    def operation(self, layer: str, colour: int | None) -> Operation:
        folded = _fold(layer)
        if folded in self.exact:
            return self.exact[folded]
        for op, words in self.keywords.items():  # ignore is listed first: "cut-construction" is ignored
            if any(word in folded for word in words):
                return op
        if colour is not None and colour in self.colours:
            return self.colours[colour]
        return self.default
