"""Value types of tenancy and security: roles, the key-project workflow, money in integer fen.

Money is never a float: amounts are integer **fen** (分, 1 CNY = 100 fen) in the database and the ledger;
:func:`cny_to_fen` converts a decimal CNY amount with half-up rounding and :func:`fen_to_cny` gives it back
as a :class:`~decimal.Decimal` for display.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class Role(StrEnum):
    """Who a principal is. Operators are bound to their centers, tenant roles to their tenant."""

    ADMIN = "admin"  # platform admin: everything
    REGULATOR = "regulator"  # reads everything, issues vouchers, exports audit, reviews projects
    OPERATOR = "operator"  # center operator: its own centers and pools, their telemetry, projects
    TENANT_ADMIN = "tenant_admin"  # its tenant: users, datasets, jobs, bills, quotas (read)
    TENANT_USER = "tenant_user"  # its tenant: datasets, jobs, bills (read)


TENANT_ROLES = frozenset({Role.TENANT_ADMIN, Role.TENANT_USER})
ALL_ROLES = frozenset(Role)


class Scope(StrEnum):
    """What a token may do: ``read`` (GET) and ``write`` (state-changing methods)."""

    READ = "read"
    WRITE = "write"


class ProjectStatus(StrEnum):
    """新基建重点项目库: filed (备案) → reviewed → approved → building → operating; the authority may instead
    reject (驳回) a filed or reviewed project (final)."""

    FILED = "filed"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    BUILDING = "building"
    OPERATING = "operating"
    REJECTED = "rejected"


#: The only allowed transitions (each status moves one step forward).
PROJECT_TRANSITIONS: dict[ProjectStatus, ProjectStatus] = {
    ProjectStatus.FILED: ProjectStatus.REVIEWED,
    ProjectStatus.REVIEWED: ProjectStatus.APPROVED,
    ProjectStatus.APPROVED: ProjectStatus.BUILDING,
    ProjectStatus.BUILDING: ProjectStatus.OPERATING,
}
#: Who may move a project INTO a status: the authority reviews and approves, the operator builds and runs.
PROJECT_STEP_ROLES: dict[ProjectStatus, frozenset[Role]] = {
    ProjectStatus.REVIEWED: frozenset({Role.REGULATOR, Role.ADMIN}),
    ProjectStatus.APPROVED: frozenset({Role.REGULATOR, Role.ADMIN}),
    ProjectStatus.BUILDING: frozenset({Role.OPERATOR, Role.ADMIN}),
    ProjectStatus.OPERATING: frozenset({Role.OPERATOR, Role.ADMIN}),
    ProjectStatus.REJECTED: frozenset({Role.REGULATOR, Role.ADMIN}),
}
#: Statuses a project may be rejected from (besides its one step forward).
PROJECT_REJECTABLE = frozenset({ProjectStatus.FILED, ProjectStatus.REVIEWED})

FEN_PER_CNY = 100
_FEN = Decimal(1)


def cny_to_fen(amount_cny: Decimal | int | str) -> int:
    """CNY (a Decimal, int or decimal string; never a float) to integer fen, rounded half-up."""
    if isinstance(amount_cny, float):
        raise TypeError("money must not be a float; pass a Decimal or a string")
    return int((Decimal(amount_cny) * FEN_PER_CNY).quantize(_FEN, rounding=ROUND_HALF_UP))


def fen_to_cny(fen: int) -> Decimal:
    """Integer fen to CNY with two decimals."""
    return (Decimal(fen) / FEN_PER_CNY).quantize(Decimal("0.01"))


def share_of(amount_fen: int, share_bp: int) -> int:
    """``share_bp`` basis points (1/10000) of ``amount_fen``, rounded down (a voucher never pays a fen more)."""
    return amount_fen * share_bp // 10_000
