"""The operator's page: the site's machines live, confirm / pause / resume / cancel, odometers, and
finding machines on the USB ports to add them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from fablabctl.db.models import User
from fablabctl.fleet import service as fleet
from fablabctl.fleet.schemas import MachineCreate, MachineUpdate
from fablabctl.i18n import Text
from fablabctl.machines import discovery
from fablabctl.people.roles import MACHINE_KEEPERS, STAFF, Role, require
from fablabctl.queue import records
from fablabctl.web import control
from fablabctl.web.pages.board import board
from fablabctl.web.pages.core import PageRoute, context_of, db, lang_of, redirect, render, require_user
from fablabctl.web.pages.labels import labels

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SCAN_TIMEOUT_S = 2.0


def _page(
    request: Request,
    found: list[discovery.Found] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    with db(request) as session:
        user = require_user(request, session)
        require(user, STAFF)
        return render(
            request,
            "operator.html",
            user=user,
            labels=labels(lang_of(request)),
            stats=records.machine_stats(session=session),
            found=found,
            errors=errors or {},
            keeper=user.role in {r.value for r in MACHINE_KEEPERS},
            status=status,
            **board(session, user),
        )


@router.get("/operator")
def machines_page(request: Request) -> Response:
    return _page(request)


@router.post("/operator/scan")
async def scan(request: Request) -> Response:
    """Probe the serial ports no machine uses yet (a port in use is never disturbed)."""
    with db(request) as session:
        user = require_user(request, session)
        require(user, MACHINE_KEEPERS)
        used = {str(m.connection.get("port")) for m in fleet.list_machines(session=session)}
    ports = [(port, hint) for port, hint in discovery.usb_ports() if port not in used]
    found = await discovery.scan(ports, timeout=SCAN_TIMEOUT_S)
    return _page(request, found=found)


@router.post("/operator/machines")
def add_machine(
    request: Request,
    name: str = Form(""),
    kind: str = Form(""),
    driver: str = Form(""),
    port: str = Form(""),
    baud: int = Form(115200),
    bed_x: float = Form(0),
    bed_y: float = Form(0),
    bed_z: float = Form(0),
) -> Response:
    lang = lang_of(request)
    data: dict[str, Any] = {
        "name": name.strip(),
        "kind": kind,
        "driver": driver,
        "connection": {"port": port, "baud": baud},
        "bed_x_mm": bed_x,
        "bed_y_mm": bed_y,
        "bed_z_mm": bed_z,
    }
    try:
        machine = MachineCreate.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])} : {e['msg']}" for e in exc.errors())
        text = f"Machine non ajoutée : {problems}" if lang == "fr" else f"Machine not added: {problems}"
        return redirect("/operator", flash=text, kind="error")
    with db(request) as session:
        user = require_user(request, session, Role.ADMIN, Role.OPERATOR)
        fleet.create_machine(
            session=session, actor=user, data=machine, default_site=context_of(request).settings.site
        )
    return redirect(
        "/operator",
        flash=f"Machine « {machine.name} » ajoutée." if lang == "fr" else f"Machine '{machine.name}' added.",
    )


@router.post("/operator/machines/{machine_id}/settings")
def machine_settings(
    machine_id: int,
    request: Request,
    loaded_material: str = Form(""),
    confirm_before_start: str = Form(""),
    maintenance: str = Form(""),
) -> Response:
    """What the operator changes on the floor: the material loaded, the bed check, maintenance."""
    data = MachineUpdate(
        loaded_material=loaded_material.strip()[:64] or None,
        confirm_before_start=confirm_before_start == "1",
        maintenance=maintenance == "1",
    )
    with db(request) as session:
        user = require_user(request, session, Role.ADMIN, Role.OPERATOR)
        fleet.update_machine(session=session, actor=user, machine_id=machine_id, data=data)
    saved = "Réglages enregistrés." if lang_of(request) == "fr" else "Settings saved."
    return redirect("/operator", flash=saved)


FRAMED = Text(
    "Cadrage fait : vérifiez la plaque, puis confirmez pour découper.",
    "Framing done: check the sheet, then confirm to cut.",
)


@router.post("/operator/jobs/{job_id}/framing")
async def framing(request: Request, job_id: int) -> Response:
    """The same framing as `POST /api/v1/jobs/{id}/framing` (`web/control.py`), at its default power."""
    context = context_of(request)

    def load() -> tuple[User, control.FramingInput]:
        with db(request) as session:
            user = require_user(request, session)
            return user, control.framing_input(session, user, job_id, context.settings.designs_dir)

    user, item = await run_in_threadpool(load)
    links = control.links_of(request.app.state)
    await control.framing_of(request.app.state).run(context, links, job_id, item, control.FRAMING_POWER)

    def record() -> None:
        with db(request) as session:
            control.record_framing(session, user, job_id, item, control.FRAMING_POWER)

    await run_in_threadpool(record)
    return redirect("/operator", flash=FRAMED.in_(lang_of(request)))
