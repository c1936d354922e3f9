"""Name a person on the command line by username or by id; parse local dates and times."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fablabctl.cli.backend import Backend
from fablabctl.cli.common import die


def person_id(api: Backend, ref: str) -> int:
    """The account id for `ref`: digits are an id, anything else a username (looked up by staff)."""
    if ref.isdigit():
        return int(ref)
    users: list[dict[str, Any]] = api.call("GET", "/users")
    for user in users:
        if user["username"] == ref:
            return int(user["id"])
    raise die(f"personne inconnue / unknown person: {ref}", code=2)


def local_time(value: str | None, option: str) -> str | None:
    """ISO 8601 local time (2026-12-01T09:00 or 2026-12-01 09:00); checked here, sent as given."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        raise die(f"{option} : heure attendue au format AAAA-MM-JJTHH:MM, reçu « {value} »", code=2) from None


def local_day(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise die(f"{option} : date attendue au format AAAA-MM-JJ, reçu « {value} »", code=2) from None
