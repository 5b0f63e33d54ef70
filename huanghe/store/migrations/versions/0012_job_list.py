"""job list: indexes for the console's job list (GET /jobs newest first or by state, a tenant's or all)

Revision ID: 0012_job_list
Revises: 0002_jobs (the jobs branch, which made the jobs table)
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012_job_list"
down_revision: str | None = "0002_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: index name → columns (as in huanghe.jobs.models.JobRow)
INDEXES = {
    "ix_jobs_submit": ["submit_s", "id"],
    "ix_jobs_state_submit": ["state", "submit_s", "id"],
    "ix_jobs_tenant_submit": ["tenant_id", "submit_s", "id"],
    "ix_jobs_tenant_state_submit": ["tenant_id", "state", "submit_s", "id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "jobs", columns, unique=False)


def downgrade() -> None:
    for name in reversed(INDEXES):
        op.drop_index(name, table_name="jobs")
