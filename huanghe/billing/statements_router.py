"""``/api/v1/centers/{center_id}/statement``: a center's settlement statement for a month (结算单), as JSON or
CSV (:mod:`huanghe.billing.statements`). Operators read their own centers' only (policy table)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from huanghe.api.deps import SessionDep
from huanghe.billing import service as billing
from huanghe.billing import statements as svc
from huanghe.domain.network import ID_PATTERN

router = APIRouter(tags=["billing"])
CenterId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64, description="center id")]


@router.get("/centers/{center_id}/statement", response_model=svc.Statement,
            responses={200: {"content": {"text/csv": {}}}})  # fmt: skip
def statement(
    s: SessionDep,
    center_id: CenterId,
    month: Annotated[str, Query(pattern=billing.MONTH_PATTERN, description="YYYY-MM, UTC")],
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv")] = "json",
) -> object:
    """Usage of the center's pools in ``month`` priced per pool: metered and invoiced amounts, energy, carbon."""
    st = svc.statement(s, center_id, month)
    if format == "csv":
        return Response(
            svc.statement_csv(st), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="statement-{center_id}-{month}.csv"'},
        )  # fmt: skip
    return st
