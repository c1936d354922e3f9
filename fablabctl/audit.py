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


READS_KEY = "fablab_audited_reads"  # in Session.info: the reads already logged in this request


def staff_read(
    session: Session, actor: User, subject_user_id: int, what: str, target_id: object = None
) -> None:
    """Log that a staff member read a tigiste's data (`what`: designs, design, jobs, job, history).

    Called by the service functions that read one person's data; one row per request and per kind of
    read (a list of 200 jobs is one row), none for reading one's own data or a staff member's."""
    if actor.id == subject_user_id or actor.role == "tigiste":
        return
    subject = session.get(User, subject_user_id)
    if subject is None or subject.role != "tigiste":
        return
    done: set[tuple[int, str, str]] = session.info.setdefault(READS_KEY, set())
    key = (subject_user_id, what, str(target_id))
    if key in done:
        return
    done.add(key)
    extra = {} if target_id is None else {"id": str(target_id)}
    record(
        session,
        actor=actor,
        action="staff.read",
        target_type="user",
        target_id=subject_user_id,
        what=what,
        **extra,
    )
