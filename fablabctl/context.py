"""What the running service holds once: settings, database, login limiter, event bus.

Shared by the web app, the CLI and the dispatcher (built by `web.app.build_context`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from fablabctl.config import Settings
from fablabctl.event_bus import EventBus, bind
from fablabctl.file_limits import ValidationLimits
from fablabctl.people.ratelimit import LoginLimiter


@dataclass
class ServiceContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    limiter: LoginLimiter
    bus: EventBus = field(default_factory=EventBus)
    # the dispatcher's own pool when the service runs it (`serve`): a burst of web requests can
    # never leave a tick without a connection; None: it shares `sessions` (tests, the CLI)
    worker_sessions: sessionmaker[Session] | None = None

    def __post_init__(self) -> None:
        bind(self.sessions, self.bus)
        if self.worker_sessions is not None:
            bind(self.worker_sessions, self.bus)

    @property
    def limits(self) -> ValidationLimits:
        s = self.settings
        return ValidationLimits(
            max_file_bytes=s.max_upload_bytes,
            max_triangles=s.max_triangles,
            max_dxf_entities=s.max_dxf_entities,
            max_block_depth=s.max_block_depth,
        )
