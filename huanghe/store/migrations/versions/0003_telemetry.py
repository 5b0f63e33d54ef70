"""telemetry: samples, rollups, exporters, alerts

Revision ID: 0003_telemetry
Revises: 0001_catalog (a branch parallel to 0002_jobs; ``migrate`` upgrades to ``heads``)
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_telemetry"
down_revision: str | None = "0001_catalog"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _center_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["center_id"], ["centers.id"], name=op.f(f"fk_{table}_center_id_centers"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "telemetry_samples",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("center_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=130), nullable=False),
        sa.Column("time_ms", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        _center_fk("telemetry_samples"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_samples")),
    )
    op.create_index(
        "ix_telemetry_samples_series", "telemetry_samples", ["center_id", "metric", "subject", "time_ms"]
    )
    op.create_index(op.f("ix_telemetry_samples_time_ms"), "telemetry_samples", ["time_ms"], unique=False)
    op.create_index("ix_telemetry_samples_metric_time", "telemetry_samples", ["metric", "time_ms"])

    op.create_table(
        "telemetry_rollups",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("center_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=130), nullable=False),
        sa.Column("step_s", sa.Integer(), nullable=False),
        sa.Column("bucket_ms", sa.BigInteger(), nullable=False),
        sa.Column("mean", sa.Double(), nullable=False),
        sa.Column("min", sa.Double(), nullable=False),
        sa.Column("max", sa.Double(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        _center_fk("telemetry_rollups"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_rollups")),
        sa.UniqueConstraint(
            "step_s", "center_id", "metric", "subject", "bucket_ms", name="uq_telemetry_rollups_key"
        ),
    )
    op.create_index(op.f("ix_telemetry_rollups_bucket_ms"), "telemetry_rollups", ["bucket_ms"], unique=False)
    op.create_index("ix_telemetry_rollups_metric", "telemetry_rollups", ["metric", "step_s", "bucket_ms"])

    op.create_table(
        "telemetry_exporters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("center_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_scrape_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_samples", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        _center_fk("telemetry_exporters"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_exporters")),
        sa.UniqueConstraint("center_id", "url", name="uq_telemetry_exporters_center_url"),
    )
    op.create_index(
        op.f("ix_telemetry_exporters_center_id"), "telemetry_exporters", ["center_id"], unique=False
    )

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("center_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("threshold", sa.Double(), nullable=False),
        sa.Column("opened_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.Column("acknowledged_ms", sa.BigInteger(), nullable=True),
        sa.Column("resolved_ms", sa.BigInteger(), nullable=True),
        sa.Column("resolved_by", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    for col in ("rule", "subject", "center_id", "state"):
        op.create_index(op.f(f"ix_alerts_{col}"), "alerts", [col], unique=False)


def downgrade() -> None:
    for col in ("rule", "subject", "center_id", "state"):
        op.drop_index(op.f(f"ix_alerts_{col}"), table_name="alerts")
    op.drop_table("alerts")
    op.drop_index(op.f("ix_telemetry_exporters_center_id"), table_name="telemetry_exporters")
    op.drop_table("telemetry_exporters")
    op.drop_index("ix_telemetry_rollups_metric", table_name="telemetry_rollups")
    op.drop_index(op.f("ix_telemetry_rollups_bucket_ms"), table_name="telemetry_rollups")
    op.drop_table("telemetry_rollups")
    op.drop_index("ix_telemetry_samples_metric_time", table_name="telemetry_samples")
    op.drop_index(op.f("ix_telemetry_samples_time_ms"), table_name="telemetry_samples")
    op.drop_index("ix_telemetry_samples_series", table_name="telemetry_samples")
    op.drop_table("telemetry_samples")
