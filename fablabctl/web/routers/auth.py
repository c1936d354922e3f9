"""Login (cookie for the web, bearer token for the API and CLI), logout, and who am I."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from fablabctl.people import auth
from fablabctl.people.schemas import UserOut
from fablabctl.web.deps import (
    SESSION_COOKIE,
    ContextDep,
    CurrentUser,
    SessionDep,
    request_token,
    set_session_cookie,
)
from fablabctl.web.transactions import CommitFirstRoute

router = APIRouter(prefix="/auth", tags=["auth"], route_class=CommitFirstRoute)


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginOut(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_at: datetime
    user: UserOut


@router.post("/login")
def login(
    body: LoginIn, request: Request, response: Response, session: SessionDep, context: ContextDep
) -> LoginOut:
    client = request.client.host if request.client else "unknown"
    result = auth.login(
        session,
        username=body.username,
        password=body.password,
        client=client,
        limiter=context.limiter,
        session_hours=context.settings.session_hours,
    )
    set_session_cookie(response, result.token, context.settings)
    return LoginOut(
        token=result.token, expires_at=result.expires_at, user=UserOut.model_validate(result.user)
    )


@router.post("/logout", status_code=204)
def logout(
    request: Request,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))],
) -> None:
    token = request_token(request, credentials)
    if token:
        auth.logout(session, token)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me")
def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)
