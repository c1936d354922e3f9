"""`fablabctl login --api URL`: get a token from a running service and keep it for later calls.

The password comes, in this order, from `--password-stdin` (the first line of standard input, as
`docker login` does), `--password` or `FABLAB_PASSWORD`, a hidden prompt on a terminal, or standard
input when there is no terminal (a script, a pipe): never a prompt that could echo it.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from fablabctl.cli.backend import ApiError, remote_backend, save_token
from fablabctl.cli.common import die, options, say, t
from fablabctl.i18n import Text

USERNAME = Text("Identifiant", "Username")
PASSWORD = Text("Mot de passe", "Password")


def _interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _stdin_line() -> str:
    return (sys.stdin.readline() if sys.stdin is not None else "").rstrip("\r\n")


def read_password(password: str | None, from_stdin: bool) -> str:
    if from_stdin:
        return _stdin_line()
    if password:
        return password
    if _interactive():
        return str(typer.prompt(t(PASSWORD), hide_input=True))
    return _stdin_line()


def login(
    ctx: typer.Context,
    username: Annotated[
        str | None, typer.Option(envvar="FABLAB_USERNAME", help="Account name (asked on a terminal)")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(envvar="FABLAB_PASSWORD", help="Password (prefer --password-stdin or the prompt)"),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Log in to the service given by --api; the token is saved for this user only."""
    opts = options(ctx)
    if not opts.api:
        raise die(
            Text(
                "login demande --api URL (sur la machine du service, les commandes se passent de connexion)",
                "login needs --api URL (on the server machine, commands need no login)",
            ),
            code=2,
        )
    if not username:
        if not _interactive():
            raise die(Text("--username manquant", "--username is missing"), code=2)
        username = str(typer.prompt(t(USERNAME)))
    secret = read_password(password, password_stdin)
    if not secret:
        raise die(Text("mot de passe vide", "empty password"), code=2)
    try:
        with remote_backend(opts.api, None, opts.lang) as api:
            result = api.call("POST", "/auth/login", json={"username": username, "password": secret})
    except ApiError as exc:
        raise die(f"{exc.code} : {exc.message}") from None
    path = save_token(opts.api, result["token"])
    say(
        Text(
            "connecté·e en tant que {username} (jeton enregistré dans {path})",
            "logged in as {username} (token saved in {path})",
        ),
        username=result["user"]["username"],
        path=path,
    )


def register(app: typer.Typer) -> None:
    app.command("login")(login)
