"""ORM rows of billing: metering (usage), invoices, vouchers, the double-entry ledger, quotas.

Conventions: times are epoch seconds (``*_s``, float, UTC); money is integer **fen** (``*_fen``, 1 CNY =
100 fen), never a float; energy in kWh, carbon in kg CO2. ``ledger_entries`` is append-only (database
triggers refuse UPDATE and DELETE, migration ``0004_tenancy``)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Double,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from huanghe.store.base import ID, Base


class UsageRow(Base):
    """Metered usage of one finished job: node-hours and GPU-hours, price, cost, energy, carbon."""

    __tablename__ = "usage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ID, unique=True)
    tenant_id: Mapped[str] = mapped_column(ID, index=True)
    pool_id: Mapped[str] = mapped_column(ID)
    center_id: Mapped[str] = mapped_column(ID)
    operator: Mapped[str] = mapped_column(String(200), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    started_s: Mapped[float] = mapped_column(Double)
    ended_s: Mapped[float] = mapped_column(Double)
    nodes: Mapped[int] = mapped_column(Integer)
    node_hours: Mapped[float] = mapped_column(Double)
    gpu_hours: Mapped[float] = mapped_column(Double)
    price_fen_per_node_hour: Mapped[int] = mapped_column(BigInteger)
    cost_fen: Mapped[int] = mapped_column(BigInteger)
    energy_kwh: Mapped[float] = mapped_column(Double)
    carbon_kg: Mapped[float] = mapped_column(Double)
    invoice_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)


class InvoiceRow(Base):
    """The monthly bill of a tenant: ``total_fen`` = ``voucher_fen`` + ``cash_fen``."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("tenant_id", "month", name="uq_invoices_tenant_id_month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ID, index=True)
    month: Mapped[str] = mapped_column(String(7))
    total_fen: Mapped[int] = mapped_column(BigInteger)
    voucher_fen: Mapped[int] = mapped_column(BigInteger)
    cash_fen: Mapped[int] = mapped_column(BigInteger)
    created_s: Mapped[float] = mapped_column(Double)


class VoucherRow(Base):
    """A compute voucher (算力券). ``balance_fen`` never goes below 0 (checked by the database too)."""

    __tablename__ = "vouchers"
    __table_args__ = (
        CheckConstraint("balance_fen >= 0 AND balance_fen <= amount_fen", name="balance_in_range"),
        CheckConstraint("max_share_bp > 0 AND max_share_bp <= 10000", name="share_in_range"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ID, index=True)
    issuer: Mapped[str] = mapped_column(String(200))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    balance_fen: Mapped[int] = mapped_column(BigInteger)
    max_share_bp: Mapped[int] = mapped_column(Integer)
    valid_from_s: Mapped[float] = mapped_column(Double)
    valid_until_s: Mapped[float] = mapped_column(Double)
    sectors: Mapped[list[str]] = mapped_column(JSON)
    centers: Mapped[list[str]] = mapped_column(JSON)
    pools: Mapped[list[str]] = mapped_column(JSON)
    created_s: Mapped[float] = mapped_column(Double)
    revoked_s: Mapped[float | None] = mapped_column(Double, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class LedgerEntryRow(Base):
    """One line of a double-entry posting: either a debit or a credit on ``account``, in fen."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint(
            "debit_fen >= 0 AND credit_fen >= 0 AND (debit_fen = 0 OR credit_fen = 0)", name="one_side"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    posting_id: Mapped[str] = mapped_column(String(64), index=True)
    at_s: Mapped[float] = mapped_column(Double)
    account: Mapped[str] = mapped_column(String(200), index=True)
    debit_fen: Mapped[int] = mapped_column(BigInteger)
    credit_fen: Mapped[int] = mapped_column(BigInteger)
    memo: Mapped[str] = mapped_column(String(500))


class QuotaRow(Base):
    """Monthly limits of a tenant; NULL = no limit."""

    __tablename__ = "quotas"

    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    gpu_hours_per_month: Mapped[float | None] = mapped_column(Double, nullable=True)
    budget_fen_per_month: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
