"""The laser material library: the package file, a lab's override, and precise errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from fablabctl.geometry import Operation
from fablabctl.specs import DEFAULT_LASER, MachineSpec
from fablabctl.toolpath.materials import load_materials, material
from fablabctl.toolpath.result import ToolpathError

GOOD = (
    'fr = "Bambou 3 mm"\nen = "Bamboo 3 mm"\nair_assist = true\n'
    "cut = { speed = 250, power = 0.9, passes = 2 }\n"
)


def test_package_library_has_the_lab_materials() -> None:
    library = load_materials()
    for key in ("plywood-poplar-3mm", "plywood-poplar-5mm", "mdf-3mm", "acrylic-3mm", "cardboard-2mm"):
        mat = library[key]
        assert set(mat.settings) == {Operation.CUT, Operation.ENGRAVE, Operation.SCORE}
        assert all(0 < s.power <= 1 and s.speed > 0 and s.passes >= 1 for s in mat.settings.values())
        assert mat.name.fr and mat.name.en
    assert set(DEFAULT_LASER.materials) <= set(library)
    assert (
        library["plywood-poplar-5mm"].settings[Operation.CUT].passes
        > library["plywood-poplar-3mm"].settings[Operation.CUT].passes
    )


def test_s_value_scales_with_the_machine_and_is_capped() -> None:
    mdf = material("mdf-3mm")
    assert mdf.s_value(Operation.ENGRAVE, DEFAULT_LASER) == 400
    grbl_255 = MachineSpec("l", "laser", "grbl", 400, 300, laser_s_max=255, laser_max_power_s=180)
    assert mdf.s_value(Operation.ENGRAVE, grbl_255) == 102 and mdf.s_value(Operation.CUT, grbl_255) == 180


def test_override_adds_and_replaces_whole_entries(tmp_path: Path) -> None:
    lab = tmp_path / "materials.toml"
    lab.write_text(f"[bamboo-3mm]\n{GOOD}\n[mdf-3mm]\n{GOOD}")
    library = load_materials(lab)
    assert library["bamboo-3mm"].settings[Operation.CUT].power == 0.9
    assert set(library["mdf-3mm"].settings) == {Operation.CUT}  # replaced whole
    assert "acrylic-3mm" in library
    assert load_materials(tmp_path / "absent.toml").keys() == load_materials().keys()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "cut = { speed = 250, power = 90 }",
            "[wood] cut.power = 90: a fraction of full power between 0 and 1 (write 0.9",
        ),
        ("cut = { speed = -5, power = 0.5 }", "[wood] cut.speed = -5"),
        ("cut = { speed = 250, power = 0.5, passes = 0 }", "[wood] cut.passes = 0"),
        ("cut = { speed = 250, power = 0.5, passes = 1.5 }", "[wood] cut.passes = 1.5"),
        ("cut = { speed = 250, power = 0.5, pases = 2 }", "unknown key(s) ['pases']"),
        ('cut = { speed = "fast", power = 0.5 }', "[wood] cut.speed = 'fast': a number is required"),
        ("cut = { speed = 250, power = 0.5 }\nair_assist = 1", "[wood].air_assist = 1: true or false"),
        ("cut = { speed = 250, power = 0.5 }\ncolour = 'red'", "unknown key(s) ['colour']"),
        ("engrave = { speed = 250, power = 0.5 }", "[wood]: a [cut] setting is required"),
        ("cut = 3", "[wood] cut: expected"),
        ("cut = { speed = 250, power = 0.5 ", "Invalid"),
    ],
)
def test_bad_values_are_named_precisely(tmp_path: Path, entry: str, message: str) -> None:
    lab = tmp_path / "materials.toml"
    lab.write_text(f"[wood]\n{entry}\n")
    with pytest.raises(ToolpathError) as info:
        load_materials(lab)
    assert info.value.code == "MATERIALS_INVALID"
    assert message in info.value.message_en and "materials.toml" in info.value.message_fr
    assert str(tmp_path) not in info.value.message_fr + info.value.message_en  # no server path shown


def test_unknown_material_lists_the_known_ones() -> None:
    with pytest.raises(ToolpathError) as info:
        material("granite")
    assert info.value.code == "UNKNOWN_MATERIAL" and "mdf-3mm" in info.value.message_fr
