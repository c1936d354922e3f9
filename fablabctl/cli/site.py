"""`fablabctl site token add/revoke/list` and `site conflicts/resolve`: on the central site, as its admin.

A site token lets one van pull its cohort and push its records for that cohort; `add` prints the
token alone on its last line (for scripts), once: only its hash is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl.cli.common import die, print_json, say, show_table
from fablabctl.clock import utc_now
from fablabctl.config import SettingsError, load_settings
from fablabctl.db.engine import make_session_factory, session_scope
from fablabctl.db.models import Site, SyncConflict, User
from fablabctl.errors import FablabError
from fablabctl.i18n import Text
from fablabctl.startup import prepare_database
from fablabctl.sync import tokens

group = typer.Typer(
    help="Sites et camions (Fab Lab mobile) / sites and vans (mobile Fab Lab).", no_args_is_help=True
)
token_group = typer.Typer(help="Jetons de site / site tokens.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]


@contextmanager
def local_session() -> Iterator[Session]:
    """This machine's database, as its administrator; service errors become one line and exit 1."""
    try:
        engine = prepare_database(load_settings())
    except SettingsError as exc:
        raise die(str(exc), code=2) from None
    try:
        with session_scope(make_session_factory(engine)) as session:
            yield session
    except FablabError as exc:
        raise die(exc.message) from None
    finally:
        engine.dispose()


@token_group.command("add")
def token_add(name: str, cohort: Annotated[int, typer.Option("--cohort", help="Cohort id")]) -> None:
    """Issue a token for the van NAME and one cohort; the token is the last line."""
    with local_session() as session:
        issued = tokens.issue(session, actor=None, site_name=name, cohort_id=cohort)
    say(
        Text(
            "jeton n° {id} pour le site « {site} », cohorte {cohort} (affiché une seule fois) :",
            "token #{id} for site '{site}', cohort {cohort} (shown once):",
        ),
        id=issued.id,
        site=issued.site,
        cohort=issued.cohort_id,
    )
    typer.echo(issued.token)


@token_group.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke a token: the van can no longer pull or push with it."""
    with local_session() as session:
        tokens.revoke(session, actor=None, token_id=token_id)
    say(Text("jeton n° {id} révoqué", "token #{id} revoked"), id=token_id)


@token_group.command("list")
def token_list(as_json: JsonOpt = False) -> None:
    """Tokens issued, with their site, cohort, and whether they are revoked."""
    with local_session() as session:
        rows = tokens.list_tokens(session)
    if as_json:
        print_json(rows)
        return
    show_table(
        Text("Jetons de site", "Site tokens"),
        (
            "id",
            "site",
            Text("cohorte", "cohort"),
            Text("créé", "created"),
            Text("révoqué", "revoked"),
            Text("dernier usage", "last used"),
        ),
        [
            (r["id"], r["site"], r["cohort_id"], r["created_at"], r["revoked_at"], r["last_used_at"])
            for r in rows
        ],
    )


@group.command("conflicts")
def conflicts(
    cohort: Annotated[int, typer.Option("--cohort", help="Cohort id")], as_json: JsonOpt = False
) -> None:
    """Presences from a van that overlap one recorded elsewhere: both kept, a trainer decides."""
    with local_session() as session:
        rows = [
            {
                "id": c.id,
                "username": session.scalar(select(User.username).where(User.id == c.user_id)),
                "site": session.scalar(select(Site.name).where(Site.id == c.site_id)),
                "entry_uuid": c.entry_uuid,
                "other_entry_uuid": c.other_entry_uuid,
                "created_at": c.created_at.isoformat(),
                "resolved_at": c.resolved_at.isoformat() if c.resolved_at else None,
            }
            for c in session.scalars(
                select(SyncConflict).where(SyncConflict.cohort_id == cohort).order_by(SyncConflict.id)
            )
        ]
    if as_json:
        print_json(rows)
        return
    show_table(
        Text("Chevauchements à trancher", "Overlaps to resolve"),
        (
            "id",
            Text("personne", "person"),
            "site",
            Text("pointage", "entry"),
            Text("chevauche", "overlaps"),
            Text("résolu", "resolved"),
        ),
        [
            (r["id"], r["username"], r["site"], r["entry_uuid"], r["other_entry_uuid"], r["resolved_at"])
            for r in rows
        ],
    )


@group.command("resolve")
def resolve(conflict_id: int) -> None:
    """Mark an overlap resolved (after `attendance correct` on the entry that was wrong)."""
    with local_session() as session:
        row = session.get(SyncConflict, conflict_id)
        if row is None:
            raise die(Text(f"chevauchement {conflict_id} introuvable", f"overlap {conflict_id} not found"))
        row.resolved_at = row.resolved_at or utc_now()
    say(Text("chevauchement n° {id} marqué résolu", "overlap #{id} marked resolved"), id=conflict_id)


def register(app: typer.Typer) -> None:
    group.add_typer(token_group, name="token")
    app.add_typer(group, name="site")
