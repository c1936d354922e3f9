"""The central site's side of the mobile Fab Lab: pull, design files, push (site token, not a login).

`FABLAB_SYNC_FAULT_AFTER_BATCHES=N` (tests only) makes the process die right after committing its
N-th push batch, before answering: the van's next push must finish the job with no duplicate.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from fablabctl.sync import central, tokens
from fablabctl.sync.pull_serve import pull_bundle
from fablabctl.web.deps import ContextDep, SessionDep
from fablabctl.web.transactions import CommitFirstRoute, run_in_session

router = APIRouter(prefix="/sync", tags=["sync"], route_class=CommitFirstRoute)
FAULT_ENV = "FABLAB_SYNC_FAULT_AFTER_BATCHES"
_batches_done = 0

AuthHeader = Annotated[str | None, Header(alias="Authorization")]


def _token(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


class FilesIn(BaseModel):
    hashes: list[str] = Field(max_length=10_000)


class PushIn(BaseModel):
    cohort_id: int
    items: list[dict[str, Any]] = Field(max_length=central.MAX_BATCH)


@router.get("/pull")
def pull(
    cohort_id: int, session: SessionDep, context: ContextDep, authorization: AuthHeader = None
) -> dict[str, Any]:
    scope = tokens.authenticate(session, _token(authorization), cohort_id=cohort_id)
    return pull_bundle(session, scope, context.settings.designs_dir)


@router.post("/files/missing")
def files_missing(
    body: FilesIn, session: SessionDep, context: ContextDep, authorization: AuthHeader = None
) -> dict[str, Any]:
    tokens.authenticate(session, _token(authorization))
    return {"missing": central.missing_files(context.settings.designs_dir, body.hashes)}


FILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post("/files", openapi_extra=FILE_BODY)
async def file_upload(
    sha256: Annotated[str, Query(max_length=64)],
    request: Request,
    context: ContextDep,
    authorization: AuthHeader = None,
) -> dict[str, Any]:
    """One design file, its bytes as the body. The site token is checked before one byte is read;
    the body streams to disk (size limit and read timeout in `web/limits.py`), kept if its hash matches."""
    token = _token(authorization)
    await run_in_threadpool(
        run_in_session, context.sessions, lambda s: tokens.authenticate(s, token), write=True
    )
    settings = context.settings
    stored = await central.receive_file(
        settings.designs_dir, sha256, request.stream(), settings.max_upload_bytes
    )
    return {"stored": stored}


@router.post("/push")
def push(
    body: PushIn, session: SessionDep, context: ContextDep, authorization: AuthHeader = None
) -> dict[str, Any]:
    global _batches_done
    scope = tokens.authenticate(session, _token(authorization), cohort_id=body.cohort_id)
    results = central.push(session, scope, body.items, context.settings.designs_dir)
    fault = os.environ.get(FAULT_ENV)
    if fault:
        _batches_done += 1
        if _batches_done >= int(fault):
            session.commit()
            os._exit(9)  # committed, never answered: the cut a resumed push must survive
    return {"results": results}
