"""Limits that keep work on an untrusted file (validation, preview, toolpath) bounded in memory and time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fablabctl.config import Settings


@dataclass(frozen=True, slots=True)
class ValidationLimits:
    """Upper bounds applied before allocating anything a file merely claims to need."""

    max_file_bytes: int = 64 * 1024 * 1024
    max_triangles: int = 5_000_000
    max_dxf_entities: int = 500_000
    max_block_depth: int = 16
    max_gcode_lines: int = 5_000_000


def limits_from(settings: Settings) -> ValidationLimits:
    """The limits an upload gets (FABLAB_MAX_UPLOAD_MB, FABLAB_MAX_TRIANGLES...), for the CLI too."""
    return ValidationLimits(
        max_file_bytes=settings.max_upload_bytes,
        max_triangles=settings.max_triangles,
        max_dxf_entities=settings.max_dxf_entities,
        max_block_depth=settings.max_block_depth,
    )
