"""What a machine can do, as plain data shared by validation, toolpaths and the scheduler.

A `MachineSpec` is built from a database row (queue/ and web/ do that) or from the built-in
defaults below, so validation/ and toolpath/ never touch the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MachineKind = Literal["printer", "laser"]
DriverType = Literal["octoprint", "marlin", "grbl"]


@dataclass(frozen=True, slots=True)
class MachineSpec:
    """Limits and capabilities of one machine, in millimetres, °C and firmware units."""

    name: str
    kind: MachineKind
    driver: DriverType
    bed_x_mm: float
    bed_y_mm: float
    bed_z_mm: float = 0.0
    # 3D printers
    nozzle_mm: float = 0.4
    max_hotend_c: float = 260.0
    max_bed_c: float = 110.0
    # lasers: GRBL's $30 (S value that means full power) and the highest S this machine may use
    laser_s_max: int = 1000
    laser_max_power_s: int = 1000
    materials: tuple[str, ...] = field(default_factory=tuple)

    @property
    def bed_size(self) -> tuple[float, float, float]:
        return (self.bed_x_mm, self.bed_y_mm, self.bed_z_mm)


DEFAULT_PRINTER = MachineSpec(
    name="default-printer",
    kind="printer",
    driver="marlin",
    bed_x_mm=250.0,
    bed_y_mm=210.0,
    bed_z_mm=210.0,
    materials=("PLA", "PETG"),
)

DEFAULT_LASER = MachineSpec(
    name="default-laser",
    kind="laser",
    driver="grbl",
    bed_x_mm=400.0,
    bed_y_mm=300.0,
    bed_z_mm=0.0,
    laser_s_max=1000,
    laser_max_power_s=1000,
    materials=("plywood-poplar-3mm", "plywood-poplar-5mm", "mdf-3mm", "acrylic-3mm", "cardboard-2mm"),
)


def parse_bed(text: str) -> tuple[float, float, float]:
    """Parse a bed size such as `250x210x210` or `400x300` (mm). Raises ValueError with the reason."""
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) not in (2, 3):
        raise ValueError(f"bed size must look like 250x210x210 or 400x300, got {text!r}")
    try:
        values = [float(p) for p in parts]
    except ValueError as exc:
        raise ValueError(f"bed size must contain numbers in mm, got {text!r}") from exc
    if any(v <= 0 or v != v or v > 10_000 for v in values):
        raise ValueError(f"bed size must be positive and below 10 m, got {text!r}")
    if len(values) == 2:
        values.append(0.0)
    return (values[0], values[1], values[2])
