"""FastAPI dependencies as `Annotated` aliases: the session, the current user, the language.

A request holds a database connection only while it runs SQL (see `transactions.py`):
authentication uses its own short session in one worker thread and returns a detached `User`
(its columns loaded: id, role, names...), so the wait for the handler's thread holds nothing, and an
event stream keeps no connection at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from fablabctl.config import Settings
from fablabctl.context import ServiceContext
from fablabctl.db.models import User
from fablabctl.errors import Unauthorized
from fablabctl.i18n import Lang, pick_lang
from fablabctl.people.auth import NOT_LOGGED_IN, authenticate
from fablabctl.web.csrf import check_cookie_write
from fablabctl.web.transactions import FINISHED, commit, discard

SESSION_COOKIE = "fablab_session"
_bearer = HTTPBearer(auto_error=False)


def get_context(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.context
    return context


async def get_session(context: Annotated[ServiceContext, Depends(get_context)]) -> AsyncIterator[Session]:
    """The request's transaction. Creating a session opens no connection (that waits for the first
    SQL); `scope="function"` (below) makes this exit run before the response is sent."""
    session = context.sessions()
    try:
        yield session
    except BaseException:
        if not session.info.get(FINISHED):
            await run_in_threadpool(discard, session)
        raise
    if not session.info.get(FINISHED):  # async endpoint, or a router without CommitFirstRoute
        await run_in_threadpool(commit, session)
    elif session.in_transaction():  # something read lazily after the commit: release it
        await run_in_threadpool(discard, session)
    else:
        session.close()  # no connection held: nothing to wait for


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    """The login cookie, one for the API and the pages: HttpOnly, SameSite=Strict, Secure in production."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.environment == "production",
        max_age=int(settings.session_hours * 3600),
        path="/",
    )


def request_token(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return credentials.credentials
    return request.cookies.get(SESSION_COOKIE)


def _authenticate(factory: sessionmaker[Session], token: str) -> User:
    with factory() as session:  # read-only: closing it rolls back and frees the connection
        return authenticate(session, token)


async def get_current_user(
    request: Request,
    context: Annotated[ServiceContext, Depends(get_context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    token = request_token(request, credentials)
    if not token:  # refused without a thread or a connection
        raise Unauthorized("NOT_AUTHENTICATED", NOT_LOGGED_IN)
    if credentials is None or credentials.scheme.lower() != "bearer":  # the cookie: writes need CSRF
        check_cookie_write(request, token)
    return await run_in_threadpool(_authenticate, context.sessions, token)


def get_lang(request: Request) -> Lang:
    return pick_lang(request.headers.get("accept-language"))


ContextDep = Annotated[ServiceContext, Depends(get_context)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
CurrentUser = Annotated[User, Depends(get_current_user)]
LangDep = Annotated[Lang, Depends(get_lang)]
