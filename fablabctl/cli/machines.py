"""`fablabctl machine add/list/remove`: the fleet of printers and lasers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import typer

from fablabctl.cli.common import backend, die, print_json, say, show_table, t
from fablabctl.i18n import Text
from fablabctl.specs import parse_bed

group = typer.Typer(help="Machines (imprimantes 3D, découpeuses laser).", no_args_is_help=True)

YES = Text("oui", "yes")
Kind = Literal["printer", "laser"]
Driver = Literal["octoprint", "marlin", "grbl"]


def connection_of(
    driver: str, *, port: str | None, baud: int, url: str | None, api_key: str | None, simulated: bool
) -> dict[str, Any]:
    if simulated:
        return {"simulated": True}
    if driver == "octoprint":
        return {"url": url or "", "api_key": api_key or ""}
    return {"port": port or "", "baud": baud}


@group.command("add")
def add(
    ctx: typer.Context,
    name: str,
    kind: Annotated[Kind, typer.Option(help="printer or laser")],
    driver: Annotated[Driver, typer.Option(help="octoprint, marlin (printer) or grbl (laser)")],
    bed: Annotated[str, typer.Option(help="Work area in mm, e.g. 250x210x210 or 400x300")],
    port: Annotated[str | None, typer.Option(help="Serial port (marlin, grbl)")] = None,
    baud: Annotated[int, typer.Option(help="Serial speed")] = 115200,
    url: Annotated[str | None, typer.Option(help="OctoPrint URL")] = None,
    api_key: Annotated[str | None, typer.Option(help="OctoPrint application key")] = None,
    simulated: Annotated[bool, typer.Option(help="Use the built-in simulator")] = False,
    material: Annotated[list[str] | None, typer.Option(help="Accepted material (repeat)")] = None,
    confirm: Annotated[bool, typer.Option(help="Ask the operator before each start")] = True,
) -> None:
    """Declare a machine."""
    try:
        x, y, z = parse_bed(bed)
    except ValueError as exc:
        raise die(Text("--bed : {error}", "--bed: {error}").format(error=exc), code=2) from None
    body = {
        "name": name,
        "kind": kind,
        "driver": driver,
        "connection": connection_of(
            driver, port=port, baud=baud, url=url, api_key=api_key, simulated=simulated
        ),
        "bed_x_mm": x,
        "bed_y_mm": y,
        "bed_z_mm": z,
        "materials": material or [],
        "confirm_before_start": confirm,
    }
    with backend(ctx) as api:
        machine = api.call("POST", "/machines", json=body)
    say(
        Text(
            "machine #{id} « {name} » ({kind}, {driver}) ajoutée",
            "machine #{id} “{name}” ({kind}, {driver}) added",
        ),
        **{k: machine[k] for k in ("id", "name", "kind", "driver")},
    )


@group.command("list")
def list_(
    ctx: typer.Context,
    kind: Annotated[Kind | None, typer.Option()] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List machines with their state."""
    with backend(ctx) as api:
        machines = api.call("GET", "/machines", params={"kind": kind} if kind else None)
    if as_json:
        print_json(machines)
        return
    show_table(
        Text("Machines", "Machines"),
        (
            "id",
            Text("nom", "name"),
            Text("type", "kind"),
            Text("pilote", "driver"),
            Text("plateau (mm)", "bed (mm)"),
            Text("état", "state"),
            "maintenance",
            Text("matériaux", "materials"),
        ),
        [
            (
                m["id"],
                m["name"],
                m["kind"],
                m["driver"],
                _bed(m),
                m["state"],
                t(YES) if m["maintenance"] else "",
                ", ".join(m["materials"]),
            )
            for m in machines
        ],
    )


def _bed(machine: dict[str, Any]) -> str:
    dims = [machine["bed_x_mm"], machine["bed_y_mm"]] + ([machine["bed_z_mm"]] if machine["bed_z_mm"] else [])
    return "x".join(f"{d:g}" for d in dims)


@group.command("remove")
def remove(ctx: typer.Context, machine_id: int) -> None:
    """Remove a machine that is not running a job."""
    with backend(ctx) as api:
        api.call("DELETE", f"/machines/{machine_id}")
    say(Text("machine #{id} retirée", "machine #{id} removed"), id=machine_id)


@group.command("stats")
def stats(ctx: typer.Context) -> None:
    """Odometer per machine: hours run, jobs done and failed."""
    with backend(ctx) as api:
        rows = api.call("GET", "/machines/stats")
    show_table(
        Text("Compteurs machines", "Machine odometers"),
        (
            "id",
            Text("nom", "name"),
            Text("type", "kind"),
            Text("état", "state"),
            "maintenance",
            Text("heures", "hours"),
            Text("réussis", "done"),
            Text("échoués", "failed"),
        ),
        [
            (
                r["machine_id"],
                r["name"],
                r["kind"],
                r["state"],
                t(YES) if r["maintenance"] else "",
                f"{r['hours_run']:.2f}",
                r["jobs_done"],
                r["jobs_failed"],
            )
            for r in rows
        ],
    )


STOPPED = Text("ARRÊT D'URGENCE envoyé à #{id} {name}", "EMERGENCY STOP sent to #{id} {name}")
NOT_REACHED = Text(
    "non jointe : #{id} {name} (coupez son alimentation)",
    "not reached: #{id} {name} (switch it off at the mains)",
)


@group.command("estop")
def estop(
    ctx: typer.Context,
    machine_id: Annotated[int | None, typer.Argument(help="The machine; or --all")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every machine the service drives")] = False,
) -> None:
    """EMERGENCY STOP (M112 / Grbl reset) through the serving process: use --api URL from elsewhere."""
    if (machine_id is None) == (not all_):
        raise die(Text("Donnez un numéro de machine ou --all.", "Give a machine id or --all."), 2)
    path = "/machines/emergency-stop" if all_ else f"/machines/{machine_id}/emergency-stop"
    with backend(ctx) as api:
        result = api.call("POST", path)
    for item in result["stopped"]:
        say(STOPPED, id=item["machine_id"], name=item["name"])
    for item in result["not_reached"]:
        say(NOT_REACHED, id=item["machine_id"], name=item["name"])


@group.command("scan")
def scan(
    port: Annotated[
        list[str] | None, typer.Option(help="Probe only this port (repeat); default: all")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for an answer per try")] = 3.0,
) -> None:
    """Find printers and lasers on serial ports, and print the `machine add` line for each."""
    from fablabctl.machines.discovery import scan_sync, usb_ports

    ports = [(p, "") for p in port] if port else usb_ports()
    if not ports:
        say(Text("aucun port série trouvé", "no serial port found"))
        return
    for device, hint in ports:
        say(Text("port {device} {hint}", "port {device} {hint}"), device=device, hint=hint)
    found = scan_sync(ports, timeout=timeout)
    if not found:
        say(Text("aucune machine n'a répondu", "no machine answered"))
        raise typer.Exit(1)
    for item in found:
        say(
            Text(
                "{port} : {firmware} ({driver}, {baud} bauds)", "{port}: {firmware} ({driver}, {baud} baud)"
            ),
            port=item.port,
            firmware=item.firmware,
            driver=item.driver,
            baud=item.baud,
        )
        say(Text("  {command}", "  {command}"), command=item.add_command())


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="machine")
    app.add_typer(group, name="machines", hidden=True)
