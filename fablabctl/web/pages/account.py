"""Log in, log out, choose the language, and the home page that sends each role to its own page."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from fablabctl.errors import FablabError
from fablabctl.people import auth
from fablabctl.people.roles import role_of
from fablabctl.web.deps import SESSION_COOKIE, set_session_cookie
from fablabctl.web.pages.core import (
    CSRF_COOKIE,
    HOME,
    LANG_COOKIE,
    PageRoute,
    context_of,
    current_user,
    db,
    lang_of,
    redirect,
    render,
    safe_next,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/")
def home(request: Request) -> Response:
    with db(request) as session:
        user = current_user(request, session)
        if user is None:
            return redirect("/login")
        return redirect(HOME[role_of(user)])


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    with db(request) as session:
        user = current_user(request, session)
        if user is not None:
            return redirect(safe_next(next, HOME[role_of(user)]))
        return render(request, "login.html", next=safe_next(next), errors={}, username="")


@router.post("/login")
def login(
    request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/")
) -> Response:
    lang = lang_of(request)
    errors: dict[str, str] = {}
    if not username.strip():
        errors["username"] = "Indiquez votre identifiant." if lang == "fr" else "Enter your username."
    if not password:
        errors["password"] = "Indiquez votre mot de passe." if lang == "fr" else "Enter your password."
    context = context_of(request)
    if not errors:
        try:
            with db(request) as session:
                result = auth.login(
                    session,
                    username=username.strip()[:64],
                    password=password[:256],
                    client=request.client.host if request.client else "unknown",
                    limiter=context.limiter,
                    session_hours=context.settings.session_hours,
                )
                home_url = HOME[role_of(result.user)]
        except FablabError as exc:
            errors["password"] = exc.message.in_(lang)
        else:
            response = redirect(safe_next(next, home_url) if next not in ("", "/") else home_url)
            set_session_cookie(response, result.token, context.settings)
            response.delete_cookie(CSRF_COOKIE, path="/")
            return response
    return render(
        request, "login.html", next=safe_next(next), errors=errors, username=username[:64], status=400
    )


@router.post("/logout")
def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with db(request) as session:
            auth.logout(session, token)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
def choose_language(code: str, request: Request, next: str = "/") -> RedirectResponse:
    """The visible switch: remembered for a year in a cookie (it only picks the language)."""
    response = redirect(safe_next(next))
    if code in ("fr", "en"):
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response
