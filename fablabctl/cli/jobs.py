"""`fablabctl job submit/list/approve/reject/cancel`: the queue from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from fablabctl.cli.common import backend, console, die, print_json, show_table
from fablabctl.cli.people_ref import person_id
from fablabctl.queue.states import JobState

group = typer.Typer(help="Travaux / jobs.", no_args_is_help=True)


@group.command("submit")
def submit(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="STL, DXF or G-code file")],
    material: Annotated[str, typer.Option(help="PLA, PETG, plywood-poplar-3mm...")],
    quantity: Annotated[int, typer.Option(min=1, max=100)] = 1,
    priority: Annotated[int, typer.Option(min=-10, max=10)] = 0,
    cohort: Annotated[int | None, typer.Option(help="Cohort id")] = None,
) -> None:
    """Upload a design and submit it as a job (it waits for a trainer's approval)."""
    if not file.is_file():
        raise die(f"fichier introuvable : {file}", code=2)
    with backend(ctx) as api:
        with file.open("rb") as stream:
            design = api.call("POST", "/designs", files={"file": (file.name, stream)})
        _print_findings(design["report"])
        if not design["ok"]:
            raise die(
                f"le fichier a des erreurs bloquantes : corrigez-le avant de le soumettre ({file.name})"
            )
        body = {
            "design_id": design["id"],
            "material": material,
            "quantity": quantity,
            "priority": priority,
            "cohort_id": cohort,
        }
        job = api.call("POST", "/jobs", json=body)
    console.print(
        f"travail #{job['id']} soumis ({job['kind']}, {job['material']} x{job['quantity']}) : "
        f"en attente de validation par un formateur"
    )


def _print_findings(report: dict[str, Any]) -> None:
    for finding in report.get("findings", []):
        colour = {"error": "red", "warning": "yellow"}.get(finding["severity"], "blue")
        console.print(
            f"[{colour}]{finding['severity']}[/] {finding['code']} : {finding['message']}", highlight=False
        )


@group.command("list")
def list_(
    ctx: typer.Context,
    state: Annotated[JobState | None, typer.Option()] = None,
    cohort: Annotated[int | None, typer.Option(help="Cohort id")] = None,
    owner: Annotated[str | None, typer.Option(help="Tigiste: username or id")] = None,
    machine: Annotated[int | None, typer.Option(help="Machine id")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List jobs, newest first, with filters."""
    with backend(ctx) as api:
        params = {
            "state": state.value if state else None,
            "cohort_id": cohort,
            "owner_id": person_id(api, owner) if owner else None,
            "machine_id": machine,
        }
        jobs = api.call("GET", "/jobs", params={k: v for k, v in params.items() if v is not None})
    if as_json:
        print_json(jobs)
        return
    show_table(
        "Travaux",
        ("id", "état", "type", "matériau", "qté", "prio", "tigiste", "machine", "motif"),
        [
            (
                j["id"],
                j["state"],
                j["kind"],
                j["material"],
                j["quantity"],
                j["priority"],
                j["owner_id"],
                j["machine_id"],
                j["reason"],
            )
            for j in jobs
        ],
    )


def _act(ctx: typer.Context, job_id: int, action: str, body: dict[str, Any] | None, done: str) -> None:
    with backend(ctx) as api:
        job = api.call("POST", f"/jobs/{job_id}/{action}", json=body)
    console.print(f"travail #{job['id']} {done} (état : {job['state']})")


@group.command("approve")
def approve(ctx: typer.Context, job_id: int) -> None:
    """Approve a submitted job: it joins the queue."""
    _act(ctx, job_id, "approve", None, "validé")


@group.command("reject")
def reject(
    ctx: typer.Context, job_id: int, reason: Annotated[str, typer.Option(help="Shown to the tigiste")]
) -> None:
    """Reject a submitted job with a reason."""
    _act(ctx, job_id, "reject", {"reason": reason}, "refusé")


@group.command("cancel")
def cancel(ctx: typer.Context, job_id: int, reason: Annotated[str | None, typer.Option()] = None) -> None:
    """Cancel a job."""
    _act(ctx, job_id, "cancel", {"reason": reason} if reason else None, "annulé")


@group.command("confirm")
def confirm(ctx: typer.Context, job_id: int) -> None:
    """Confirm the bed is clear / the sheet is in place: the machine starts."""
    _act(ctx, job_id, "confirm", None, "confirmé")


@group.command("pause")
def pause(ctx: typer.Context, job_id: int) -> None:
    """Pause a running job (heaters stay on)."""
    _act(ctx, job_id, "pause", None, "mise en pause demandée")


@group.command("resume")
def resume(ctx: typer.Context, job_id: int) -> None:
    """Resume a paused job."""
    _act(ctx, job_id, "resume", None, "reprise demandée")


@group.command("retry")
def retry(ctx: typer.Context, job_id: int) -> None:
    """Print again: a new attempt of a failed, cancelled or interrupted job."""
    _act(ctx, job_id, "retry", None, "relancé : nouvel essai")


@group.command("history")
def history(
    ctx: typer.Context,
    owner: Annotated[str | None, typer.Option(help="Tigiste: username or id")] = None,
    cohort: Annotated[int | None, typer.Option(help="Cohort id")] = None,
) -> None:
    """Finished jobs with their machine, durations, material and outcome."""
    with backend(ctx) as api:
        owner_id = person_id(api, owner) if owner else None
        params = {k: v for k, v in (("owner_id", owner_id), ("cohort_id", cohort)) if v is not None}
        rows = api.call("GET", "/jobs/history", params=params)
    show_table(
        "Historique",
        (
            "id",
            "fichier",
            "machine",
            "essai de",
            "copie",
            "issue",
            "file (min)",
            "préparation (min)",
            "machine (min)",
            "matière",
            "motif",
        ),
        [
            (
                r["job_id"],
                r["filename"],
                r["machine"],
                r["attempt_of_id"],
                r["run"],
                r["outcome"],
                _minutes(r["queued_s"]),
                _minutes(r["preparing_s"]),
                _minutes(r["running_s"]),
                _material(r["estimates"]),
                r["reason"],
            )
            for r in rows
        ],
    )


def _minutes(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 60:.1f}"


def _material(estimates: dict[str, Any]) -> str:
    if "filament_g" in estimates:
        return f"{estimates['filament_g']:.1f} g"
    if "cut_length_mm" in estimates:
        return f"{estimates['cut_length_mm'] / 1000:.2f} m de coupe"
    return ""


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="job")
    app.add_typer(group, name="jobs", hidden=True)
