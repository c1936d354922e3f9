"""Liveness and readiness: answers without login, touches the database."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import text

from fablabctl import __version__
from fablabctl.db.engine import pool_figures
from fablabctl.people.roles import Role, require
from fablabctl.web.deps import ContextDep, CurrentUser, SessionDep
from fablabctl.web.transactions import CommitFirstRoute

router = APIRouter(tags=["health"], route_class=CommitFirstRoute)


@router.get("/health")
def health(session: SessionDep, context: ContextDep) -> dict[str, Any]:
    session.execute(text("SELECT 1"))
    return {
        "status": "ok",
        "version": __version__,
        "site": context.settings.site,
        "database": context.engine.dialect.name,
    }


class PoolFigures(BaseModel):
    """Database connections in use, and the dispatcher's ticks (admins; the API bench reads it)."""

    checked_out: int = Field(description="The web pool's connections in use right now")
    open: int = Field(description="The web pool's connections open (in use or idle)")
    worker_checked_out: int | None = Field(description="The dispatcher's own pool, when it runs here")
    dispatcher_ticks: int | None = Field(description="Ticks done since start; null: no dispatcher here")
    dispatcher_tick_failures: int | None


@router.get("/health/pool")
async def pool(request: Request, context: ContextDep, actor: CurrentUser) -> PoolFigures:
    """Read without a connection of its own: what requests and event streams hold at this moment."""
    require(actor, frozenset({Role.ADMIN}))
    web = pool_figures(context.engine)
    worker = context.worker_sessions
    worker_bind = worker.kw.get("bind") if worker is not None else None
    dispatcher = getattr(request.app.state, "dispatcher", None)
    return PoolFigures(
        checked_out=web["checked_out"],
        open=web["open"],
        worker_checked_out=pool_figures(worker_bind)["checked_out"] if worker_bind is not None else None,
        dispatcher_ticks=getattr(dispatcher, "ticks", None),
        dispatcher_tick_failures=getattr(dispatcher, "tick_failures", None),
    )
