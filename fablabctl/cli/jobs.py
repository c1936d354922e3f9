"""`fablabctl job submit/list/approve/reject/cancel`: the queue from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from fablabctl.cli.backend import ApiError, Backend
from fablabctl.cli.common import backend, current_lang, die, print_json, say, show_table
from fablabctl.cli.people_ref import display_names, name_of, person_id
from fablabctl.cli.validate import print_findings
from fablabctl.i18n import Text
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
        raise die(Text("fichier introuvable : {name}", "file not found: {name}").format(name=file), code=2)
    with backend(ctx) as api:
        with file.open("rb") as stream:
            design = api.call("POST", "/designs", files={"file": (file.name, stream)})
        print_findings(design["report"].get("findings", []), current_lang())
        if not design["ok"]:
            raise die(
                Text(
                    "le fichier a des erreurs bloquantes : corrigez-le avant de le soumettre ({name})",
                    "the file has blocking errors: fix it before submitting it ({name})",
                ).format(name=file.name)
            )
        body = {
            "design_id": design["id"],
            "material": material,
            "quantity": quantity,
            "priority": priority,
            "cohort_id": cohort,
        }
        job = api.call("POST", "/jobs", json=body)
    say(
        Text(
            "travail #{id} soumis ({kind}, {material} x{quantity}) : "
            "en attente de validation par un formateur",
            "job #{id} submitted ({kind}, {material} x{quantity}): waiting for a trainer's approval",
        ),
        **{k: job[k] for k in ("id", "kind", "material", "quantity")},
    )


def design_names(api: Backend, jobs: list[dict[str, Any]], owner_id: int | None) -> dict[int, str]:
    """Design id → file name for these jobs (the job itself carries it when the service sends it)."""
    if all("filename" in j for j in jobs):
        return {int(j["design_id"]): str(j["filename"]) for j in jobs}
    try:
        designs = api.call("GET", "/designs", params={"owner_id": owner_id} if owner_id else None)
    except ApiError:
        return {}
    return {int(d["id"]): str(d["filename"]) for d in designs}


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
        owner_id = person_id(api, owner) if owner else None
        params = {
            "state": state.value if state else None,
            "cohort_id": cohort,
            "owner_id": owner_id,
            "machine_id": machine,
        }
        jobs = api.call("GET", "/jobs", params={k: v for k, v in params.items() if v is not None})
        if as_json:
            print_json(jobs)
            return
        files = design_names(api, jobs, owner_id) if jobs else {}
        people = display_names(api) if jobs else {}
    show_table(
        Text("Travaux", "Jobs"),
        (
            "id",
            Text("état", "state"),
            Text("fichier", "file"),
            Text("type", "kind"),
            Text("matériau", "material"),
            Text("qté", "qty"),
            "prio",
            "tigiste",
            "machine",
            Text("motif", "reason"),
        ),
        [
            (
                j["id"],
                j["state"],
                files.get(j["design_id"], f"#{j['design_id']}"),
                j["kind"],
                j["material"],
                j["quantity"],
                j["priority"],
                name_of(people, j["owner_id"]),
                j["machine_id"],
                j["reason"],
            )
            for j in jobs
        ],
    )


DONE = Text("travail #{id} {done} (état : {state})", "job #{id} {done} (state: {state})")


def _act(ctx: typer.Context, job_id: int, action: str, body: dict[str, Any] | None, done: Text) -> None:
    with backend(ctx) as api:
        job = api.call("POST", f"/jobs/{job_id}/{action}", json=body)
    say(DONE, id=job["id"], done=done.in_(current_lang()), state=job["state"])


@group.command("approve")
def approve(ctx: typer.Context, job_id: int) -> None:
    """Approve a submitted job: it joins the queue."""
    _act(ctx, job_id, "approve", None, Text("validé", "approved"))


@group.command("reject")
def reject(
    ctx: typer.Context, job_id: int, reason: Annotated[str, typer.Option(help="Shown to the tigiste")]
) -> None:
    """Reject a submitted job with a reason."""
    _act(ctx, job_id, "reject", {"reason": reason}, Text("refusé", "rejected"))


@group.command("cancel")
def cancel(ctx: typer.Context, job_id: int, reason: Annotated[str | None, typer.Option()] = None) -> None:
    """Cancel a job."""
    _act(ctx, job_id, "cancel", {"reason": reason} if reason else None, Text("annulé", "cancelled"))


@group.command("confirm")
def confirm(ctx: typer.Context, job_id: int) -> None:
    """Confirm the bed is clear / the sheet is in place: the machine starts."""
    _act(ctx, job_id, "confirm", None, Text("confirmé", "confirmed"))


@group.command("pause")
def pause(ctx: typer.Context, job_id: int) -> None:
    """Pause a running job (heaters stay on)."""
    _act(ctx, job_id, "pause", None, Text("mise en pause demandée", "pause requested"))


@group.command("resume")
def resume(ctx: typer.Context, job_id: int) -> None:
    """Resume a paused job."""
    _act(ctx, job_id, "resume", None, Text("reprise demandée", "resume requested"))


@group.command("retry")
def retry(ctx: typer.Context, job_id: int) -> None:
    """Print again: a new attempt of a failed, cancelled or interrupted job."""
    _act(ctx, job_id, "retry", None, Text("relancé : nouvel essai", "retried: a new attempt"))


@group.command("priority", context_settings={"ignore_unknown_options": True})  # `priority 4 -2`
def priority(
    ctx: typer.Context,
    job_id: int,
    value: Annotated[int, typer.Argument(min=-10, max=10, help="-10..10, higher runs first (0: normal)")],
) -> None:
    """Move a job up or down the queue before a machine takes it."""
    _act(ctx, job_id, "priority", {"priority": value}, Text(f"priorité {value:+d}", f"priority {value:+d}"))


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
        Text("Historique", "History"),
        (
            "id",
            Text("fichier", "file"),
            "machine",
            Text("essai de", "attempt of"),
            Text("copie", "copy"),
            Text("issue", "outcome"),
            Text("file (min)", "queue (min)"),
            Text("préparation (min)", "preparing (min)"),
            Text("machine (min)", "machine (min)"),
            Text("matière", "material"),
            Text("motif", "reason"),
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
        cut = Text("{m:.2f} m de coupe", "{m:.2f} m of cut").format(m=estimates["cut_length_mm"] / 1000)
        return cut.in_(current_lang())
    return ""


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="job")
    app.add_typer(group, name="jobs", hidden=True)
