"""Tenants and users: list (filters + pagination), get, create, patch, delete.

Every function takes an open :class:`~sqlalchemy.orm.Session`; writes commit before returning (the service
owns the transaction) and roll back on failure. Results are public schemas (:mod:`huanghe.tenancy.schemas`),
never ORM rows. Errors are :mod:`huanghe.core.errors` with path-named problems: unknown object →
``NotFoundError``; duplicate id or still referenced → ``ConflictError``; bad reference → ``InvalidError``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.domain.jobs import Tenant, User
from huanghe.store.crud import (
    commit,
    count_where,
    get_row,
    merged,
    missing,
    page_of,
    raise_if,
    refuse_if_exists,
    refuse_if_referenced,
    refuse_if_used,
)
from huanghe.tenancy import rows as tenancy_rows
from huanghe.tenancy.models import TenantRow, UserRow
from huanghe.tenancy.schemas import (
    TenantCreate,
    TenantPublic,
    TenantUpdate,
    UserCreate,
    UserPublic,
    UserUpdate,
)


def list_tenants(
    session: Session, *, sector: str | None = None, limit: int = DEFAULT_PAGE_LIMIT, offset: int = 0
) -> Page[TenantPublic]:
    stmt = select(TenantRow)
    if sector is not None:
        stmt = stmt.where(TenantRow.sector == sector)
    return page_of(session, stmt, (TenantRow.id,), limit, offset, tenancy_rows.tenant_public)


def get_tenant(session: Session, tenant_id: str) -> TenantPublic:
    return tenancy_rows.tenant_public(get_row(session, TenantRow, tenant_id, "tenant"))


def create_tenant(session: Session, data: TenantCreate) -> TenantPublic:
    refuse_if_exists(session, TenantRow, data.id, "tenant")
    row = TenantRow()
    tenancy_rows.apply_tenant(row, data)
    session.add(row)
    commit(session)
    return tenancy_rows.tenant_public(row)


def update_tenant(session: Session, tenant_id: str, patch: TenantUpdate) -> TenantPublic:
    row = get_row(session, TenantRow, tenant_id, "tenant")
    tenancy_rows.apply_tenant(row, merged(Tenant, tenancy_rows.tenant_dict(row), patch))
    commit(session)
    return tenancy_rows.tenant_public(row)


def delete_tenant(session: Session, tenant_id: str) -> None:
    row = get_row(session, TenantRow, tenant_id, "tenant")
    refuse_if_used(session, count_where(UserRow.tenant_id == tenant_id), "tenant", tenant_id, "users")
    refuse_if_referenced(session, "datasets", "tenant_id", tenant_id, "tenant")
    refuse_if_referenced(session, "jobs", "tenant_id", tenant_id, "tenant")  # their bills name the tenant
    session.delete(row)
    commit(session)


def list_users(
    session: Session,
    *,
    tenant: str | None = None,
    role: str | None = None,
    limit: int = DEFAULT_PAGE_LIMIT,
    offset: int = 0,
) -> Page[UserPublic]:
    stmt = select(UserRow)
    if tenant is not None:
        stmt = stmt.where(UserRow.tenant_id == tenant)
    if role is not None:
        stmt = stmt.where(UserRow.role == role)
    return page_of(session, stmt, (UserRow.id,), limit, offset, tenancy_rows.user_public)


def get_user(session: Session, user_id: str) -> UserPublic:
    return tenancy_rows.user_public(get_row(session, UserRow, user_id, "user"))


def tenant_of_user(session: Session, user_id: str) -> str | None:
    """The tenant user ``user_id`` belongs to (None: no tenant); :class:`NotFoundError` when there is no such
    user."""
    return get_row(session, UserRow, user_id, "user").tenant_id


def create_user(session: Session, data: UserCreate) -> UserPublic:
    refuse_if_exists(session, UserRow, data.id, "user")
    raise_if(missing(session, TenantRow, data.tenant, "tenant", "tenant"))
    row = UserRow()
    tenancy_rows.apply_user(row, data)
    session.add(row)
    commit(session)
    return tenancy_rows.user_public(row)


def update_user(session: Session, user_id: str, patch: UserUpdate) -> UserPublic:
    row = get_row(session, UserRow, user_id, "user")
    user = merged(User, tenancy_rows.user_dict(row), patch)
    raise_if(missing(session, TenantRow, user.tenant, "tenant", "tenant"))
    tenancy_rows.apply_user(row, user)
    commit(session)
    return tenancy_rows.user_public(row)


def delete_user(session: Session, user_id: str) -> None:
    session.delete(get_row(session, UserRow, user_id, "user"))
    commit(session)
