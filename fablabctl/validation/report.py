"""The validation report: findings with stable codes, bilingual messages, locations and fix hints.

The same codes travel unchanged through the API, the CLI and the web page. A finding of severity
`error` blocks the job; `warning` is shown; `info` is context (e.g. "3 bodies").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fablabctl.i18n import Lang, Text


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the validator noticed.

    `location` is free-form but JSON-serialisable: e.g. {"faces": [12, 13], "point": [x, y, z]} for a
    mesh, {"handle": "2F", "layer": "CUT", "point": [x, y]} for a DXF entity, {"line": 120} for G-code.
    `repairable` says whether `fablabctl` can repair it automatically (offered, never applied silently).
    """

    code: str
    severity: Severity
    message: Text
    hint: Text | None = None
    location: dict[str, Any] = field(default_factory=dict)
    repairable: bool = False

    def to_dict(self, lang: Lang) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message.in_(lang),
            "hint": self.hint.in_(lang) if self.hint else None,
            "location": self.location,
            "repairable": self.repairable,
        }


@dataclass(slots=True)
class Report:
    """Everything validation found about one file.

    `file_type` is what the content is (stl, dxf, gcode, or unknown), not what the name claims.
    `metrics` holds plain numbers and strings (size_mm, volume_mm3, triangles, bodies, cut_length_mm...).
    `fits` lists the names of the machines the design fits on, when checked against several.
    """

    file_type: str
    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    fits: list[str] | None = None

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        """True when nothing blocks the job (warnings allowed)."""
        return not self.errors

    @property
    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def to_dict(self, lang: Lang) -> dict[str, Any]:
        return {
            "file_type": self.file_type,
            "ok": self.ok,
            "findings": [f.to_dict(lang) for f in self.findings],
            "metrics": self.metrics,
            "fits": self.fits,
        }
