"""What every page shares: templates, language, the logged-in user, CSRF, flash messages, errors.

Pages open their own database session (`db`) and commit it before they answer, so a redirect after a
POST never shows a page from before the change. Every POST is checked for the CSRF token (form field
`csrf` or header `X-CSRF-Token`): derived from the session cookie when logged in, a random cookie
before (the login form).
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from fablabctl import __version__
from fablabctl.context import ServiceContext
from fablabctl.db.engine import session_scope
from fablabctl.db.models import User
from fablabctl.errors import FablabError
from fablabctl.i18n import LANGS, Lang, Text, pick_lang
from fablabctl.people.auth import authenticate
from fablabctl.people.roles import Role, role_of
from fablabctl.web.csrf import token_for_session
from fablabctl.web.deps import SESSION_COOKIE
from fablabctl.web.transactions import db_error

TEMPLATES = Path(__file__).parent / "templates"
LANG_COOKIE = "fablab_lang"
CSRF_COOKIE = "fablab_csrf"
FLASH_COOKIE = "fablab_flash"

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "svg"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

HOME = {Role.TIGISTE: "/mine", Role.TRAINER: "/trainer", Role.OPERATOR: "/operator", Role.ADMIN: "/trainer"}


class LoginRequired(Exception):
    """No valid session: the page sends the browser to the login form."""


class CsrfFailed(Exception):
    """A POST without the right token: refused before anything happens."""


def context_of(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.context
    return context


@contextmanager
def db(request: Request) -> Iterator[Session]:
    """A session committed when the block ends (before the page answers)."""
    with session_scope(context_of(request).sessions) as session:
        yield session


def lang_of(request: Request) -> Lang:
    """The switch's cookie first, then the browser's Accept-Language, French by default."""
    chosen = request.cookies.get(LANG_COOKIE)
    for lang in LANGS:
        if chosen == lang:
            return lang
    return pick_lang(request.headers.get("accept-language"))


def current_user(request: Request, session: Session) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return authenticate(session, token)
    except FablabError:
        return None


def require_user(request: Request, session: Session, *roles: Role) -> User:
    """The logged-in user (else the login page); with roles, one of them (else 403 as a page)."""
    user = current_user(request, session)
    if user is None:
        raise LoginRequired
    if roles and role_of(user) not in roles:
        from fablabctl.errors import forbidden

        raise forbidden()
    return user


def csrf_token(request: Request) -> str:
    session_token = request.cookies.get(SESSION_COOKIE)
    if session_token:
        return token_for_session(session_token)
    return request.cookies.get(CSRF_COOKIE) or ""


async def check_csrf(request: Request) -> None:
    sent = request.headers.get("x-csrf-token")
    content_type = request.headers.get("content-type", "")
    if sent is None and "multipart/form-data" in content_type:
        # a file upload: the body streams into the store (web/uploads.py) and is not read here, so
        # the plain form (without JavaScript) sends the token in its address
        sent = request.query_params.get("csrf")
    elif sent is None and "form" in content_type:
        value = (await request.form()).get("csrf")
        sent = value if isinstance(value, str) else None
    expected = csrf_token(request)
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfFailed


def t(request: Request) -> Callable[[str, str], str]:
    lang = lang_of(request)
    return lambda fr, en: en if lang == "en" else fr


def set_flash(response: Response, text: str, kind: str = "ok") -> None:
    payload = quote(json.dumps({"kind": kind, "text": text[:400]}))
    response.set_cookie(FLASH_COOKIE, payload, max_age=60, httponly=True, samesite="strict", path="/")


def read_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = json.loads(unquote(raw))
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("text"), str):
        return {"kind": str(data.get("kind", "ok")), "text": data["text"]}
    return None


def redirect(url: str, *, flash: str | None = None, kind: str = "ok") -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if flash:
        set_flash(response, flash, kind)
    return response


def safe_next(url: str | None, default: str = "/") -> str:
    """Only a path on this site (no //host, no scheme): a login link cannot send anyone elsewhere."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return default


def render(
    request: Request, template: str, *, user: User | None = None, status: int = 200, **values: Any
) -> HTMLResponse:
    lang = lang_of(request)
    flash = read_flash(request)
    csrf = csrf_token(request)
    new_csrf = "" if csrf else secrets.token_urlsafe(24)
    html = env.get_template(template).render(
        request=request,
        lang=lang,
        t=t(request),
        user=user,
        role=role_of(user).value if user else None,
        csrf=csrf or new_csrf,
        flash=flash,
        version=__version__,
        path=request.url.path,
        num=lambda value, digits=1: f"{float(value):.{digits}f}".replace(".", "," if lang == "fr" else "."),
        **values,
    )
    response = HTMLResponse(html, status_code=status)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    if new_csrf:  # before login: a double-submit cookie protects the login form
        response.set_cookie(CSRF_COOKIE, new_csrf, httponly=True, samesite="strict", path="/")
    return response


def message(exc: FablabError, lang: Lang) -> str:
    return exc.message.in_(lang)


INVALID_FORM = Text("Le formulaire est incomplet ou invalide.", "The form is incomplete or invalid.")
CSRF_TEXT = Text(
    "La page a expiré : rechargez-la puis recommencez.", "The page has expired: reload it and try again."
)


class PageRoute(APIRoute):
    """Page routes: CSRF on every POST; errors become a page or a message, never JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            lang = lang_of(request)
            back = safe_next(request.headers.get("referer", "").partition(request.url.netloc)[2] or None)
            try:
                if request.method == "POST":
                    await check_csrf(request)
                return await original(request)
            except LoginRequired:
                return redirect(f"/login?next={quote(request.url.path)}")
            except CsrfFailed:
                if request.headers.get("x-csrf-token") is not None:
                    return _json_error("CSRF_FAILED", CSRF_TEXT.in_(lang), 403)
                return redirect(back, flash=CSRF_TEXT.in_(lang), kind="error")
            except (OverflowError, SQLAlchemyError) as exc:  # a number no column holds, a busy database
                mapped = db_error(exc)
                if mapped is None:
                    raise
                if request.method != "POST" and isinstance(exc, OverflowError):  # an id no row can have
                    return _error_page(request, 404, Text("Adresse inconnue.", "Unknown address.").in_(lang))
                return _page_error(request, mapped, lang, back)
            except FablabError as exc:
                return _page_error(request, exc, lang, back)
            except RequestValidationError:
                if request.method == "POST":
                    return redirect(back, flash=INVALID_FORM.in_(lang), kind="error")
                return _error_page(request, 404, Text("Adresse inconnue.", "Unknown address.").in_(lang))

        return handler


def _page_error(request: Request, exc: FablabError, lang: Lang, back: str) -> Response:
    """A coded error as the caller expects it: JSON for the pages' scripts, a message after a form, a page."""
    if request.headers.get("x-csrf-token") is not None:
        return _json_error(exc.code, message(exc, lang), exc.status)
    if request.method == "POST":
        return redirect(back, flash=message(exc, lang), kind="error")
    return _error_page(request, exc.status, message(exc, lang))


def _json_error(code: str, text: str, status: int) -> Response:
    return Response(
        json.dumps({"code": code, "message": text}, ensure_ascii=False),
        status_code=status,
        media_type="application/json",
    )


def _error_page(request: Request, status: int, text: str) -> HTMLResponse:
    with db(request) as session:
        user = current_user(request, session)
        return render(request, "error.html", user=user, status=status, error_text=text)
