"""``/api/v1/observatory/empowerment`` (算力赋能评价, regulator and admins) and
``/api/v1/observatory/industry-map`` (算力产业图谱, regulator, admins and operators), as the policy table says.

| method | path | what |
|---|---|---|
| GET | ``/observatory/empowerment?year=Y`` | :class:`~huanghe.regulator.empowerment.Empowerment` of year Y |
| GET | ``/observatory/industry-map[?year=Y]`` | :class:`~huanghe.regulator.industry_map.IndustryMap` |
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from huanghe.api.deps import SessionDep
from huanghe.regulator import empowerment as emp
from huanghe.regulator import industry_map as imap

router = APIRouter(tags=["observatory"])
YearQ = Annotated[int, Query(ge=emp.MIN_YEAR, le=emp.MAX_YEAR, description="calendar year (UTC)")]
OptYearQ = Annotated[int | None, Query(ge=emp.MIN_YEAR, le=emp.MAX_YEAR, description="calendar year (UTC)")]


@router.get("/observatory/empowerment", response_model=emp.Empowerment)
def empowerment(s: SessionDep, year: YearQ) -> emp.Empowerment:
    """Compute used, jobs, spending and vouchers by `算力+` industry, city and center kind, by month."""
    return emp.empowerment(s, year)


@router.get("/observatory/industry-map", response_model=imap.IndustryMap)
def industry_map(s: SessionDep, year: OptYearQ = None) -> imap.IndustryMap:
    """Providers and users of compute by city and industry (users of ``year``; all years when absent)."""
    return imap.industry_map(s, year)
