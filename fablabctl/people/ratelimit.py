"""Login throttling, per account and per address, so that one person's typos lock only their account.

- **Per account** (known usernames): the failed logins since the account's last success are read from
  the audit log (`auth.login_failed` rows), so the lock survives a restart. After `limit` failures the
  account waits `window_s`, then twice as long after each further failure (capped at `MAX_LOCK_S`).
  A successful login, a password reset or a deactivation (`user.sessions_ended`) starts the count anew.
- **Per address**: a much higher threshold (`ADDRESS_FACTOR` × `limit` failures within `window_s`), so
  a class behind one laptop or one NAT is not locked by one person, but a script trying many
  accounts from one place is. Kept in memory: the address is never stored (least data).
- **Unknown usernames** get the same per-name window in memory, so a lock does not tell whether an
  account exists.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fablabctl.db.models import AuditEntry

ADDRESS_FACTOR = 10
MAX_LOCK_S = 15 * 60.0
LOOKBACK = timedelta(hours=24)  # older failures never count
FAILED = "auth.login_failed"
RESETS = ("auth.login", "user.sessions_ended")


def account_lock_s(failures: Sequence[datetime], now: datetime, *, limit: int, window_s: float) -> float:
    """Seconds this account must still wait, given its failures since its last success (oldest first)."""
    if len(failures) < limit:
        return 0.0
    lock = min(window_s * 2.0 ** (len(failures) - limit), MAX_LOCK_S)
    return max(0.0, (failures[-1] - now).total_seconds() + lock)


def account_failures(session: Session, user_id: int, now: datetime) -> list[datetime]:
    """The account's failed logins since its last success or session reset (within `LOOKBACK`)."""
    target = (AuditEntry.target_type == "user", AuditEntry.target_id == str(user_id))
    since = now - LOOKBACK
    last_reset = session.scalar(
        select(func.max(AuditEntry.at)).where(AuditEntry.at > since, AuditEntry.action.in_(RESETS), *target)
    )
    if last_reset is not None and last_reset > since:
        since = last_reset
    return list(
        session.scalars(
            select(AuditEntry.at)
            .where(AuditEntry.at > since, AuditEntry.action == FAILED, *target)
            .order_by(AuditEntry.at)
        )
    )


class LoginLimiter:
    """The in-memory windows (addresses, unknown usernames) and the account policy's numbers."""

    def __init__(
        self, limit: int, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.address_limit = limit * ADDRESS_FACTOR
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def account_wait(self, session: Session, user_id: int, now: datetime) -> float:
        failures = account_failures(session, user_id, now)
        return account_lock_s(failures, now, limit=self.limit, window_s=self.window_s)

    def retry_after(self, *, address: str, unknown_name: str | None = None) -> float:
        """Seconds before this address (and this unknown username) may try again (0: now)."""
        now = self._clock()
        keys = [(f"client:{address}", self.address_limit)]
        if unknown_name is not None:
            keys.append((f"user:{unknown_name.lower()}", self.limit))
        wait = 0.0
        with self._lock:
            for key, limit in keys:
                stamps = self._prune(key, now)
                if len(stamps) >= limit:
                    wait = max(wait, stamps[-limit] + self.window_s - now)
        return wait

    def failed(self, *, address: str, unknown_name: str | None = None) -> None:
        now = self._clock()
        keys = [f"client:{address}"] + ([f"user:{unknown_name.lower()}"] if unknown_name else [])
        with self._lock:
            if len(self._failures) > 10_000:  # many addresses: drop the windows that have aged out
                for stale in list(self._failures):
                    self._prune(stale, now)
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)

    def _prune(self, key: str, now: float) -> deque[float]:
        stamps = self._failures.get(key)
        if stamps is None:
            return deque()
        while stamps and stamps[0] <= now - self.window_s:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
        return stamps
