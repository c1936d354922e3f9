"""Design upload (multipart, size-limited while streaming), listing, report, re-validation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, UploadFile

from fablabctl.designs import service
from fablabctl.designs.schemas import DesignOut
from fablabctl.designs.storage import CHUNK
from fablabctl.fleet.service import get_machine, list_machines, to_spec
from fablabctl.web.deps import ContextDep, CurrentUser, LangDep, SessionDep

router = APIRouter(prefix="/designs", tags=["designs"])


def _chunks(upload: UploadFile) -> Iterator[bytes]:
    while chunk := upload.file.read(CHUNK):
        yield chunk


@router.post("", status_code=201)
def upload_design(
    file: UploadFile, session: SessionDep, actor: CurrentUser, context: ContextDep, lang: LangDep
) -> DesignOut:
    """Upload an STL, DXF or G-code file; the validation report comes back at once."""
    machines = [to_spec(m) for m in list_machines(session=session)]
    design = service.upload_design(
        session=session,
        actor=actor,
        filename=file.filename,
        chunks=_chunks(file),
        designs_dir=context.settings.designs_dir,
        limits=context.limits,
        machines=machines,
    )
    return service.design_out(session, design, lang)


@router.get("")
def list_designs(
    session: SessionDep, actor: CurrentUser, lang: LangDep, owner_id: int | None = None
) -> list[DesignOut]:
    rows = service.list_designs(session=session, actor=actor, owner_id=owner_id)
    return [service.design_out(session, d, lang) for d in rows]


@router.get("/{design_id}")
def get_design(design_id: int, session: SessionDep, actor: CurrentUser, lang: LangDep) -> DesignOut:
    return service.design_out(
        session, service.get_design(session=session, actor=actor, design_id=design_id), lang
    )


@router.post("/{design_id}/repair", status_code=201)
def repair_design(
    design_id: int, session: SessionDep, actor: CurrentUser, context: ContextDep, lang: LangDep
) -> DesignOut:
    """Apply the automatic STL repair and return it as a new design (the original is kept)."""
    design = service.repair_design(
        session=session,
        actor=actor,
        design_id=design_id,
        designs_dir=context.settings.designs_dir,
        limits=context.limits,
        machines=[to_spec(m) for m in list_machines(session=session)],
    )
    return service.design_out(session, design, lang)


@router.get("/{design_id}/report")
def get_report(
    design_id: int,
    session: SessionDep,
    actor: CurrentUser,
    lang: LangDep,
    context: ContextDep,
    machine_id: int | None = None,
) -> dict[str, Any]:
    """The stored report; with `machine_id`, a fresh check against that machine."""
    if machine_id is None:
        return service.design_out(
            session, service.get_design(session=session, actor=actor, design_id=design_id), lang
        ).report
    machine = get_machine(session=session, machine_id=machine_id)
    report = service.revalidate(
        session=session,
        actor=actor,
        design_id=design_id,
        designs_dir=context.settings.designs_dir,
        machine=to_spec(machine),
        limits=context.limits,
    )
    return report.to_dict(lang)
