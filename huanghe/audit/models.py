"""ORM rows of the audit trail: the append-only hash chain (``audit_log``), its head and its inbox.

``audit_log`` is append-only: database triggers refuse UPDATE and DELETE (migration ``0004_tenancy``).
``audit_inbox`` holds entries written but not chained yet (PostgreSQL writers, see :mod:`huanghe.audit.chain`):
UPDATE is refused, DELETE only by the chainer (migration ``0013_audit_inbox``).
Times are epoch seconds (``*_s``, float, UTC)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Double,
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


#: 64-bit ids (an inbox id is never reused), a rowid alias on SQLite so that they autoincrement there too.
INBOX_ID = BigInteger().with_variant(Integer(), "sqlite")


class AuditInboxRow(Base):
    """An audit entry written but not chained yet: the fields of :class:`AuditRow` without ``seq`` and the
    hashes, which the chainer gives it when it moves the entry into ``audit_log`` (in ``id`` order)."""

    __tablename__ = "audit_inbox"

    id: Mapped[int] = mapped_column(INBOX_ID, primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(500))
    payload: Mapped[str] = mapped_column(Text)


class SecurityEventRow(Base):
    """Security events (风险监测的事件): refused and unauthenticated requests, residency refusals, anomalous
    egress, audit-chain breaks. Requests are aggregated per (kind, source, actor, subject) and minute, so a
    storm of refused requests writes a handful of rows (``count``), never one per request.

    ``kind``: ``auth_failure`` (401), ``refused`` (403), ``residency_refusal``, ``egress_anomaly``,
    ``audit_chain_break``. ``source``: a digest of the caller's token or its address. ``t_s``: the start
    of the minute (requests) or the time of the event."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    t_s: Mapped[float] = mapped_column(Double, index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(100), default="")
    actor: Mapped[str] = mapped_column(String(200), default="")
    tenant_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    subject: Mapped[str] = mapped_column(String(500), default="")
    count: Mapped[int] = mapped_column(Integer, default=1)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
