"""pool wall times: a default and a maximum per pool (Slurm DefaultTime / MaxTime), seconds

Revision ID: 0006_pool_wall_time
Revises: 0005_secrets (the network's branch)
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_pool_wall_time"
down_revision: str | None = "0005_secrets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # existing pools get the schema's defaults: one hour, seven days
    with op.batch_alter_table("pools") as batch:
        batch.add_column(
            sa.Column("default_time_limit_s", sa.Double(), nullable=False, server_default="3600")
        )
        batch.add_column(sa.Column("max_time_limit_s", sa.Double(), nullable=False, server_default="604800"))


def downgrade() -> None:
    with op.batch_alter_table("pools") as batch:
        batch.drop_column("max_time_limit_s")
        batch.drop_column("default_time_limit_s")
