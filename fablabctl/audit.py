"""Write to the append-only audit log: every change, and every read of personal data by staff."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from fablabctl.db.models import AuditEntry, User


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    target_type: str,
    target_id: object = None,
    **detail: Any,
) -> None:
    """Add one audit entry in the caller's transaction (it commits or rolls back with the change)."""
    session.add(
        AuditEntry(
            actor_id=actor.id if actor else None,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            detail=detail,
        )
    )
