"""Public schemas of tenants and users: ``XCreate`` (input of POST), ``XPublic`` (output), ``XUpdate``
(input of PATCH: only the fields given change; the merged object is validated again with the domain model)."""

from __future__ import annotations

from pydantic import Field

from huanghe.core.schemas import UpdateSchema
from huanghe.domain.bounds import SafeLabel, SafeName
from huanghe.domain.jobs import Tenant, User
from huanghe.domain.network import ID_PATTERN
from huanghe.domain.tenancy import Role


# --- tenants, users, datasets ----------------------------------------------------------------------------
class TenantCreate(Tenant):
    """A new tenant."""


class TenantPublic(Tenant):
    """A tenant."""


class TenantUpdate(UpdateSchema):
    name: SafeName | None = None
    sector: SafeLabel | None = None
    is_sme: bool | None = None


class UserCreate(User):
    """A new user; ``tenant`` (if given) must exist."""


class UserPublic(User):
    """A user."""


class UserUpdate(UpdateSchema):
    name: SafeName | None = None
    tenant: str | None = Field(default=None, pattern=ID_PATTERN)
    role: Role | None = None
