"""ORM rows of the key new-infrastructure project registry (新基建重点项目库).

Times are epoch seconds (``*_s``, float, UTC); money is integer **fen** (``*_fen``, 1 CNY = 100 fen)."""

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

from huanghe.store.base import ENUM, ID, Base


class ProjectRow(Base):
    """A key new-infrastructure project (新基建重点项目) filed by an operator."""

    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    operator: Mapped[str] = mapped_column(String(200), index=True)
    center_ids: Mapped[list[str]] = mapped_column(JSON)
    investment_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(ENUM, index=True)
    filed_by: Mapped[str] = mapped_column(String(200))
    created_s: Mapped[float] = mapped_column(Double)
    updated_s: Mapped[float] = mapped_column(Double)
    description: Mapped[str] = mapped_column(Text, default="")


class RiskAlertRow(Base):
    """A security risk raised from security events (风险预警), with its handling (处置): ``open`` →
    ``acknowledged`` (``owner`` takes it) → ``resolved`` (``note`` says what was done). One active alert per
    (``kind``, ``subject``): new events refresh it (``events``, ``last_event_s``). ``severity``: ``low``,
    ``medium``, ``high``, ``critical``. ``trace`` keeps the evidence found when it was raised (audit seqs,
    counts)."""

    __tablename__ = "risk_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    subject: Mapped[str] = mapped_column(String(500))
    severity: Mapped[str] = mapped_column(ENUM)
    state: Mapped[str] = mapped_column(ENUM, index=True)
    message: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200), default="")
    events: Mapped[int] = mapped_column(Integer, default=0)
    first_event_s: Mapped[float] = mapped_column(Double)
    last_event_s: Mapped[float] = mapped_column(Double)
    opened_s: Mapped[float] = mapped_column(Double)
    updated_s: Mapped[float] = mapped_column(Double)
    acknowledged_s: Mapped[float | None] = mapped_column(Double, nullable=True)
    resolved_s: Mapped[float | None] = mapped_column(Double, nullable=True)
    resolved_by: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    trace: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
