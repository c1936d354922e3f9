"""The service's log: no personal data in it, even when a database statement fails.

Engines are made with `hide_parameters=True` (`db/engine.py`), so SQLAlchemy never writes a
statement's values into an error. The database's own message can still quote them (PostgreSQL's
`DETAIL: Key (username)=(lea) already exists`, `invalid input syntax ...: "Léa"`), and a logged
traceback ends with that message. `PrivateFormatter` keeps the traceback's frames, the error's type,
its SQLSTATE and the SQL text (placeholders only), and drops the database's message. It formats every
handler of the service: ours and uvicorn's (`uvicorn_log_config`).
"""

from __future__ import annotations

import copy
import logging
import traceback
from types import TracebackType
from typing import Any

HIDDEN = "[details hidden: they may hold personal data]"
_DBAPI_MODULES = ("sqlite3", "psycopg", "psycopg2", "asyncpg", "pg8000")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def _sqlstate(exc: BaseException) -> str | None:
    for name in ("sqlstate", "pgcode", "sqlite_errorname"):
        value = getattr(exc, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def redacted_message(exc: BaseException) -> str | None:
    """What to print instead of a database error's message, or None to keep the message."""
    from sqlalchemy.exc import StatementError

    if isinstance(exc, StatementError):
        orig = exc.orig
        origin = f"({type(orig).__module__}.{type(orig).__name__}) " if orig is not None else ""
        state = _sqlstate(orig) if orig is not None else None
        code = f" SQLSTATE {state}" if state else ""
        return f"{origin}{HIDDEN}{code}\n[SQL: {exc.statement}]"
    if type(exc).__module__.split(".")[0] in _DBAPI_MODULES:
        state = _sqlstate(exc)
        return HIDDEN + (f" SQLSTATE {state}" if state else "")
    return None


def format_private(exc: BaseException) -> str:
    """A traceback like `logging`'s, where each database error of the chain has its message hidden."""
    summary = traceback.TracebackException.from_exception(exc)
    seen: set[int] = set()
    pending: list[tuple[traceback.TracebackException, BaseException | None]] = [(summary, exc)]
    while pending:
        node, raw = pending.pop()
        if raw is None or id(raw) in seen:
            continue
        seen.add(id(raw))
        hidden = redacted_message(raw)
        if hidden is not None and hasattr(node, "_str"):
            node._str = hidden
        if node.__cause__ is not None:
            pending.append((node.__cause__, raw.__cause__))
        if node.__context__ is not None:
            pending.append((node.__context__, raw.__context__))
    return "".join(summary.format()).rstrip("\n")


class PrivateFormatter(logging.Formatter):
    """A `logging.Formatter` whose tracebacks never carry a database error's message."""

    def formatException(self, ei: Any) -> str:
        exc = ei[1] if isinstance(ei, tuple) else None
        if isinstance(exc, BaseException):
            return format_private(exc)
        return super().formatException(ei)

    def format(self, record: logging.LogRecord) -> str:
        # the formatted traceback is cached on the record: make sure it is always ours
        record.exc_text = None
        return super().format(record)


def _uvicorn_formatter() -> type[logging.Formatter]:
    from uvicorn.logging import DefaultFormatter

    class UvicornPrivateFormatter(PrivateFormatter, DefaultFormatter):
        """uvicorn's coloured level prefix, our private tracebacks."""

    return UvicornPrivateFormatter


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration, with the private formatter for its error log."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["default"]["()"] = _uvicorn_formatter()
    return config


def configure_service_logging(level: int = logging.INFO) -> None:
    """The service's own lines at `level`, through the private formatter; routine HTTP polling
    (httpx, one line per OctoPrint request) only at WARNING."""
    handler = logging.StreamHandler()
    handler.setFormatter(PrivateFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])  # no-op when logging is already set up
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
