"""jobs: reasons as codes with parameters, who asked for a staff action, when the operator was asked;
machines: the laser source (diode or co2)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("reason_code", sa.String(length=48), nullable=True))
        batch.add_column(sa.Column("reason_params", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("requested_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("waiting_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("job_events") as batch:
        batch.add_column(sa.Column("reason_code", sa.String(length=48), nullable=True))
        batch.add_column(sa.Column("reason_params", sa.JSON(), nullable=True))
    with op.batch_alter_table("machines") as batch:
        batch.add_column(sa.Column("laser_source", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("machines") as batch:
        batch.drop_column("laser_source")
    with op.batch_alter_table("job_events") as batch:
        batch.drop_column("reason_params")
        batch.drop_column("reason_code")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("waiting_at")
        batch.drop_column("requested_by_id")
        batch.drop_column("reason_params")
        batch.drop_column("reason_code")
