"""Database: engine and sessions (SQLite WAL by default, PostgreSQL by URL), models, Alembic migrations."""
