"""Errors as values: a stable code, an HTTP status, and a message in French and English.

Service functions raise `FablabError`; the API turns it into JSON `{code, message, detail}` with the
language from Accept-Language, and the CLI prints the message in the operator's language.
"""

from __future__ import annotations

from typing import Any

from fablabctl.i18n import Text


class FablabError(Exception):
    status: int = 400

    def __init__(self, code: str, message: Text, *, status: int | None = None, **detail: Any) -> None:
        super().__init__(f"{code}: {message.en}")
        self.code = code
        self.message = message
        self.detail = detail
        if status is not None:
            self.status = status


class NotFound(FablabError):
    status = 404


class Forbidden(FablabError):
    status = 403


class Unauthorized(FablabError):
    status = 401


class Conflict(FablabError):
    status = 409


class Invalid(FablabError):
    status = 422


class TooLarge(FablabError):
    status = 413


class TooManyRequests(FablabError):
    status = 429


def not_found(what: str, ident: object) -> NotFound:
    names = {
        "user": ("utilisateur", "user"),
        "machine": ("machine", "machine"),
        "cohort": ("cohorte", "cohort"),
        "enrolment": ("inscription", "enrolment"),
        "design": ("fichier de conception", "design"),
        "job": ("travail", "job"),
        "site": ("site", "site"),
    }
    fr, en = names.get(what, (what, what))
    return NotFound(
        f"{what.upper()}_NOT_FOUND",
        Text(f"{fr} introuvable : {ident}", f"{en} not found: {ident}"),
        id=str(ident),
    )


FORBIDDEN = Text("Vous n'avez pas le droit de faire cela.", "You are not allowed to do this.")


def forbidden(message: Text = FORBIDDEN) -> Forbidden:
    return Forbidden("FORBIDDEN", message)
