"""Unknown addresses: a browser asking for a page gets a page (French or English), never raw JSON.

Only for a GET/HEAD that accepts HTML and is outside `/api/`; API clients keep the JSON error body.
"""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from fablabctl.i18n import Text
from fablabctl.web.pages.core import _error_page, lang_of

NOT_FOUND = Text(
    "Cette adresse n'existe pas. Vérifiez-la, ou revenez à l'accueil.",
    "This address does not exist. Check it, or go back to the home page.",
)


def wants_page(request: Request) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and not request.url.path.startswith("/api/")
        and "text/html" in request.headers.get("accept", "")
    )


def install_not_found(app: FastAPI) -> None:
    """Wrap the JSON handler of HTTP errors: 404 for a browser becomes the error page."""
    json_handler = app.exception_handlers[StarletteHTTPException]

    async def handler(request: Request, exc: Exception) -> Response:
        if isinstance(exc, StarletteHTTPException) and exc.status_code == 404 and wants_page(request):
            text = NOT_FOUND.in_(lang_of(request))
            return await run_in_threadpool(_error_page, request, 404, text)
        answer = json_handler(request, exc)
        response: Response = await answer if inspect.isawaitable(answer) else answer
        return response

    app.add_exception_handler(StarletteHTTPException, handler)
