"""No personal data in the service's error log: a failing statement's values never reach it."""

from __future__ import annotations

import logging
import logging.config
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from fablabctl.logs import PrivateFormatter, uvicorn_log_config

SECRET = "Léa Dupont-Secret"


def _failing_insert(engine: Engine) -> IntegrityError:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE people_probe (name VARCHAR(80) UNIQUE)"))
        conn.execute(text("INSERT INTO people_probe (name) VALUES (:name)"), {"name": SECRET})
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO people_probe (name) VALUES (:name)"), {"name": SECRET})
    except IntegrityError as exc:
        return exc
    raise AssertionError("the duplicate was accepted")


def _log_line(formatter: logging.Formatter, exc: BaseException) -> str:
    record = logging.LogRecord(
        "fablabctl.web.errors",
        logging.ERROR,
        __file__,
        1,
        "unexpected error on POST /x",
        None,
        (type(exc), exc, exc.__traceback__),
    )
    return formatter.format(record)


def test_a_failing_statement_logs_no_values(engine: Engine, database_url: str) -> None:
    exc = _failing_insert(engine)
    assert "parameters hidden" in str(exc)  # hide_parameters: no "[parameters: ('Léa …',)]"
    if database_url.startswith("sqlite"):
        assert SECRET not in str(exc)
    else:
        # PostgreSQL's own message quotes the row ("Key (name)=(Léa …) already exists"): a plain
        # formatter would write it into the log
        assert SECRET in logging.Formatter().formatException((type(exc), exc, exc.__traceback__))

    line = _log_line(PrivateFormatter("%(levelname)s %(name)s: %(message)s"), exc)
    assert SECRET not in line and "Dupont" not in line, line
    assert "IntegrityError" in line and "INSERT INTO people_probe" in line and "Traceback" in line
    if database_url.startswith("postgresql"):
        assert "SQLSTATE 23505" in line  # the error's code stays: what went wrong, not whose data


def test_uvicorn_writes_its_tracebacks_through_the_private_formatter() -> None:
    config = uvicorn_log_config()
    formatter = config["formatters"]["default"]["()"]
    assert issubclass(formatter, PrivateFormatter)
    logging.config.dictConfig(config)  # a configuration uvicorn accepts as it is
    handler = logging.getLogger("uvicorn").handlers[0]
    assert isinstance(handler.formatter, PrivateFormatter)


@pytest.fixture(autouse=True)
def _restore_uvicorn_loggers() -> Iterator[None]:
    yield None
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
