"""pool drains: pools an operator took out of placement (排空维护) until resumed

Revision ID: 0012_pool_drains
Revises: 0006_pool_wall_time
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_pool_drains"
down_revision: str | None = "0006_pool_wall_time"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pool_drains",
        sa.Column("pool_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("since_s", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["pools.id"], name=op.f("fk_pool_drains_pool_id_pools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pool_id", name=op.f("pk_pool_drains")),
    )


def downgrade() -> None:
    op.drop_table("pool_drains")
