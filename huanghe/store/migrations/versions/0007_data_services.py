"""data services: storage endpoints (S3), files, replicas, replication rules and locks, transfers, quotas,
lifecycle policies

Revision ID: 0007_data_services
Revises: 0006_pool_wall_time
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_data_services"
down_revision: str | None = "0006_pool_wall_time"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_quotas",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("endpoint_id", sa.String(length=64), nullable=False),
        sa.Column("limit_bytes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_data_quotas_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "endpoint_id", name=op.f("pk_data_quotas")),
    )
    op.create_table(
        "lifecycle_policies",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("from_temperature", sa.String(length=32), nullable=False),
        sa.Column("to_temperature", sa.String(length=32), nullable=False),
        sa.Column("idle_s", sa.Double(), nullable=False),
        sa.Column("min_age_s", sa.Double(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_s", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_lifecycle_policies_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_policies")),
    )
    op.create_index(
        op.f("ix_lifecycle_policies_tenant_id"), "lifecycle_policies", ["tenant_id"], unique=False
    )
    op.create_table(
        "storage_endpoints",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("center_id", sa.String(length=64), nullable=False),
        sa.Column("temperature", sa.String(length=32), nullable=False),
        sa.Column("medium", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("bucket", sa.String(length=63), nullable=False),
        sa.Column("access_key_secret", sa.String(length=64), nullable=True),
        sa.Column("secret_key_secret", sa.String(length=64), nullable=True),
        sa.Column("capacity_bytes", sa.BigInteger(), nullable=False),
        sa.Column("used_bytes", sa.BigInteger(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("drained", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("checked_s", sa.Double(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("created_s", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["center_id"],
            ["centers.id"],
            name=op.f("fk_storage_endpoints_center_id_centers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_endpoints")),
    )
    op.create_index(op.f("ix_storage_endpoints_center_id"), "storage_endpoints", ["center_id"], unique=False)
    op.create_table(
        "data_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("created_s", sa.Double(), nullable=False),
        sa.Column("accessed_s", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_data_files_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_files")),
        sa.UniqueConstraint("dataset_id", "name", name="uq_data_files_dataset_id_name"),
    )
    op.create_index(op.f("ix_data_files_dataset_id"), "data_files", ["dataset_id"], unique=False)
    op.create_table(
        "replication_rules",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("expression", sa.Text(), nullable=False),
        sa.Column("grouping", sa.String(length=32), nullable=False),
        sa.Column("weight", sa.String(length=64), nullable=True),
        sa.Column("lifetime_s", sa.Double(), nullable=True),
        sa.Column("expires_s", sa.Double(), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("locks_ok", sa.Integer(), nullable=False),
        sa.Column("locks_replicating", sa.Integer(), nullable=False),
        sa.Column("locks_stuck", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_s", sa.Double(), nullable=False),
        sa.Column("updated_s", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_replication_rules_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_replication_rules_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replication_rules")),
    )
    op.create_index(
        op.f("ix_replication_rules_dataset_id"), "replication_rules", ["dataset_id"], unique=False
    )
    op.create_index(op.f("ix_replication_rules_expires_s"), "replication_rules", ["expires_s"], unique=False)
    op.create_index(op.f("ix_replication_rules_state"), "replication_rules", ["state"], unique=False)
    op.create_index(op.f("ix_replication_rules_tenant_id"), "replication_rules", ["tenant_id"], unique=False)
    op.create_table(
        "file_replicas",
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("object_key", sa.String(length=700), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("lock_count", sa.Integer(), nullable=False),
        sa.Column("tombstone_s", sa.Double(), nullable=True),
        sa.Column("created_s", sa.Double(), nullable=False),
        sa.Column("accessed_s", sa.Double(), nullable=False),
        sa.Column("verified_s", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["storage_endpoints.id"],
            name=op.f("fk_file_replicas_endpoint_id_storage_endpoints"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["data_files.id"],
            name=op.f("fk_file_replicas_file_id_data_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("file_id", "endpoint_id", name=op.f("pk_file_replicas")),
    )
    op.create_index(op.f("ix_file_replicas_endpoint_id"), "file_replicas", ["endpoint_id"], unique=False)
    op.create_table(
        "replica_locks",
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["storage_endpoints.id"],
            name=op.f("fk_replica_locks_endpoint_id_storage_endpoints"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["data_files.id"],
            name=op.f("fk_replica_locks_file_id_data_files"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["replication_rules.id"],
            name=op.f("fk_replica_locks_rule_id_replication_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rule_id", "file_id", "endpoint_id", name=op.f("pk_replica_locks")),
    )
    op.create_index(op.f("ix_replica_locks_endpoint_id"), "replica_locks", ["endpoint_id"], unique=False)
    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=True),
        sa.Column("dest_endpoint_id", sa.String(length=64), nullable=False),
        sa.Column("source_endpoint_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("tried_sources", sa.JSON(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_s", sa.Double(), nullable=False),
        sa.Column("started_s", sa.Double(), nullable=True),
        sa.Column("finished_s", sa.Double(), nullable=True),
        sa.Column("duration_s", sa.Double(), nullable=True),
        sa.Column("cost_fen", sa.Integer(), nullable=False),
        sa.Column("energy_wh", sa.Double(), nullable=False),
        sa.Column("carbon_g", sa.Double(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until_s", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dest_endpoint_id"],
            ["storage_endpoints.id"],
            name=op.f("fk_transfers_dest_endpoint_id_storage_endpoints"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["data_files.id"], name=op.f("fk_transfers_file_id_data_files"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["replication_rules.id"],
            name=op.f("fk_transfers_rule_id_replication_rules"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_transfers_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
    )
    op.create_index(op.f("ix_transfers_dest_endpoint_id"), "transfers", ["dest_endpoint_id"], unique=False)
    op.create_index(op.f("ix_transfers_file_id"), "transfers", ["file_id"], unique=False)
    op.create_index(op.f("ix_transfers_rule_id"), "transfers", ["rule_id"], unique=False)
    op.create_index("ix_transfers_state_priority", "transfers", ["state", "priority"], unique=False)
    op.create_index(op.f("ix_transfers_tenant_id"), "transfers", ["tenant_id"], unique=False)
    op.create_table(
        "data_uploads",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("endpoint_id", sa.String(length=64), nullable=False),
        sa.Column("object_key", sa.String(length=700), nullable=False),
        sa.Column("s3_upload_id", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_s", sa.Double(), nullable=False),
        sa.Column("updated_s", sa.Double(), nullable=False),
        sa.Column("expires_s", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_data_uploads_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["storage_endpoints.id"],
            name=op.f("fk_data_uploads_endpoint_id_storage_endpoints"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_data_uploads_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_uploads")),
    )
    op.create_index(op.f("ix_data_uploads_dataset_id"), "data_uploads", ["dataset_id"], unique=False)
    op.create_index(op.f("ix_data_uploads_endpoint_id"), "data_uploads", ["endpoint_id"], unique=False)
    op.create_index(op.f("ix_data_uploads_state"), "data_uploads", ["state"], unique=False)
    op.create_index(op.f("ix_data_uploads_tenant_id"), "data_uploads", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_data_uploads_tenant_id"), table_name="data_uploads")
    op.drop_index(op.f("ix_data_uploads_state"), table_name="data_uploads")
    op.drop_index(op.f("ix_data_uploads_endpoint_id"), table_name="data_uploads")
    op.drop_index(op.f("ix_data_uploads_dataset_id"), table_name="data_uploads")
    op.drop_table("data_uploads")
    op.drop_index(op.f("ix_transfers_tenant_id"), table_name="transfers")
    op.drop_index("ix_transfers_state_priority", table_name="transfers")
    op.drop_index(op.f("ix_transfers_rule_id"), table_name="transfers")
    op.drop_index(op.f("ix_transfers_file_id"), table_name="transfers")
    op.drop_index(op.f("ix_transfers_dest_endpoint_id"), table_name="transfers")
    op.drop_table("transfers")
    op.drop_index(op.f("ix_replica_locks_endpoint_id"), table_name="replica_locks")
    op.drop_table("replica_locks")
    op.drop_index(op.f("ix_file_replicas_endpoint_id"), table_name="file_replicas")
    op.drop_table("file_replicas")
    op.drop_index(op.f("ix_replication_rules_tenant_id"), table_name="replication_rules")
    op.drop_index(op.f("ix_replication_rules_state"), table_name="replication_rules")
    op.drop_index(op.f("ix_replication_rules_expires_s"), table_name="replication_rules")
    op.drop_index(op.f("ix_replication_rules_dataset_id"), table_name="replication_rules")
    op.drop_table("replication_rules")
    op.drop_index(op.f("ix_data_files_dataset_id"), table_name="data_files")
    op.drop_table("data_files")
    op.drop_index(op.f("ix_storage_endpoints_center_id"), table_name="storage_endpoints")
    op.drop_table("storage_endpoints")
    op.drop_index(op.f("ix_lifecycle_policies_tenant_id"), table_name="lifecycle_policies")
    op.drop_table("lifecycle_policies")
    op.drop_table("data_quotas")
