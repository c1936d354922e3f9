"""Roles and what each may do. One table, read by the API and the CLI alike."""

from __future__ import annotations

from enum import StrEnum

from fablabctl.db.models import User
from fablabctl.errors import forbidden


class Role(StrEnum):
    ADMIN = "admin"
    TRAINER = "trainer"
    OPERATOR = "operator"
    TIGISTE = "tigiste"


STAFF = frozenset({Role.ADMIN, Role.TRAINER, Role.OPERATOR})
TEACHING = frozenset({Role.ADMIN, Role.TRAINER})
MACHINE_KEEPERS = frozenset({Role.ADMIN, Role.OPERATOR})


def role_of(user: User) -> Role:
    return Role(user.role)


def require(user: User, allowed: frozenset[Role]) -> None:
    """Raise 403 unless the user's role is one of `allowed`."""
    if role_of(user) not in allowed:
        raise forbidden()


def is_staff(user: User) -> bool:
    return role_of(user) in STAFF
