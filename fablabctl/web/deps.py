"""FastAPI dependencies as `Annotated` aliases: the session, the current user, the language."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from fablabctl.context import ServiceContext
from fablabctl.db.engine import session_scope
from fablabctl.db.models import User
from fablabctl.i18n import Lang, pick_lang
from fablabctl.people.auth import authenticate

SESSION_COOKIE = "fablab_session"
_bearer = HTTPBearer(auto_error=False)


def get_context(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.context
    return context


def get_session(context: Annotated[ServiceContext, Depends(get_context)]) -> Iterator[Session]:
    with session_scope(context.sessions) as session:
        yield session


def request_token(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return credentials.credentials
    return request.cookies.get(SESSION_COOKIE)


def get_current_user(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    return authenticate(session, request_token(request, credentials))


def get_lang(request: Request) -> Lang:
    return pick_lang(request.headers.get("accept-language"))


ContextDep = Annotated[ServiceContext, Depends(get_context)]
SessionDep = Annotated[Session, Depends(get_session)]
CurrentUser = Annotated[User, Depends(get_current_user)]
LangDep = Annotated[Lang, Depends(get_lang)]
