"""`fablabctl sync pull/push/export/import/status`: the mobile Fab Lab's trips to and from the centre.

On the van: `pull` before leaving, `status` any time, `push` back online, or `export` to a file.
On the central site: `import` a file brought on a USB stick. Each works on this machine's own
database; URL is the other service's base address, as for `--api`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fablabctl.cli.common import die, err_console, print_json, say, show_table, t
from fablabctl.cli.site import local_session
from fablabctl.config import SettingsError, load_settings
from fablabctl.db.engine import make_session_factory
from fablabctl.errors import FablabError
from fablabctl.i18n import Text
from fablabctl.startup import prepare_database
from fablabctl.sync import client, outbox
from fablabctl.sync.central import import_file
from fablabctl.sync.codec import get_state
from fablabctl.sync.exchange import export_outbox

group = typer.Typer(
    help="Fab Lab mobile : échanges avec le site central / mobile Fab Lab sync.", no_args_is_help=True
)
TokenOpt = Annotated[
    str | None, typer.Option("--token", envvar="FABLAB_SYNC_TOKEN", help="Site token (FABLAB_SYNC_TOKEN)")
]
PassOpt = Annotated[
    str | None,
    typer.Option(
        "--passphrase",
        envvar="FABLAB_SYNC_PASSPHRASE",
        help="Passphrase of the file (FABLAB_SYNC_PASSPHRASE)",
    ),
]
NO_TOKEN = Text(
    "Jeton de site manquant : --token ou FABLAB_SYNC_TOKEN (fablabctl site token add, au site central).",
    "Site token missing: --token or FABLAB_SYNC_TOKEN (fablabctl site token add, on the central site).",
)


def _need(token: str | None) -> str:
    if not token:
        raise die(NO_TOKEN, code=2)
    return token


@group.command("pull")
def pull(
    source: Annotated[str, typer.Option("--from", help="Central site's URL, e.g. http://192.168.1.10:8000")],
    cohort: Annotated[int, typer.Option("--cohort", help="Cohort id at the central site")],
    token: TokenOpt = None,
) -> None:
    """Copy what the van needs from the central site (cohort, timetable, people, designs, machines)."""
    try:
        settings = load_settings()
        engine = prepare_database(settings)
    except SettingsError as exc:
        raise die(str(exc), code=2) from None
    try:
        result = client.pull(
            make_session_factory(engine),
            url=source,
            token=_need(token),
            cohort_id=cohort,
            site=settings.site,
            data_dir=settings.data_dir,
            designs_dir=settings.designs_dir,
        )
    except FablabError as exc:
        raise die(exc.message) from None
    finally:
        engine.dispose()
    say(
        Text(
            "reçu : cohorte locale {cohort}, {people} personnes, {slots} créneaux, {machines} machines, "
            "{designs} dessins",
            "received: local cohort {cohort}, {people} people, {slots} slots, {machines} machines, "
            "{designs} designs",
        ),
        cohort=result.cohort_id,
        people=result.people,
        slots=result.slots,
        machines=result.machines,
        designs=result.designs,
    )


@group.command("push")
def push(
    target: Annotated[
        str | None, typer.Option("--to", help="Central site's URL (default: the one pulled from)")
    ] = None,
    token: TokenOpt = None,
    batch: Annotated[int, typer.Option("--batch", min=1, max=500, help="Records per request")] = client.BATCH,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Send the outbox to the central site; safe to repeat, and resumes where a cut stopped it."""
    try:
        settings = load_settings()
        engine = prepare_database(settings)
    except SettingsError as exc:
        raise die(str(exc), code=2) from None
    sessions = make_session_factory(engine)
    try:
        if target is None:
            with sessions() as session:
                target = (get_state(session, "central") or {}).get("url")
            if not target:
                raise die(Text("Indiquez --to URL.", "Give --to URL."), code=2)
        report = client.push(
            sessions, url=target, token=_need(token), designs_dir=settings.designs_dir, batch=batch
        )
    except FablabError as exc:
        raise die(exc.message) from None
    finally:
        engine.dispose()
    if as_json:
        print_json(
            {
                "files_sent": report.files_sent,
                "counts": dict(report.counts),
                "by_kind": dict(report.by_kind),
                "problems": report.problems,
                "waiting": report.waiting,
            }
        )
        return
    say(
        Text(
            "envoyé : {files} fichiers, {applied} enregistrements pris, {dup} déjà reçus, {flag} signalés, "
            "{refused} refusés ; reste en attente : {waiting}",
            "sent: {files} files, {applied} records applied, {dup} already there, {flag} flagged, "
            "{refused} refused; still waiting: {waiting}",
        ),
        files=report.files_sent,
        applied=report.counts["applied"],
        dup=report.counts["duplicate"],
        flag=report.counts["flagged"],
        refused=report.counts["refused"],
        waiting=report.waiting,
    )
    for kind, n in sorted(report.by_kind.items()):
        say(Text("  {kind} : {n}", "  {kind}: {n}"), kind=kind, n=n)
    for p in report.problems:
        message = (p.get("message") or {}).get(settings.lang, "")
        err_console.print(
            f"{p['status']} {p['kind']} {p.get('code')}: {message}", style="yellow", markup=False
        )


