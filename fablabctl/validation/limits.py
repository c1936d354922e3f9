"""Limits that keep validation of untrusted files bounded in memory and time."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ValidationLimits:
    """Upper bounds applied before allocating anything a file merely claims to need."""

    max_file_bytes: int = 64 * 1024 * 1024
    max_triangles: int = 5_000_000
    max_dxf_entities: int = 500_000
    max_block_depth: int = 16
    max_gcode_lines: int = 5_000_000
