"""Monthly quotas and budgets per tenant, enforced when jobs are submitted.

A quota row holds ``gpu_hours_per_month`` and ``budget_fen_per_month`` (NULL = no limit). Use this month is
what :mod:`huanghe.billing.service` metered for the tenant in the current UTC month. A request is refused
(:class:`QuotaExceeded`, HTTP 403) when the used amount plus the request's estimate exceeds a limit:

* hours = the job's wall time / 3600: its ``time_limit_s``, else its ``duration_s``, else the network's default
  wall time (the largest pool ``default_time_limit_s``, :mod:`huanghe.network.wall_time`), never more than the
  largest pool ``max_time_limit_s`` — so leaving out ``duration_s`` no longer makes a job free;
* GPU-hours estimate = GPUs per node × nodes × hours;
* cost estimate = ``max_price_cny_per_hour`` × nodes × hours when the job names a price, else what it would
  cost on the dearest pool that can hold it: node-hour price × its node share there
  (:func:`huanghe.domain.usage.node_share`, the share billing charges) × nodes × hours — so leaving out
  ``max_price_cny_per_hour`` no longer bypasses a budget.

So a tenant already at its limit is refused even for a job without estimates.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.billing.models import QuotaRow
from huanghe.billing.service import month_of, month_totals
from huanghe.core.errors import FieldError, ForbiddenError, invalid
from huanghe.domain import bounds as b
from huanghe.domain.tenancy import cny_to_fen, fen_to_cny
from huanghe.domain.usage import node_share
from huanghe.network.models import PoolRow
from huanghe.network.wall_time import WallTimes, network_wall_times
from huanghe.tenancy.models import TenantRow


class QuotaExceeded(ForbiddenError):  # noqa: N818 (the name the API contract uses)
    """A tenant's monthly GPU-hours or budget would be exceeded (HTTP 403)."""


class QuotaSet(BaseModel):
    """Monthly limits; null = unlimited."""

    gpu_hours_per_month: float | None = Field(default=None, ge=0, le=1e9)
    budget_cny_per_month: Decimal | None = Field(default=None, ge=0, le=Decimal("1e10"), decimal_places=2)


class QuotaPublic(QuotaSet):
    """Limits and what the tenant used this month."""

    tenant: str
    month: str
    used_gpu_hours: float
    used_cny: Decimal


class QuotaRequest(BaseModel):
    """What a submission would add: GPU-hours and cost (fen) estimates."""

    gpu_hours: float = Field(default=0.0, ge=0)
    cost_fen: int = Field(default=0, ge=0)


def get_quota(session: Session, tenant_id: str, *, now: float | None = None) -> QuotaPublic:
    if session.get(TenantRow, tenant_id) is None:
        raise invalid("tenant_id", f"unknown tenant {tenant_id!r}")
    month = month_of(time.time() if now is None else now)
    row = session.get(QuotaRow, tenant_id)
    gpu_h, cost = month_totals(session, tenant_id, month)
    return QuotaPublic(
        tenant=tenant_id, month=month, used_gpu_hours=gpu_h, used_cny=fen_to_cny(cost),
        gpu_hours_per_month=row.gpu_hours_per_month if row else None,
        budget_cny_per_month=fen_to_cny(row.budget_fen_per_month) if row and row.budget_fen_per_month is not None else None,
    )  # fmt: skip


def set_quota(
    session: Session, tenant_id: str, body: QuotaSet, *, actor: str, now: float | None = None
) -> QuotaPublic:
    """Create or replace the tenant's limits (committed, audited)."""
    if session.get(TenantRow, tenant_id) is None:
        raise invalid("tenant_id", f"unknown tenant {tenant_id!r}")
    row = session.get(QuotaRow, tenant_id) or QuotaRow(tenant_id=tenant_id)
    row.gpu_hours_per_month = body.gpu_hours_per_month
    row.budget_fen_per_month = (
        None if body.budget_cny_per_month is None else cny_to_fen(body.budget_cny_per_month)
    )
    session.add(row)
    audit.record(session, actor, "quota.set", tenant_id, body.model_dump(mode="json"), now=now)
    session.commit()
    return get_quota(session, tenant_id, now=now)


def check_quota(session: Session, tenant_id: str, request: QuotaRequest, *, now: float | None = None) -> None:
    """Raise :class:`QuotaExceeded` if ``request`` would take the tenant over a monthly limit."""
    row = session.get(QuotaRow, tenant_id)
    if row is None:
        return
    month = month_of(time.time() if now is None else now)
    gpu_h, cost = month_totals(session, tenant_id, month)
    problems = []
    if row.gpu_hours_per_month is not None and (
        gpu_h >= row.gpu_hours_per_month or gpu_h + request.gpu_hours > row.gpu_hours_per_month
    ):
        problems.append(FieldError("gpus", (
            f"GPU-hour quota of tenant {tenant_id} exceeded for {month}: used {gpu_h:.2f} + requested "
            f"{request.gpu_hours:.2f} > {row.gpu_hours_per_month:.2f} GPU-h (超出配额)")))  # fmt: skip
    if row.budget_fen_per_month is not None and (
        cost >= row.budget_fen_per_month or cost + request.cost_fen > row.budget_fen_per_month
    ):
        problems.append(FieldError("max_price_cny_per_hour", (
            f"monthly budget of tenant {tenant_id} exceeded for {month}: spent {fen_to_cny(cost)} + estimated "
            f"{fen_to_cny(request.cost_fen)} > {fen_to_cny(row.budget_fen_per_month)} CNY (超出预算)")))  # fmt: skip
    if problems:
        raise QuotaExceeded(problems)


