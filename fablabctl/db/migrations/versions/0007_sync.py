"""the mobile Fab Lab's sync: site tokens, outbox, links and arrivals, conflicts, state, odometers

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _dt(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sync_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        _dt("created_at"),
        _dt("revoked_at", True),
        _dt("last_used_at", True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_sync_tokens_site_id_sites"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohorts.id"], name=op.f("fk_sync_tokens_cohort_id_cohorts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sync_tokens_token_hash")),
    )
    op.create_index(op.f("ix_sync_tokens_site_id"), "sync_tokens", ["site_id"])
    op.create_index(op.f("ix_sync_tokens_cohort_id"), "sync_tokens", ["cohort_id"])

    op.create_table(
        "sync_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _dt("created_at"),
        _dt("acked_at", True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("outcome_code", sa.String(length=64), nullable=True),
        sa.Column("outcome_message", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_sync_outbox_key")),
    )
    op.create_index(op.f("ix_sync_outbox_acked_at"), "sync_outbox", ["acked_at"])

    op.create_table(
        "sync_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("uuid", sa.String(length=80), nullable=False),
        sa.Column("local_id", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        _dt("received_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_links")),
        sa.UniqueConstraint("kind", "uuid", name=op.f("uq_sync_links_kind")),
    )
    op.create_index("ix_sync_links_kind_local_id", "sync_links", ["kind", "local_id"])
    op.create_index(op.f("ix_sync_links_cohort_id"), "sync_links", ["cohort_id"])

    op.create_table(
        "sync_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("entry_uuid", sa.String(length=36), nullable=False),
        sa.Column("other_entry_uuid", sa.String(length=36), nullable=False),
        _dt("created_at"),
        _dt("resolved_at", True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_sync_conflicts_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sync_conflicts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflicts")),
        sa.UniqueConstraint("entry_uuid", "other_entry_uuid", name=op.f("uq_sync_conflicts_entry_uuid")),
    )
    op.create_index(op.f("ix_sync_conflicts_cohort_id"), "sync_conflicts", ["cohort_id"])

    op.create_table(
        "sync_state",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sync_state")),
    )

    op.create_table(
        "sync_odometers",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column("baseline", sa.JSON(), nullable=False),
        sa.Column("reading", sa.JSON(), nullable=False),
        sa.Column("run_seconds", sa.Float(), nullable=False),
        _dt("updated_at"),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["machines.id"],
            name=op.f("fk_sync_odometers_machine_id_machines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_id", "machine_id", name=op.f("pk_sync_odometers")),
    )


def downgrade() -> None:
    op.drop_table("sync_odometers")
    op.drop_table("sync_state")
    op.drop_index(op.f("ix_sync_conflicts_cohort_id"), table_name="sync_conflicts")
    op.drop_table("sync_conflicts")
    op.drop_index(op.f("ix_sync_links_cohort_id"), table_name="sync_links")
    op.drop_index("ix_sync_links_kind_local_id", table_name="sync_links")
    op.drop_table("sync_links")
    op.drop_index(op.f("ix_sync_outbox_acked_at"), table_name="sync_outbox")
    op.drop_table("sync_outbox")
    op.drop_index(op.f("ix_sync_tokens_cohort_id"), table_name="sync_tokens")
    op.drop_index(op.f("ix_sync_tokens_site_id"), table_name="sync_tokens")
    op.drop_table("sync_tokens")
