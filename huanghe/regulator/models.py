"""ORM rows of the key new-infrastructure project registry (新基建重点项目库).

Times are epoch seconds (``*_s``, float, UTC); money is integer **fen** (``*_fen``, 1 CNY = 100 fen)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Double,
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
