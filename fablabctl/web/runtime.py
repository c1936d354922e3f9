"""What admins changed while the service ran, applied when an app starts: run-time settings and the
material library's file (see `people/runtime_settings.py` and `fleet/materials.py`)."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError

from fablabctl.context import ServiceContext
from fablabctl.db.engine import session_scope
from fablabctl.fleet.materials import write_site_file
from fablabctl.people import runtime_settings

log = logging.getLogger(__name__)


def install_runtime(app: FastAPI, context: ServiceContext, *, write_materials: bool) -> None:
    """Keep the environment's settings (for "back to default"), apply the stored overrides and, in
    the serving process, write the material library where preparation reads it."""
    app.state.env_settings = getattr(app.state, "env_settings", None) or context.settings
    runtime_settings.current(context, app.state.env_settings)
    if not write_materials:
        return
    try:
        with session_scope(context.sessions) as session:
            write_site_file(session, context.settings.data_dir)
    except (SQLAlchemyError, OSError) as exc:  # the previous file (or the built-in library) stays in use
        log.warning("material library file not written: %s", exc)


def refresh_settings(app: FastAPI, context: ServiceContext) -> None:
    """After an admin's change: the running settings follow the database at once."""
    runtime_settings.current(context, app.state.env_settings)


async def warm_routes(app: FastAPI) -> None:
    """Make FastAPI prepare every route now, not on the first request that reaches it: otherwise the
    first emergency stop after a start waits while it does (measured: 2-5 s on a busy 2-core
    machine). Two anonymous requests through the router, answered 401 / refused (no CSRF token)
    before anything runs: no database, no machine."""
    for path in ("/api/v1/machines/0/emergency-stop", "/machines/0/emergency-stop"):
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"localhost"), (b"content-length", b"0")],
            "client": ("127.0.0.1", 0),
            "server": ("127.0.0.1", 0),
            "app": app,
        }

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(_message: object) -> None:
            return None

        try:
            await app.router(scope, receive, send)
        except Exception as exc:  # only a warm-up: the real request will say what is wrong
            log.debug("route warm-up %s: %s", path, exc)
