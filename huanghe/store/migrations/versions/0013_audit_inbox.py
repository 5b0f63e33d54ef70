"""audit inbox: audit entries written unchained, linked into ``audit_log`` by the chainer (issue #16)

Writers insert into ``audit_inbox`` without touching ``audit_head``, so concurrent writers no longer take
turns on the head row; the chainer (:mod:`huanghe.audit.chain`) moves them into the hash chain. UPDATE of the
inbox is refused on SQLite and PostgreSQL; on PostgreSQL DELETE (and TRUNCATE) is refused too unless the
transaction set ``huanghe.audit_chainer`` (the chainer does, in the transaction that chains the rows it
deletes). Merges the two 0012 heads and ``0004_tenancy`` (whose trigger function it uses).

Revision ID: 0013_audit_inbox
Revises: 0004_tenancy, 0012_job_list, 0012_pool_drains
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_audit_inbox"
# 0004_tenancy: audit_log and huanghe_append_only() must exist first
down_revision: str | Sequence[str] | None = ("0004_tenancy", "0012_job_list", "0012_pool_drains")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INBOX_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_inbox",
        sa.Column("id", INBOX_ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_inbox")),
    )
    if op.get_bind().dialect.name != "postgresql":
        op.execute(
            "CREATE TRIGGER audit_inbox_no_update BEFORE UPDATE ON audit_inbox "
            "BEGIN SELECT RAISE(ABORT, 'audit_inbox entries cannot be changed'); END"
        )
        return
    # huanghe_append_only() (migration 0004_tenancy) refuses whatever it guards
    op.execute(
        "CREATE TRIGGER audit_inbox_no_update BEFORE UPDATE ON audit_inbox "
        "FOR EACH ROW EXECUTE FUNCTION huanghe_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_inbox_no_truncate BEFORE TRUNCATE ON audit_inbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION huanghe_append_only()"
    )
    op.execute(
        "CREATE FUNCTION huanghe_audit_inbox_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF coalesce(current_setting('huanghe.audit_chainer', true), '') <> 'on' THEN "
        "RAISE EXCEPTION 'audit_inbox entries are removed only by the audit chainer'; END IF; "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_inbox_chainer_only BEFORE DELETE ON audit_inbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION huanghe_audit_inbox_delete()"
    )


def downgrade() -> None:
    op.drop_table("audit_inbox")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS huanghe_audit_inbox_delete()")
