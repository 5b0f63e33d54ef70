"""Public schemas of tenants and users: ``XCreate`` (input of POST), ``XPublic`` (output), ``XUpdate``
(input of PATCH: only the fields given change; the merged object is validated again with the domain model)."""

from __future__ import annotations

from huanghe.core.schemas import UpdateSchema
from huanghe.domain.jobs import Tenant, User


# --- tenants, users, datasets ----------------------------------------------------------------------------
class TenantCreate(Tenant):
    """A new tenant."""


class TenantPublic(Tenant):
    """A tenant."""


class TenantUpdate(UpdateSchema):
    name: str | None = None
    sector: str | None = None
    is_sme: bool | None = None


class UserCreate(User):
    """A new user; ``tenant`` (if given) must exist."""


class UserPublic(User):
    """A user."""


class UserUpdate(UpdateSchema):
    name: str | None = None
    tenant: str | None = None
    role: str | None = None
