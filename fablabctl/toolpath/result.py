"""What preparing a toolpath returns: the G-code file and its estimates."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class ToolpathResult:
    """A machine-ready G-code file and what it will cost.

    `settings` is the profile or material actually used (stored with the job, so a re-print is identical);
    `estimates` holds e.g. duration_s, filament_mm, filament_g, cut_length_mm_by_operation.
    `cached` is True when the file came from the cache instead of a new slice.
    """

    gcode_path: Path
    duration_s: float
    settings: dict[str, Any] = field(default_factory=dict)
    estimates: dict[str, Any] = field(default_factory=dict)
    cached: bool = False


class ToolpathError(Exception):
    """A design could not be turned into G-code; `message` says why, for a person."""

    def __init__(self, code: str, message_fr: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_fr = message_fr
        self.message_en = message_en
