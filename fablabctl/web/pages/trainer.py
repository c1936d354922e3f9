"""The trainer's dashboard: jobs to approve (with their preview), machines live, jobs that wait and why."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from fablabctl.designs import preview
from fablabctl.designs import service as designs
from fablabctl.fleet.service import list_machines, to_spec
from fablabctl.people.roles import Role
from fablabctl.web.pages.board import board
from fablabctl.web.pages.core import PageRoute, context_of, db, lang_of, render, require_user
from fablabctl.web.pages.labels import labels

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PREVIEWS = 6  # drawings and 3D thumbnails on the dashboard: enough to decide, light on a tablet


@router.get("/trainer")
def dashboard(request: Request) -> Response:
    context = context_of(request)
    with db(request) as session:
        user = require_user(request, session, Role.TRAINER, Role.ADMIN)
        data = board(session, user)
        specs = [to_spec(m) for m in list_machines(session=session)]
        drawings = {}
        for line in [x for x in data["submitted"] if x.file_type == "dxf"][:PREVIEWS]:
            design = designs.get_design(session=session, actor=user, design_id=line.job.design_id)
            path = designs.design_path(context.settings.designs_dir, design)
            drawings[line.job.id] = preview.dxf_view(path, context.limits, specs, {})
        return render(
            request, "trainer.html", user=user, labels=labels(lang_of(request)), drawings=drawings, **data
        )
