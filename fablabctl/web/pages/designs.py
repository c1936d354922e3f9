"""The tigiste's pages: upload a design, read its report on the design itself, repair, submit the job."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from fablabctl.db.models import User
from fablabctl.designs import preview, service
from fablabctl.fleet.materials import disabled_keys, refuse_disabled
from fablabctl.fleet.service import list_machines, to_spec
from fablabctl.queue import jobs
from fablabctl.queue.schemas import JobOut, JobSubmit
from fablabctl.web import uploads
from fablabctl.web.pages.core import PageRoute, context_of, db, lang_of, redirect, render, require_user
from fablabctl.web.pages.labels import labels

router = APIRouter(route_class=PageRoute, include_in_schema=False)
KIND_OF_FILE = {"stl": "printer", "dxf": "laser"}
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
# a design never changes (stored by content hash): the browser may keep its geometry for a while
IMMUTABLE = {"Cache-Control": "private, max-age=3600"}


def materials_for(machines: list[Any], kind: str | None) -> list[str]:
    """Materials some machine of the file's kind accepts or holds: only what can actually run."""
    found: set[str] = set()
    for machine in machines:
        if kind is None or machine.kind == kind:
            found.update(machine.materials)
            if machine.loaded_material:
                found.add(machine.loaded_material)
    return sorted(found)


@router.get("/mine")
def mine(request: Request) -> Response:
    with db(request) as session:
        user = require_user(request, session)
        lang = lang_of(request)
        designs = [
            service.design_out(session, d, lang)
            for d in service.list_designs(session=session, actor=user, owner_id=user.id)[:50]
        ]
        my_jobs = [
            JobOut.model_validate(j) for j in jobs.list_jobs(session=session, actor=user, owner_id=user.id)
        ][:50]
        names = {d.id: d.filename for d in designs}
        return render(
            request,
            "mine.html",
            user=user,
            designs=designs,
            jobs=my_jobs,
            names=names,
            labels=labels(lang),
            max_mb=context_of(request).settings.max_upload_mb,
        )


@router.post("/designs/upload")
async def upload(request: Request) -> Response:
    """From the drop zone (XHR, answers JSON with the report page's address) or the plain form
    (redirect). The same upload path as the API (web/uploads.py): quota, size, validation slots."""
    user = await run_in_threadpool(_logged_in, request)
    out = await uploads.receive_design(
        request=request, actor=user, context=context_of(request), lang=lang_of(request)
    )
    url = f"/designs/{out.id}"
    if request.headers.get("x-csrf-token") is not None:
        return JSONResponse({"id": out.id, "url": url}, status_code=201)
    return redirect(url)


def _logged_in(request: Request) -> User:
    with db(request) as session:
        return require_user(request, session)


def _design_page_data(request: Request, session: Any, user: Any, design_id: int) -> dict[str, Any]:
    context = context_of(request)
    lang = lang_of(request)
    design = service.get_design(session=session, actor=user, design_id=design_id)
    out = service.design_out(session, design, lang)
    # what must be fixed first; markers on the drawing are numbered in this same order
    out.report["findings"] = sorted(
        out.report.get("findings", []), key=lambda f: SEVERITY_ORDER.get(f.get("severity"), 3)
    )
    machines = list_machines(session=session)
    view = None
    if out.file_type == "dxf":
        view = preview.dxf_view(
            service.design_path(context.settings.designs_dir, design),
            context.limits,
            [to_spec(m) for m in machines],
            out.report,
        )
    return {"design": out, "view": view, "machines": machines}


@router.get("/designs/{design_id}")
def design_page(design_id: int, request: Request) -> Response:
    with db(request) as session:
        user = require_user(request, session)
        lang = lang_of(request)
        data = _design_page_data(request, session, user, design_id)
        out = data["design"]
        before = None
        if out.derived_from_id is not None:
            before = _design_page_data(request, session, user, out.derived_from_id)
        kind = KIND_OF_FILE.get(out.file_type)
        design_jobs = [
            JobOut.model_validate(j)
            for j in jobs.list_jobs(session=session, actor=user, owner_id=out.owner_id)
            if j.design_id == out.id
        ]
        return render(
            request,
            "design.html",
            user=user,
            **data,
            before=before,
            kind=kind,
            materials=[m for m in materials_for(data["machines"], kind) if m not in disabled_keys(session)],
            design_jobs=design_jobs,
            labels=labels(lang),
            repairable=out.file_type == "stl"
            and any(f.get("repairable") for f in out.report.get("findings", [])),
        )


@router.get("/designs/{design_id}/mesh.bin")
def mesh(design_id: int, request: Request) -> Response:
    """The triangles for the 3D view (float32 x, y, z), only for who may see the design."""
    context = context_of(request)
    with db(request) as session:
        user = require_user(request, session)
        design = service.get_design(session=session, actor=user, design_id=design_id)
        path = service.design_path(context.settings.designs_dir, design)
    body = preview.stl_triangles(path, context.limits)
    return Response(body, media_type="application/octet-stream", headers=IMMUTABLE)


@router.get("/designs/{design_id}/problems.json")
def problems(design_id: int, request: Request) -> Response:
    context = context_of(request)
    with db(request) as session:
        user = require_user(request, session)
        design = service.get_design(session=session, actor=user, design_id=design_id)
        out = service.design_out(session, design, lang_of(request))
        path = service.design_path(context.settings.designs_dir, design)
        specs = [to_spec(m) for m in list_machines(session=session)]
    data = preview.stl_problems(path, context.limits, specs) if out.file_type == "stl" else {}
    data["findings"] = out.report.get("findings", [])
    return JSONResponse(data, headers=IMMUTABLE)


@router.post("/designs/{design_id}/repair")
async def repair(design_id: int, request: Request) -> Response:
    """The same repair path as the API (web/uploads.py): the owner's quota, validation slots."""
    user = await run_in_threadpool(_logged_in, request)
    repaired = await uploads.repair_design(
        request=request, actor=user, context=context_of(request), lang=lang_of(request), design_id=design_id
    )
    lang = lang_of(request)
    return redirect(
        f"/designs/{repaired.id}",
        flash="Réparation faite : comparez avant / après."
        if lang == "fr"
        else "Repaired: compare before / after.",
    )


@router.post("/designs/{design_id}/submit")
def submit(design_id: int, request: Request, material: str = Form(""), quantity: int = Form(1)) -> Response:
    lang = lang_of(request)
    if not material.strip():
        return redirect(
            f"/designs/{design_id}#submit",
            flash="Choisissez un matériau." if lang == "fr" else "Choose a material.",
            kind="error",
        )
    with db(request) as session:
        user = require_user(request, session)
        refuse_disabled(session, material.strip())
        job = jobs.submit_job(
            session=session,
            actor=user,
            data=JobSubmit(
                design_id=design_id, material=material.strip()[:64], quantity=max(1, min(quantity, 100))
            ),
        )
        session.flush()
        url = f"/jobs/{job.id}"
    text = (
        "Travail envoyé : un formateur va le valider."
        if lang == "fr"
        else "Job submitted: a trainer will approve it."
    )
    return redirect(url, flash=text)
