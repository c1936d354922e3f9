"""The emergency stop: straight to the firmware (M112 / Grbl soft reset) through the driver this
server's dispatcher holds, before anything is written to the database.

A machine run by another process (`fablabctl dispatch`, another site) cannot be reached from here:
the page says so plainly, so nobody believes a machine stopped when it did not.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from fablabctl import audit
from fablabctl.fleet.service import list_machines
from fablabctl.i18n import Text
from fablabctl.machines.base import MachineError
from fablabctl.people.roles import STAFF, require
from fablabctl.queue import events
from fablabctl.web.pages.core import PageRoute, db, lang_of, redirect, require_user, safe_next

log = logging.getLogger(__name__)
router = APIRouter(route_class=PageRoute, include_in_schema=False)

STOPPED = Text("ARRÊT D'URGENCE envoyé à : {names}.", "EMERGENCY STOP sent to: {names}.")
NOT_HERE = Text(
    "Aucune machine pilotée par ce serveur : coupez l'alimentation de la machine.",
    "No machine is driven by this server: switch the machine off at the mains.",
)


def _machines(request: Request) -> dict[int, str]:
    """Staff only; the machines' names by id."""
    with db(request) as session:
        user = require_user(request, session)
        require(user, STAFF)
        return {m.id: m.name for m in list_machines(session=session)}


def _record(request: Request, stopped: list[tuple[int, str]]) -> None:
    with db(request) as session:
        user = require_user(request, session)
        for machine_id, name in stopped:
            audit.record(
                session,
                actor=user,
                action="machine.emergency_stop",
                target_type="machine",
                target_id=machine_id,
            )
            events.defer(
                session,
                events.MACHINE_MESSAGE,
                {"machine_id": machine_id, "message": f"{name}: arrêt d'urgence / emergency stop"},
            )


@router.post("/machines/emergency-stop")
@router.post("/machines/{machine_id}/emergency-stop")
async def emergency_stop(request: Request, machine_id: int | None = None) -> Response:
    names = await run_in_threadpool(_machines, request)
    dispatcher = getattr(request.app.state, "dispatcher", None)
    links = dispatcher.links if dispatcher is not None else None
    stopped: list[tuple[int, str]] = []
    if links is not None:
        for mid in [machine_id] if machine_id is not None else list(names):
            link = links.get(mid)
            if link is None or link.driver is None:
                continue
            try:
                await link.driver.emergency_stop()
            except MachineError as exc:  # the stop itself failed: say so, keep stopping the others
                log.error("emergency stop of machine %s failed: %s", mid, exc.message.en)
                continue
            stopped.append((mid, names.get(mid, f"#{mid}")))
    lang = lang_of(request)
    back = safe_next(request.headers.get("referer", "").partition(request.url.netloc)[2] or None, "/operator")
    if not stopped:
        return redirect(back, flash=NOT_HERE.in_(lang), kind="error")
    await run_in_threadpool(_record, request, stopped)
    text = STOPPED.format(names=", ".join(name for _, name in stopped)).in_(lang)
    return redirect(back, flash=text, kind="error")
