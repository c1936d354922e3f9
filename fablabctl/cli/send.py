"""`fablabctl send FILE --port PORT --driver marlin|grbl [--machine NAME]`: stream G-code to a machine.

The operator's and tester's tool, through the same driver code as the service. Ctrl-C pauses and
asks whether to cancel. Exit 0 only when the firmware acknowledged every line.

The G-code safety policy applies here too, with no override: the limits of `--machine` (from this
server's database) or of the built-in default printer / laser. The whole file is checked before the
port is even opened, and the driver checks each line again as it sends it.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fablabctl.cli.common import console, current_lang, die, machine_spec_or_die, t
from fablabctl.i18n import Text
from fablabctl.machines.base import Driver, EventKind, MachineError, job_lines
from fablabctl.machines.grbl import GrblDriver
from fablabctl.machines.marlin import MarlinDriver
from fablabctl.specs import DEFAULT_LASER, DEFAULT_PRINTER, MachineSpec
from fablabctl.validation.gcode_parse import BinaryContent, TooManyLines, read_lines
from fablabctl.validation.gcode_policy import LinePolicy


async def _ask_cancel() -> bool:
    question = Text("En pause. Annuler le travail ? [o/N] ", "Paused. Cancel the job? [y/N] ")
    answer = await asyncio.to_thread(input, question.in_(current_lang()))
    return answer.strip().lower() in ("o", "oui", "y", "yes")


async def stream(driver: Driver, path: Path, total: int) -> tuple[bool, str]:
    interrupted = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, interrupted.set)
    await driver.connect()
    try:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task(path.name, total=total, info="")
            async with driver.subscribe() as events:
                await driver.start(path)
                iterator = aiter(events)
                next_event = asyncio.ensure_future(anext(iterator))
                while True:
                    waiter = asyncio.ensure_future(interrupted.wait())
                    done, _ = await asyncio.wait({next_event, waiter}, return_when=asyncio.FIRST_COMPLETED)
                    if waiter in done:  # Ctrl-C: the pending read stays pending, events are not lost
                        interrupted.clear()
                        await driver.pause()
                        bar.stop()
                        if await _ask_cancel():
                            await driver.cancel()
                        else:
                            await driver.resume()
                        bar.start()
                        continue
                    waiter.cancel()
                    event = next_event.result()
                    next_event = asyncio.ensure_future(anext(iterator))
                    if event.kind is EventKind.PROGRESS:
                        bar.update(task, completed=event.data["done"])
                    elif event.kind is EventKind.TEMPERATURE:
                        bar.update(
                            task,
                            info=" ".join(
                                f"{k} {v['actual']:.0f}/{v['target']:.0f}°C" for k, v in event.data.items()
                            ),
                        )
                    elif event.kind is EventKind.STATE:
                        bar.update(task, info=event.data["state"])
                    elif event.kind is EventKind.JOB_DONE:
                        bar.update(task, completed=total)
                        done_text = Text(
                            "terminé : {total} lignes acquittées", "done: {total} lines acknowledged"
                        )
                        return True, t(done_text, total=total)
                    elif event.kind is EventKind.JOB_FAILED:
                        return False, event.data["reason"]
                    elif event.kind is EventKind.JOB_CANCELLED:
                        return False, t(Text("annulé", "cancelled"))
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        await driver.disconnect()


def send(
    file: Annotated[Path, typer.Argument(help="G-code file")],
    port: Annotated[str, typer.Option(help="Serial port, e.g. /dev/ttyUSB0")],
    driver: Annotated[Literal["marlin", "grbl"], typer.Option(help="Firmware protocol")],
    baud: Annotated[int, typer.Option(help="Serial speed")] = 115200,
    machine: Annotated[
        str | None, typer.Option(help="Apply this machine's safety limits (from the database)")
    ] = None,
) -> None:
    """Stream a G-code file to a machine on a serial port, with progress and live status."""
    if not file.is_file():
        raise die(Text("fichier introuvable : {name}", "file not found: {name}").format(name=file), code=2)
    spec = policy_spec(machine, driver)
    precheck(file, spec)
    total = len(job_lines(file))
    target: Driver = MarlinDriver(port, baud) if driver == "marlin" else GrblDriver(port, baud)
    target.use_policy(spec)
    try:
        ok, message = asyncio.run(stream(target, file, total))
    except MachineError as exc:
        raise die(Text(f"{exc.code} : {exc.message.fr}", f"{exc.code}: {exc.message.en}")) from None
    if not ok:
        raise die(message)
    console.print(message, highlight=False, markup=False)


def policy_spec(machine: str | None, driver: str) -> MachineSpec:
    """Whose limits apply: the named machine's, else the built-in default of the firmware's kind."""
    if machine is None:
        return DEFAULT_LASER if driver == "grbl" else DEFAULT_PRINTER
    spec = machine_spec_or_die(machine)
    if (spec.kind == "laser") != (driver == "grbl"):
        raise die(
            Text(
                "{machine} est une machine « {kind} » : --driver {driver} ne lui correspond pas",
                "{machine} is a {kind}: --driver {driver} does not fit it",
            ).format(machine=machine, kind=spec.kind, driver=driver),
            code=2,
        )
    return spec


def precheck(file: Path, spec: MachineSpec, max_lines: int = 10_000_000) -> None:
    """Every line through the safety policy before anything is sent: exit 1 at the first refusal."""
    policy = LinePolicy(spec)
    try:
        for number, text in read_lines(file, max_lines=max_lines):
            refusal = policy.check(text, number).refusal
            if refusal is not None:
                raise die(
                    Text(
                        f"GCODE_REFUSED_BY_POLICY ({refusal.code}) : rien n'a été envoyé. "
                        + refusal.message.fr,
                        f"GCODE_REFUSED_BY_POLICY ({refusal.code}): nothing was sent. " + refusal.message.en,
                    )
                )
    except BinaryContent as exc:
        raise die(
            Text("ligne {line} : données binaires", "line {line}: binary data").format(line=exc.line), code=2
        ) from None
    except TooManyLines:
        raise die(Text("fichier trop long", "file too long"), code=2) from None


def register(app: typer.Typer) -> None:
    app.command("send")(send)
