"""A synchronous httpx transport that calls the ASGI app in this process: no socket, no server.

httpx ships `ASGITransport` for async clients only, and Starlette's `TestClient` is a test tool
(it warns when used with httpx). The CLI is synchronous, so this wraps `ASGITransport` in an anyio
blocking portal: one event loop in a helper thread for the whole command, the app's lifespan not
run (no dispatcher in a CLI call).
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal


class InProcessTransport(httpx.BaseTransport):
    """Send each request to `app` through `httpx.ASGITransport`, on a portal's event loop."""

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._stack = ExitStack()
        self._portal: BlockingPortal = self._stack.enter_context(start_blocking_portal())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # the body as bytes: an in-memory stream both sync and async readers accept
        return self._portal.call(self._send, request)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self._asgi.handle_async_request(request)
        content = await response.aread()
        await response.aclose()
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )

    def close(self) -> None:
        self._stack.close()
