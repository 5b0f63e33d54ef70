"""risk monitoring: security events (aggregated refusals, auth failures, residency refusals, egress, chain
breaks) and risk alerts with their handling

Revision ID: 0009_risk
Revises: 0006_pool_wall_time
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_risk"
down_revision: str | None = "0006_pool_wall_time"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "risk_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("severity", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("first_event_s", sa.Double(), nullable=False),
        sa.Column("last_event_s", sa.Double(), nullable=False),
        sa.Column("opened_s", sa.Double(), nullable=False),
        sa.Column("updated_s", sa.Double(), nullable=False),
        sa.Column("acknowledged_s", sa.Double(), nullable=True),
        sa.Column("resolved_s", sa.Double(), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("trace", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_alerts")),
    )
    op.create_index(op.f("ix_risk_alerts_kind"), "risk_alerts", ["kind"], unique=False)
    op.create_index(op.f("ix_risk_alerts_state"), "risk_alerts", ["state"], unique=False)
    op.create_table(
        "security_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("t_s", sa.Double(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_events")),
    )
    op.create_index(op.f("ix_security_events_kind"), "security_events", ["kind"], unique=False)
    op.create_index(op.f("ix_security_events_t_s"), "security_events", ["t_s"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_security_events_t_s"), table_name="security_events")
    op.drop_index(op.f("ix_security_events_kind"), table_name="security_events")
    op.drop_table("security_events")
    op.drop_index(op.f("ix_risk_alerts_state"), table_name="risk_alerts")
    op.drop_index(op.f("ix_risk_alerts_kind"), table_name="risk_alerts")
    op.drop_table("risk_alerts")
