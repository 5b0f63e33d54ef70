"""catalog: network, tenants, users, datasets

Revision ID: 0001_catalog
Revises: (none)
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_catalog"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "network",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network")),
    )
    op.create_table(
        "regions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regions")),
    )
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sector", sa.String(length=100), nullable=False),
        sa.Column("is_sme", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
    )
    op.create_index(op.f("ix_tenants_sector"), "tenants", ["sector"], unique=False)

    op.create_table(
        "cities",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("region_id", sa.String(length=64), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_cities_region_id_regions"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cities")),
    )
    op.create_index(op.f("ix_cities_region_id"), "cities", ["region_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_users_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index(op.f("ix_users_tenant_id"), "users", ["tenant_id"], unique=False)

    op.create_table(
        "centers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("city_id", sa.String(length=64), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("it_design_kw", sa.Double(), nullable=False),
        sa.Column("racks_in_use", sa.Integer(), nullable=True),
        sa.Column("opened_year", sa.Integer(), nullable=True),
        sa.Column("pue", sa.Double(), nullable=False),
        sa.Column("pue_category", sa.String(length=32), nullable=False),
        sa.Column("renewable_share", sa.Double(), nullable=False),
        sa.Column("grid_emission_kg_per_kwh", sa.Double(), nullable=False),
        sa.Column("wue_l_per_kwh", sa.Double(), nullable=True),
        sa.Column("egress_gbps", sa.Double(), nullable=False),
        sa.Column("pon10g_port_share", sa.Double(), nullable=False),
        sa.Column("security_level", sa.Integer(), nullable=False),
        sa.Column("allowed_data_classes", sa.JSON(), nullable=False),
        sa.Column("exporters", sa.JSON(), nullable=False),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["cities.id"], name=op.f("fk_centers_city_id_cities"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_centers")),
    )
    op.create_index(op.f("ix_centers_city_id"), "centers", ["city_id"], unique=False)
    op.create_index(op.f("ix_centers_kind"), "centers", ["kind"], unique=False)
    op.create_index(op.f("ix_centers_tier"), "centers", ["tier"], unique=False)

    op.create_table(
        "datasets",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("center_id", sa.String(length=64), nullable=False),
        sa.Column("size_gb", sa.Double(), nullable=False),
        sa.Column("data_class", sa.String(length=32), nullable=False),
        sa.Column("temperature", sa.String(length=32), nullable=False),
        sa.Column("replicas", sa.JSON(), nullable=False),
        sa.Column("allowed_centers", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["center_id"], ["centers.id"], name=op.f("fk_datasets_center_id_centers"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_datasets_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
    )
    op.create_index(op.f("ix_datasets_center_id"), "datasets", ["center_id"], unique=False)
    op.create_index(op.f("ix_datasets_tenant_id"), "datasets", ["tenant_id"], unique=False)

    op.create_table(
        "links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("a_id", sa.String(length=64), nullable=False),
        sa.Column("b_id", sa.String(length=64), nullable=False),
        sa.Column("bandwidth_gbps", sa.Double(), nullable=False),
        sa.Column("latency_ms", sa.Double(), nullable=True),
        sa.Column("hops", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["a_id"], ["centers.id"], name=op.f("fk_links_a_id_centers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["b_id"], ["centers.id"], name=op.f("fk_links_b_id_centers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_links")),
        sa.UniqueConstraint("a_id", "b_id", name="uq_links_a_id_b_id"),
    )
    op.create_index(op.f("ix_links_a_id"), "links", ["a_id"], unique=False)
    op.create_index(op.f("ix_links_b_id"), "links", ["b_id"], unique=False)

    op.create_table(
        "pools",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("center_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("accelerator", sa.String(length=200), nullable=False),
        sa.Column("accelerator_class", sa.String(length=32), nullable=False),
        sa.Column("cpu_model", sa.String(length=200), nullable=False),
        sa.Column("nodes", sa.Integer(), nullable=False),
        sa.Column("cpus_per_node", sa.Integer(), nullable=False),
        sa.Column("gpus_per_node", sa.Integer(), nullable=False),
        sa.Column("mem_gb_per_node", sa.Double(), nullable=False),
        sa.Column("fp64_tflops_per_node", sa.Double(), nullable=False),
        sa.Column("fp32_tflops_per_node", sa.Double(), nullable=False),
        sa.Column("fp16_tflops_per_node", sa.Double(), nullable=False),
        sa.Column("int8_tops_per_node", sa.Double(), nullable=False),
        sa.Column("power_kw_per_node", sa.Double(), nullable=False),
        sa.Column("price_cny_per_hour", sa.Double(), nullable=False),
        sa.Column("speed", sa.JSON(), nullable=False),
        sa.Column("backend", sa.String(length=64), nullable=False),
        sa.Column("backend_settings", sa.JSON(), nullable=False),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["center_id"], ["centers.id"], name=op.f("fk_pools_center_id_centers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pools")),
    )
    op.create_index(op.f("ix_pools_accelerator_class"), "pools", ["accelerator_class"], unique=False)
    op.create_index(op.f("ix_pools_backend"), "pools", ["backend"], unique=False)
    op.create_index(op.f("ix_pools_center_id"), "pools", ["center_id"], unique=False)

    op.create_table(
        "storage_tiers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("center_id", sa.String(length=64), nullable=False),
        sa.Column("medium", sa.String(length=32), nullable=False),
        sa.Column("temperature", sa.String(length=32), nullable=False),
        sa.Column("capacity_tb", sa.Double(), nullable=False),
        sa.Column("used_tb", sa.Double(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["center_id"], ["centers.id"], name=op.f("fk_storage_tiers_center_id_centers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_tiers")),
    )
    op.create_index(op.f("ix_storage_tiers_center_id"), "storage_tiers", ["center_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_storage_tiers_center_id"), table_name="storage_tiers")

    op.drop_table("storage_tiers")
    op.drop_index(op.f("ix_pools_center_id"), table_name="pools")
    op.drop_index(op.f("ix_pools_backend"), table_name="pools")
    op.drop_index(op.f("ix_pools_accelerator_class"), table_name="pools")

    op.drop_table("pools")
    op.drop_index(op.f("ix_links_b_id"), table_name="links")
    op.drop_index(op.f("ix_links_a_id"), table_name="links")

    op.drop_table("links")
    op.drop_index(op.f("ix_datasets_tenant_id"), table_name="datasets")
    op.drop_index(op.f("ix_datasets_center_id"), table_name="datasets")

    op.drop_table("datasets")
    op.drop_index(op.f("ix_centers_tier"), table_name="centers")
    op.drop_index(op.f("ix_centers_kind"), table_name="centers")
    op.drop_index(op.f("ix_centers_city_id"), table_name="centers")

    op.drop_table("centers")
    op.drop_index(op.f("ix_users_tenant_id"), table_name="users")

    op.drop_table("users")
    op.drop_index(op.f("ix_cities_region_id"), table_name="cities")

    op.drop_table("cities")
    op.drop_index(op.f("ix_tenants_sector"), table_name="tenants")

    op.drop_table("tenants")
    op.drop_table("regions")
    op.drop_table("network")
