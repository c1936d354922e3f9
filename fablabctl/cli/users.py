"""`fablabctl user add/list/disable`: accounts (tigistes by display name or pseudonym only)."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer

from fablabctl.cli.common import backend, console, print_json, say, show_table, t
from fablabctl.cli.people_ref import person_id
from fablabctl.i18n import Text
from fablabctl.people.roles import Role

group = typer.Typer(help="Comptes / accounts.", no_args_is_help=True)


@group.command("add")
def add(
    ctx: typer.Context,
    username: str,
    role: Annotated[Role, typer.Option(help="admin, trainer, operator or tigiste")],
    display_name: Annotated[
        str | None, typer.Option(help="Pseudonym or first name; defaults to username")
    ] = None,
    password: Annotated[
        str | None, typer.Option(help="At least 8 characters; generated and printed once when omitted")
    ] = None,
) -> None:
    """Create an account."""
    generated = password is None
    password = password or secrets.token_urlsafe(9)
    body = {
        "username": username,
        "display_name": display_name or username,
        "role": role.value,
        "password": password,
    }
    with backend(ctx) as api:
        user = api.call("POST", "/users", json=body)
    say(
        Text("compte #{id} « {username} » ({role}) créé", "account #{id} “{username}” ({role}) created"),
        **{k: user[k] for k in ("id", "username", "role")},
    )
    if generated:
        label = Text(
            "mot de passe (à noter, il ne sera plus affiché) :",
            "password (write it down, it will not be shown again):",
        )
        console.print(f"{t(label)} [bold]{password}[/]", highlight=False)


@group.command("list")
def list_(
    ctx: typer.Context,
    role: Annotated[Role | None, typer.Option()] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List accounts (staff only)."""
    with backend(ctx) as api:
        users = api.call("GET", "/users", params={"role": role.value} if role else None)
    if as_json:
        print_json(users)
        return
    yes, no = t(Text("oui", "yes")), t(Text("non", "no"))
    show_table(
        Text("Comptes", "Accounts"),
        (
            "id",
            Text("identifiant", "username"),
            Text("nom affiché", "display name"),
            Text("rôle", "role"),
            Text("actif", "active"),
        ),
        [(u["id"], u["username"], u["display_name"], u["role"], yes if u["active"] else no) for u in users],
    )


@group.command("disable")
def disable(ctx: typer.Context, user: Annotated[str, typer.Argument(help="Username or id")]) -> None:
    """Deactivate an account (kept for the records, can no longer log in)."""
    with backend(ctx) as api:
        user_id = person_id(api, user)
        api.call("DELETE", f"/users/{user_id}")
    say(Text("compte #{id} désactivé", "account #{id} deactivated"), id=user_id)


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="user")
    app.add_typer(group, name="users", hidden=True)
