"""Shared CLI plumbing: global options, the backend for this call, tables, and error exits."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text as RichText

from fablabctl.cli.backend import ApiError, Backend, local_backend, remote_backend
from fablabctl.config import SettingsError
from fablabctl.i18n import DEFAULT_LANG, Lang, Text
from fablabctl.specs import MachineSpec

console = Console()
TABLE_MAX_WIDTH = 400  # characters: a table written to a file or a pipe
err_console = Console(stderr=True)
LANG_ENV = "FABLAB_LANG"


@dataclass
class GlobalOptions:
    api: str | None = None
    token: str | None = None
    lang: Lang = DEFAULT_LANG


def options(ctx: typer.Context) -> GlobalOptions:
    root = ctx.find_root()
    if isinstance(root.obj, GlobalOptions):
        return root.obj
    return GlobalOptions()


_chosen_lang: ContextVar[Lang | None] = ContextVar("fablabctl_cli_lang", default=None)


def choose_lang(lang: Lang) -> None:
    """Set by the global `--lang` option (which reads FABLAB_LANG) for the rest of this command."""
    _chosen_lang.set(lang)


def current_lang() -> Lang:
    """The language chosen for this command: `--lang`, else FABLAB_LANG, else French."""
    chosen = _chosen_lang.get()
    if chosen is not None:
        return chosen
    return "en" if os.environ.get(LANG_ENV, "").strip().lower() == "en" else DEFAULT_LANG


def t(text: Text, **values: object) -> str:
    """`text` in the command's language, with its `{placeholders}` filled."""
    return (text.format(**values) if values else text).in_(current_lang())


def say(text: Text, **values: object) -> None:
    """Print one line of the command's output in the chosen language (no markup guessing)."""
    console.print(t(text, **values), highlight=False, soft_wrap=True)


ERROR = Text("Erreur", "Error")


def die(message: Text | str, code: int = 1) -> typer.Exit:
    """Print one clear line on stderr and return the exit to raise (a `str` is already translated)."""
    line = t(message) if isinstance(message, Text) else message
    err_console.print(RichText.assemble((t(ERROR), "bold red"), " ", line), soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def backend(ctx: typer.Context) -> Iterator[Backend]:
    """The backend for this command; service errors become a one-line message and exit 1."""
    opts = options(ctx)
    try:
        manager = (
            remote_backend(opts.api, opts.token, opts.lang) if opts.api else local_backend(lang=opts.lang)
        )
        with manager as api:
            if api.notice:
                err_console.print(api.notice, style="bold yellow", highlight=False, markup=False)
            yield api
    except ApiError as exc:
        raise die(f"{exc.code} : {exc.message}") from None
    except SettingsError as exc:
        raise die(str(exc), code=2) from None


def print_json(value: Any) -> None:
    """`--json` output: plain JSON on stdout, nothing else (scripts parse it)."""
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


SHORT_CELL = 16  # characters: a column whose cells are all this short (ids, states) is never wrapped
WRAPPED_MIN = 10  # characters: the narrowest a wrapped column (names, files, reasons) may get


def show_table(title: Text, columns: Sequence[Text | str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a table in the command's language, never cutting a cell ("waitin…").

    Short columns (ids, states, numbers) keep their full width; longer ones (files, names, reasons)
    wrap to fit the terminal. When even that does not fit, each row is printed as a block of
    "column value" lines. Into a pipe or a file, the table keeps its natural width.
    """
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    headers = [t(c) if isinstance(c, Text) else c for c in columns]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    table = Table(title=t(title), title_justify="left")
    for header, widest in zip(headers, widths, strict=True):
        if widest <= SHORT_CELL:
            table.add_column(header, no_wrap=True, min_width=widest)
        else:
            table.add_column(header, overflow="fold", min_width=min(widest, WRAPPED_MIN))
    for row in cells:
        table.add_row(*row)
    if not console.is_terminal:
        Console(width=TABLE_MAX_WIDTH, file=console.file).print(table, crop=False)
        return
    needed = 1 + sum(min(w, SHORT_CELL if w <= SHORT_CELL else WRAPPED_MIN) + 3 for w in widths)
    if needed <= console.width:
        console.print(table)
        return
    _print_records(t(title), headers, cells)


def _print_records(title: str, headers: Sequence[str], cells: Sequence[Sequence[str]]) -> None:
    """A table too wide for the terminal: one block per row, one "column  value" line per cell."""
    console.print(RichText(title, style="italic"))
    for row in cells:
        block = Table.grid(padding=(0, 2))
        block.add_column(style="bold", no_wrap=True)
        block.add_column(overflow="fold")
        for header, value in zip(headers, row, strict=True):
            block.add_row(header, value)
        console.print(block)
        console.print()


def machine_spec_or_die(name: str) -> MachineSpec:
    """The spec of a machine of this server's database, or a one-line error (exit 2)."""
    from fablabctl.cli.machine_spec import machine_spec_by_name  # opens the database: only when asked

    try:
        spec = machine_spec_by_name(name)
    except SettingsError as exc:
        raise die(str(exc), code=2) from None
    if spec is None:
        raise die(Text("machine inconnue : {name}", "unknown machine: {name}").format(name=name), code=2)
    return spec
