"""dispatcher records: job runs, timings, estimates, operator actions; machine odometer

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOB_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("run_of_id", sa.Integer(), nullable=True),
    sa.Column("run_number", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("requested_action", sa.String(length=16), nullable=True),
    sa.Column("claimed_by", sa.String(length=120), nullable=True),
    sa.Column("gcode_path", sa.Text(), nullable=True),
    sa.Column("estimates", sa.JSON(), nullable=False, server_default="{}"),
    sa.Column("progress", sa.Float(), nullable=False, server_default="0"),
    sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("preparing_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("running_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("machine_seconds", sa.Float(), nullable=False, server_default="0"),
]
MACHINE_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("current_job_id", sa.Integer(), nullable=True),
    sa.Column("last_error", sa.String(length=500), nullable=True),
    sa.Column("run_seconds", sa.Float(), nullable=False, server_default="0"),
    sa.Column("jobs_done", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("jobs_failed", sa.Integer(), nullable=False, server_default="0"),
]


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        for column in JOB_COLUMNS:
            batch.add_column(column)
        batch.create_foreign_key(
            op.f("fk_jobs_run_of_id_jobs"), "jobs", ["run_of_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index(op.f("ix_jobs_machine_id_state"), ["machine_id", "state"])
    with op.batch_alter_table("machines") as batch:
        for column in MACHINE_COLUMNS:
            batch.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("machines") as batch:
        for column in reversed(MACHINE_COLUMNS):
            batch.drop_column(column.name)
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index(op.f("ix_jobs_machine_id_state"))
        batch.drop_constraint(op.f("fk_jobs_run_of_id_jobs"), type_="foreignkey")
        for column in reversed(JOB_COLUMNS):
            batch.drop_column(column.name)
