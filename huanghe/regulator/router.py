"""``/api/v1/observatory/...``: the regulator's views over HTTP (index, sensitivity, targets, green lists,
maturity, network capacity, indicators, reports). Thin: see :mod:`huanghe.regulator.service`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from huanghe.api.authentication import principal_of_request
from huanghe.api.deps import SessionDep
from huanghe.domain.tenancy import Role
from huanghe.regulator import schemas
from huanghe.regulator import service as svc
from huanghe.telemetry.router import now_ms

router = APIRouter(prefix="/observatory", tags=["observatory"])
Year = Annotated[
    int | None, Query(ge=1950, le=2100, description="snapshot year (default: latest opening year)")
]
Level = Annotated[str, Query(max_length=16, description="city | circle | province")]
Weights = Annotated[str, Query(max_length=16, description="equal | entropy | expert")]
Norm = Annotated[str, Query(max_length=16, description="minmax | zscore")]


@router.get("/index", response_model=schemas.IndexView)
def index(
    request: Request,
    s: SessionDep,
    level: Level = "city",
    weights: Weights = "equal",
    norm: Norm = "minmax",
    year: Year = None,
    compare: Annotated[
        int | None,
        Query(ge=1950, le=2100, description="base year of a year-on-year comparison (e.g. year − 1)"),
    ] = None,
) -> dict[str, Any]:
    """综合算力指数: scores and ranks in five dimensions from the topology and the platform's measured records
    (method 2.0, docs/index-method.md); ``compare`` adds each entity's change since that year."""
    return svc.index(s, level, weights, norm, year, compare, now_ms(request))


@router.get("/index/sensitivity", response_model=schemas.SensitivityView)
def index_sensitivity(
    request: Request,
    s: SessionDep,
    level: Level = "city",
    weights: Weights = "equal",
    norm: Norm = "minmax",
    year: Year = None,
    delta: Annotated[
        float, Query(ge=0, lt=1, description="one-at-a-time change of each dimension weight")
    ] = 0.2,
    samples: Annotated[int, Query(ge=1, le=5000, description="Monte-Carlo Dirichlet draws")] = 500,
    seed: int = 0,
) -> dict[str, Any]:
    """Rank stability under weight perturbations."""
    return svc.sensitivity(s, level, weights, norm, year, delta, samples, seed, now_ms(request))


@router.get("/targets", response_model=list[schemas.TargetStatus])
def targets(s: SessionDep, year: Year = None) -> list[dict[str, Any]]:
    """目标对照: plan targets versus actuals with a linear forecast."""
    return svc.targets(s, year)


@router.get("/green-list", response_model=schemas.GreenListView)
def green_list(request: Request, s: SessionDep, year: Year = None) -> dict[str, Any]:
    """绿色低碳: PUE upgrade list, small/scattered/old, renewable ranking, carbon (measured utilisation if any)."""
    return svc.green_list(s, year, now_ms(request))


@router.get("/maturity", response_model=list[schemas.MaturityPublic])
def maturity(s: SessionDep, year: Year = None) -> list[dict[str, Any]]:
    """存储能力成熟度 L1–L5 per center."""
    return svc.maturity(s, year)


@router.get("/network-capacity", response_model=schemas.NetworkCapacityView)
def network_capacity(s: SessionDep, year: Year = None, failing: bool = False) -> dict[str, Any]:
    """运载力评估: latency-circle compliance of every center pair."""
    return svc.network_capacity(s, year, failing)


@router.get("/indicators", response_model=schemas.IndicatorsView)
def indicators(
    request: Request,
    s: SessionDep,
    level: Annotated[str, Query(max_length=16, description="province | circle | city | center")] = "province",
    year: Year = None,
) -> dict[str, Any]:
    """Summary indicators (racks, EFLOPS, storage, egress, PUE/CUE/REF/WUE, carbon, utilisation)."""
    return svc.indicators(s, level, year, now_ms(request))


@router.get("/reports/{kind}", response_class=Response)
async def report(
    request: Request,
    kind: str,
    s: SessionDep,
    year: Year = None,
    fmt: Annotated[str, Query(alias="format", max_length=8, description="html | pdf")] = "html",
    lang: Annotated[str, Query(max_length=4, description="zh | en")] = "zh",
    weights: Weights = "equal",
    norm: Norm = "minmax",
) -> Response:
    """Download the storage (存力发展报告) or index (综合算力发展指数报告) report. Its sections from the
    platform's records (empowerment, vouchers, risk) are filled for the regulator and admins only."""
    records = principal_of_request(request).role in (Role.ADMIN, Role.REGULATOR)
    content, media, filename = await run_in_threadpool(
        svc.report, s, kind, year, fmt, lang, weights, norm, records
    )
    return Response(
        content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
