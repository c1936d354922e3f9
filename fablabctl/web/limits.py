"""Refuse oversized or stalled request bodies while they stream in, before anything parses them.

The limit holds for every transfer encoding: a declared Content-Length is checked at once, and the
bytes actually received are counted (chunked bodies have no length). A body that stops arriving
for `body_timeout_s` is a 408. Either way the answer is our own JSON error (413 / 408 with a code,
in the user's language), whatever the route or the framework's body parser made of the failure.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fablabctl.content_store import too_large
from fablabctl.errors import FablabError
from fablabctl.i18n import Text
from fablabctl.web.errors import error_body

# multipart framing around the file: boundaries, part headers and the other small fields
MULTIPART_OVERHEAD = 64 * 1024
JSON_BODY_LIMIT = 1024 * 1024
SLOW_BODY = Text(
    "L'envoi s'est interrompu (plus rien reçu depuis {seconds:.0f} s) : renvoyez le fichier.",
    "The upload stalled (nothing received for {seconds:.0f} s): send the file again.",
)


def body_timeout(seconds: float) -> FablabError:
    return FablabError("BODY_TIMEOUT", SLOW_BODY.format(seconds=seconds), status=408, seconds=seconds)


UPLOAD_PATHS = ("/designs", "/designs/upload", "/sync/files")  # API, web page (web/uploads.py), van files


def is_upload(scope: Scope) -> bool:
    path: str = scope["path"]
    return scope["method"] == "POST" and path.rstrip("/").endswith(UPLOAD_PATHS)


class BodySizeLimit:
    """Counts body bytes (declared and actual); uploads may carry `upload_limit`, other bodies 1 MiB."""

    def __init__(self, app: ASGIApp, *, upload_limit: int, body_timeout_s: float = 30.0) -> None:
        self.app = app
        self.upload_limit = upload_limit
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = is_upload(scope)
        limit = self.upload_limit + MULTIPART_OVERHEAD if upload else JSON_BODY_LIMIT
        shown_limit = self.upload_limit if upload else JSON_BODY_LIMIT
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, too_large(shown_limit))
            return
        seen = 0
        body_done = False
        failure: FablabError | None = None
        started = False

        async def guarded_receive() -> Message:
            nonlocal seen, body_done, failure
            if body_done:  # the body is in: later calls wait for a disconnect, untimed
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), timeout=self.body_timeout_s)
            except TimeoutError:
                failure = body_timeout(self.body_timeout_s)
                raise failure from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    failure = too_large(shown_limit)
                    raise failure
                body_done = not message.get("more_body", False)
            else:
                body_done = True
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if failure is not None and not started:
                return  # whatever the app answers about a refused body, ours goes instead
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception:
            if failure is None or started:
                raise
        if failure is not None and not started:
            await self._refuse(scope, send, failure)

    async def _refuse(self, scope: Scope, send: Send, error: FablabError) -> None:
        body = error_body(Request(scope), error.code, error.message, error.detail)
        response = JSONResponse(body, status_code=error.status, headers={"Connection": "close"})
        await response(scope, _drain, send)


async def _drain() -> Message:
    return {"type": "http.disconnect"}
