"""The laser material library: speed, power and passes per operation, air assist, as data
(`materials.toml`). Admins edit a copy; every value is checked and a bad one is named precisely
("[mdf-3mm] cut.power = 90: ..."), the Klipper way: an option nobody reads is a typo, hence an error.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fablabctl.geometry.operations import Operation
from fablabctl.i18n import Text
from fablabctl.specs import MachineSpec
from fablabctl.toolpath.result import ToolpathError

PACKAGE_MATERIALS = Path(__file__).with_name("materials.toml")
OPERATIONS = (Operation.CUT, Operation.ENGRAVE, Operation.SCORE)
MATERIAL_KEYS = frozenset({"fr", "en", "air_assist", "cut", "engrave", "score", "thickness_mm"})
SETTING_KEYS = frozenset({"speed", "power", "passes"})
MAX_SPEED = 60_000.0  # mm/min: faster than any hobby laser gantry, a typo beyond
MAX_PASSES = 20


@dataclass(frozen=True, slots=True)
class Setting:
    speed: float  # mm/min
    power: float  # fraction of full power, 0-1
    passes: int

    def as_dict(self) -> dict[str, float | int]:
        return {"speed": self.speed, "power": self.power, "passes": self.passes}


@dataclass(frozen=True, slots=True)
class Material:
    key: str
    name: Text
    air_assist: bool
    settings: dict[Operation, Setting]
    thickness_mm: float | None = None

    def s_value(self, operation: Operation, machine: MachineSpec) -> int:
        """The S word: power x the machine's full-power S ($30), never above the machine's own cap."""
        return min(machine.laser_max_power_s, round(self.settings[operation].power * machine.laser_s_max))

    def as_dict(self, machine: MachineSpec) -> dict[str, Any]:
        return {
            "material": self.key,
            "name": self.name.as_dict(),
            "air_assist": self.air_assist,
            "operations": {
                op.value: {**s.as_dict(), "s": self.s_value(op, machine)} for op, s in self.settings.items()
            },
        }


class MaterialError(ValueError):
    pass


def _number(raw: dict[str, Any], name: str, where: str) -> float:
    value = raw.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MaterialError(f"{where}.{name} = {value!r}: a number is required")
    return float(value)


def _setting(raw: object, where: str) -> Setting:
    if not isinstance(raw, dict):
        raise MaterialError(f"{where}: expected {{ speed = ..., power = ..., passes = ... }}")
    unknown = set(raw) - SETTING_KEYS
    if unknown:
        raise MaterialError(f"{where}: unknown key(s) {sorted(unknown)} (allowed: speed, power, passes)")
    speed = _number(raw, "speed", where)
    power = _number(raw, "power", where)
    passes = raw.get("passes", 1)
    if not 0 < speed <= MAX_SPEED:
        raise MaterialError(f"{where}.speed = {speed:g}: mm/min, between 0 and {MAX_SPEED:g}")
    if not 0 <= power <= 1:
        hint = f" (write {power / 100:g} for {power:g} %)" if 1 < power <= 100 else ""
        raise MaterialError(f"{where}.power = {power:g}: a fraction of full power between 0 and 1{hint}")
    if isinstance(passes, bool) or not isinstance(passes, int) or not 1 <= passes <= MAX_PASSES:
        raise MaterialError(f"{where}.passes = {passes!r}: a whole number from 1 to {MAX_PASSES}")
    return Setting(speed, power, passes)


def parse_material(key: str, raw: object) -> Material:
    where = f"[{key}]"
    if not isinstance(raw, dict):
        raise MaterialError(f"{where}: expected a table of settings")
    unknown = set(raw) - MATERIAL_KEYS
    if unknown:
        raise MaterialError(f"{where}: unknown key(s) {sorted(unknown)} (allowed: {sorted(MATERIAL_KEYS)})")
    if "cut" not in raw:
        raise MaterialError(f"{where}: a [cut] setting is required")
    settings = {op: _setting(raw[op.value], f"{where} {op.value}") for op in OPERATIONS if op.value in raw}
    air = raw.get("air_assist", False)
    if not isinstance(air, bool):
        raise MaterialError(f"{where}.air_assist = {air!r}: true or false")
    thickness = raw.get("thickness_mm")
    if thickness is not None:
        thickness = _number(raw, "thickness_mm", where)
    return Material(key, Text(str(raw.get("fr", key)), str(raw.get("en", key))), air, settings, thickness)


def _read(path: Path) -> dict[str, Material]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return {key: parse_material(key, raw) for key, raw in data.items()}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, MaterialError) as exc:
        raise ToolpathError(
            "MATERIALS_INVALID",
            f"Bibliothèque de matériaux invalide ({path}) : {exc}",
            f"Invalid material library ({path}): {exc}",
        ) from None


def load_materials(path: Path | None = None) -> dict[str, Material]:
    """The package library, with whole entries replaced or added by an admin's file at `path`
    (ignored when absent, so a lab without its own file uses the defaults)."""
    library = _read(PACKAGE_MATERIALS)
    if path is not None and path.is_file():
        library.update(_read(path))
    return library


def material(key: str, path: Path | None = None) -> Material:
    """One material, or ToolpathError UNKNOWN_MATERIAL listing the known ones."""
    library = load_materials(path)
    if key not in library:
        known = ", ".join(sorted(library))
        raise ToolpathError(
            "UNKNOWN_MATERIAL",
            f"Matériau laser inconnu « {key} » (connus : {known}).",
            f"Unknown laser material '{key}' (known: {known}).",
        )
    return library[key]
