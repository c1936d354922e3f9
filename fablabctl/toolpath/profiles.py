"""Slicer profiles as data: a base printer profile, one per filament, one per quality preset.

Package files live in `toolpath/profiles/`; a file of the same name in `FABLAB_DATA_DIR/profiles/`
replaces it (that is how admins edit them without touching the installation). A machine adds its
bed shape, height and nozzle. The composed text is what is hashed, cached and stored with the job.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from fablabctl.specs import MachineSpec
from fablabctl.toolpath.result import ToolpathError

PACKAGE_PROFILES = Path(__file__).with_name("profiles")
QUALITIES = ("draft", "normal", "fine")


@dataclass(frozen=True, slots=True)
class Profile:
    name: str  # e.g. "PLA-normal"
    text: str  # the composed PrusaSlicer .ini

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def _part(name: str, override_dir: Path | None) -> str:
    for folder in (override_dir, PACKAGE_PROFILES):
        if folder is not None and (folder / name).is_file():
            return (folder / name).read_text()
    raise FileNotFoundError(name)


def materials(override_dir: Path | None = None) -> list[str]:
    found = {p.stem.removeprefix("filament-") for p in PACKAGE_PROFILES.glob("filament-*.ini")}
    if override_dir and override_dir.is_dir():
        found |= {p.stem.removeprefix("filament-") for p in override_dir.glob("filament-*.ini")}
    return sorted(found)


def compose(
    machine: MachineSpec, material: str, quality: str = "normal", override_dir: Path | None = None
) -> Profile:
    if quality not in QUALITIES:
        raise ToolpathError(
            "UNKNOWN_QUALITY",
            f"Qualité inconnue « {quality} » : {', '.join(QUALITIES)}.",
            f"Unknown quality '{quality}': {', '.join(QUALITIES)}.",
        )
    try:
        filament = _part(f"filament-{material}.ini", override_dir)
    except FileNotFoundError:
        known = ", ".join(materials(override_dir))
        raise ToolpathError(
            "UNKNOWN_MATERIAL",
            f"Matériau d'impression inconnu « {material} » ({known}).",
            f"Unknown printing material '{material}' ({known}).",
        ) from None
    x, y, z = machine.bed_x_mm, machine.bed_y_mm, machine.bed_z_mm
    machine_part = (
        f"# machine {machine.name}\nbed_shape = 0x0,{x:g}x0,{x:g}x{y:g},0x{y:g}\nmax_print_height = {z:g}\n"
        f"nozzle_diameter = {machine.nozzle_mm:g}\n"
    )
    merged: dict[str, str] = {}
    parts = (
        _part("printer.ini", override_dir),
        filament,
        _part(f"quality-{quality}.ini", override_dir),
        machine_part,
    )
    for part in parts:
        merged.update(parse_ini(part))  # later parts win: quality over printer, machine over all
    text = "".join(f"{key} = {value}\n" for key, value in sorted(merged.items()))
    return Profile(f"{material}-{quality}", text)


def parse_ini(text: str) -> dict[str, str]:
    """PrusaSlicer's flat `key = value` files (comments start with #)."""
    values = {}
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", ";")) and "=" in stripped:
            key, _, value = stripped.partition("=")
            values[key.strip()] = value.strip()
    return values
