"""API tokens and principals.

A token is ``hh_`` + 43 URL-safe characters from :func:`secrets.token_urlsafe` (256 random bits). It is shown
once, at creation; the database keeps only its SHA-256 (``token_hash``) and a short ``prefix`` to recognise it.
A plain SHA-256 (no salt, no slow KDF such as argon2) is enough here, and is what GitHub and PyPI do for
their tokens: slow hashes protect *low-entropy* secrets (passwords) against guessing, but no dictionary
or brute force reaches a 256-bit random value, and a fast unsalted digest can be looked up by an index in
one query per request.

A token carries a :class:`~huanghe.domain.tenancy.Role`, its tenant (tenant roles) or centers (operators),
scopes (``read``, ``write``), an optional expiry and a revocation time. Times are epoch seconds.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huanghe.core.errors import NotFoundError, invalid
from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.domain.bounds import SafeName
from huanghe.domain.jobs import IdRef
from huanghe.domain.network import ID_PATTERN
from huanghe.domain.tenancy import TENANT_ROLES, Role, Scope
from huanghe.network.models import CenterRow
from huanghe.store.crud import filtered, page_of
from huanghe.tenancy.models import ApiTokenRow, TenantRow

TOKEN_PREFIX = "hh_"
#: Characters of the token kept in clear to identify it in listings (``hh_`` + 7).
SHOWN_PREFIX_CHARS = 10


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's role, tenant (tenant roles) or centers (operators) and scopes."""

    name: str
    role: Role
    tenant_id: str | None = None
    center_ids: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = frozenset({Scope.READ, Scope.WRITE})
    token_id: int | None = None

    @property
    def actor(self) -> str:
        """How the audit trail names this principal: ``role:name#token``."""
        return f"{self.role.value}:{self.name}#{self.token_id if self.token_id is not None else '-'}"

    @property
    def is_tenant(self) -> bool:
        return self.role in TENANT_ROLES


#: The principal of every request when authentication is off (dev mode).
DEV_PRINCIPAL = Principal(name="dev", role=Role.ADMIN)


class TokenCreate(BaseModel):
    """A new token. ``tenant`` is required for tenant roles, ``centers`` for operators."""

    name: SafeName
    role: Role
    tenant: str | None = Field(default=None, pattern=ID_PATTERN)
    centers: list[IdRef] = Field(default_factory=list, max_length=1000)
    scopes: list[Scope] = Field(default_factory=lambda: [Scope.READ, Scope.WRITE], min_length=1)
    expires_in_s: float | None = Field(default=None, gt=0, le=10 * 365 * 86400, description="lifetime, s")


class TokenPublic(BaseModel):
    """A token as listed: never the secret, only its first characters."""

    id: int
    name: str
    prefix: str
    role: Role
    tenant: str | None
    centers: list[str]
    scopes: list[Scope]
    created_s: float
    expires_s: float | None
    revoked_s: float | None


class TokenCreated(TokenPublic):
    """The answer to a creation: the secret ``token``, shown this once only."""

    token: str


