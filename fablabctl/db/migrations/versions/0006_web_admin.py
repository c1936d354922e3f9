"""admin pages: the material library in the database (seeded from materials.toml), run-time settings

Revision ID: 0006
Revises: 0005
"""

import tomllib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIBRARY = Path(__file__).resolve().parents[3] / "toolpath" / "materials.toml"


def upgrade() -> None:
    materials = op.create_table(
        "materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name_fr", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_materials")),
        sa.UniqueConstraint("key", name=op.f("uq_materials_key")),
    )
    op.create_table(
        "runtime_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_runtime_settings_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_runtime_settings")),
    )
    now = datetime.now(UTC)
    library = tomllib.loads(LIBRARY.read_text(encoding="utf-8")) if LIBRARY.is_file() else {}
    op.bulk_insert(
        materials,
        [
            {
                "key": key,
                "kind": "laser",
                "name_fr": str(entry.get("fr", key)),
                "name_en": str(entry.get("en", key)),
                "settings": {k: v for k, v in entry.items() if k not in ("fr", "en")},
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for key, entry in library.items()
        ],
    )


def downgrade() -> None:
    op.drop_table("runtime_settings")
    op.drop_table("materials")
