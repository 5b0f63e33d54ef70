"""ORM rows of the audit trail: the append-only hash chain (``audit_log``) and its head.

``audit_log`` is append-only: database triggers refuse UPDATE and DELETE (migration ``0004_tenancy``).
Times are epoch seconds (``*_s``, float, UTC)."""

from __future__ import annotations

from sqlalchemy import (
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from huanghe.store.base import Base


class AuditHeadRow(Base):
    """The single row (``id = 1``) holding the end of the chain; updating it serialises writers."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditRow(Base):
    """One audit record. ``hash`` = sha256 of the canonical JSON of the other fields (``prev_hash`` included)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
    subject: Mapped[str] = mapped_column(String(500))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
