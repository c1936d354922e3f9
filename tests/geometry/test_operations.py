"""The layer / colour -> operation convention, and its configuration."""

from __future__ import annotations

import pytest

from fablabctl.geometry.operations import LayerRules, Operation, default_rules


@pytest.mark.parametrize(
    ("layer", "colour", "expected"),
    [
        ("Découpe", 7, Operation.CUT),
        ("DECOUPE_EXT", 5, Operation.CUT),  # the name wins over the colour
        ("cut-inner", None, Operation.CUT),
        ("Gravure logo", 1, Operation.ENGRAVE),
        ("ENGRAVE", 7, Operation.ENGRAVE),
        ("marquage", 7, Operation.SCORE),
        ("Score lines", 7, Operation.SCORE),
        ("construction", 1, Operation.IGNORE),
        ("Defpoints", 7, Operation.IGNORE),
        ("cut-construction", 1, Operation.IGNORE),  # ignore is checked first: never burn helpers
        ("0", 1, Operation.CUT),
        ("0", 5, Operation.SCORE),
        ("0", 3, Operation.ENGRAVE),
        ("0", 7, Operation.CUT),  # undecorated drawings are checked as cut files
        ("Layer 12", 42, Operation.CUT),
    ],
)
def test_default_convention(layer: str, colour: int | None, expected: Operation) -> None:
    assert default_rules().operation(layer, colour) is expected


def test_from_mapping_exact_names_keywords_colours_default() -> None:
    rules = LayerRules.from_mapping(
        {
            "layers": {"Plaque Extérieure": "cut", "Texte": "engrave"},
            "keywords": {"score": ["rillage"]},
            "colours": {"7": "engrave"},
            "default": "ignore",
        }
    )
    assert rules.operation("PLAQUE EXTERIEURE", 5) is Operation.CUT
    assert rules.operation("texte", 1) is Operation.ENGRAVE
    assert rules.operation("rillage carton", None) is Operation.SCORE
    assert rules.operation("0", 7) is Operation.ENGRAVE
    assert rules.operation("0", 200) is Operation.IGNORE
    assert rules.operation("0", 1) is Operation.CUT  # untouched defaults stay
    assert rules.describe()["default"] == "ignore"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"layer": {}}, "unknown key"),
        ({"layers": {"A": "burn"}}, "layers.A"),
        ({"colours": {"red": "cut"}}, "not an ACI number"),
        ({"colours": {"300": "cut"}}, "outside 1-255"),
        ({"keywords": {"cut": "coupe"}}, "list of non-empty words"),
        ({"default": "melt"}, "default"),
    ],
)
def test_from_mapping_refuses_bad_entries(mapping: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LayerRules.from_mapping(mapping)
