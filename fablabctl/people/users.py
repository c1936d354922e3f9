"""Accounts: who may create whom, and the audit of every read and change of personal data."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.db.models import User
from fablabctl.errors import Conflict, forbidden, not_found
from fablabctl.i18n import Text
from fablabctl.people.auth import end_sessions
from fablabctl.people.passwords import hash_password
from fablabctl.people.roles import TEACHING, Role, require, role_of
from fablabctl.people.schemas import UserCreate, UserUpdate


def _may_manage(actor: User, role: Role) -> bool:
    """Admins manage everyone; trainers create and edit tigiste accounts only."""
    actor_role = role_of(actor)
    return actor_role is Role.ADMIN or (actor_role is Role.TRAINER and role is Role.TIGISTE)


def create_user(*, session: Session, actor: User | None, data: UserCreate) -> User:
    """Create an account. `actor=None` is the bootstrap (first admin, CLI on the server)."""
    if actor is not None and not _may_manage(actor, data.role):
        raise forbidden()
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise _username_taken(data.username)
    user = User(
        username=data.username,
        display_name=data.display_name,
        role=data.role.value,
        password_hash=hash_password(data.password),
        active=True,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise _username_taken(data.username) from None
    audit.record(
        session, actor=actor, action="user.create", target_type="user", target_id=user.id, role=user.role
    )
    return user


def _username_taken(username: str) -> Conflict:
    return Conflict(
        "USERNAME_TAKEN",
        Text(f"L'identifiant « {username} » existe déjà.", f"Username '{username}' already exists."),
    )


def get_user(*, session: Session, actor: User, user_id: int) -> User:
    """Staff who teach read any account (audited); everyone else reads their own only.

    For a tigiste any other id is 404, whether it exists or not: the answer tells nothing."""
    if user_id != actor.id:
        if role_of(actor) is Role.TIGISTE:
            raise not_found("user", user_id)
        require(actor, TEACHING)
    user = session.get(User, user_id)
    if user is None:
        raise not_found("user", user_id)
    if user.id != actor.id:
        audit.record(session, actor=actor, action="user.read", target_type="user", target_id=user.id)
    return user


def list_users(*, session: Session, actor: User, role: Role | None = None) -> list[User]:
    require(actor, TEACHING)
    query = select(User).order_by(User.id)
    if role is not None:
        query = query.where(User.role == role.value)
    users = list(session.scalars(query))
    audit.record(session, actor=actor, action="user.list", target_type="user", count=len(users))
    return users


def update_user(*, session: Session, actor: User, user_id: int, data: UserUpdate) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise not_found("user", user_id)
    if not _may_manage(actor, role_of(user)) or (data.role is not None and not _may_manage(actor, data.role)):
        raise forbidden()
    changed = data.model_dump(exclude_unset=True, exclude_none=True)
    stays_admin = (data.role or role_of(user)) is Role.ADMIN and changed.get("active", user.active)
    if not stays_admin:
        _keep_an_admin(session, user)
    ends_sessions = "password" in changed or ("active" in changed and changed["active"] != user.active)
    if "password" in changed:
        user.password_hash = hash_password(changed.pop("password"))
        changed["password"] = "changed"
    for field in ("display_name", "active"):
        if field in changed:
            setattr(user, field, changed[field])
    if data.role is not None:
        user.role = data.role.value
    if ends_sessions:  # a reset or a (de)activation: no old token may go on working
        end_sessions(session, user, reason="password" if "password" in changed else "active")
    audit.record(
        session,
        actor=actor,
        action="user.update",
        target_type="user",
        target_id=user.id,
        fields=sorted(changed),
    )
    return user


def delete_user(*, session: Session, actor: User, user_id: int) -> None:
    """Deactivate rather than delete: jobs and hours keep their author until the cohort is purged."""
    user = session.get(User, user_id)
    if user is None:
        raise not_found("user", user_id)
    if not _may_manage(actor, role_of(user)) or user.id == actor.id:
        raise forbidden()
    _keep_an_admin(session, user)
    user.active = False
    end_sessions(session, user, reason="deactivated")
    audit.record(session, actor=actor, action="user.deactivate", target_type="user", target_id=user.id)


LAST_ADMIN = Text(
    "C'est le dernier compte administrateur actif : créez ou réactivez d'abord un autre administrateur.",
    "This is the last active administrator account: create or reactivate another administrator first.",
)


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse a change that would leave no active admin (409): nobody could manage accounts any more.

    Every active admin's row is locked in id order (PostgreSQL), so two admins demoting each other
    at once are serialised and the second one sees the first change."""
    if role_of(user) is not Role.ADMIN or not user.active:
        return
    admins = session.scalars(
        select(User.id)
        .where(User.role == Role.ADMIN.value, User.active.is_(True))
        .order_by(User.id)
        .with_for_update()
    ).all()
    if not [admin_id for admin_id in admins if admin_id != user.id]:
        raise Conflict("LAST_ADMIN", LAST_ADMIN)
