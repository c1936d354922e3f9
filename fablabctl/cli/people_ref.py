"""Name a person on the command line by username or by id; show names, not ids; parse dates and times."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fablabctl.cli.backend import ApiError, Backend
from fablabctl.cli.common import die
from fablabctl.i18n import Text


def person_id(api: Backend, ref: str) -> int:
    """The account id for `ref`: digits are an id, anything else a username (looked up by staff)."""
    if ref.isdigit():
        return int(ref)
    users: list[dict[str, Any]] = api.call("GET", "/users")
    for user in users:
        if user["username"] == ref:
            return int(user["id"])
    raise die(Text("personne inconnue : {ref}", "unknown person: {ref}").format(ref=ref), code=2)


def display_names(api: Backend) -> dict[int, str]:
    """Account id → display name, for tables: every account for trainers and admins, oneself otherwise."""
    try:
        users: list[dict[str, Any]] = api.call("GET", "/users")
    except ApiError:
        try:
            users = [api.call("GET", "/auth/me")]
        except ApiError:
            return {}
    return {int(u["id"]): str(u["display_name"]) for u in users}


def name_of(names: dict[int, str], user_id: int | None) -> str:
    """The person's display name, or `#id` when this account may not see it."""
    if user_id is None:
        return ""
    return names.get(user_id, f"#{user_id}")


_TIME = Text(
    "{option} : heure attendue au format AAAA-MM-JJTHH:MM, reçu « {value} »",
    "{option}: expected a time as YYYY-MM-DDTHH:MM, got “{value}”",
)
_DAY = Text(
    "{option} : date attendue au format AAAA-MM-JJ, reçu « {value} »",
    "{option}: expected a date as YYYY-MM-DD, got “{value}”",
)


def local_time(value: str | None, option: str) -> str | None:
    """ISO 8601 local time (2026-12-01T09:00 or 2026-12-01 09:00); checked here, sent as given."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        raise die(_TIME.format(option=option, value=value), code=2) from None


def local_day(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise die(_DAY.format(option=option, value=value), code=2) from None
