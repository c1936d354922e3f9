"""`fablabctl serve`: check settings, migrate, make sure someone can log in, and serve."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn
from rich.panel import Panel
from rich.text import Text as RichText

from fablabctl.cli.common import console, die, t
from fablabctl.config import SettingsError, check_port_free, load_settings
from fablabctl.db.engine import make_session_factory, session_scope
from fablabctl.i18n import Text
from fablabctl.logs import configure_service_logging, uvicorn_log_config
from fablabctl.startup import ensure_demo_machines, ensure_first_admin, prepare_database

ADDRESS = Text(
    "Service : {url}  (API : /api/v1, documentation : /docs)",
    "Service: {url}  (API: /api/v1, documentation: /docs)",
)
FIRST_ADMIN = Text(
    "Premier compte administrateur « {username} », mot de passe : {password}  (affiché une seule fois)",
    "First administrator account “{username}”, password: {password}  (shown only once)",
)
DEMO = Text("Mode démo : machines simulées {names}", "Demo mode: simulated machines {names}")


def configure_logging() -> None:
    """The service's own lines at INFO, tracebacks without personal data (`fablabctl/logs.py`); each
    HTTP request to OctoPrint (routine polling) only at DEBUG."""
    configure_service_logging()


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (FABLAB_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (FABLAB_PORT)")] = None,
) -> None:
    """Start the service (API, web pages, dispatcher) on http://127.0.0.1:8000 by default."""
    from fablabctl.web.app import create_app

    overrides: dict[str, object] = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    configure_logging()
    try:
        settings = load_settings(**overrides)
        check_port_free(settings.host, settings.port)
        engine = prepare_database(settings)
    except SettingsError as exc:
        raise die(str(exc), code=2) from None
    with session_scope(make_session_factory(engine)) as session:
        first = ensure_first_admin(session, settings)
        demo = ensure_demo_machines(session, settings)
    engine.dispose()
    lines = [t(ADDRESS, url=f"http://{settings.host}:{settings.port}")]
    if first is not None and first.generated_password:
        lines.append(t(FIRST_ADMIN, username=first.username, password=first.generated_password))
    if demo:
        lines.append(t(DEMO, names=", ".join(demo)))
    # the service's own first lines, boxed, so they stand out from the log lines around them
    box = Panel(RichText("\n".join(lines), style="bold"), title="fablabctl", title_align="left", expand=False)
    console.print(box, soft_wrap=False)
    uvicorn.run(
        create_app(settings, dispatch=True),
        host=settings.host,
        port=settings.port,
        log_level="info",
        log_config=uvicorn_log_config(),
    )


def dispatch() -> None:
    """Run only the dispatcher (no web server): an extra worker for a site, or a headless lab."""
    import asyncio
    import signal

    from fablabctl.queue.dispatcher import Dispatcher
    from fablabctl.web.app import build_context

    configure_logging()
    try:
        settings = load_settings()
        prepare_database(settings).dispose()
    except SettingsError as exc:
        raise die(str(exc), code=2) from None

    async def main() -> None:
        dispatcher = Dispatcher(build_context(settings))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(dispatcher.stop()))
        await dispatcher.run()

    asyncio.run(main())


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("dispatch")(dispatch)
