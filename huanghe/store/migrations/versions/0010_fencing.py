"""replicas: a fencing epoch on leader leases, and rate-limit buckets shared by every replica

Revision ID: 0010_fencing
Revises: 0002_jobs (the jobs branch, which made leader_lease)
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_fencing"
down_revision: str | None = "0002_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leader_lease") as batch:
        batch.add_column(sa.Column("epoch", sa.BigInteger(), nullable=False, server_default="0"))
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("tokens", sa.Double(), nullable=False),
        sa.Column("updated_s", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_buckets")),
    )


def downgrade() -> None:
    op.drop_table("rate_buckets")
    with op.batch_alter_table("leader_lease") as batch:
        batch.drop_column("epoch")
