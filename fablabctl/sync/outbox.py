"""Van side: the outbox read in push order, answers recorded, and what still waits (`sync status`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl.clock import utc_now
from fablabctl.content_store import path_for
from fablabctl.db.models import SyncOutbox
from fablabctl.sync.codec import get_state, set_state
from fablabctl.sync.outcome import ACKED


def pending(session: Session, limit: int | None = None) -> list[SyncOutbox]:
    query = select(SyncOutbox).where(SyncOutbox.acked_at.is_(None)).order_by(SyncOutbox.id)
    return list(session.scalars(query.limit(limit) if limit else query))


def as_item(row: SyncOutbox) -> dict[str, Any]:
    return {"key": row.key, "kind": row.kind, "payload": row.payload}


def needed_files(rows: list[SyncOutbox]) -> list[str]:
    """The content hashes the waiting designs need, each once."""
    return sorted({r.payload["sha256"] for r in rows if r.kind == "design"})


def read_file(designs_dir: Any, sha256: str) -> bytes:
    return path_for(designs_dir, sha256).read_bytes()


def record_answers(session: Session, answers: list[dict[str, Any]]) -> Counter[str]:
    """Store the central site's answer to each record; acknowledged ones leave the outbox."""
    rows = {
        r.key: r
        for r in session.scalars(select(SyncOutbox).where(SyncOutbox.key.in_([a["key"] for a in answers])))
    }
    counts: Counter[str] = Counter()
    now = utc_now()
    for answer in answers:
        row = rows.get(answer["key"])
        if row is None:
            continue
        status = answer["status"]
        counts[status] += 1
        row.outcome = status
        row.outcome_code = answer.get("code")
        message = answer.get("message") or {}
        row.outcome_message = (message.get("fr") or "")[:500] or None
        if status in ACKED and row.acked_at is None:
            row.acked_at = now
    session.flush()
    return counts


def status(session: Session) -> dict[str, Any]:
    waiting = Counter(r.kind for r in pending(session))
    problems = session.scalars(
        select(SyncOutbox)
        .where(SyncOutbox.outcome.in_(["refused", "flagged", "retry"]))
        .order_by(SyncOutbox.id)
    )
    return {
        "central": get_state(session, "central"),
        "waiting": dict(sorted(waiting.items())),
        "waiting_total": sum(waiting.values()),
        "last_push": get_state(session, "last_push"),
        "last_export": get_state(session, "last_export"),
        "answers": [
            {
                "kind": r.kind,
                "key": r.key,
                "status": r.outcome,
                "code": r.outcome_code,
                "message": r.outcome_message,
            }
            for r in problems
        ],
    }


def note(session: Session, key: str, value: dict[str, Any]) -> None:
    set_state(session, key, {**value, "at": utc_now().isoformat()})
