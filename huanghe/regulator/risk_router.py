"""``/api/v1/risk``: security risk alerts and their handling (风险预警与处置), for the regulator and admins.

| method | path | what |
|---|---|---|
| GET | ``/risk/alerts`` | page of alerts, newest first; filters ``state``, ``kind`` |
| GET | ``/risk/alerts/{alert_id}`` | one alert |
| GET | ``/risk/alerts/{alert_id}/trace`` | its security events and audit records (溯源) |
| POST | ``/risk/alerts/{alert_id}:ack`` | take it (owner = you unless assigned) |
| POST | ``/risk/alerts/{alert_id}:assign`` | ``{"owner"}`` |
| POST | ``/risk/alerts/{alert_id}:resolve`` | ``{"note"}`` (required) |
"""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from huanghe.api.authentication import principal_of_request
from huanghe.api.deps import DEFAULT_PAGE_LIMIT, Limit, Offset, SessionDep
from huanghe.core.paging import Page
from huanghe.observatory.report_sections import ALERT_KINDS
from huanghe.regulator import risk

router = APIRouter(tags=["risk"])
AlertId = Annotated[int, Path(ge=1, le=2**31 - 1)]
State = Literal["open", "acknowledged", "resolved"]
#: One of :data:`~huanghe.observatory.report_sections.ALERT_KINDS` (the one list of alert kinds).
Kind = Annotated[
    str | None, Query(pattern="^(" + "|".join(ALERT_KINDS) + ")$", description=" | ".join(ALERT_KINDS))
]


@router.get("/risk/alerts", response_model=Page[risk.RiskAlertPublic])
def list_alerts(s: SessionDep, state: State | None = None, kind: Kind = None,
                limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0) -> Page[risk.RiskAlertPublic]:  # fmt: skip
    return risk.list_alerts(s, state=state, kind=kind, limit=limit, offset=offset)


@router.get("/risk/alerts/{alert_id}", response_model=risk.RiskAlertPublic)
def get_alert(s: SessionDep, alert_id: AlertId) -> risk.RiskAlertPublic:
    return risk.get_alert(s, alert_id)


@router.get("/risk/alerts/{alert_id}/trace", response_model=risk.RiskTrace)
def trace(s: SessionDep, alert_id: AlertId) -> risk.RiskTrace:
    return risk.trace(s, alert_id)


@router.post("/risk/alerts/{alert_id}:ack", response_model=risk.RiskAlertPublic)
def ack(s: SessionDep, alert_id: AlertId, request: Request) -> risk.RiskAlertPublic:
    return risk.acknowledge(s, alert_id, actor=principal_of_request(request).actor, now=time.time())


@router.post("/risk/alerts/{alert_id}:assign", response_model=risk.RiskAlertPublic)
def assign(s: SessionDep, alert_id: AlertId, body: risk.Assign, request: Request) -> risk.RiskAlertPublic:
    return risk.assign(s, alert_id, body, actor=principal_of_request(request).actor, now=time.time())


@router.post("/risk/alerts/{alert_id}:resolve", response_model=risk.RiskAlertPublic)
def resolve(s: SessionDep, alert_id: AlertId, body: risk.Resolve, request: Request) -> risk.RiskAlertPublic:
    return risk.resolve(s, alert_id, body, actor=principal_of_request(request).actor, now=time.time())
