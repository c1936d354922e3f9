"""`fablabctl serve`: check settings, migrate, make sure someone can log in, and serve."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
import uvicorn

from fablabctl.cli.common import console, die
from fablabctl.config import SettingsError, check_port_free, load_settings
from fablabctl.db.engine import make_session_factory, session_scope
from fablabctl.startup import ensure_demo_machines, ensure_first_admin, prepare_database


def configure_logging() -> None:
    """The service's own lines at INFO; each HTTP request to OctoPrint (routine polling) only at DEBUG."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


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
    if first is not None and first.generated_password:
        console.print(
            f"[bold yellow]Premier compte administrateur[/] « {first.username} », mot de passe : "
            f"[bold]{first.generated_password}[/] (affiché une seule fois / shown once)"
        )
    if demo:
        console.print(f"mode démo : machines simulées {', '.join(demo)}")
    console.print(f"fablabctl sur http://{settings.host}:{settings.port}  (API : /api/v1, doc : /docs)")
    uvicorn.run(create_app(settings, dispatch=True), host=settings.host, port=settings.port, log_level="info")


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
