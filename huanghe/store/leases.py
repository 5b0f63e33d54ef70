"""Rows that coordinate the replicas of the platform on one database: leader leases (with their fencing
epoch, :mod:`huanghe.store.leader`) and the shared rate-limit buckets (:mod:`huanghe.store.shared_limits`)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Double, String
from sqlalchemy.orm import Mapped, mapped_column

from huanghe.store.base import Base


class LeaderLeaseRow(Base):
    """A lease for a singleton role (``name``: ``scheduler``, ``data``, ...): ``holder`` owns it until
    ``expires_s`` (epoch seconds). ``epoch`` grows by one at every change of leader: a leader's writes carry
    the epoch it won, and a write whose epoch is no longer the row's is refused (fencing)."""

    __tablename__ = "leader_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_s: Mapped[float] = mapped_column(Double)
    acquired_s: Mapped[float] = mapped_column(Double)
    epoch: Mapped[int] = mapped_column(BigInteger, default=0)


class RateBucketRow(Base):
    """A caller's token bucket shared by every replica: ``tokens`` left at ``updated_s`` (epoch seconds)."""

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    tokens: Mapped[float] = mapped_column(Double)
    updated_s: Mapped[float] = mapped_column(Double)
