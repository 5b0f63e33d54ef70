"""ORM rows of tenancy: tenants, users and API tokens (stored hashed).

Conventions: times are epoch seconds (``*_s``, float, UTC); enum values are their lower-case strings."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Double, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from huanghe.store.base import ENUM, ID, Base


class TenantRow(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(100), index=True)
    is_sme: Mapped[bool] = mapped_column(Boolean)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    tenant_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    role: Mapped[str] = mapped_column(String(64))


class ApiTokenRow(Base):
    """An API token. Only the SHA-256 of the secret is stored (``token_hash``); ``prefix`` identifies it."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(ENUM)
    tenant_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    center_ids: Mapped[list[str]] = mapped_column(JSON)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_s: Mapped[float] = mapped_column(Double)
    expires_s: Mapped[float | None] = mapped_column(Double, nullable=True)
    revoked_s: Mapped[float | None] = mapped_column(Double, nullable=True)
