"""The one clock of the service: injectable so tests can move time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Timezone-aware current time in UTC."""
    return datetime.now(UTC)
