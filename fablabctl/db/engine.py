"""Engine and session: SQLite (WAL, foreign keys on) by default, PostgreSQL by URL.

One helper opens sessions for the whole service (`session_scope`), so transactions look the same
in the API, the CLI and the dispatcher.

Pool size: a request holds a connection only while its worker thread runs SQL (web/transactions.py;
authentication in its own short session, event streams none), so the web pool needs as many
connections as threads that can run SQL at once: the web thread pool, `WEB_THREADS` (the app sets
anyio's limiter to it), and nobody ever waits for a connection. SQLite connections are cheap (one file
handle); PostgreSQL keeps a smaller steady pool and overflows under load. The dispatcher has its own
small pool (`make_worker_engine`), so a burst of requests can never leave a tick without one. A wait
for a connection is still bounded (`POOL_TIMEOUT_S`), then the request gets a 503 `DB_BUSY`.

Statements' values are personal data (names, contacts): `hide_parameters=True` keeps them out of
every SQLAlchemy error and log line (see also `fablabctl/logs.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

# worker threads where sync routes (and their SQL) run: anyio's limiter, set by the app. Not more: on a
# 2-core laptop, 40 threads fighting for the GIL cost 21 ms of CPU per polled request against 7.6 ms with
# 16 (bench/api.py, 200 pages); waiting requests hold no connection, and slow work (validation, PDFs)
# has its own bounded slots
WEB_THREADS = 16
WORKER_THREADS = 4  # the dispatcher's database threads (`db/retry.py`)
SPARE_CONNECTIONS = 10  # sessions opened outside those threads (start-up, pages' own short sessions)
POOL_TIMEOUT_S = 10.0
BUSY_TIMEOUT_S = 10.0


def make_engine(url: str, *, busy_timeout_s: float = BUSY_TIMEOUT_S, **kwargs: Any) -> Engine:
    """Create an engine; on SQLite turn on WAL, foreign keys and a busy timeout (how long a writer
    waits for another process's write lock before its transaction fails with "database is locked")."""
    if url.startswith("sqlite"):
        if ":memory:" not in url and url != "sqlite://" and "poolclass" not in kwargs:
            kwargs.setdefault("pool_size", WEB_THREADS)  # kept open: no connect + PRAGMAs under load
            kwargs.setdefault("max_overflow", SPARE_CONNECTIONS)
            kwargs.setdefault("pool_timeout", POOL_TIMEOUT_S)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_s},
            hide_parameters=True,
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if "poolclass" not in kwargs:
        # kept open up to 20 threads in SQL at once (a server process per connection: a connection
        # closed when given back is a costly one to open again), up to WEB_THREADS + spares in all
        kwargs.setdefault("pool_size", WEB_THREADS // 2)
        kwargs.setdefault("max_overflow", WEB_THREADS // 2 + SPARE_CONNECTIONS)
        kwargs.setdefault("pool_timeout", POOL_TIMEOUT_S)
    return create_engine(url, pool_pre_ping=True, hide_parameters=True, **kwargs)


def make_worker_engine(url: str, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> Engine:
    """The dispatcher's own engine: a connection for each of its database threads, a few spare."""
    if url.startswith("sqlite") and (":memory:" in url or url == "sqlite://"):
        raise ValueError("an in-memory SQLite database cannot be shared by a second engine")
    return make_engine(
        url,
        busy_timeout_s=busy_timeout_s,
        pool_size=WORKER_THREADS,
        max_overflow=WORKER_THREADS,
        pool_timeout=POOL_TIMEOUT_S,
    )


def pool_figures(engine: Engine) -> dict[str, int]:
    """Connections checked out (in use) and kept open, for the admins' health view and the bench."""
    pool: Any = engine.pool
    figures = {"checked_out": 0, "open": 0}
    if hasattr(pool, "checkedout"):
        figures["checked_out"] = int(pool.checkedout())
        figures["open"] = int(pool.checkedin()) + figures["checked_out"]
    return figures


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction: committed when the block ends normally, rolled back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
