"""Which materials a job may ask for: the site's material library, checked at submission.

Printers take the filaments that have a slicer profile (`toolpath/profiles/filament-*.ini`, plus the
site's own in `FABLAB_DATA_DIR/profiles/`); lasers take the entries of the laser material library
(`toolpath/materials.toml`, plus `FABLAB_DATA_DIR/materials.toml`). A job is refused at once when
its material is unknown or is for the other kind of machine, with the valid choices in the message,
rather than accepted and left waiting for a machine that can never take it.
"""

from __future__ import annotations

import functools
from pathlib import Path

from fablabctl.errors import Invalid
from fablabctl.i18n import Text
from fablabctl.queue.reasons import KIND_NAMES
from fablabctl.toolpath.materials import Material, load_materials
from fablabctl.toolpath.profiles import materials as filament_names
from fablabctl.toolpath.result import ToolpathError


def _stamp(path: Path | None) -> float | None:
    try:
        return path.stat().st_mtime if path is not None else None
    except OSError:
        return None


@functools.lru_cache(maxsize=8)
def _library(path: Path | None, _mtime: float | None) -> dict[str, Material]:
    try:
        return load_materials(path)
    except ToolpathError:  # a broken site file is reported where it is used (preparation)
        return load_materials(None)


def laser_library(data_dir: Path | None) -> dict[str, Material]:
    """The laser materials (the package's, with the site's own file over them), read again only when
    the site's file changes (the dispatcher asks often)."""
    path = data_dir / "materials.toml" if data_dir else None
    return _library(path, _stamp(path))


def choices(data_dir: Path | None) -> dict[str, list[str]]:
    """The materials each kind of machine takes, by kind."""
    return {
        "printer": filament_names(data_dir / "profiles" if data_dir else None),
        "laser": sorted(laser_library(data_dir)),
    }


def needed_source(material: str, data_dir: Path | None, asked: str | None = None) -> str | None:
    """The laser source a job needs: "co2" when its material can only be cut by one (clear acrylic) or
    the project asks for it; None when any laser will do."""
    if asked == "co2":
        return "co2"
    entry = laser_library(data_dir).get(material)
    return "co2" if entry is not None and "diode" not in entry.sources else None


def check_material(kind: str, material: str, data_dir: Path | None) -> None:
    """Refuse (422) a material the library does not know, or one for the other kind of machine
    (one an admin disabled is refused by `fleet.materials.refuse_disabled`)."""
    known = choices(data_dir)
    if material in known.get(kind, []):
        return
    valid = ", ".join(known.get(kind, [])) or "-"
    kind_name = KIND_NAMES.get(kind, Text(kind, kind))
    other = next((k for k, names in known.items() if k != kind and material in names), None)
    if other is not None:
        other_name = KIND_NAMES[other]
        raise Invalid(
            "MATERIAL_WRONG_KIND",
            Text(
                f"« {material} » est un matériau pour une {other_name.fr} ; ce travail va sur une "
                f"{kind_name.fr} : choisissez parmi {valid}.",
                f"'{material}' is a material for a {other_name.en}; this job goes to a {kind_name.en}: "
                f"choose among {valid}.",
            ),
            material=material,
            kind=kind,
            choices=known.get(kind, []),
        )
    raise Invalid(
        "UNKNOWN_MATERIAL",
        Text(
            f"Matériau inconnu : « {material} ». Pour une {kind_name.fr}, choisissez parmi : {valid}.",
            f"Unknown material: '{material}'. For a {kind_name.en}, choose among: {valid}.",
        ),
        material=material,
        kind=kind,
        choices=known.get(kind, []),
    )
