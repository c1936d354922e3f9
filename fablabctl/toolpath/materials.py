"""The laser material library: speed, power and passes per operation, air assist, as data
(`materials.toml`). Admins edit a copy; every value is checked and a bad one is named precisely
("[mdf-3mm] cut.power = 90: ..."), the Klipper way: an option nobody reads is a typo, hence an error.
"""

from __future__ import annotations

import logging
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fablabctl.geometry.operations import Operation
from fablabctl.i18n import Text
from fablabctl.specs import MachineSpec
from fablabctl.toolpath.result import ToolpathError

log = logging.getLogger(__name__)
PACKAGE_MATERIALS = Path(__file__).with_name("materials.toml")
OPERATIONS = (Operation.CUT, Operation.ENGRAVE, Operation.SCORE)
MATERIAL_KEYS = frozenset(
    {
        "fr",
        "en",
        "air_assist",
        "cut",
        "engrave",
        "score",
        "thickness_mm",
        "kerf_mm",
        "kerf_by_machine",
        "press_fit_mm",
        "sources",
    }
)
SOURCES = ("diode", "co2")
MAX_KERF_MM = 2.0
MAX_PRESS_FIT_MM = 0.5
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
    kerf_mm: float = 0.0  # width of the cut on this material (the site's laser)
    kerf_by_machine: dict[str, float] = field(default_factory=dict)  # machine name -> its kerf here
    press_fit_mm: float = 0.0  # extra offset so finger joints press together (tabs wider, slots narrower)
    sources: tuple[str, ...] = SOURCES  # laser sources that can cut it (a diode cannot cut clear acrylic)

    def kerf_for(self, machine: MachineSpec) -> float:
        """The kerf to compensate by default on `machine`: its own measured kerf on this material,
        else the material's, plus the press-fit allowance (0 for parts that do not join)."""
        return round(self.kerf_by_machine.get(machine.name, self.kerf_mm) + self.press_fit_mm, 4)

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
    kerf = _number(raw, "kerf_mm", where) if "kerf_mm" in raw else 0.0
    fit = _number(raw, "press_fit_mm", where) if "press_fit_mm" in raw else 0.0
    if not 0 <= kerf <= MAX_KERF_MM:
        raise MaterialError(f"{where}.kerf_mm = {kerf:g}: mm, between 0 and {MAX_KERF_MM:g}")
    if not 0 <= fit <= MAX_PRESS_FIT_MM:
        raise MaterialError(f"{where}.press_fit_mm = {fit:g}: mm, between 0 and {MAX_PRESS_FIT_MM:g}")
    by_machine_raw = raw.get("kerf_by_machine", {})
    if not isinstance(by_machine_raw, dict):
        raise MaterialError(f"{where}.kerf_by_machine: expected {{ machine-name = kerf_mm, ... }}")
    by_machine = {
        str(name): _number(by_machine_raw, name, f"{where}.kerf_by_machine") for name in by_machine_raw
    }
    if any(not 0 <= v <= MAX_KERF_MM for v in by_machine.values()):
        raise MaterialError(f"{where}.kerf_by_machine: kerfs between 0 and {MAX_KERF_MM:g} mm")
    sources = raw.get("sources", list(SOURCES))
    if not isinstance(sources, list) or not sources or any(s not in SOURCES for s in sources):
        raise MaterialError(f"{where}.sources = {sources!r}: a list among {list(SOURCES)}")
    return Material(
        key,
        Text(str(raw.get("fr", key)), str(raw.get("en", key))),
        air,
        settings,
        thickness,
        kerf,
        by_machine,
        fit,
        tuple(sources),
    )


def _read(path: Path) -> dict[str, Material]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return {key: parse_material(key, raw) for key, raw in data.items()}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, MaterialError) as exc:
        # the file's place stays on the server (log); the person is told which file and what is wrong
        log.warning("invalid material library %s: %s", path, exc)
        which_fr = "intégrée" if path == PACKAGE_MATERIALS else "du site (materials.toml)"
        which_en = "built-in" if path == PACKAGE_MATERIALS else "site's (materials.toml)"
        if isinstance(exc, MaterialError):
            reason = str(exc)
        elif line := re.search(r"at line (\d+)", str(exc)):
            reason = f"TOML invalide ligne {line.group(1)} / invalid TOML at line {line.group(1)}"
        else:
            reason = "fichier illisible / unreadable file"
        raise ToolpathError(
            "MATERIALS_INVALID",
            f"Bibliothèque de matériaux {which_fr} invalide : {reason}",
            f"Invalid {which_en} material library: {reason}",
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
