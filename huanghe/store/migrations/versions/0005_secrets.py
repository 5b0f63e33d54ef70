"""backend secrets: pools' credentials stored encrypted (Fernet), named by ``*_secret`` settings

Revision ID: 0005_secrets
Revises: 0001_catalog (a branch of the network, parallel to the others; ``migrate`` upgrades to ``heads``)
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_secrets"
down_revision: str | None = "0001_catalog"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "backend_secrets",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("created_s", sa.Double(), nullable=False),
        sa.Column("updated_s", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_backend_secrets")),
    )


def downgrade() -> None:
    op.drop_table("backend_secrets")
