"""`fablabctl login --api URL`: get a token from a running service and keep it for later calls."""

from __future__ import annotations

from typing import Annotated

import typer

from fablabctl.cli.backend import ApiError, remote_backend, save_token
from fablabctl.cli.common import console, die, options


def login(
    ctx: typer.Context,
    username: Annotated[str, typer.Option(prompt="Identifiant")],
    password: Annotated[str, typer.Option(prompt="Mot de passe", hide_input=True)],
) -> None:
    """Log in to the service given by --api; the token is saved for this user only."""
    opts = options(ctx)
    if not opts.api:
        raise die("login needs --api URL (on the server machine, commands need no login)", code=2)
    try:
        with remote_backend(opts.api, None, opts.lang) as api:
            result = api.call("POST", "/auth/login", json={"username": username, "password": password})
    except ApiError as exc:
        raise die(f"{exc.code} : {exc.message}") from None
    path = save_token(opts.api, result["token"])
    console.print(f"connecté·e en tant que {result['user']['username']} (jeton enregistré dans {path})")


def register(app: typer.Typer) -> None:
    app.command("login")(login)
