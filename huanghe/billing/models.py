"""ORM rows of billing: metering (usage), invoices, vouchers, voucher programmes, the double-entry ledger,
quotas.

Conventions: times are epoch seconds (``*_s``, float, UTC); money is integer **fen** (``*_fen``, 1 CNY =
100 fen), never a float; energy in kWh, carbon in kg CO2. ``ledger_entries`` is append-only (database
triggers refuse UPDATE and DELETE, migration ``0004_tenancy``)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Double,
    ForeignKey,
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


class VoucherProgrammeRow(Base):
    """A voucher programme (算力券项目): a fund (``fund_fen``), its rule and eligibility (see
    :mod:`huanghe.billing.programmes`). ``remaining_fen`` is what is not granted yet; the database refuses a
    value below 0 or above the fund, and grants take money with a conditional UPDATE."""

    __tablename__ = "voucher_programmes"
    __table_args__ = (
        CheckConstraint("remaining_fen >= 0 AND remaining_fen <= fund_fen", name="remaining_in_fund"),
        CheckConstraint("share_bp > 0 AND share_bp <= 10000", name="share_in_range"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    authority: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(32))
    sources: Mapped[list[str]] = mapped_column(JSON)
    assumptions: Mapped[list[str]] = mapped_column(JSON)
    basis: Mapped[str] = mapped_column(String(16))
    share_bp: Mapped[int] = mapped_column(Integer)
    fund_fen: Mapped[int] = mapped_column(BigInteger)
    remaining_fen: Mapped[int] = mapped_column(BigInteger)
    cap_enterprise_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    cap_enterprise_year_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    validity_months: Mapped[int] = mapped_column(Integer)
    opens_s: Mapped[float] = mapped_column(Double)
    closes_s: Mapped[float | None] = mapped_column(Double, nullable=True)
    sectors: Mapped[list[str]] = mapped_column(JSON)
    sme_only: Mapped[bool] = mapped_column(Boolean)
    in_province_only: Mapped[bool] = mapped_column(Boolean)
    cities: Mapped[list[str]] = mapped_column(JSON)
    unaffiliated_only: Mapped[bool] = mapped_column(Boolean)
    center_kinds: Mapped[list[str]] = mapped_column(JSON)
    accelerator_classes: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    created_s: Mapped[float] = mapped_column(Double)
    created_by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")


class ProgrammeApplicationRow(Base):
    """An enterprise's application to a programme: submitted → granted | rejected | withdrawn. A grant is a
    voucher (``voucher_id``) of ``granted_fen``; ``returned_fen`` came back to the fund (revoked, expired)."""

    __tablename__ = "programme_applications"
    __table_args__ = (
        CheckConstraint(
            "granted_fen >= 0 AND returned_fen >= 0 AND returned_fen <= granted_fen", name="amounts_in_range"
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    programme_id: Mapped[str] = mapped_column(
        ID, ForeignKey("voucher_programmes.id", ondelete="RESTRICT"), index=True
    )
    tenant_id: Mapped[str] = mapped_column(ID, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    basis_fen: Mapped[int] = mapped_column(BigInteger)
    requested_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    provider: Mapped[str] = mapped_column(String(200))
    affiliated: Mapped[list[str]] = mapped_column(JSON)
    city: Mapped[str] = mapped_column(String(64))
    granted_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    returned_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    grant_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    voucher_id: Mapped[str | None] = mapped_column(ID, nullable=True, unique=True)
    submitted_s: Mapped[float] = mapped_column(Double)
    submitted_by: Mapped[str] = mapped_column(String(200))
    reviewed_s: Mapped[float | None] = mapped_column(Double, nullable=True)
    reviewed_by: Mapped[str] = mapped_column(String(200), default="")
    review_note: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")


class ProgrammeRedemptionRow(Base):
    """The part of one bill a programme voucher paid at one center (``paid_fen``), with the eligible bill
    amount and compute behind it (GPU-hours, node-hours); ``settlement_id`` once paid to the provider."""

    __tablename__ = "programme_redemptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    programme_id: Mapped[str] = mapped_column(ID, index=True)
    application_id: Mapped[str] = mapped_column(ID, index=True)
    voucher_id: Mapped[str] = mapped_column(ID)
    tenant_id: Mapped[str] = mapped_column(ID, index=True)
    operator: Mapped[str] = mapped_column(String(200))
    center_id: Mapped[str] = mapped_column(ID)
    city_id: Mapped[str] = mapped_column(ID)
    month: Mapped[str] = mapped_column(String(7))
    at_s: Mapped[float] = mapped_column(Double)
    eligible_fen: Mapped[int] = mapped_column(BigInteger)
    paid_fen: Mapped[int] = mapped_column(BigInteger)
    gpu_hours: Mapped[float] = mapped_column(Double)
    node_hours: Mapped[float] = mapped_column(Double)
    settlement_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)


class ProgrammeSettlementRow(Base):
    """A payment from a programme's fund to one provider (operator) for the redemptions it covers."""

    __tablename__ = "programme_settlements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    programme_id: Mapped[str] = mapped_column(ID, index=True)
    operator: Mapped[str] = mapped_column(String(200))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    redemptions: Mapped[int] = mapped_column(Integer)
    created_s: Mapped[float] = mapped_column(Double)
    created_by: Mapped[str] = mapped_column(String(200))
