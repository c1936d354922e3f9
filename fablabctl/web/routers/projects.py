"""The TIG project catalogue, and starting a cohort's project (its parts become jobs)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from fablabctl.fleet.service import list_machines, to_spec
from fablabctl.queue import projects
from fablabctl.queue.schemas import JobOut
from fablabctl.web.deps import ContextDep, CurrentUser, LangDep, SessionDep
from fablabctl.web.params import Id
from fablabctl.web.transactions import CommitFirstRoute

router = APIRouter(tags=["projects"], route_class=CommitFirstRoute)


class StartProject(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project: str | None = None  # default: the cohort's own project
    again: bool = Field(
        default=False, description="Start it once more (a second set of parts) when it is already started"
    )


@router.get("/projects")
def list_projects(actor: CurrentUser, context: ContextDep, lang: LangDep) -> list[dict[str, Any]]:
    catalogue = projects.catalogue(context.settings.catalogue_dir)
    return [
        {
            "id": p.id,
            "title": p.title_fr if lang == "fr" else p.title_en,
            "description": p.description_fr if lang == "fr" else p.description_en,
            "parts": [
                {
                    "name": part.name_fr if lang == "fr" else part.name_en,
                    "kind": part.kind,
                    "material": part.material,
                    "quantity": part.quantity,
                    "roles": list(part.roles),
                }
                for part in p.parts
            ],
        }
        for p in catalogue.values()
    ]


@router.post("/cohorts/{cohort_id}/start-project", status_code=201)
def start_project(
    cohort_id: Id,
    session: SessionDep,
    actor: CurrentUser,
    context: ContextDep,
    lang: LangDep,
    body: StartProject | None = None,
) -> list[JobOut]:
    jobs = projects.start_project(
        session=session,
        actor=actor,
        cohort_id=cohort_id,
        project_id=body.project if body else None,
        jobs_dir=context.settings.catalogue_dir,
        designs_dir=context.settings.designs_dir,
        limits=context.limits,
        machines=[to_spec(m) for m in list_machines(session=session)],
        again=body.again if body else False,
        data_dir=context.settings.data_dir,
    )
    return [JobOut.of(j, lang) for j in jobs]
