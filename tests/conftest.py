"""Fixtures shared by every test folder: databases (SQLite and a real PostgreSQL), settings, the app."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import Engine

from fablabctl.config import Settings
from fablabctl.db.engine import make_engine
from fablabctl.db.migrate import upgrade
from tests.machines.octoprint_server import OctoPrintServer, running_octoprint
from tests.postgres_server import running_postgres

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
_db_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """Superuser URL of a PostgreSQL server started for this test session."""
    with running_postgres() as url:
        yield url


@pytest.fixture(scope="session")
def octoprint() -> Iterator[OctoPrintServer]:
    """A real OctoPrint 1.11 server with its virtual printer, started once (~10 s) for the session."""
    with running_octoprint() as server:
        yield server


def fresh_postgres_database(server_url: str) -> str:
    """Create an empty database on the test server and return its URL."""
    name = f"fablab_test_{next(_db_numbers)}"
    with psycopg.connect(server_url.replace("postgresql://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, once on SQLite and once on the throwaway PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    server: str = request.getfixturevalue("postgres_url")
    return fresh_postgres_database(server)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        database_url=database_url,
        demo=False,
        login_attempts_per_minute=5,
        max_upload_mb=1.0,
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    from fablabctl.config import check_data_dir

    check_data_dir(settings)
    eng = make_engine(settings.sqlalchemy_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        raise RuntimeError(f"the shared corpus is missing at {CORPUS}")
    return CORPUS
