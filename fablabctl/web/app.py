"""The FastAPI application factory: one context (settings, database, limiter) per app."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from sqlalchemy.engine import Engine

from fablabctl import __version__
from fablabctl.config import Settings
from fablabctl.context import ServiceContext
from fablabctl.db.engine import WEB_THREADS, make_engine, make_session_factory, make_worker_engine
from fablabctl.event_bus import EventBus, bind
from fablabctl.people.ratelimit import LoginLimiter
from fablabctl.queue.events import shape_errors
from fablabctl.queue.job_list_cache import JobListCache
from fablabctl.web.docs import install_docs
from fablabctl.web.errors import ERROR_RESPONSES, install_error_handlers
from fablabctl.web.headers import SecurityHeaders
from fablabctl.web.limits import BodySizeLimit
from fablabctl.web.pages import install_pages
from fablabctl.web.routers import auth, cohorts, designs, events, health, jobs, machines, projects, users
from fablabctl.web.routers.attendance import router as attendance_router
from fablabctl.web.routers.control import router as control_router
from fablabctl.web.routers.documents import router as documents_router
from fablabctl.web.routers.programme import router as programme_router
from fablabctl.web.routers.sync import router as sync_router
from fablabctl.web.runtime import install_runtime, warm_routes
from fablabctl.web.uploads import ValidationSlots

API_PREFIX = "/api/v1"


def build_context(settings: Settings) -> ServiceContext:
    engine = make_engine(settings.sqlalchemy_url, busy_timeout_s=settings.db_busy_timeout_s)
    return ServiceContext(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        limiter=LoginLimiter(settings.login_attempts_per_minute),
        bus=EventBus(check=shape_errors),
    )


def _dispatcher_pool(context: ServiceContext) -> Engine | None:
    """Give the dispatcher its own connections (returns the engine to dispose), unless it has them
    already or the database cannot be opened twice (in-memory SQLite)."""
    if context.worker_sessions is not None:
        return None
    url = context.engine.url.render_as_string(hide_password=False)
    try:
        engine = make_worker_engine(url, busy_timeout_s=context.settings.db_busy_timeout_s)
    except ValueError:
        return None
    context.worker_sessions = make_session_factory(engine)
    bind(context.worker_sessions, context.bus)
    return engine


def create_app(
    settings: Settings, *, context: ServiceContext | None = None, dispatch: bool = False
) -> FastAPI:
    """Build the app; the database must already be migrated (the run command and tests do it).

    With `dispatch`, the dispatcher runs inside the app's lifespan (the `serve` command); the CLI's
    in-process calls and most tests build the app without it.
    """
    context = context or build_context(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # the web pool is sized for exactly this many threads running SQL (db/engine.py)
        anyio.to_thread.current_default_thread_limiter().total_tokens = WEB_THREADS
        if not dispatch:
            yield
            return
        from fablabctl.queue.dispatcher import Dispatcher

        own_pool = _dispatcher_pool(context)
        dispatcher = Dispatcher(context)
        _app.state.dispatcher = dispatcher  # the pages' emergency stop reaches its drivers
        await warm_routes(_app)  # the first emergency stop must not wait for FastAPI's lazy set-up
        task = asyncio.create_task(dispatcher.run(), name="dispatcher")
        try:
            yield
        finally:
            await dispatcher.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if own_pool is not None:
                context.worker_sessions = None
                own_pool.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="fablabctl",
        version=__version__,
        description="Fab Lab machines, design checks and job queue for a TIG pédagogique numérique. "
        "Errors are JSON {code, message, detail}; Accept-Language picks French (default) or English.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served by install_docs, with local Swagger UI files (no CDN)
        redoc_url=None,
    )
    app.state.context = context
    install_runtime(app, context, write_materials=dispatch)  # admins' run-time changes
    install_error_handlers(app)
    api = APIRouter(prefix=API_PREFIX, responses=ERROR_RESPONSES)
    for router in (
        health.router,
        auth.router,
        users.router,
        machines.router,
        cohorts.router,
        designs.router,
        jobs.router,
        events.router,
        projects.router,
        attendance_router,
        programme_router,
        documents_router,
        sync_router,
        control_router,
    ):
        api.include_router(router)
    app.include_router(api)
    install_pages(app)
    install_docs(app, openapi_url=f"{API_PREFIX}/openapi.json", title="fablabctl")
    app.state.job_lists = JobListCache()
    app.state.validation_slots = ValidationSlots(settings.validation_concurrency, settings.validation_wait_s)
    app.add_middleware(
        BodySizeLimit, upload_limit=settings.max_upload_bytes, body_timeout_s=settings.body_timeout_s
    )
    app.add_middleware(SecurityHeaders, api_prefix=f"{API_PREFIX}/")
    return app