@group.command("status")
def status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """What still waits in the van's outbox, and the central site's last answers."""
    with local_session() as session:
        from fablabctl.sync.collect import collect

        collect(session)
        info = outbox.status(session)
    if as_json:
        print_json(info)
        return
    central = info["central"] or {}
    say(
        Text("site central : {url} (cohorte {cohort})", "central site: {url} (cohort {cohort})"),
        url=central.get("url", "—"),
        cohort=central.get("cohort_id", "—"),
    )
    say(Text("en attente : {n}", "waiting: {n}"), n=info["waiting_total"])
    show_table(
        Text("En attente", "Waiting"),
        (Text("type", "kind"), Text("nombre", "count")),
        list(info["waiting"].items()),
    )
    if info["last_push"]:
        say(Text("dernier envoi : {at}", "last push: {at}"), at=info["last_push"]["at"])
    for a in info["answers"]:
        err_console.print(
            f"{a['status']} {a['kind']} {a['code']}: {a['message']}", style="yellow", markup=False
        )


@group.command("export")
def export(
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write (e.g. on a USB stick)")],
    token: TokenOpt = None,
    passphrase: PassOpt = None,
    encrypt: Annotated[
        bool, typer.Option("--encrypt", help="Ask for a passphrase and encrypt the file")
    ] = False,
) -> None:
    """Write the outbox as one integrity-checked file (encrypted with --encrypt or --passphrase)."""
    if encrypt and not passphrase:
        passphrase = typer.prompt(
            t(Text("Phrase secrète", "Passphrase")), hide_input=True, confirmation_prompt=True
        )
    key = _need(token)
    settings = load_settings()
    with local_session() as session:
        data, count = export_outbox(
            session, token=key, passphrase=passphrase, designs_dir=settings.designs_dir
        )
    tmp = output.with_name(output.name + ".part")
    tmp.write_bytes(data)
    tmp.chmod(0o600)
    tmp.replace(output)
    say(
        Text("{n} enregistrements écrits dans {file}{enc}", "{n} records written to {file}{enc}"),
        n=count,
        file=output.name,
        enc=t(Text(" (chiffré)", " (encrypted)")) if passphrase else "",
    )


@group.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A file from `fablabctl sync export`")],
    passphrase: PassOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Apply a van's exported file on this central site (checked whole first; safe to repeat)."""
    try:
        data = file.read_bytes()
    except OSError:
        raise die(Text("Fichier illisible.", "Cannot read the file."), code=2) from None
    settings = load_settings()
    if passphrase is None and data.startswith(b"FABLABSYNC1\n") and b'"encrypted": true' in data[:4096]:
        if not typer.get_text_stream("stdin").isatty():
            raise die(
                Text("Ce fichier est chiffré : --passphrase.", "This file is encrypted: --passphrase."),
                code=2,
            )
        passphrase = typer.prompt(t(Text("Phrase secrète", "Passphrase")), hide_input=True)
    with local_session() as session:
        results = import_file(session, data, passphrase, settings.designs_dir)
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    if as_json:
        print_json({"counts": counts, "results": results})
        return
    say(
        Text("importé : {counts}", "imported: {counts}"),
        counts=", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
    )
    for r in results:
        if r["status"] in ("refused", "flagged", "retry"):
            message = (r.get("message") or {}).get(settings.lang, "")
            err_console.print(
                f"{r['status']} {r['kind']} {r.get('code')}: {message}",
                style="yellow",
                markup=False,
            )


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="sync")
