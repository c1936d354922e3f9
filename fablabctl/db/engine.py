"""Engine and session: SQLite (WAL, foreign keys on) by default, PostgreSQL by URL.

One helper opens sessions for the whole service (`session_scope`), so transactions look the same
in the API, the CLI and the dispatcher.

Pool size: a request holds a connection only while its worker thread runs SQL (web/transactions.py),
so the pool needs about as many connections as threads that can run SQL at once: the web thread
pool (40 by default) plus the dispatcher's few. SQLite connections are cheap (one file handle), so
the pool covers them all and nobody ever waits for one; PostgreSQL keeps a smaller steady pool and
overflows under load. A wait for a connection is bounded (`POOL_TIMEOUT_S`), then the request gets
a 503 `DB_BUSY` instead of a stall.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

WEB_THREADS = 40  # anyio's default worker threads, where sync routes run
POOL_TIMEOUT_S = 10.0
BUSY_TIMEOUT_S = 10.0


def make_engine(url: str, *, busy_timeout_s: float = BUSY_TIMEOUT_S, **kwargs: Any) -> Engine:
    """Create an engine; on SQLite turn on WAL, foreign keys and a busy timeout (how long a writer
    waits for another process's write lock before its transaction fails with "database is locked")."""
    if url.startswith("sqlite"):
        if ":memory:" not in url and url != "sqlite://" and "poolclass" not in kwargs:
            kwargs.setdefault("pool_size", WEB_THREADS // 2)
            kwargs.setdefault("max_overflow", WEB_THREADS)
            kwargs.setdefault("pool_timeout", POOL_TIMEOUT_S)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": busy_timeout_s}, **kwargs
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
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", WEB_THREADS)
        kwargs.setdefault("pool_timeout", POOL_TIMEOUT_S)
    return create_engine(url, pool_pre_ping=True, **kwargs)


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
