"""Which laser operation a DXF layer (or colour) means: the documented, configurable convention.

Layer names win over colours. Names are compared lower-case and without accents, by keyword
(substring), the first family that matches wins, in this order:
  ignore  : ignore, construction, defpoints, hidden, cache, dimension, cotation, cote, aide, guide
  engrave : grav (gravure, graver), engrav, raster, fill, remplissage
  score   : score, marquage, mark, rainage, pli, fold
  cut     : cut, coupe, decoup (découpe), contour, through
When the name says nothing, the entity's colour (AutoCAD Color Index, BYLAYER/BYBLOCK resolved)
decides, as in most fab-lab laser templates (Epilog/Trotec style, LightBurn/VisiCut mappings):
  red (1) cut, blue (5) score, green (3) engrave.
White/black (7), the colour of every undecorated drawing, deliberately uses the default (cut): a
file nobody prepared for the laser must be checked as a cut file (open contours!), not engraved.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Operation(StrEnum):
    CUT = "cut"
    ENGRAVE = "engrave"
    SCORE = "score"
    IGNORE = "ignore"


DEFAULT_KEYWORDS: dict[Operation, tuple[str, ...]] = {
    Operation.IGNORE: (
        "ignore",
        "construction",
        "defpoints",
        "hidden",
        "cache",
        "dimension",
        "cotation",
        "cote",
        "aide",
        "guide",
    ),
    Operation.ENGRAVE: ("grav", "engrav", "raster", "fill", "remplissage"),
    Operation.SCORE: ("score", "marquage", "mark", "rainage", "pli", "fold"),
    Operation.CUT: ("cut", "coupe", "decoup", "contour", "through"),
}
DEFAULT_COLOURS: dict[int, Operation] = {1: Operation.CUT, 5: Operation.SCORE, 3: Operation.ENGRAVE}
MAPPING_KEYS = frozenset({"layers", "keywords", "colours", "colors", "default"})


def fold(text: str) -> str:
    """Lower case without accents: "Découpe" and "DECOUPE" are the same layer name."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def _operation(value: object, where: str) -> Operation:
    try:
        return Operation(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(op.value for op in Operation)
        raise ValueError(f"{where}: {value!r} is not an operation ({choices})") from None


@dataclass(frozen=True)
class LayerRules:
    """The convention; a lab can carry its own (e.g. the exact layer names of its template)."""

    keywords: Mapping[Operation, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_KEYWORDS))
    colours: Mapping[int, Operation] = field(default_factory=lambda: dict(DEFAULT_COLOURS))
    exact: Mapping[str, Operation] = field(default_factory=dict)  # folded layer name -> operation
    default: Operation = Operation.CUT

    def operation(self, layer: str, colour: int | None) -> Operation:
        folded = fold(layer)
        if folded in self.exact:
            return self.exact[folded]
        for op in (Operation.IGNORE, Operation.ENGRAVE, Operation.SCORE, Operation.CUT):
            if any(word in folded for word in self.keywords.get(op, ())):
                return op
        if colour is not None and colour in self.colours:
            return self.colours[colour]
        return self.default

    def describe(self) -> dict[str, object]:
        """Plain data, stored with a job so the same drawing is read the same way again."""
        return {
            "layers": {name: op.value for name, op in self.exact.items()},
            "keywords": {op.value: list(words) for op, words in self.keywords.items()},
            "colours": {str(aci): op.value for aci, op in self.colours.items()},
            "default": self.default.value,
        }

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> LayerRules:
        """Rules from configuration, e.g. {"layers": {"Découpe ext": "cut"}, "colours": {"1": "cut"}}.

        Families or colours not given keep their defaults. Raises ValueError naming the bad entry.
        """
        unknown = set(mapping) - MAPPING_KEYS
        if unknown:
            raise ValueError(f"layer rules: unknown key(s) {sorted(unknown)} (use {sorted(MAPPING_KEYS)})")
        exact: dict[str, Operation] = {}
        layers = mapping.get("layers", {})
        if not isinstance(layers, Mapping):
            raise ValueError("layer rules: 'layers' must map layer names to operations")
        for name, op in layers.items():
            exact[fold(str(name))] = _operation(op, f"layers.{name}")
        keywords = dict(DEFAULT_KEYWORDS)
        given = mapping.get("keywords", {})
        if not isinstance(given, Mapping):
            raise ValueError("layer rules: 'keywords' must map operations to lists of words")
        for op_name, words in given.items():
            if not isinstance(words, list | tuple) or not all(isinstance(w, str) and w for w in words):
                raise ValueError(f"layer rules: keywords.{op_name} must be a list of non-empty words")
            keywords[_operation(op_name, "keywords")] = tuple(fold(w) for w in words)
        colours = dict(DEFAULT_COLOURS)
        raw_colours = mapping.get("colours", mapping.get("colors", {}))
        if not isinstance(raw_colours, Mapping):
            raise ValueError("layer rules: 'colours' must map ACI numbers (1-255) to operations")
        for aci, op in raw_colours.items():
            try:
                number = int(str(aci))
            except ValueError:
                raise ValueError(f"layer rules: colour {aci!r} is not an ACI number (1-255)") from None
            if not 1 <= number <= 255:
                raise ValueError(f"layer rules: colour {number} is outside 1-255")
            colours[number] = _operation(op, f"colours.{aci}")
        default = _operation(mapping.get("default", Operation.CUT.value), "default")
        return cls(keywords=keywords, colours=colours, exact=exact, default=default)


def default_rules() -> LayerRules:
    """The convention described in this module's docstring (and in docs/laser.md)."""
    return LayerRules()
