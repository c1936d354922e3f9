"""`fablabctl db upgrade/downgrade`: apply the Alembic migrations shipped in the package."""

from __future__ import annotations

import typer

from fablabctl.cli.common import die, say
from fablabctl.config import SettingsError, load_settings
from fablabctl.db.migrate import downgrade as run_downgrade
from fablabctl.i18n import Text
from fablabctl.startup import prepare_database

group = typer.Typer(help="Base de données / database.", no_args_is_help=True)


@group.command("upgrade")
def upgrade() -> None:
    """Create or bring the database up to date (the run command does it too)."""
    try:
        settings = load_settings()
        prepare_database(settings).dispose()
    except SettingsError as exc:
        raise die(str(exc), code=2) from None
    say(Text("base à jour : {url}", "database up to date: {url}"), url=settings.sqlalchemy_url.split("@")[-1])


@group.command("downgrade")
def downgrade(revision: str) -> None:
    """Go back to an older schema revision (e.g. `base`); data in newer tables is dropped."""
    try:
        engine = prepare_database(load_settings())
    except SettingsError as exc:
        raise die(str(exc), code=2) from None
    run_downgrade(engine, revision)
    engine.dispose()
    say(
        Text("base ramenée à la révision {revision}", "database back at revision {revision}"),
        revision=revision,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="db")
