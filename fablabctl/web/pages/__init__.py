"""The web pages: server-rendered HTML (Jinja2) with a little plain JavaScript, every asset local.

Pages call the same service functions as the API routers (designs/, queue/, fleet/, people/); they
hold no business rule of their own. Cookie session (the API's `fablab_session`), CSRF token on every
POST, French first with an English switch. Must not be imported by anything but `web.app`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"


def install_pages(app: FastAPI) -> None:
    """Add the page routes and the static files (`/static/...`) to the app."""
    from fablabctl.web.pages import (
        account,
        admin,
        admin_library,
        cohorts,
        designs,
        estop,
        jobs,
        operator,
        trainer,
    )
    from fablabctl.web.pages.notfound import install_not_found

    for module in (account, designs, jobs, trainer, operator, admin, admin_library, estop, cohorts):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_not_found(app)
