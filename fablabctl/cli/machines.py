"""`fablabctl machine add/list/remove`: the fleet of printers and lasers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import typer

from fablabctl.cli.common import backend, console, die, print_json, show_table
from fablabctl.specs import parse_bed

group = typer.Typer(help="Machines (imprimantes 3D, découpeuses laser).", no_args_is_help=True)

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
        raise die(f"--bed : {exc}", code=2) from None
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
    console.print(
        f"machine #{machine['id']} « {machine['name']} » ({machine['kind']}, {machine['driver']}) ajoutée"
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
        "Machines",
        ("id", "nom", "type", "pilote", "plateau (mm)", "état", "maintenance", "matériaux"),
        [
            (
                m["id"],
                m["name"],
                m["kind"],
                m["driver"],
                _bed(m),
                m["state"],
                "oui" if m["maintenance"] else "",
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
    console.print(f"machine #{machine_id} retirée")


@group.command("stats")
def stats(ctx: typer.Context) -> None:
    """Odometer per machine: hours run, jobs done and failed."""
    with backend(ctx) as api:
        rows = api.call("GET", "/machines/stats")
    show_table(
        "Compteurs machines",
        ("id", "nom", "type", "état", "maintenance", "heures", "réussis", "échoués"),
        [
            (
                r["machine_id"],
                r["name"],
                r["kind"],
                r["state"],
                "oui" if r["maintenance"] else "",
                f"{r['hours_run']:.2f}",
                r["jobs_done"],
                r["jobs_failed"],
            )
            for r in rows
        ],
    )


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
        console.print("aucun port série trouvé / no serial port found")
        return
    for device, hint in ports:
        console.print(f"port {device} {hint}", highlight=False)
    found = scan_sync(ports, timeout=timeout)
    if not found:
        console.print("aucune machine n'a répondu / no machine answered")
        raise typer.Exit(1)
    for item in found:
        console.print(
            f"[green]{item.port}[/] : {item.firmware} ({item.driver}, {item.baud} bauds)", highlight=False
        )
        console.print(f"  {item.add_command()}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="machine")
    app.add_typer(group, name="machines", hidden=True)
