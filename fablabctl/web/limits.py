"""Refuse oversized request bodies while they stream in, before anything parses or spools them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fablabctl.designs.storage import too_large
from fablabctl.web.errors import error_body

# multipart framing around the file: boundaries, part headers and the other small fields
MULTIPART_OVERHEAD = 64 * 1024
JSON_BODY_LIMIT = 1024 * 1024


class BodySizeLimit:
    """Counts body bytes (declared and actual); uploads may carry `upload_limit`, other bodies 1 MiB."""

    def __init__(self, app: ASGIApp, *, upload_limit: int) -> None:
        self.app = app
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_upload = scope["path"].rstrip("/").endswith("/designs") and scope["method"] == "POST"
        limit = self.upload_limit + MULTIPART_OVERHEAD if is_upload else JSON_BODY_LIMIT
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise too_large(limit - MULTIPART_OVERHEAD if is_upload else limit)
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        error = too_large(limit)
        body = error_body(Request(scope), error.code, error.message, error.detail)
        response = JSONResponse(body, status_code=413, headers={"Connection": "close"})
        await response(scope, _drain, send)


async def _drain() -> Message:
    return {"type": "http.disconnect"}
