"""Automatic STL repair, offered as a new design linked to the original (never a silent change).

Two halves, so the web layer can bound the cost: `repair_file` works on files only (validate, repair,
validate again: the heavy part, run in a validation slot with no database connection held), and
`record_repair` writes the new design in one short transaction once its bytes are in the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.content_store import StoredFile
from fablabctl.db.models import Design, User
from fablabctl.designs.service import record_upload, run_validation
from fablabctl.errors import Invalid
from fablabctl.file_limits import ValidationLimits
from fablabctl.i18n import Text
from fablabctl.specs import MachineSpec
from fablabctl.validation.report import Report

NOT_STL = Text(
    "La réparation automatique ne concerne que les fichiers STL.", "Automatic repair is for STL files only."
)
NOT_BETTER = Text(
    "La réparation automatique n'améliore pas ce fichier : il est conservé tel quel. "
    "Corrigez-le dans votre logiciel de modélisation (voir le rapport).",
    "The automatic repair does not improve this file: it is kept as it is. "
    "Fix it in your modelling software (see the report).",
)


@dataclass(frozen=True, slots=True)
class Repaired:
    path: Path  # the repaired STL, in the caller's work directory
    report: Report  # its validation report
    steps: list[str]


def repair_file(
    source: Path, work: Path, *, machines: Sequence[MachineSpec], limits: ValidationLimits
) -> Repaired:
    """Repair `source` into `work`; refused (422) when it is not an STL or the repair is no better."""
    from fablabctl.validation.sniff import detect_type
    from fablabctl.validation.stl_parse import StlParseError
    from fablabctl.validation.stl_repair import judge, repair_stl

    kind = detect_type(source)
    if not kind.startswith("stl"):
        raise Invalid("REPAIR_NOT_AVAILABLE", NOT_STL)
    before = run_validation(source, machines=machines, limits=limits)
    repaired = work / "repaired.stl"
    try:
        steps = repair_stl(
            source, repaired, binary=kind == "stl_binary", max_triangles=limits.max_triangles
        ).steps
    except StlParseError as exc:
        raise Invalid(exc.code, exc.message) from None
    after = run_validation(repaired, machines=machines, limits=limits)
    verdict = judge(before, after)
    if not verdict.better:  # never return a worse (or no better) mesh: keep the original
        raise Invalid("REPAIR_NOT_BETTER", NOT_BETTER, reason=verdict.reason)
    return Repaired(path=repaired, report=after, steps=steps)


def record_repair(
    session: Session,
    *,
    actor: User,
    original: Design,
    stored: StoredFile,
    report: Report,
    steps: list[str],
) -> Design:
    """The new design (owned by the original's owner), linked to the original, audited."""
    design = record_upload(
        session=session,
        actor=actor,
        filename=f"{Path(original.filename).stem}-repare.stl",
        sha256=stored.sha256,
        size_bytes=stored.size_bytes,
        report=report,
    )
    design.derived_from_id = original.id
    design.owner_id = original.owner_id
    audit.record(
        session,
        actor=actor,
        action="design.repair",
        target_type="design",
        target_id=design.id,
        derived_from=original.id,
        steps=steps,
    )
    return design
