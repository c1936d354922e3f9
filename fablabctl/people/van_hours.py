"""Central side: which of a tigiste's hours came from a van (a mobile Fab Lab), and when they arrived.

Shown beside the hours (`fablabctl hours`, the API, the cohort page): per van site, the hours of
the entries it recorded (rounded per day by the same rule) and the first and last arrival.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fablabctl.db.models import Site, SyncConflict, SyncLink
from fablabctl.people.attendance import Rules, as_period, latest_versions
from fablabctl.people.hours import minutes_to_hours, summarize


def van_hours(
    session: Session, *, cohort_id: int, user_id: int, rules: Rules, now: datetime
) -> list[dict[str, Any]]:
    entries = [e for e in latest_versions(session, cohort_id=cohort_id, user_id=user_id) if not e.cancelled]
    arrived = {
        uuid: at
        for uuid, at in session.execute(
            select(SyncLink.uuid, SyncLink.received_at).where(
                SyncLink.kind == "attendance", SyncLink.cohort_id == cohort_id, SyncLink.origin == "received"
            )
        )
    }
    by_site: dict[int, list[Any]] = {}
    for entry in entries:
        if entry.uuid in arrived:
            by_site.setdefault(entry.site_id, []).append(entry)
    rows = []
    for site_id, site_entries in sorted(by_site.items()):
        summary = summarize(
            [as_period(e) for e in site_entries],
            tz=rules.tz,
            rounding_minutes=rules.rounding_minutes,
            daily_max_hours=rules.daily_max_hours,
            now=now,
        )
        times = sorted(arrived[e.uuid] for e in site_entries)
        site = session.get(Site, site_id)
        open_conflicts = session.scalar(
            select(func.count())
            .select_from(SyncConflict)
            .where(
                SyncConflict.cohort_id == cohort_id,
                SyncConflict.user_id == user_id,
                SyncConflict.site_id == site_id,
                SyncConflict.resolved_at.is_(None),
            )
        )
        rows.append(
            {
                "site": site.name if site else str(site_id),
                "hours": minutes_to_hours(summary.minutes),
                "entries": len(site_entries),
                "first_arrival": times[0].astimezone(rules.tz).isoformat(),
                "last_arrival": times[-1].astimezone(rules.tz).isoformat(),
                "conflicts": int(open_conflicts or 0),
            }
        )
    return rows
