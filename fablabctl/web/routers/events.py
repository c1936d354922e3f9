"""`GET /api/v1/events`: the event bus as Server-Sent Events, filtered by what the user may see."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from fablabctl.db.models import User
from fablabctl.people.roles import Role, role_of
from fablabctl.queue.events import EVENT_NAMES, OPERATOR_PROMPT, Event, shapes_table
from fablabctl.web.deps import ContextDep, CurrentUser
from fablabctl.web.transactions import CommitFirstRoute

router = APIRouter(tags=["events"], route_class=CommitFirstRoute)
HEARTBEAT_S = 15.0


def visible(event: Event, user: User) -> bool:
    """Tigistes hear about their own jobs and the machines; operator prompts are for staff."""
    if role_of(user) is not Role.TIGISTE:
        return True
    if event.name == OPERATOR_PROMPT:
        return False
    return event.owner_id is None or event.owner_id == user.id


def sse(event: Event) -> str:
    payload = json.dumps({**event.data, "at": event.at.isoformat()}, ensure_ascii=False)
    return f"id: {event.id}\nevent: {event.name}\ndata: {payload}\n\n"


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events stream"}},
    description="Live job states, progress, machine states and temperatures, operator prompts "
    "(Moonraker names). One name, one shape; each event's data also carries `at`.\n\n" + shapes_table(),
)
async def events(
    request: Request,
    context: ContextDep,
    user: CurrentUser,
    names: Annotated[str | None, Query(description="Comma-separated event names to receive")] = None,
) -> StreamingResponse:
    """Live job states, progress, machine states and temperatures, operator prompts (Moonraker names)."""
    wanted = set(names.split(",")) & set(EVENT_NAMES) if names else set(EVENT_NAMES)
    bus = context.bus

    async def stream() -> AsyncIterator[str]:
        async with bus.subscribe() as sub:
            yield ": connected\n\n"
            while not await request.is_disconnected():
                try:
                    item = await asyncio.wait_for(sub.get(), timeout=HEARTBEAT_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if item.name in wanted and visible(item, user):
                    yield sse(item)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
