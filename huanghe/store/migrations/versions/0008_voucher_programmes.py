"""voucher programmes: programmes with a fund, applications and grants, redemptions by provider, settlements

Revision ID: 0008_voucher_programmes
Revises: 0006_pool_wall_time
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_voucher_programmes"
down_revision: str | None = "0006_pool_wall_time"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voucher_programmes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("authority", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("assumptions", sa.JSON(), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("share_bp", sa.Integer(), nullable=False),
        sa.Column("fund_fen", sa.BigInteger(), nullable=False),
        sa.Column("remaining_fen", sa.BigInteger(), nullable=False),
        sa.Column("cap_enterprise_fen", sa.BigInteger(), nullable=True),
        sa.Column("cap_enterprise_year_fen", sa.BigInteger(), nullable=True),
        sa.Column("validity_months", sa.Integer(), nullable=False),
        sa.Column("opens_s", sa.Double(), nullable=False),
        sa.Column("closes_s", sa.Double(), nullable=True),
        sa.Column("sectors", sa.JSON(), nullable=False),
        sa.Column("sme_only", sa.Boolean(), nullable=False),
        sa.Column("in_province_only", sa.Boolean(), nullable=False),
        sa.Column("cities", sa.JSON(), nullable=False),
        sa.Column("unaffiliated_only", sa.Boolean(), nullable=False),
        sa.Column("center_kinds", sa.JSON(), nullable=False),
        sa.Column("accelerator_classes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_s", sa.Double(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "remaining_fen >= 0 AND remaining_fen <= fund_fen",
            name=op.f("ck_voucher_programmes_remaining_in_fund"),
        ),
        sa.CheckConstraint(
            "share_bp > 0 AND share_bp <= 10000", name=op.f("ck_voucher_programmes_share_in_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_programmes")),
    )
    op.create_table(
        "programme_applications",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("basis_fen", sa.BigInteger(), nullable=False),
        sa.Column("requested_fen", sa.BigInteger(), nullable=True),
        sa.Column("provider", sa.String(length=200), nullable=False),
        sa.Column("affiliated", sa.JSON(), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("granted_fen", sa.BigInteger(), nullable=False),
        sa.Column("returned_fen", sa.BigInteger(), nullable=False),
        sa.Column("grant_year", sa.Integer(), nullable=True),
        sa.Column("voucher_id", sa.String(length=64), nullable=True),
        sa.Column("submitted_s", sa.Double(), nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("reviewed_s", sa.Double(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=200), nullable=False),
        sa.Column("review_note", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "granted_fen >= 0 AND returned_fen >= 0 AND returned_fen <= granted_fen",
            name=op.f("ck_programme_applications_amounts_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["voucher_programmes.id"],
            name=op.f("fk_programme_applications_programme_id_voucher_programmes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_applications")),
        sa.UniqueConstraint("voucher_id", name=op.f("uq_programme_applications_voucher_id")),
    )
    for column in ("programme_id", "tenant_id", "status"):
        op.create_index(
            op.f(f"ix_programme_applications_{column}"), "programme_applications", [column], unique=False
        )
    op.create_table(
        "programme_redemptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("voucher_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=False),
        sa.Column("center_id", sa.String(length=64), nullable=False),
        sa.Column("city_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("at_s", sa.Double(), nullable=False),
        sa.Column("eligible_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("gpu_hours", sa.Double(), nullable=False),
        sa.Column("node_hours", sa.Double(), nullable=False),
        sa.Column("settlement_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_redemptions")),
    )
    for column in ("programme_id", "application_id", "tenant_id", "settlement_id"):
        op.create_index(
            op.f(f"ix_programme_redemptions_{column}"), "programme_redemptions", [column], unique=False
        )
    op.create_table(
        "programme_settlements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("redemptions", sa.Integer(), nullable=False),
        sa.Column("created_s", sa.Double(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_settlements")),
    )
    op.create_index(
        op.f("ix_programme_settlements_programme_id"), "programme_settlements", ["programme_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("programme_settlements")
    op.drop_table("programme_redemptions")
    op.drop_table("programme_applications")
    op.drop_table("voucher_programmes")