#: Values beyond the domain's bounds are not estimated: the body's validation answers 422 naming them (an
#: int like 10**400 has no float, and inf would be "quota exceeded" instead of "out of range").
_BOUNDS: dict[str, float] = {
    "nodes": b.MAX_NODES, "cpus": b.MAX_CPUS, "gpus": b.MAX_GPUS, "mem_gb": b.MAX_MEM_GB,
    "duration_s": b.MAX_DURATION_S, "time_limit_s": b.MAX_DURATION_S,
    "max_price_cny_per_hour": b.MAX_PRICE_CNY_PER_HOUR,
}  # fmt: skip


def _in_bounds(key: str, value: Any) -> bool:
    upper = _BOUNDS.get(key)
    return upper is None or not isinstance(value, int | float) or -upper <= value <= upper  # NaN: False


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


@dataclass(frozen=True)
class EstimateContext:
    """What a job's estimates need from the stored network: its wall times and, per pool, the node-hour price
    (CNY) and node size (cores, GPUs, GB)."""

    walls: WallTimes = field(default_factory=WallTimes)
    pools: tuple[tuple[float, float, float, float], ...] = ()


def estimate_context(session: Session) -> EstimateContext:
    """The :class:`EstimateContext` of the stored network."""
    rows = session.execute(
        select(
            PoolRow.price_cny_per_hour, PoolRow.cpus_per_node, PoolRow.gpus_per_node, PoolRow.mem_gb_per_node
        )
    ).all()
    pools = tuple((float(p), float(c), float(g), float(m)) for p, c, g, m in rows)
    return EstimateContext(network_wall_times(session), pools)


def request_of_job(job: dict[str, Any], ctx: EstimateContext | None = None) -> QuotaRequest:
    """GPU-hours and cost estimates of one job submission body (see the module docstring)."""
    ctx = ctx or EstimateContext()
    job = {k: v for k, v in job.items() if _in_bounds(k, v)}
    asked = ctx.walls.of_job(_number(job.get("time_limit_s")) or None, _number(job.get("duration_s")) or None)
    hours = asked / 3600
    nodes = max(1.0, _number(job.get("nodes")) or 1.0)
    price = _number(job.get("max_price_cny_per_hour"))
    if not price:  # the dearest pool that can hold the job, for the share of its node the job would pay
        cpus = _number(job.get("cpus")) if "cpus" in job else 1.0
        gpus, mem_gb = _number(job.get("gpus")), _number(job.get("mem_gb"))
        shares = [
            (p, node_share(cpus, gpus, mem_gb, c, g, m)) for p, c, g, m in ctx.pools
        ]  # fmt: skip
        price = max((p * sh for p, sh in shares if math.isfinite(sh)), default=0.0)
    cost_fen = cny_to_fen(Decimal(repr(price * nodes * hours))) if price and hours else 0
    return QuotaRequest(
        gpu_hours=max(0.0, _number(job.get("gpus")) * nodes * hours), cost_fen=max(0, cost_fen)
    )


def check_job_bodies(session: Session, body: Any) -> None:
    """Quota check of a ``POST /jobs`` body or a ``POST /jobs:batch`` body (summed per tenant)."""
    listed = body.get("jobs") if isinstance(body, dict) else None
    jobs: list[Any] = listed if isinstance(listed, list) else [body]
    mine = [j for j in jobs if isinstance(j, dict) and isinstance(j.get("tenant"), str)]
    tenants = {j["tenant"] for j in mine}
    if (
        not tenants
        or not session.scalars(select(QuotaRow.tenant_id).where(QuotaRow.tenant_id.in_(tenants))).first()
    ):
        return  # no limits to check: spare the estimates
    ctx = estimate_context(session)
    per_tenant: dict[str, QuotaRequest] = {}
    for job in mine:
        req, prev = request_of_job(job, ctx), per_tenant.get(job["tenant"], QuotaRequest())
        per_tenant[job["tenant"]] = QuotaRequest(
            gpu_hours=prev.gpu_hours + req.gpu_hours, cost_fen=prev.cost_fen + req.cost_fen
        )
    for tenant_id, req in sorted(per_tenant.items()):
        check_quota(session, tenant_id, req)
