"""Shared CLI plumbing: global options, the backend for this call, tables, and error exits."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from fablabctl.cli.backend import ApiError, Backend, local_backend, remote_backend
from fablabctl.config import SettingsError
from fablabctl.specs import MachineSpec

console = Console()
TABLE_MAX_WIDTH = 400  # characters: a table written to a file or a pipe
err_console = Console(stderr=True)


@dataclass
class GlobalOptions:
    api: str | None = None
    token: str | None = None
    lang: str = "fr"


def options(ctx: typer.Context) -> GlobalOptions:
    root = ctx.find_root()
    if isinstance(root.obj, GlobalOptions):
        return root.obj
    return GlobalOptions()


def die(message: str, code: int = 1) -> typer.Exit:
    """Print one clear line on stderr and return the exit to raise."""
    err_console.print(f"[bold red]Erreur[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def backend(ctx: typer.Context) -> Iterator[Backend]:
    """The backend for this command; service errors become a one-line message and exit 1."""
    opts = options(ctx)
    try:
        manager = remote_backend(opts.api, opts.token, opts.lang) if opts.api else local_backend()
        with manager as api:
            if api.notice:
                err_console.print(f"[yellow]{api.notice}[/]", highlight=False)
            yield api
    except ApiError as exc:
        raise die(f"{exc.code} : {exc.message}") from None
    except SettingsError as exc:
        raise die(str(exc), code=2) from None


def print_json(value: Any) -> None:
    """`--json` output: plain JSON on stdout, nothing else (scripts parse it)."""
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def show_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    if console.is_terminal:
        console.print(table)
        return
    # Piped or captured: no terminal width to respect, so never cut a cell ("waitin…").
    wide = Console(width=TABLE_MAX_WIDTH, file=console.file)
    wide.print(table, crop=False)


def machine_spec_or_die(name: str) -> MachineSpec:
    """The spec of a machine of this server's database, or a one-line error (exit 2)."""
    from fablabctl.db.machines_repo import machine_spec_by_name

    try:
        spec = machine_spec_by_name(name)
    except SettingsError as exc:
        raise die(str(exc), code=2) from None
    if spec is None:
        raise die(f"machine inconnue / unknown machine: {name}", code=2)
    return spec
