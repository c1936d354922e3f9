"""The laser material library: speed, power and passes per operation, air assist, as data."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from fablabctl.geometry.operations import Operation
from fablabctl.toolpath.result import ToolpathError

PACKAGE_MATERIALS = Path(__file__).with_name("materials.toml")


@dataclass(frozen=True, slots=True)
class Setting:
    speed: float  # mm/min
    power: float  # % of the machine's maximum
    passes: int


@dataclass(frozen=True, slots=True)
class Material:
    key: str
    fr: str
    en: str
    air_assist: bool
    settings: dict[Operation, Setting]

    def s_value(self, operation: Operation, s_max: int, cap: int) -> int:
        return min(cap, round(self.settings[operation].power / 100 * s_max))


def _parse(key: str, raw: dict[str, object]) -> Material:
    settings = {}
    for op in (Operation.CUT, Operation.ENGRAVE, Operation.SCORE):
        entry = raw.get(op.value)
        if not isinstance(entry, dict):
            raise ValueError(f"material {key}: missing [{op.value}] settings")
        setting = Setting(float(entry["speed"]), float(entry["power"]), int(entry.get("passes", 1)))
        if setting.speed <= 0 or not 0 <= setting.power <= 100 or setting.passes < 1:
            raise ValueError(f"material {key}.{op.value}: speed > 0, power 0-100, passes >= 1")
        settings[op] = setting
    return Material(
        key, str(raw.get("fr", key)), str(raw.get("en", key)), bool(raw.get("air_assist", False)), settings
    )


def load_materials(override: Path | None = None) -> dict[str, Material]:
    """The package library, with entries replaced or added by an admin's file."""
    library: dict[str, Material] = {}
    for path in (PACKAGE_MATERIALS, override):
        if path is None or not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text())
            library.update({key: _parse(key, raw) for key, raw in data.items()})
        except (tomllib.TOMLDecodeError, ValueError, KeyError, TypeError) as exc:
            raise ToolpathError(
                "MATERIALS_INVALID",
                f"Bibliothèque de matériaux invalide ({path}) : {exc}",
                f"Invalid material library ({path}): {exc}",
            ) from None
    return library


def material(key: str, override: Path | None = None) -> Material:
    library = load_materials(override)
    if key not in library:
        known = ", ".join(sorted(library))
        raise ToolpathError(
            "UNKNOWN_MATERIAL",
            f"Matériau laser inconnu « {key} » ({known}).",
            f"Unknown laser material '{key}' ({known}).",
        )
    return library[key]
