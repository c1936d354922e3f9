"""The `fablabctl` command line: a thin Typer layer over the same service functions as the API.

Each command group lives in its own module with a `register(app)` function, listed in
`COMMAND_MODULES` below; adding a group is one line here. Global options (`--api`, `--token`,
`--lang`) choose between the in-process service and a remote one (see `cli/backend.py`).
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Literal

import typer

from fablabctl.cli import usage_errors
from fablabctl.cli.common import GlobalOptions, choose_lang

COMMAND_MODULES: tuple[str, ...] = (
    "serve",
    "db",
    "login",
    "users",
    "machines",
    "cohorts",
    "jobs",
    "validate",
    "send",
    "prepare",
    "attendance",
    "hours",
    "docs",
    "journal",
    "sync",
    "site",
)

app = typer.Typer(
    name="fablabctl",
    help="Fab Lab machines, design checks and job queue for a TIG pédagogique numérique.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _global_options(
    ctx: typer.Context,
    api: Annotated[
        str | None,
        typer.Option(envvar="FABLAB_API", help="URL of a running service (default: this machine's DB)"),
    ] = None,
    token: Annotated[
        str | None, typer.Option(help="Bearer token for --api (default: saved by `login`)")
    ] = None,
    lang: Annotated[
        Literal["fr", "en"],
        typer.Option(envvar="FABLAB_LANG", help="Language of every message and table (FABLAB_LANG)"),
    ] = "fr",
) -> None:
    ctx.obj = GlobalOptions(api=api, token=token, lang=lang)
    choose_lang(lang)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"fablabctl.cli.{name}")
        module.register(app)


_register_all()


def main() -> None:
    sys.exit(usage_errors.run(app))
