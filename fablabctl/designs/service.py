"""Upload, list, read and re-validate designs; a tigiste only ever sees their own."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.content_store import path_for, store_stream
from fablabctl.db.models import Design, DesignFile, User
from fablabctl.designs.schemas import DesignOut
from fablabctl.errors import Conflict, Invalid, TooLarge, not_found
from fablabctl.file_limits import ValidationLimits
from fablabctl.i18n import Lang, Text
from fablabctl.people.roles import Role, role_of
from fablabctl.specs import MachineSpec
from fablabctl.validation.report import Report

MAX_FILENAME = 255


def run_validation(path: Path, *, machines: Sequence[MachineSpec], limits: ValidationLimits) -> Report:
    # the validation package owns the rules
    from fablabctl.validation.validate import validate_file

    report: Report = validate_file(path, machines=machines, limits=limits)
    return report


def both_languages(report: Report) -> dict[str, Any]:
    return {"fr": report.to_dict("fr"), "en": report.to_dict("en")}


def clean_filename(name: str | None) -> str:
    base = Path(name or "").name.strip()
    if not base:
        raise Invalid(
            "FILENAME_MISSING", Text("Le fichier envoyé n'a pas de nom.", "The upload has no file name.")
        )
    return base[:MAX_FILENAME]


def upload_design(
    *,
    session: Session,
    actor: User,
    filename: str | None,
    chunks: Iterable[bytes],
    designs_dir: Path,
    limits: ValidationLimits,
    machines: Sequence[MachineSpec],
) -> Design:
    """Store the bytes by hash, validate the content once (ever), and record the upload."""
    name = clean_filename(filename)
    stored = store_stream(designs_dir, chunks, limit_bytes=limits.max_file_bytes)
    report = None
    if session.get(DesignFile, stored.sha256) is None:
        report = run_validation(stored.path, machines=machines, limits=limits)
    return record_upload(
        session=session,
        actor=actor,
        filename=name,
        sha256=stored.sha256,
        size_bytes=stored.size_bytes,
        report=report,
    )


def record_upload(
    *,
    session: Session,
    actor: User,
    filename: str,
    sha256: str,
    size_bytes: int,
    report: Report | None,
) -> Design:
    """The database side of an upload whose bytes are already in the store: the content row (with
    its report) the first time these bytes are seen, then the design owned by `actor`, audited."""
    design_file = session.get(DesignFile, sha256)
    if design_file is None:
        if report is None:  # checked before another upload of the same bytes was recorded
            raise Conflict(
                "DESIGN_RECHECK",
                Text("Renvoyez le fichier, s'il vous plaît.", "Please upload the file again."),
            )
        design_file = DesignFile(
            sha256=sha256,
            size_bytes=size_bytes,
            file_type=report.file_type,
            report=both_languages(report),
            ok=report.ok,
        )
        session.add(design_file)
        session.flush()  # the content row first: designs reference it
    design = Design(sha256=sha256, filename=filename, owner_id=actor.id)
    session.add(design)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="design.upload",
        target_type="design",
        target_id=design.id,
        sha256=sha256,
        ok=design_file.ok,
    )
    return design


def stored_bytes(session: Session, owner_id: int) -> int:
    """What an account's designs take in the store (each distinct content counted once)."""
    per_content = (
        select(DesignFile.size_bytes)
        .where(DesignFile.sha256.in_(select(Design.sha256).where(Design.owner_id == owner_id)))
        .subquery()
    )
    return int(session.scalar(select(func.coalesce(func.sum(per_content.c.size_bytes), 0))) or 0)


def quota_exceeded(quota_bytes: int, used: int) -> TooLarge:
    mb = quota_bytes / (1024 * 1024)
    return TooLarge(
        "QUOTA_EXCEEDED",
        Text(
            f"Votre espace de stockage est plein ({mb:.0f} Mo) : supprimez d'anciens fichiers ou "
            "demandez à votre formateur.",
            f"Your storage space is full ({mb:.0f} MB): delete old files or ask your trainer.",
        ),
        quota_bytes=quota_bytes,
        used_bytes=used,
    )


def _visible(query: Any, actor: User) -> Any:
    if role_of(actor) is Role.TIGISTE:
        return query.where(Design.owner_id == actor.id)
    return query


def get_design(*, session: Session, actor: User, design_id: int) -> Design:
    """Hidden (404, not 403) from other tigistes, so ids reveal nothing."""
    design = session.get(Design, design_id)
    if design is None or (role_of(actor) is Role.TIGISTE and design.owner_id != actor.id):
        raise not_found("design", design_id)
    audit.staff_read(session, actor, design.owner_id, "design", design.id)
    return design


def list_designs(*, session: Session, actor: User, owner_id: int | None = None) -> list[Design]:
    query = _visible(select(Design).order_by(Design.id.desc()), actor)
    if owner_id is not None:
        query = query.where(Design.owner_id == owner_id)
        audit.staff_read(session, actor, owner_id, "designs")
    return list(session.scalars(query))


def design_out(session: Session, design: Design, lang: Lang) -> DesignOut:
    content = session.get(DesignFile, design.sha256)
    assert content is not None
    return DesignOut(
        id=design.id,
        filename=design.filename,
        sha256=design.sha256,
        size_bytes=content.size_bytes,
        file_type=content.file_type,
        ok=content.ok,
        owner_id=design.owner_id,
        derived_from_id=design.derived_from_id,
        created_at=design.created_at,
        report=content.report.get(lang, {}),
    )


def design_path(designs_dir: Path, design: Design) -> Path:
    return path_for(designs_dir, design.sha256)


def revalidate(
    *,
    session: Session,
    actor: User,
    design_id: int,
    designs_dir: Path,
    machine: MachineSpec,
    limits: ValidationLimits,
) -> Report:
    """Check a design against one named machine (bed fit, limits); the stored report is unchanged."""
    design = get_design(session=session, actor=actor, design_id=design_id)
    return run_validation(design_path(designs_dir, design), machines=[machine], limits=limits)
