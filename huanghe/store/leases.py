"""The lease rows of leader election (:mod:`huanghe.store.leader`): one row per singleton role."""

from __future__ import annotations

from sqlalchemy import Double, String
from sqlalchemy.orm import Mapped, mapped_column

from huanghe.store.base import Base


class LeaderLeaseRow(Base):
    """A lease for a singleton role (``name``: ``scheduler``, ``data``, ...): ``holder`` owns it until
    ``expires_s`` (epoch seconds)."""

    __tablename__ = "leader_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_s: Mapped[float] = mapped_column(Double)
    acquired_s: Mapped[float] = mapped_column(Double)
