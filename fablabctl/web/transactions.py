"""Commit, then answer: the one place that decides when a request's transaction ends.

A request's session is committed *before* its response starts, so a 2xx always means "stored".
Two pieces make it structural rather than a line in each route:

- `get_session` (in `deps.py`) is a dependency with `scope="function"`: FastAPI runs its exit
  code when the endpoint returns, before the response is sent. Its exit commits whatever the
  endpoint left open (async endpoints, routers built without the route class below).
- `CommitFirstRoute` wraps every synchronous endpoint so that the handler *and* its commit run in
  the same worker thread: a request never holds a database connection while it waits for a thread.

A commit (or any SQL) that fails becomes a clear error with a code: 503 `DB_BUSY` with
Retry-After (lock held, pool exhausted, server restarting), 409 `DB_CONFLICT` (a constraint),
507 `STORAGE_FULL` (disk full); never a 2xx.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi.routing import APIRoute
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from fablabctl.db.retry import describe, is_transient
from fablabctl.errors import FablabError
from fablabctl.i18n import Text

log = logging.getLogger(__name__)
T = TypeVar("T")

FINISHED = "fablab_finished"  # key in Session.info: the transaction was already committed/rolled back
RETRY_AFTER_S = 2

DB_BUSY = Text(
    "La base de données est occupée : rien n'a été enregistré. Réessayez dans un instant.",
    "The database is busy: nothing was saved. Try again in a moment.",
)
DB_CONFLICT = Text(
    "Cette modification contredit une donnée enregistrée (référence inconnue ou doublon) : "
    "rien n'a été enregistré.",
    "This change conflicts with stored data (unknown reference or duplicate): nothing was saved.",
)
STORAGE_FULL = Text(
    "Le disque du service est plein : rien n'a été enregistré. Prévenez l'administrateur.",
    "The service's disk is full: nothing was saved. Tell the administrator.",
)
_DISK_FULL = ("database or disk is full", "no space left", "disk full")


OUT_OF_RANGE = Text(
    "Un nombre envoyé est trop grand pour être enregistré : rien n'a été enregistré.",
    "A number sent is too large to be stored: nothing was saved.",
)


def db_error(error: BaseException) -> FablabError | None:
    """The API error for a database failure, or None when it is a bug (left to the 500 handler)."""
    if isinstance(error, (OverflowError, sa_exc.DataError)):  # a body field
        return FablabError("VALUE_OUT_OF_RANGE", OUT_OF_RANGE, status=422)
    if not isinstance(error, sa_exc.SQLAlchemyError):
        return None
    text = describe(error).lower()
    sqlstate = str(getattr(getattr(error, "orig", None), "sqlstate", "") or "")
    if any(marker in text for marker in _DISK_FULL) or sqlstate == "53100":
        return FablabError("STORAGE_FULL", STORAGE_FULL, status=507)
    if isinstance(error, sa_exc.IntegrityError):
        return FablabError("DB_CONFLICT", DB_CONFLICT, status=409)
    if is_transient(error) or isinstance(error, sa_exc.OperationalError):
        return FablabError("DB_BUSY", DB_BUSY, status=503, retry_after=RETRY_AFTER_S)
    return None


def discard(session: Session) -> None:
    """Roll back and release the connection; a failure here only loses what was already lost."""
    session.info[FINISHED] = True
    try:
        session.rollback()
    except sa_exc.SQLAlchemyError as error:
        log.warning("rollback failed: %s", describe(error))
    finally:
        session.close()


def commit(session: Session) -> None:
    """Commit the request's transaction or raise the API error that says it did not happen."""
    session.info[FINISHED] = True
    try:
        session.commit()
    except sa_exc.SQLAlchemyError as error:
        log.warning("commit failed, nothing saved: %s", describe(error))
        discard(session)
        raise (db_error(error) or error) from error


def run_in_session(factory: sessionmaker[Session], work: Callable[[Session], T], *, write: bool) -> T:
    """One short transaction in the calling worker thread, committed (when writing) before returning:
    for async routes that keep no session while they wait on something else."""
    session = factory()
    try:
        result = work(session)
    except BaseException as error:
        discard(session)
        raise (db_error(error) or error) from error
    if write:
        commit(session)
    else:
        discard(session)
    return result


def _sessions_in(values: dict[str, Any]) -> list[Session]:
    return [value for value in values.values() if isinstance(value, Session)]


def commit_in_same_thread(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a sync endpoint: run it, then commit its session, in the one worker thread."""

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        sessions = _sessions_in(kwargs)
        try:
            result = endpoint(*args, **kwargs)
        except BaseException as error:
            for session in sessions:
                discard(session)
            mapped = db_error(error)
            if mapped is not None:
                log.warning("request failed on the database: %s", describe(error))
                raise mapped from error
            raise
        for session in sessions:
            commit(session)
        return result

    return run


class CommitFirstRoute(APIRoute):
    """The route class of every API router: sync endpoints commit in their own thread."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        plain = not (
            inspect.iscoroutinefunction(endpoint)
            or inspect.isasyncgenfunction(endpoint)
            or inspect.isgeneratorfunction(endpoint)
        )
        super().__init__(path, commit_in_same_thread(endpoint) if plain else endpoint, **kwargs)