def hash_token(token: str) -> str:
    """Hex SHA-256 of the token (see the module docstring for why no slow hash is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _public(row: ApiTokenRow) -> TokenPublic:
    return TokenPublic(
        id=row.id, name=row.name, prefix=row.prefix, role=Role(row.role), tenant=row.tenant_id,
        centers=list(row.center_ids), scopes=[Scope(s) for s in row.scopes], created_s=row.created_s,
        expires_s=row.expires_s, revoked_s=row.revoked_s,
    )  # fmt: skip


def _check_binding(session: Session, body: TokenCreate) -> None:
    if body.role in TENANT_ROLES:
        if body.tenant is None:
            raise invalid("tenant", f"required for role {body.role.value}")
        if session.get(TenantRow, body.tenant) is None:
            raise invalid("tenant", f"unknown tenant {body.tenant!r}")
    elif body.tenant is not None:
        raise invalid("tenant", f"only tenant roles belong to a tenant, not {body.role.value}")
    if body.role is Role.OPERATOR:
        if not body.centers:
            raise invalid("centers", "an operator token names at least one center")
        known = set(session.scalars(select(CenterRow.id).where(CenterRow.id.in_(body.centers))))
        for i, center in enumerate(body.centers):
            if center not in known:
                raise invalid(f"centers[{i}]", f"unknown center {center!r}")
    elif body.centers:
        raise invalid("centers", f"only operator tokens name centers, not {body.role.value}")


def create_token(
    session: Session, body: TokenCreate, *, creator: Principal | None = None, now: float | None = None
) -> TokenCreated:
    """Create and commit a token; the answer holds the secret (the only time it is available).

    A tenant admin (``creator``) may only create tenant-role tokens of its own tenant."""
    if creator is not None and creator.role is Role.TENANT_ADMIN:
        if body.role not in TENANT_ROLES:
            raise invalid("role", "a tenant admin creates tenant_admin or tenant_user tokens only")
        if body.tenant != creator.tenant_id:
            raise invalid("tenant", "a tenant admin creates tokens of its own tenant only")
    _check_binding(session, body)
    now = time.time() if now is None else now
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(
        name=body.name, token_hash=hash_token(token), prefix=token[:SHOWN_PREFIX_CHARS], role=body.role.value,
        tenant_id=body.tenant, center_ids=sorted(set(body.centers)), scopes=sorted({s.value for s in body.scopes}),
        created_s=now, expires_s=None if body.expires_in_s is None else now + body.expires_in_s,
    )  # fmt: skip
    session.add(row)
    session.commit()
    return TokenCreated(**_public(row).model_dump(), token=token)


def principal_of(row: ApiTokenRow) -> Principal:
    return Principal(
        name=row.name, role=Role(row.role), tenant_id=row.tenant_id, center_ids=frozenset(row.center_ids),
        scopes=frozenset(Scope(s) for s in row.scopes), token_id=row.id,
    )  # fmt: skip


def _usable(row: ApiTokenRow | None, now: float) -> bool:
    return row is not None and row.revoked_s is None and (row.expires_s is None or row.expires_s > now)


def authenticate(session: Session, token: str, *, now: float | None = None) -> Principal | None:
    """The principal of a presented token, or None when unknown, revoked or expired."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalars(select(ApiTokenRow).where(ApiTokenRow.token_hash == hash_token(token))).first()
    now = time.time() if now is None else now
    return principal_of(row) if row is not None and _usable(row, now) else None


def token_expires_s(session: Session, token_id: int) -> float | None:
    """When token ``token_id`` expires (epoch seconds); None when it never does or does not exist."""
    return session.scalar(select(ApiTokenRow.expires_s).where(ApiTokenRow.id == token_id))


def principal_by_id(session: Session, token_id: int, *, now: float | None = None) -> Principal | None:
    """The principal of token ``token_id`` if it is still usable (console sessions are bound to a token)."""
    row = session.get(ApiTokenRow, token_id)
    now = time.time() if now is None else now
    return principal_of(row) if row is not None and _usable(row, now) else None


def list_tokens(
    session: Session, *, tenant: str | None = None, limit: int = DEFAULT_PAGE_LIMIT, offset: int = 0
) -> Page[TokenPublic]:
    """A page of tokens (newest first), optionally of one tenant."""
    query = filtered(select(ApiTokenRow), {ApiTokenRow.tenant_id: tenant})
    return page_of(session, query, (ApiTokenRow.id.desc(),), limit, offset, _public)


def revoke_token(
    session: Session, token_id: int, *, by: Principal | None = None, now: float | None = None
) -> TokenPublic:
    """Revoke a token (idempotent); a tenant admin may revoke only its own tenant's tokens (else 404)."""
    row = session.get(ApiTokenRow, token_id)
    if row is None or (by is not None and by.role is Role.TENANT_ADMIN and row.tenant_id != by.tenant_id):
        raise NotFoundError("token", token_id)
    if row.revoked_s is None:
        row.revoked_s = time.time() if now is None else now
        session.commit()
    return _public(row)


def count_tokens(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ApiTokenRow)) or 0
