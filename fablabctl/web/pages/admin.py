"""Admin pages: accounts (create, new password, deactivate) and the audit log (read-only, filterable)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request, Response
from pydantic import ValidationError
from sqlalchemy import select

from fablabctl.db.models import AuditEntry, User
from fablabctl.people import users
from fablabctl.people.roles import Role
from fablabctl.people.schemas import UserCreate, UserOut, UserUpdate
from fablabctl.web.pages.core import PageRoute, db, lang_of, redirect, render, require_user
from fablabctl.web.pages.labels import labels

router = APIRouter(route_class=PageRoute, include_in_schema=False)
AUDIT_PAGE = 200
FIELD_TEXT = {
    "username": (
        "2 à 64 caractères : lettres, chiffres, . _ -",
        "2 to 64 characters: letters, digits, . _ -",
    ),
    "display_name": ("Indiquez un nom affiché ou un pseudonyme.", "Enter a display name or pseudonym."),
    "password": ("Mot de passe trop court.", "Password too short."),
    "role": ("Choisissez un rôle.", "Choose a role."),
}


def _users_page(
    request: Request,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    with db(request) as session:
        user = require_user(request, session, Role.ADMIN)
        rows = [UserOut.model_validate(u) for u in users.list_users(session=session, actor=user)]
        return render(
            request,
            "admin_users.html",
            user=user,
            users=rows,
            errors=errors or {},
            form=form or {},
            labels=labels(lang_of(request)),
            status=status,
        )


@router.get("/admin/users")
def users_page(request: Request) -> Response:
    return _users_page(request)


@router.post("/admin/users")
def create_user(
    request: Request,
    username: str = Form(""),
    display_name: str = Form(""),
    role: str = Form("tigiste"),
    password: str = Form(""),
) -> Response:
    lang = lang_of(request)
    form = {"username": username, "display_name": display_name, "role": role}
    try:
        data = UserCreate(username=username, display_name=display_name, role=role, password=password)
    except ValidationError as exc:
        errors = {}
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "username"
            fr, en = FIELD_TEXT.get(field, ("Valeur invalide.", "Invalid value."))
            errors[field] = en if lang == "en" else fr
        return _users_page(request, errors=errors, form=form, status=400)
    with db(request) as session:
        actor = require_user(request, session, Role.ADMIN)
        users.create_user(session=session, actor=actor, data=data)
    return redirect(
        "/admin/users",
        flash=f"Compte « {data.username} » créé." if lang == "fr" else f"Account '{data.username}' created.",
    )


@router.post("/admin/users/{user_id}/password")
def reset_password(user_id: int, request: Request, password: str = Form("")) -> Response:
    lang = lang_of(request)
    try:
        data = UserUpdate(password=password)
    except ValidationError:
        return redirect("/admin/users", flash=FIELD_TEXT["password"][lang == "en"], kind="error")
    with db(request) as session:
        actor = require_user(request, session, Role.ADMIN)
        users.update_user(session=session, actor=actor, user_id=user_id, data=data)
    return redirect("/admin/users", flash="Mot de passe changé." if lang == "fr" else "Password changed.")


@router.post("/admin/users/{user_id}/active")
def set_active(user_id: int, request: Request, active: str = Form("0")) -> Response:
    lang = lang_of(request)
    with db(request) as session:
        actor = require_user(request, session, Role.ADMIN)
        users.update_user(
            session=session, actor=actor, user_id=user_id, data=UserUpdate(active=active == "1")
        )
    return redirect("/admin/users", flash="Compte mis à jour." if lang == "fr" else "Account updated.")


@router.get("/admin/audit")
def audit_page(request: Request, action: str = "", actor: str = "", target: str = "") -> Response:
    """Read-only: the newest entries first, filtered by action prefix, actor username, target type."""
    with db(request) as session:
        user = require_user(request, session, Role.ADMIN)
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE)
        if action.strip():
            query = query.where(AuditEntry.action.startswith(action.strip()[:64]))
        if target.strip():
            query = query.where(AuditEntry.target_type == target.strip()[:32])
        names = dict(session.execute(select(User.id, User.username)).all())
        if actor.strip():
            ids = [i for i, n in names.items() if n == actor.strip()]
            query = query.where(AuditEntry.actor_id.in_(ids))
        entries = list(session.scalars(query))
        return render(
            request,
            "admin_audit.html",
            user=user,
            entries=entries,
            names=names,
            filters={"action": action, "actor": actor, "target": target},
        )
