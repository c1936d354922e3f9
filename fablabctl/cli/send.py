"""`fablabctl send FILE --port PORT --driver marlin|grbl`: stream G-code straight to a machine.

The operator's and tester's tool, through the same driver code as the service. Ctrl-C pauses and
asks whether to cancel. Exit 0 only when the firmware acknowledged every line.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fablabctl.cli.common import console, die
from fablabctl.machines.base import Driver, EventKind, MachineError, job_lines
from fablabctl.machines.grbl import GrblDriver
from fablabctl.machines.marlin import MarlinDriver


async def _ask_cancel() -> bool:
    answer = await asyncio.to_thread(input, "En pause. Annuler le travail ? / Paused. Cancel the job? [o/N] ")
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
                        return True, f"terminé : {total} lignes acquittées / done: {total} lines acknowledged"
                    elif event.kind is EventKind.JOB_FAILED:
                        return False, event.data["reason"]
                    elif event.kind is EventKind.JOB_CANCELLED:
                        return False, "annulé / cancelled"
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        await driver.disconnect()


def send(
    file: Annotated[Path, typer.Argument(help="G-code file")],
    port: Annotated[str, typer.Option(help="Serial port, e.g. /dev/ttyUSB0")],
    driver: Annotated[Literal["marlin", "grbl"], typer.Option(help="Firmware protocol")],
    baud: Annotated[int, typer.Option(help="Serial speed")] = 115200,
) -> None:
    """Stream a G-code file to a machine on a serial port, with progress and live status."""
    if not file.is_file():
        raise die(f"fichier introuvable / file not found: {file}", code=2)
    total = len(job_lines(file))
    machine: Driver = MarlinDriver(port, baud) if driver == "marlin" else GrblDriver(port, baud)
    try:
        ok, message = asyncio.run(stream(machine, file, total))
    except MachineError as exc:
        raise die(f"{exc.code} : {exc.message.fr} / {exc.message.en}") from None
    if not ok:
        raise die(message)
    console.print(message)


def register(app: typer.Typer) -> None:
    app.command("send")(send)
