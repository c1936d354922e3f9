"""The emergency stop: straight to the firmware (M112 / Grbl soft reset) through the driver this
server's dispatcher holds, before anything is written to the database.

A machine run by another process (`fablabctl dispatch`, another site) cannot be reached from here:
the page says so plainly, so nobody believes a machine stopped when it did not.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from fablabctl.db.models import User
from fablabctl.i18n import Text
from fablabctl.web import control
from fablabctl.web.pages.core import PageRoute, context_of, db, lang_of, redirect, require_user, safe_next

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STOPPED = Text("ARRÊT D'URGENCE envoyé à : {names}.", "EMERGENCY STOP sent to: {names}.")


def _machines(request: Request) -> tuple[User, dict[int, str]]:
    with db(request) as session:
        user = require_user(request, session)
        return user, control.staff_machines(session, user)


@router.post("/machines/emergency-stop")
@router.post("/machines/{machine_id}/emergency-stop")
async def emergency_stop(request: Request, machine_id: int | None = None) -> Response:
    """The same stop as `POST /api/v1/machines/.../emergency-stop` (`web/control.py`)."""
    user, names = await run_in_threadpool(_machines, request)
    ids = [machine_id] if machine_id is not None else list(names)
    stopped = await control.emergency_stop(control.links_of(request.app.state), names, ids)
    lang = lang_of(request)
    back = safe_next(request.headers.get("referer", "").partition(request.url.netloc)[2] or None, "/operator")
    if not stopped:
        return redirect(back, flash=control.NOT_HERE.in_(lang), kind="error")
    await control.record_after_stop(request.app.state, context_of(request).sessions, user, stopped)
    text = STOPPED.format(names=", ".join(item.name for item in stopped)).in_(lang)
    return redirect(back, flash=text, kind="error")
