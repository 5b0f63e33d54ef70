"""offerings: the compute product catalog (算力产品目录), operators' products on their pools

Revision ID: 0011_offerings
Revises: 0006_pool_wall_time
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_offerings"
down_revision: str | None = "0006_pool_wall_time"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offerings",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("pool_id", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price_fen_per_node_hour", sa.BigInteger(), nullable=False),
        sa.Column("availability_bp", sa.Integer(), nullable=False),
        sa.Column("response_minutes", sa.Integer(), nullable=False),
        sa.Column("security_level", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_s", sa.Double(), nullable=False),
        sa.Column("updated_s", sa.Double(), nullable=False),
        sa.Column("published_s", sa.Double(), nullable=True),
        sa.Column("withdrawn_s", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["pools.id"], name=op.f("fk_offerings_pool_id_pools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offerings")),
    )
    op.create_index(op.f("ix_offerings_pool_id"), "offerings", ["pool_id"], unique=False)
    op.create_index(op.f("ix_offerings_state"), "offerings", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_offerings_state"), table_name="offerings")
    op.drop_index(op.f("ix_offerings_pool_id"), table_name="offerings")
    op.drop_table("offerings")
