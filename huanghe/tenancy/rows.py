"""Conversions between tenant / user ORM rows and domain / public models (no queries, no commits)."""

from __future__ import annotations

from typing import Any

from huanghe.domain.jobs import Tenant, User
from huanghe.tenancy.models import TenantRow, UserRow
from huanghe.tenancy.schemas import TenantPublic, UserPublic


def tenant_dict(row: TenantRow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "sector": row.sector, "is_sme": row.is_sme}


def user_dict(row: UserRow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "tenant": row.tenant_id, "role": row.role}


def tenant_public(row: TenantRow) -> TenantPublic:
    return TenantPublic.model_validate(tenant_dict(row))


def user_public(row: UserRow) -> UserPublic:
    return UserPublic.model_validate(user_dict(row))


def apply_tenant(row: TenantRow, tenant: Tenant) -> None:
    row.id, row.name, row.sector, row.is_sme = tenant.id, tenant.name, tenant.sector, tenant.is_sme


def apply_user(row: UserRow, user: User) -> None:
    row.id, row.name, row.tenant_id, row.role = user.id, user.name, user.tenant, user.role
