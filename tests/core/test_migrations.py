"""Migrations from an empty database, on SQLite and on a real PostgreSQL; the audit log is append-only."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from fablabctl import audit
from fablabctl.config import Settings
from fablabctl.db.engine import make_engine, make_session_factory, session_scope
from fablabctl.db.migrate import downgrade, upgrade

TABLES = {
    "sites",
    "machines",
    "users",
    "auth_tokens",
    "cohorts",
    "cohort_trainers",
    "enrolments",
    "design_files",
    "designs",
    "jobs",
    "job_events",
    "audit_log",
}


def test_upgrade_from_empty_then_down_and_up_again(settings: Settings) -> None:
    engine = make_engine(settings.sqlalchemy_url)
    try:
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
        downgrade(engine, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
        upgrade(engine)
        upgrade(engine)  # idempotent
        assert set(inspect(engine).get_table_names()) >= TABLES
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"])
def test_audit_log_refuses_updates_and_deletes(engine, statement: str) -> None:  # type: ignore[no-untyped-def]
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        audit.record(session, actor=None, action="test.event", target_type="user", target_id=1)
    with pytest.raises(DatabaseError, match="append-only"), session_scope(sessions) as session:
        session.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT action FROM audit_log")).scalars().all() == ["test.event"]


def test_models_and_migrations_agree(engine) -> None:  # type: ignore[no-untyped-def]
    """A model change without its migration (or the reverse) shows up here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import fablabctl.db.models  # noqa: F401  (registers every table)
    from fablabctl.db.base import Base

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
