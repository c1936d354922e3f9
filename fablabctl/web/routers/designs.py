"""Design upload (multipart, streamed into the store, see web/uploads.py), listing, report, re-validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from fablabctl.designs import service
from fablabctl.designs.schemas import DesignOut
from fablabctl.fleet.service import get_machine, to_spec
from fablabctl.specs import MachineSpec
from fablabctl.web import uploads
from fablabctl.web.deps import ContextDep, CurrentUser, LangDep, SessionDep
from fablabctl.web.params import Id, IdQuery
from fablabctl.web.transactions import CommitFirstRoute, run_in_session

router = APIRouter(prefix="/designs", tags=["designs"], route_class=CommitFirstRoute)


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post("", status_code=201, openapi_extra=UPLOAD_BODY)
async def upload_design(
    request: Request, actor: CurrentUser, context: ContextDep, lang: LangDep
) -> DesignOut:
    """Upload an STL, DXF or G-code file (multipart field `file`); the validation report comes back
    at once. Authenticated before the body is read; a file that is not a design is not kept."""
    return await uploads.receive_design(request=request, actor=actor, context=context, lang=lang)


@router.get("")
def list_designs(
    session: SessionDep, actor: CurrentUser, lang: LangDep, owner_id: IdQuery = None
) -> list[DesignOut]:
    rows = service.list_designs(session=session, actor=actor, owner_id=owner_id)
    return [service.design_out(session, d, lang) for d in rows]


@router.get("/{design_id}")
def get_design(design_id: Id, session: SessionDep, actor: CurrentUser, lang: LangDep) -> DesignOut:
    return service.design_out(
        session, service.get_design(session=session, actor=actor, design_id=design_id), lang
    )


@router.post("/{design_id}/repair", status_code=201)
async def repair_design(
    design_id: Id, request: Request, actor: CurrentUser, context: ContextDep, lang: LangDep
) -> DesignOut:
    """Apply the automatic STL repair and return it as a new design (the original is kept); counted
    in the owner's quota, a large file waits for a validation slot."""
    return await uploads.repair_design(
        request=request, actor=actor, context=context, lang=lang, design_id=design_id
    )


@router.get("/{design_id}/report")
async def get_report(
    design_id: Id,
    request: Request,
    actor: CurrentUser,
    lang: LangDep,
    context: ContextDep,
    machine_id: IdQuery = None,
) -> dict[str, Any]:
    """The stored report; with `machine_id`, a fresh check against that machine (no database
    connection held while it runs; a large file waits for a validation slot)."""

    def load(session: Session) -> tuple[dict[str, Any], Path, MachineSpec | None]:
        design = service.get_design(session=session, actor=actor, design_id=design_id)
        machine = to_spec(get_machine(session=session, machine_id=machine_id)) if machine_id else None
        report = service.design_out(session, design, lang).report
        return report, service.design_path(context.settings.designs_dir, design), machine

    stored, path, machine = await run_in_threadpool(run_in_session, context.sessions, load, write=False)
    if machine is None:
        return stored
    report = await uploads.validate_path(request, path, [machine], context)
    return report.to_dict(lang)
