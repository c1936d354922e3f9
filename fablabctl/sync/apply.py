"""Central side: apply a batch of a van's records, in order, each once (by its key), each on its own.

A record already received answers `duplicate`; one that cannot be taken answers `refused` with a
code and a reason (the van keeps the answer and shows it); one whose prerequisite has not arrived
yet answers `retry`. Each record runs in a savepoint, so one refusal never loses the others.
Every arrival is recorded (`SyncLink`: which site, which cohort, when), for the hours' provenance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.clock import utc_now
from fablabctl.db.models import SyncLink
from fablabctl.i18n import Text
from fablabctl.sync import apply_people, apply_work
from fablabctl.sync.codec import by_uuid
from fablabctl.sync.outcome import APPLIED, DUPLICATE, FLAGGED, REFUSED, RETRY, Outcome, Refusal
from fablabctl.sync.tokens import TokenScope

# a field of the wrong shape, a number no column holds, a reference the database refuses
MALFORMED = (KeyError, TypeError, ValueError, AttributeError, ArithmeticError, sa_exc.SQLAlchemyError)
KINDS = ("design", "job", "attendance", "absence", "journal", "contribution", "odometer", "audit")


def _apply_one(
    session: Session, scope: TokenScope, kind: str, p: dict[str, Any], designs_dir: Path
) -> Outcome:
    if kind == "attendance":
        return apply_people.attendance(session, scope, p)
    if kind == "absence":
        return apply_people.absence(session, scope, p)
    if kind == "journal":
        return apply_people.journal(session, scope, p)
    if kind == "design":
        return apply_work.design(session, p, designs_dir)
    if kind == "job":
        return apply_work.job(session, scope.cohort_id, p)
    if kind == "contribution":
        return apply_work.contribution(session, scope.site_id, p)
    if kind == "odometer":
        return apply_work.odometer(session, scope.site_id, p)
    return apply_work.audit_entry(session, scope.site, p)


def apply_item(
    session: Session, scope: TokenScope, item: dict[str, Any], designs_dir: Path
) -> dict[str, Any]:
    key, kind, payload = str(item.get("key", "")), str(item.get("kind", "")), item.get("payload")
    answer: dict[str, Any] = {"key": key, "kind": kind}
    if kind not in KINDS or not key or not isinstance(payload, dict):
        message = Text("Enregistrement illisible.", "Unreadable record.")
        return {**answer, "status": REFUSED, "code": "SYNC_BAD_RECORD", "message": message.as_dict()}
    if by_uuid(session, kind, key) is not None:
        return {**answer, "status": DUPLICATE}
    savepoint = session.begin_nested()
    try:
        outcome = _apply_one(session, scope, kind, payload, designs_dir)
    except Refusal as refusal:
        savepoint.rollback()
        status = RETRY if refusal.retry else REFUSED
        return {**answer, "status": status, "code": refusal.code, "message": refusal.message.as_dict()}
    except MALFORMED as error:
        if isinstance(error, sa_exc.OperationalError):  # a busy or lost database: the whole push fails
            raise
        savepoint.rollback()
        message = Text("Enregistrement incomplet ou mal formé.", "Incomplete or malformed record.")
        return {**answer, "status": REFUSED, "code": "SYNC_BAD_RECORD", "message": message.as_dict()}
    session.add(
        SyncLink(
            kind=kind,
            uuid=key,
            local_id=outcome.local_id,
            origin="received",
            site_id=scope.site_id,
            cohort_id=scope.cohort_id,
            received_at=utc_now(),
        )
    )
    session.flush()
    savepoint.commit()
    if outcome.message is not None:
        answer.update(code=outcome.code, message=outcome.message.as_dict())
    return {**answer, "status": outcome.status}


def apply_batch(
    session: Session, scope: TokenScope, items: list[dict[str, Any]], designs_dir: Path, *, via: str
) -> list[dict[str, Any]]:
    results = [apply_item(session, scope, item, designs_dir) for item in items]
    applied = [
        item["payload"]
        for item, result in zip(items, results, strict=True)
        if result["kind"] == "attendance" and result["status"] == APPLIED  # so its payload was read whole
    ]
    flagged = apply_people.flag_overlaps(session, scope, [payload["entry_uuid"] for payload in applied])
    for item, result in zip(items, results, strict=True):
        if result["kind"] != "attendance" or result["status"] != APPLIED:
            continue
        message = flagged.get(item["payload"]["uuid"])
        if message is not None:
            result.update(status=FLAGGED, code="SYNC_ATTENDANCE_OVERLAP", message=message.as_dict())
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    audit.record(
        session,
        actor=None,
        action=f"sync.{via}",
        target_type="cohort",
        target_id=scope.cohort_id,
        site=scope.site,
        **counts,
    )
    return results
