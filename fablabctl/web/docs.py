"""The interactive API docs (/docs), served with the Swagger UI files shipped in the package.

No CDN: the docs work on a lab network without internet (the files are vendored under
`pages/static/vendor/swagger-ui/`, see its README for the version and how to update).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse

VENDOR = "/static/vendor/swagger-ui"


def install_docs(app: FastAPI, *, openapi_url: str, title: str) -> None:
    """Add GET /docs; the app must be built with `docs_url=None` and serve `/static`."""

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} — API",
            swagger_js_url=f"{VENDOR}/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
            swagger_ui_parameters={"validatorUrl": None},  # no call to the public validator
        )
