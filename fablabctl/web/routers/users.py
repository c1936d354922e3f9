"""Accounts (admins; trainers for tigiste accounts)."""

from __future__ import annotations

from fastapi import APIRouter

from fablabctl.people import users
from fablabctl.people.roles import Role
from fablabctl.people.schemas import UserCreate, UserOut, UserUpdate
from fablabctl.web.deps import CurrentUser, SessionDep
from fablabctl.web.params import Id
from fablabctl.web.transactions import CommitFirstRoute

router = APIRouter(prefix="/users", tags=["users"], route_class=CommitFirstRoute)


@router.get("")
def list_users(session: SessionDep, actor: CurrentUser, role: Role | None = None) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in users.list_users(session=session, actor=actor, role=role)]


@router.post("", status_code=201)
def create_user(body: UserCreate, session: SessionDep, actor: CurrentUser) -> UserOut:
    return UserOut.model_validate(users.create_user(session=session, actor=actor, data=body))


@router.get("/{user_id}")
def get_user(user_id: Id, session: SessionDep, actor: CurrentUser) -> UserOut:
    return UserOut.model_validate(users.get_user(session=session, actor=actor, user_id=user_id))


@router.patch("/{user_id}")
def update_user(user_id: Id, body: UserUpdate, session: SessionDep, actor: CurrentUser) -> UserOut:
    return UserOut.model_validate(users.update_user(session=session, actor=actor, user_id=user_id, data=body))


@router.delete("/{user_id}", status_code=204)
def delete_user(user_id: Id, session: SessionDep, actor: CurrentUser) -> None:
    users.delete_user(session=session, actor=actor, user_id=user_id)
