"""Liveness and readiness: answers without login, touches the database."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from fablabctl import __version__
from fablabctl.web.deps import ContextDep, SessionDep
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
