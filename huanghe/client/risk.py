"""Security risk alerts on a server (``/api/v1/risk``), for the CLI and the SDK (regulator or admin token)."""

from __future__ import annotations

from typing import Any

from huanghe.client.base import BaseClient


def list_risk_alerts(client: BaseClient, *, state: str | None = None, kind: str | None = None,
                     limit: int = 1000, offset: int = 0) -> dict[str, Any]:  # fmt: skip
    page: dict[str, Any] = client.call("GET", "/risk/alerts", params={"state": state, "kind": kind, "limit": limit,
                                                                       "offset": offset})  # fmt: skip
    return page


def risk_trace(client: BaseClient, alert_id: int) -> dict[str, Any]:
    answer: dict[str, Any] = client.call("GET", f"/risk/alerts/{alert_id}/trace")
    return answer


def ack_risk_alert(client: BaseClient, alert_id: int) -> dict[str, Any]:
    answer: dict[str, Any] = client.call("POST", f"/risk/alerts/{alert_id}:ack")
    return answer


def assign_risk_alert(client: BaseClient, alert_id: int, owner: str) -> dict[str, Any]:
    answer: dict[str, Any] = client.call("POST", f"/risk/alerts/{alert_id}:assign", json={"owner": owner})
    return answer


def resolve_risk_alert(client: BaseClient, alert_id: int, note: str) -> dict[str, Any]:
    answer: dict[str, Any] = client.call("POST", f"/risk/alerts/{alert_id}:resolve", json={"note": note})
    return answer
