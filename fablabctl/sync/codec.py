"""Plain-data helpers shared by both sides: times as ISO strings, people by username, UUID links."""

from __future__ import annotations

import hashlib
import json
import re
import uuid as uuid_lib
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl.db.models import SyncLink, SyncState, User

SHA256 = re.compile(r"[0-9a-f]{64}")


def is_sha256(value: object) -> bool:
    """A content hash as the design store names files (never a path)."""
    return isinstance(value, str) and SHA256.fullmatch(value) is not None


def iso(value: datetime | date | time | None) -> str | None:
    return None if value is None else value.isoformat()


def parse_dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def digest(value: Any) -> str:
    """A short, stable digest of plain data (a mutable record's state in its outbox key)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def username(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return user.username if user else None


def user_id(session: Session, name: str | None) -> int | None:
    if name is None:
        return None
    return session.scalar(select(User.id).where(User.username == name))


def link_of(session: Session, kind: str, local_id: int) -> SyncLink | None:
    return session.scalar(select(SyncLink).where(SyncLink.kind == kind, SyncLink.local_id == local_id))


def by_uuid(session: Session, kind: str, uuid: str) -> SyncLink | None:
    return session.scalar(select(SyncLink).where(SyncLink.kind == kind, SyncLink.uuid == uuid))


def ensure_link(session: Session, kind: str, local_id: int, origin: str = "local") -> SyncLink:
    """The UUID of a local row that has no UUID column (job, design, audit entry), made once."""
    link = link_of(session, kind, local_id)
    if link is None:
        link = SyncLink(kind=kind, uuid=str(uuid_lib.uuid4()), local_id=local_id, origin=origin)
        session.add(link)
        session.flush()
    return link


def get_state(session: Session, key: str, default: Any = None) -> Any:
    row = session.get(SyncState, key)
    return default if row is None else row.value


def set_state(session: Session, key: str, value: Any) -> None:
    row = session.get(SyncState, key)
    if row is None:
        session.add(SyncState(key=key, value=value))
    else:
        row.value = value
    session.flush()
